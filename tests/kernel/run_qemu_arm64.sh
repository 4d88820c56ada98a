#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# kstub_qemu_arm64 (arm64 cross builds): kstub_qemu for Debian's arm64
# kernel. The kernel, its headers and busybox-static come from the mirror
# into an extracted arm64 tree (scripts/rootfs.sh --extract, reused); the
# module is cross-built against the arm64 headers with this machine's
# kbuild programs (fixdep, modpost: Debian's arm64 linux-kbuild holds arm64
# binaries; the amd64 one of the same version is the same source), then
# packed with the static arm64 guest program and busybox into an
# initramfs, booted under qemu-system-aarch64 (TCG, virt, cpu max). arm64
# virt has no isa-debug-exit: the verdict is the console's
# "kstub-init: done, failures=0" and no FAIL line.
#
# Usage: run_qemu_arm64.sh REPO_ROOT GUEST_PROGRAM WORK_DIR
# Env:   KSTUB_QEMU_TIMEOUT (s, default 900), UVMBUS_TEST_CACHE
set -euo pipefail
. "$(dirname "$0")/lib.sh"
repo=$1 guest=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
limit=${KSTUB_QEMU_TIMEOUT:-900}
tree=${UVMBUS_TEST_CACHE:-/var/cache/uvmbus-test}/kernel-arm64

ensure_deps "$repo" qemu-system-aarch64 aarch64-linux-gnu-gcc cpio gzip make modinfo /sbin/mke2fs
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO "$repo/scripts/rootfs.sh" --extract arm64 "$tree" linux-image-arm64 linux-headers-arm64 \
	busybox-static || die "the arm64 kernel tree could not be made"
ver=$(find "$tree/boot" -name 'vmlinuz-*-arm64' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -1)
[ -n "$ver" ] || die "no arm64 kernel in $tree/boot"
kbuild=$(find /usr/lib -maxdepth 1 -name 'linux-kbuild-*' | sort -V | tail -1)
[ -x "${kbuild:-/nonexistent}/scripts/basic/fixdep" ] ||
	die "no kbuild programs here: install linux-headers-amd64"
[ -x "$guest" ] || die "guest program $guest missing"
echo "kstub_qemu_arm64: kernel $ver, kbuild $kbuild"

# 1. The module, against a copy of the arm64 headers whose scripts/ and
# tools/ are this machine's kbuild. The common headers are Architecture:
# all: the Makefile includes this machine's copy when it has the same
# version, else the tree's.
kh=$work/headers/linux-headers-$ver
rm -rf "$work/headers"
mkdir -p "$work/headers"
cp -a "$tree/usr/src/linux-headers-$ver" "$kh"
ln -sfn "$kbuild/scripts" "$kh/scripts"
ln -sfn "$kbuild/tools" "$kh/tools"
common=$(sed -n 's|^include \(.*\)/Makefile$|\1|p' "$kh/Makefile")
if [ ! -e "$common/Makefile" ]; then
	echo "include $tree$common/Makefile" >"$kh/Makefile"
fi
build_module "$repo" "$work/module" "$kh" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- W=1 \
	>/dev/null || {
	cat "$work/module/build.log" >&2
	die "module build failed"
}
if grep -qi 'warning' "$work/module/build.log"; then
	grep -i 'warning' "$work/module/build.log" >&2
	die "the W=1 arm64 build has warnings"
fi

# 2. Initramfs, as run_qemu.sh makes it, from the arm64 tree.
root=$work/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp}
cp "$tree/bin/busybox" "$root/bin/busybox"
cp "$here/init.sh" "$root/init"
cp "$here/step.sh" "$root/step.sh"
cp "$work/module/src/uvmbus_kstub.ko" "$root/"
cp "$guest" "$root/kstub_guest"
chmod 0755 "$root/init" "$root/kstub_guest" "$root/bin/busybox"
moddir=$tree/lib/modules/$ver
# The tree was never configured, so it has no modules.dep (depmod runs in
# the package's postinst): the dependencies come from each module's modinfo.
mod_order() { # module name: its dependencies' paths, then its own
	local path d
	path=$(find "$moddir" -name "$1.ko" | head -1)
	[ -n "$path" ] || return 0 # built in
	for d in $(modinfo -F depends "$path" | tr ',' ' '); do mod_order "$d"; done
	echo "$path"
}
mkdir -p "$root/modules"
for m in loop crc32c_generic ext4; do
	mod_order "$m"
done | awk '!seen[$0]++' | while read -r m; do
	cp "$m" "$root/modules/"
	basename "$m" >>"$root/modules/order"
done
/sbin/mke2fs -q -F -t ext2 -L kstub "$root/ext4.img" 4M || die "mke2fs failed"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

# 3. Boot; the console is the verdict.
log=$work/console.log
echo "kstub_qemu_arm64: booting (timeout ${limit}s)"
set +e
timeout -k 10 "$limit" qemu-system-aarch64 -M virt -cpu max -accel tcg -smp 2 -m 1G \
	-nodefaults -no-user-config -display none -monitor none -serial stdio -no-reboot \
	-kernel "$tree/boot/vmlinuz-$ver" -initrd "$work/initrd.gz" \
	-append "console=ttyAMA0 hugepages=16 panic=-1 oops=panic panic_on_warn=1 loglevel=4" \
	</dev/null 2>&1 | tr -d '\r' | tee "$log"
rc=${PIPESTATUS[0]}
set -e
qemu_log_summary kstub_arm64 "$log" "$rc" "$limit"
grep -q "kstub-init: done, failures=0" "$log" ||
	die "FAIL: no 'failures=0' summary (QEMU status $rc); console in $log"
if grep -q '^FAIL:' "$log"; then die "FAIL: FAIL lines on the console"; fi
echo "kstub_qemu_arm64: PASS (kernel $ver)"
