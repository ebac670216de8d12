#!/bin/busybox sh
# SPDX-License-Identifier: MIT
# /init of the vm test bed's initramfs (busybox ash, PID 1). Loads the modules listed in
# /lib/modules/load-order, mounts the host's root filesystem read-only (9p tag "hostroot") and
# the host's build directory writable (9p tag "build") at the same path as on the host, runs
# the command that run-in-vm.sh wrote into the run directory (kernel parameter cr.run=, relative
# to the build directory) chrooted into the host's root, writes its exit status to the run
# directory and powers off. Any failure of the bed itself powers off without an exit status.

/bin/busybox mount -t devtmpfs devtmpfs /dev
# Without /dev/console in the cpio (built by a non-root user) the kernel gave us no stdio.
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

bail() {
	echo "castrelay-vm: $*"
	sync
	poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys

run=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	cr.run=*) run=${arg#cr.run=} ;;
	esac
done
[ -n "$run" ] || bail "no cr.run= on the kernel command line"

echo "castrelay-vm: kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime) s, loading modules"
while read -r mod; do
	insmod "/lib/modules/$mod" || bail "insmod $mod failed"
done </lib/modules/load-order

# msize: larger 9p messages make loading Mesa/LLVM from the host much faster. The root is
# read-only on the host side too (readonly=on), so caching it is safe.
p9="trans=virtio,version=9p2000.L,msize=512000"
mount -t 9p -o "$p9,ro,cache=loose" hostroot /newroot || bail "cannot mount the host root"
mount -t 9p -o "$p9,cache=mmap" build /build || bail "cannot mount the build directory"
mkdir -p /source
mount -t 9p -o "$p9,ro,cache=loose" source /source || bail "cannot mount the source tree"
rundir=/build/$run
[ -r "$rundir/build-dir" ] || bail "no $rundir/build-dir"
builddir=$(cat "$rundir/build-dir")

mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
for d in /tmp /run /var/tmp; do
	mount -t tmpfs -o mode=1777 tmpfs "/newroot$d" || bail "cannot mount a tmpfs on $d"
done
# After the tmpfs mounts, which hide what lies below the host's /tmp: the source tree, then the
# build directory (it may lie inside the source tree) at their host paths.
sourcedir=$(cat "$rundir/source-dir")
mkdir -p "/newroot$sourcedir" 2>/dev/null
mount -o bind /source "/newroot$sourcedir" || bail "cannot bind the source tree to $sourcedir"
mkdir -p "/newroot$builddir" 2>/dev/null
mount -o bind /build "/newroot$builddir" || bail "cannot bind the build directory to $builddir"

echo "castrelay-vm: up $(cut -d' ' -f1 /proc/uptime) s, running the command"
set -o pipefail
chroot /newroot /bin/bash "$builddir/$run/cmd.sh" 2>&1 | tee "$rundir/output.log"
rc=$?
echo "castrelay-vm: up $(cut -d' ' -f1 /proc/uptime) s, command exited with $rc"
echo "$rc" >"$rundir/rc.tmp" && mv "$rundir/rc.tmp" "$rundir/rc"
sync
poweroff -f
