#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# /init of the kstub test initramfs (busybox-static). Runs the guest program
# around insmod/rmmod and reports the number of failed steps to QEMU through
# isa-debug-exit; run_qemu.sh turns that into the ctest result. If this
# script dies, the kernel panics and QEMU exits with 0, which is a failure.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

fails=0
. /step.sh # step NAME COMMAND...

echo "kstub-init: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus"
step "guest pre (no module)" /kstub_guest pre
step "insmod uvmbus_kstub quarantine_ms=3000" insmod /uvmbus_kstub.ko quarantine_ms=3000
node_mode_600() { [ "$(stat -c %a /dev/uvmbus_kstub)" = 600 ]; }
step "device node mode 0600" node_mode_600
mount_ext4() { # the loop and ext4 modules (if not built in), /ext4.img at /mnt/ext4
	if [ -e /modules/order ]; then
		while read -r m; do insmod "/modules/$m" || return 1; done </modules/order
	fi
	mkdir -p /mnt/ext4 && mount -t ext4 -o loop /ext4.img /mnt/ext4
}
step "mount an ext4 image on a loop device" mount_ext4
step "guest main" /kstub_guest main
step "rmmod uvmbus_kstub" rmmod uvmbus_kstub
step "guest post (after rmmod)" /kstub_guest post

echo "kstub-init: done, failures=$fails"
[ $fails -gt 100 ] && fails=100
/kstub_guest exit $fails
echo "kstub-init: isa-debug-exit did not stop QEMU"
poweroff -f
