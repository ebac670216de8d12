#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prepares the guest of the vm test bed in CACHE_DIR: Debian's bookworm-backports 6.12 kernel
# (downloaded with `apt-get download`, extracted with dpkg-deb) and a busybox initramfs holding
# the modules the guest needs (resolved with that kernel's modules.dep) and guest-init.sh.
# Rebuilds only when an input changed (kernel package, busybox, this script, guest-init.sh).
#
# Usage: tests/vm/build-image.sh CACHE_DIR
#   prints two lines on stdout: the kernel image path and the initramfs path.
# Environment: CR_VM_KERNEL_DEB=FILE uses that linux-image .deb instead of asking apt (offline).
set -euo pipefail
shopt -s nullglob

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${1:?usage: build-image.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Modules to load (module:Kconfig symbol), in this order after their dependencies. Built-in ones
# are skipped (some, like udmabuf, are bool options and absent from modules.builtin), missing
# ones are an error: the test bed would silently lose a capability otherwise.
modules=(virtio_pci:VIRTIO_PCI netfs:NETFS_SUPPORT 9pnet_virtio:NET_9P_VIRTIO 9p:9P_FS
	vgem:DRM_VGEM udmabuf:UDMABUF system_heap:DMABUF_HEAPS_SYSTEM virtio_gpu:DRM_VIRTIO_GPU)

log() { printf 'build-image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in apt-get dpkg-deb depmod modprobe cpio gzip flock ldd sha256sum; do
	command -v "$tool" >/dev/null || die "missing '$tool' (run: tools/deps.sh --vm)"
done
busybox=""
for b in /bin/busybox /usr/bin/busybox; do
	# ldd fails on a static executable; the guest has no libc of its own before the switch.
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
		busybox=$b
		break
	fi
done
[ -n "$busybox" ] || die "no static busybox (run: tools/deps.sh --vm, package busybox-static)"

exec 9>"$cache/.lock"
flock 9
rm -rf "$cache"/work.* # left by an interrupted build; the lock says none is running

# Which kernel: the newest 6.12 linux-image-amd64 that apt knows about (bookworm-backports).
deb=${CR_VM_KERNEL_DEB:-}
if [ -z "$deb" ]; then
	# One apt-cache call (they cost most of a cached run); stanzas come newest first.
	read -r meta_ver pkg < <(apt-cache show linux-image-amd64 2>/dev/null | awk '
		/^Version: 6\.12\./ { v = $2 }
		/^Depends:/ && v != "" {
			sub(/^Depends: */, ""); sub(/[ ,].*/, ""); print v, $0; exit
		}
		/^$/ { v = "" }') || true
	if [ -n "${meta_ver:-}" ]; then
		[ -n "$pkg" ] || die "cannot resolve the package behind linux-image-amd64=$meta_ver"
		debs=("$cache/${pkg}"_*.deb)
		deb=${debs[0]:-}
		if [ -z "$deb" ] || [ "$(dpkg-deb -f "$deb" Version)" != "$meta_ver" ]; then
			log "downloading $pkg $meta_ver"
			rm -f "$cache"/linux-image-*.deb
			opts=()
			[ "$(id -u)" -ne 0 ] || opts=(-o APT::Sandbox::User=root)
			(cd "$cache" && apt-get download -q "${opts[@]}" "$pkg=$meta_ver" >&2) ||
				die "apt-get download $pkg failed"
			debs=("$cache/${pkg}"_*.deb)
			deb=${debs[0]:-}
			[ -n "$deb" ] || die "apt-get download left no ${pkg}_*.deb in $cache"
		fi
	else
		# No apt lists (offline, or backports source missing): reuse what is cached.
		debs=("$cache"/linux-image-6.12*.deb)
		deb=${debs[0]:-}
		[ -n "$deb" ] || die "apt knows no linux-image-amd64 6.12: add bookworm-backports" \
			"and run apt-get update (tools/deps.sh does both), or set CR_VM_KERNEL_DEB"
	fi
fi
[ -r "$deb" ] || die "cannot read $deb"

key=$( {
	# The .deb's name carries the package version; hashing 100 MB on every run would not.
	basename "$deb"
	stat -c %s "$deb"
	sha256sum "$busybox" "$here/build-image.sh" "$here/guest-init.sh" | cut -d' ' -f1
	printf '%s\n' "${modules[@]}"
} | sha256sum | cut -d' ' -f1)

out="$cache/image"
if [ -r "$out/key" ] && [ "$(cat "$out/key")" = "$key" ] &&
	[ -r "$out/vmlinuz" ] && [ -r "$out/initramfs.cpio.gz" ]; then
	printf '%s\n%s\n' "$out/vmlinuz" "$out/initramfs.cpio.gz"
	exit 0
fi

log "building the guest image from $(basename "$deb")"
work=$(mktemp -d "$cache/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/root"
kdirs=("$work/root/lib/modules"/*)
[ "${#kdirs[@]}" -eq 1 ] || die "expected one /lib/modules/VERSION in $deb"
kver=$(basename "${kdirs[0]}")
depmod -b "$work/root" "$kver"

init="$work/initramfs"
mkdir -p "$init"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,newroot,build,lib/modules}
cp "$busybox" "$init/bin/busybox"
cp "$here/guest-init.sh" "$init/init"
chmod 0755 "$init/init" "$init/bin/busybox"
# The kernel opens /dev/console before running /init; creating the node needs root, without it
# /init redirects itself once devtmpfs is mounted.
[ "$(id -u)" -ne 0 ] || mknod -m 0600 "$init/dev/console" c 5 1

: >"$init/lib/modules/load-order"
config="$work/root/boot/config-$kver"
for entry in "${modules[@]}"; do
	m=${entry%%:*}
	if grep -qx "CONFIG_${entry#*:}=y" "$config"; then
		continue
	fi
	deps=$(modprobe -d "$work/root" -S "$kver" --show-depends "$m" 2>&1) ||
		die "kernel $kver has no module $m: $deps"
	while read -r kind path _; do
		case "$kind" in
		builtin) continue ;;
		insmod) ;;
		*) die "unexpected modprobe output for $m: $kind $path" ;;
		esac
		name=$(basename "$path")
		name=${name%.xz}
		name=${name%.zst}
		name=${name%.gz}
		grep -qx "$name" "$init/lib/modules/load-order" && continue
		case "$path" in
		*.xz) "$busybox" xzcat "$path" >"$init/lib/modules/$name" ;; # no xz-utils needed
		*.zst) zstd -qdc "$path" >"$init/lib/modules/$name" ;;
		*.gz) gzip -dc "$path" >"$init/lib/modules/$name" ;;
		*) cp "$path" "$init/lib/modules/$name" ;;
		esac
		echo "$name" >>"$init/lib/modules/load-order"
	done <<<"$deps"
done
printf '%s\n' "$kver" >"$init/lib/modules/kernel-release"

mkdir -p "$work/out"
(cd "$init" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet --reproducible) | gzip -1 >"$work/out/initramfs.cpio.gz"
cp "$work/root/boot/vmlinuz-$kver" "$work/out/vmlinuz"
printf '%s\n' "$key" >"$work/out/key"
rm -rf "$out"
mv "$work/out" "$out"
log "kernel $kver, modules: $(tr '\n' ' ' <"$init/lib/modules/load-order")"
printf '%s\n%s\n' "$out/vmlinuz" "$out/initramfs.cpio.gz"
