#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# /init of the cuse_qemu initramfs: load fuse and cuse, run /t/guest.sh,
# report its failures to QEMU through isa-debug-exit (port 0xf4, via
# /dev/port). If this script dies, the kernel panics and QEMU exits 0: a
# failure.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm
exec </dev/console >/dev/console 2>&1
echo "cuse-init: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus"
fails=0
if [ -e /modules/order ]; then
	while read -r m; do
		insmod "/modules/$m" || { echo "FAIL: insmod $m"; fails=$((fails + 1)); }
	done </modules/order
fi
/bin/sh /t/guest.sh /t /tmp/cuse
fails=$((fails + $?))
echo "cuse-init: done, failures=$fails"
[ $fails -gt 100 ] && fails=100
printf "$(printf '\\%03o' "$fails")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
echo "cuse-init: isa-debug-exit did not stop QEMU"
poweroff -f
