#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# cuse_qemu: boot Debian's kernel under QEMU (TCG) with an initramfs holding
# busybox, the kernel's fuse and cuse modules, libfuse3 and the other shared
# libraries the programs need (from ldd), azblob-cuse, the ABI test program
# and its direct twin, and azblob-bench; /init runs guest.sh there (the
# host here has no /dev/cuse) and reports through isa-debug-exit.
#
# Usage: run_qemu.sh REPO_ROOT AZBLOB_CUSE ABI_CLIENT ABI_DIRECT AZBLOB_BENCH AZBLOB_VSPD AZBLOBD WORK_DIR
# Env:   UVMBUS_KVER (kernel version), CUSE_QEMU_TIMEOUT (s, default 600)
#
# Pass only if QEMU exits with 1 (the guest wrote 0) AND the console shows
# "cuse-init: done, failures=0": a hang is killed by timeout, a panic makes
# QEMU exit 0 (-no-reboot); both fail loudly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../kernel/lib.sh"
repo=$1 cuse=$2 client=$3 direct=$4 bench=$5 vspd=$6 azblobd=$7 work=$8
limit=${CUSE_QEMU_TIMEOUT:-600}

ensure_deps "$repo" qemu-system-x86_64 cpio gzip /bin/busybox
ver=$(find_kernel_or_install "$repo") || die "no kernel with both headers and /boot/vmlinuz: install linux-image-amd64 linux-headers-amd64"
kernel=/boot/vmlinuz-$ver
moddir=/lib/modules/$ver
[ -r "$kernel" ] || die "$kernel not readable"
ldd /bin/busybox >/dev/null 2>&1 && die "/bin/busybox is dynamic: install busybox-static"
for p in "$cuse" "$client" "$direct" "$bench" "$vspd" "$azblobd"; do [ -x "$p" ] || die "$p missing"; done
# More programs for the guest's /t (CUSE_QEMU_EXTRA, space-separated paths:
# broker_arena_punch, run there with huge pages reserved).
read -ra extra <<<"${CUSE_QEMU_EXTRA:-}"
for p in "${extra[@]}"; do [ -x "$p" ] || die "$p missing"; done
echo "cuse_qemu: kernel $ver"

root=$work/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,t,modules}
cp /bin/busybox "$root/bin/busybox"
cp "$here/init.sh" "$root/init"
cp "$here/guest.sh" "$root/t/guest.sh"
cp "$here/../kernel/step.sh" "$root/t/step.sh"
cp "$cuse" "$root/t/azblob-cuse"
cp "$client" "$root/t/cuse_abi_client"
cp "$direct" "$root/t/cuse_abi_direct"
cp "$bench" "$root/t/azblob-bench"
# azblob-bench finds azblob-vspd, azblob-cuse and azblobd next to itself.
cp "$vspd" "$root/t/azblob-vspd"
# The broker, for the front end as its client (azblob-cuse --broker).
cp "$azblobd" "$root/t/azblobd"
for p in "${extra[@]}"; do cp "$p" "$root/t/"; done
chmod 0755 "$root/init" "$root/t/"* "$root/bin/busybox"

# The shared libraries and the loader, at their own paths.
for p in "$cuse" "$client" "$direct" "$bench" "$vspd" "$azblobd" "${extra[@]}"; do
	ldd "$p" | awk '/=> \//{print $3} $1 ~ /^\/.*ld-linux/{print $1}'
done | sort -u >"$work/libs"
# libgcc_s: dlopen'ed by glibc for pthread_cancel (libfuse's loop ends so).
realpath "$(gcc -print-file-name=libgcc_s.so.1)" >>"$work/libs"
sort -u "$work/libs" | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
[ -e "$root/lib64/ld-linux-x86-64.so.2" ] || die "the dynamic loader was not found by ldd"

# cuse.ko and what modules.dep says it needs (fuse.ko), in load order;
# nothing when built in (modules.builtin).
mod_order() {
	local d deps
	read -ra deps <<<"$(sed -n "s|^$1: *||p" "$moddir/modules.dep")"
	for d in "${deps[@]}"; do mod_order "$d"; done
	echo "$1"
}
cusemod=$(grep -o '^[^:]*/cuse\.ko[^:]*' "$moddir/modules.dep" || true)
if [ -n "$cusemod" ]; then
	mod_order "$cusemod" | awk '!seen[$0]++' | while read -r m; do
		case $m in
		*.ko) cp "$moddir/$m" "$root/modules/" ;;
		*.ko.xz) xz -dc "$moddir/$m" >"$root/modules/$(basename "$m" .xz)" ;;
		*.ko.zst) zstd -qdc "$moddir/$m" >"$root/modules/$(basename "$m" .zst)" ;;
		*) die "module $m: unknown compression" ;;
		esac
		basename "${m%.xz}" | sed 's/\.zst$//' >>"$root/modules/order"
	done
elif ! grep -q '/cuse\.ko' "$moddir/modules.builtin"; then
	die "kernel $ver has no cuse (neither a module nor built in)"
fi
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

qemu_boot_verdict cuse "$kernel" "$work/initrd.gz" "$work/console.log" "$limit" 1536M \
	"console=ttyS0 panic=-1 oops=panic panic_on_warn=1 loglevel=4"
echo "cuse_qemu: PASS (kernel $ver)"
