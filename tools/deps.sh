#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what castrelay needs to build, run and test on Debian 12 (bookworm).
# Idempotent: prints what it installs, silent when nothing is missing.
# Usage: tools/deps.sh [--vm]   (--vm adds the QEMU test-bed packages)
set -euo pipefail

want_vm=0
[ "${1:-}" = "--vm" ] && want_vm=1

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

if [ -r /etc/os-release ]; then
	. /etc/os-release
	if [ "${ID:-}" != "debian" ] || [ "${VERSION_CODENAME:-}" != "bookworm" ]; then
		echo "deps.sh: this script targets Debian 12 (bookworm); found ${PRETTY_NAME:-unknown}." >&2
		echo "deps.sh: install the equivalents of the packages listed in it by hand." >&2
		exit 1
	fi
fi

# From bookworm-backports: PipeWire 1.4, WirePlumber 0.5, Mesa 25, meson 1.7, libdrm 2.4.123.
backports=(
	meson libpipewire-0.3-dev libspa-0.2-dev pipewire pipewire-bin wireplumber
	mesa-vulkan-drivers libdrm-dev gstreamer1.0-pipewire
)
# From bookworm itself.
base=(
	ninja-build pkg-config gcc libc6-dev libvulkan-dev libvulkan1 glslang-tools
	libsystemd-dev dbus scdoc gstreamer1.0-tools gstreamer1.0-plugins-base
	gstreamer1.0-plugins-good python3 python3-dbusmock jq systemd
	# tests/integration/valgrind-relay.sh (memcheck end to end).
	valgrind
	# The GNOME screencast bed (tests/lib/gnome-env.sh): about 73 packages, 66 MB to download,
	# 254 MB installed (mutter depends on zenity, which brings WebKitGTK), 37 s here.
	mutter xdg-desktop-portal xdg-desktop-portal-gnome python3-gi python3-dbus gir1.2-gtk-3.0
	# The fuzz build (tests/fuzz/): clang 14 with libFuzzer and the sanitizer runtimes, and
	# llvm-symbolizer for readable sanitizer reports.
	clang libclang-rt-14-dev llvm-14
)
vm=(qemu-system-x86 busybox-static cpio kmod)

have_backports() {
	grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

missing() {
	local p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$st" = "install ok installed" ] || printf '%s\n' "$p"
	done
}

added=0
if ! have_backports; then
	echo "deps.sh: adding the bookworm-backports apt source"
	printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
		$sudo tee /etc/apt/sources.list.d/castrelay-backports.sources >/dev/null
	added=1
fi

# Backported packages must be the backports version, not just "installed".
need_bp=()
for p in "${backports[@]}"; do
	v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
	case "$v" in *bpo*|*~bpo*) ;; *) need_bp+=("$p") ;; esac
done
# meson from backports has no "bpo" suffix on some rebuilds: accept >= 1.1.
v=$(dpkg-query -W -f='${Version}' meson 2>/dev/null || true)
if [ -n "$v" ] && dpkg --compare-versions "$v" ge 1.1; then
	need_bp=("${need_bp[@]/meson}")
fi
mapfile -t need_base < <(missing "${base[@]}")
need_vm=()
[ "$want_vm" -eq 1 ] && mapfile -t need_vm < <(missing "${vm[@]}")

list_bp=$(printf '%s ' "${need_bp[@]}" | xargs)
list_base=$(printf '%s ' "${need_base[@]}" "${need_vm[@]}" | xargs)
[ -z "$list_bp$list_base" ] && exit 0

export DEBIAN_FRONTEND=noninteractive
stamp=/var/lib/apt/periodic/castrelay-update-stamp
if [ "$added" -eq 1 ] || [ ! -e /var/lib/apt/lists/partial ] ||
	! ls /var/lib/apt/lists/*bookworm-backports*Packages* >/dev/null 2>&1; then
	echo "deps.sh: apt-get update"
	$sudo apt-get update -qq
fi
if [ -n "$list_bp" ]; then
	echo "deps.sh: installing from bookworm-backports: $list_bp"
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends -t bookworm-backports $list_bp >/dev/null
fi
if [ -n "$list_base" ]; then
	echo "deps.sh: installing: $list_base"
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $list_base >/dev/null
fi
: >/dev/null "$stamp"
