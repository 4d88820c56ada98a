#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# kstub_qemu: build uvmbus_kstub against Debian's headers, pack it with the
# static guest program and busybox into an initramfs, boot the matching
# Debian kernel under QEMU (TCG) and take the result from isa-debug-exit.
#
# Usage: run_qemu.sh REPO_ROOT GUEST_PROGRAM WORK_DIR
# Env:   UVMBUS_KVER (kernel version), KSTUB_QEMU_TIMEOUT (s, default 600)
#
# Pass only if QEMU exits with 1 (the guest wrote 0: (0 << 1) | 1) AND the
# console shows the guest's final "failures=0". A hang is killed by timeout,
# a panic makes QEMU exit 0 (-no-reboot): both fail, loudly.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
repo=$1 guest=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
limit=${KSTUB_QEMU_TIMEOUT:-600}

ensure_deps "$repo" qemu-system-x86_64 cpio gzip make /bin/busybox /sbin/mke2fs
ver=$(find_kernel_or_install "$repo") || die "no kernel with both headers and /boot/vmlinuz: install linux-image-amd64 linux-headers-amd64"
kernel=/boot/vmlinuz-$ver
[ -r "$kernel" ] || die "$kernel not readable"
[ -x "$guest" ] || die "guest program $guest missing"
ldd /bin/busybox >/dev/null 2>&1 && die "/bin/busybox is dynamic: install busybox-static"
echo "kstub_qemu: kernel $ver"

# 1. Module, built out of the source tree.
build_module "$repo" "$work/module" "$(kernel_dir "$ver")" >/dev/null ||
	{ cat "$work/module/build.log" >&2; die "module build failed"; }

# 2. Initramfs: busybox (applets linked at boot by init), init, module, test.
root=$work/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp}
cp /bin/busybox "$root/bin/busybox"
cp "$here/init.sh" "$root/init"
cp "$here/step.sh" "$root/step.sh"
cp "$work/module/src/uvmbus_kstub.ko" "$root/"
cp "$guest" "$root/kstub_guest"
chmod 0755 "$root/init" "$root/kstub_guest" "$root/bin/busybox"

# A disk file system for the file-mapping test (t_filemap.c): ext4 on a loop
# device. The kernel package's modules (loop, ext4, what modules.dep says
# ext4 needs, and crc32c, which 6.1's ext4 asks the crypto API for at mount
# time) go to /modules with their load order; none when built in. The image
# is ext2, mounted by the ext4 driver: small, no journal.
moddir=/lib/modules/$ver
mod_order() { # module path relative to $moddir: its dependencies, then itself
	local d deps
	read -ra deps <<<"$(sed -n "s|^$1: *||p" "$moddir/modules.dep")"
	for d in "${deps[@]}"; do mod_order "$d"; done
	echo "$1"
}
mkdir -p "$root/modules"
for m in kernel/drivers/block/loop.ko kernel/crypto/crc32c_generic.ko kernel/fs/ext4/ext4.ko; do
	[ -e "$moddir/$m" ] && mod_order "$m"
done | awk '!seen[$0]++' | while read -r m; do
	cp "$moddir/$m" "$root/modules/"
	basename "$m" >>"$root/modules/order"
done
/sbin/mke2fs -q -F -t ext2 -L kstub "$root/ext4.img" 4M ||
	die "mke2fs failed: the file-mapping test needs an ext2 image"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

# 3. Boot and verdict. The guest's console is streamed here and kept in console.log.
qemu_boot_verdict kstub "$kernel" "$work/initrd.gz" "$work/console.log" "$limit" 1G \
	"console=ttyS0 hugepages=16 panic=-1 oops=panic panic_on_warn=1 loglevel=4"
echo "kstub_qemu: PASS (kernel $ver)"
