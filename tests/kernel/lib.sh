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
