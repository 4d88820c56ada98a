# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# Shared helpers of the kstub test scripts (sourced, bash).

die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

# Print the newest kernel version that has both a build directory (Debian
# headers) and a /boot/vmlinuz image, or fail. UVMBUS_KVER overrides.
find_kernel() {
	local v dir vers=()
	if [ -n "${UVMBUS_KVER:-}" ]; then
		echo "$UVMBUS_KVER"
		return
	fi
	for dir in /usr/src/linux-headers-*-amd64 /lib/modules/*/build; do
		[ -e "$dir/Makefile" ] || continue
		case $dir in
		/usr/src/*) v=${dir#/usr/src/linux-headers-} ;;
		*) v=${dir#/lib/modules/}; v=${v%/build} ;;
		esac
		[ -e "/boot/vmlinuz-$v" ] && vers+=("$v")
	done
	[ ${#vers[@]} -gt 0 ] || return 1
	printf '%s\n' "${vers[@]}" | sort -uV | tail -n 1
}

# find_kernel, installing the kernel packages through scripts/deps.sh
# (linux-image-amd64, linux-headers-amd64) when none is found.
find_kernel_or_install() {
	find_kernel && return
	[ -x "$1/scripts/deps.sh" ] || return 1
	"$1/scripts/deps.sh" >&2 || return 1
	find_kernel
}

# Kernel build directory of version $1.
kernel_dir() {
	if [ -e "/usr/src/linux-headers-$1/Makefile" ]; then
		echo "/usr/src/linux-headers-$1"
	else
		echo "/lib/modules/$1/build"
	fi
}

# Install what the tests need through the project's deps script when a
# command or file is missing (the script is idempotent).
ensure_deps() {
	local repo=$1
	shift
	local need=0 x
	for x in "$@"; do
		case $x in
		/*) [ -e "$x" ] || need=1 ;;
		*) command -v "$x" >/dev/null || need=1 ;;
		esac
	done
	if [ $need -eq 1 ] && [ -x "$repo/scripts/deps.sh" ]; then
		"$repo/scripts/deps.sh" >&2 || die "scripts/deps.sh failed"
	fi
}

# build_module REPO OUTDIR KDIR [make args]: copy a self-contained source
# tree of kstub/ to OUTDIR (so no build product lands in the repo) and
# build it there. Output goes to OUTDIR/build.log and stdout.
build_module() {
	local repo=$1 out=$2 kdir=$3
	shift 3
	rm -rf "$out"
	mkdir -p "$out"
	make -s -C "$repo/kstub" srcdir DEST="$out/src" || return 1
	make -C "$out/src" KDIR="$kdir" "$@" 2>&1 | tee "$out/build.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] && [ -e "$out/src/uvmbus_kstub.ko" ]
}

# qemu_log_summary NAME LOG RC LIMIT: the guest's PASS/FAIL count and FAIL
# lines from the console LOG; fail when QEMU (status RC) ran out of time.
qemu_log_summary() {
	local name=$1 log=$2 rc=$3 limit=$4
	echo "----"
	echo "${name}_qemu: guest checks: $(grep -c '^PASS:' "$log") PASS, $(grep -c '^FAIL:' "$log") FAIL"
	grep '^FAIL:' "$log" || true
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		die "FAIL: QEMU timed out after ${limit}s (guest hung); console in $log"
	fi
}

# qemu_boot_verdict NAME KERNEL INITRD LOG LIMIT MEM APPEND: boot under TCG
# with isa-debug-exit, stream the console to LOG, and pass only if QEMU
# exits 1 (the guest wrote 0) and LOG holds "NAME-init: done, failures=0"
# and no FAIL line. A hang is killed after LIMIT s, a panic makes QEMU exit
# 0 (-no-reboot): both fail loudly.
qemu_boot_verdict() {
	local name=$1 kernel=$2 initrd=$3 log=$4 limit=$5 mem=$6 append=$7 rc
	echo "${name}_qemu: booting (timeout ${limit}s)"
	set +e
	timeout -k 10 "$limit" qemu-system-x86_64 -accel tcg -smp 2 -m "$mem" \
		-nodefaults -no-user-config -display none -monitor none -serial stdio -no-reboot \
		-kernel "$kernel" -initrd "$initrd" -append "$append" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null 2>&1 | tr -d '\r' | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	qemu_log_summary "$name" "$log" "$rc" "$limit"
	if [ "$rc" -eq 0 ]; then
		die "FAIL: the guest never reached isa-debug-exit (kernel panic or init died); console in $log"
	fi
	if [ "$rc" -ne 1 ]; then
		die "FAIL: the guest reported $(((rc - 1) / 2)) failed steps (QEMU status $rc)"
	fi
	grep -q "${name}-init: done, failures=0" "$log" || die "FAIL: QEMU exited 1 but the guest summary is missing"
	if grep -q '^FAIL:' "$log"; then die "FAIL: FAIL lines on the console"; fi
}
