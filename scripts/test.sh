#!/usr/bin/env bash
# Run every test: install what is needed (apt-get), build the plain,
# ASan+UBSan, TSan and release (-O3, -Os) configurations, run each one's tests through
# ctest. Warnings are errors in every configuration here (UVMBUS_WERROR).
#   scripts/test.sh                 everything
#   scripts/test.sh quick           the edit-compile-test loop: build/default
#                                   only, its unit and e2e tests but the
#                                   packages' (pkg_deb_*, ...) and checkpatch,
#                                   two at a time (ctest -j); no sanitizer,
#                                   no QEMU. About 1.5 minutes on 2 cores.
#   scripts/test.sh -L unit         extra arguments go to every ctest call
#   CONFIGS="default" scripts/test.sh -R ring_   one configuration only
#   CONFIGS=arm64 scripts/test.sh   the arm64 cross build alone
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD

quick=0
if [ "${1:-}" = quick ]; then
	quick=1
	shift
fi

scripts/deps.sh test || { echo "test.sh: installing dependencies failed" >&2; exit 1; }

# Style: user space follows .clang-format (kstub/ and include/uapi/ follow
# kernel style, checked by checkpatch in the kstub tests).
mapfile -t sources < <(git ls-files '*.c' '*.h' | grep -v -E '^(kstub/|include/uapi/)')
if ! clang-format --dry-run --Werror "${sources[@]}"; then
	echo "test.sh: style: run clang-format -i on the files above" >&2
	style_failed=1
else
	echo "=== style: ${#sources[@]} files match .clang-format"
	style_failed=0
fi

configs=${CONFIGS:-default asan tsan release clang-release minsizerel arm64}
[ "$quick" -eq 0 ] || configs=default
jobs=$(nproc)
passed=0 failed=0 status=0
if [ "$style_failed" -ne 0 ]; then failed=1 status=1; fi

cfg_args() {
	case $1 in
	default) echo "-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc" ;;
	# clang: libFuzzer is part of the ASan build
	asan) echo "-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DUVMBUS_SANITIZE=address" ;;
	tsan) echo "-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DUVMBUS_SANITIZE=thread" ;;
	# What a user or a package builds (-O3 -DNDEBUG): gcc's -O3 warnings
	# (format-truncation, maybe-uninitialized) only show here.
	release) echo "-DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc" ;;
	clang-release) echo "-DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang" ;;
	# -Os: gcc's -Wmaybe-uninitialized sees other paths than at -O2/-O3; and
	# the programs built without the in-process emulator (docs/ARCHITECTURE.md)
	minsizerel) echo "-DCMAKE_BUILD_TYPE=MinSizeRel -DCMAKE_C_COMPILER=gcc -DUVMBUS_TOOLS_SIM=OFF" ;;
	# Debian's aarch64 cross gcc against an arm64 root file system holding
	# the target's -dev packages (arm64_sysroot below; docs/PORTING.md)
	arm64) echo "-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_TOOLCHAIN_FILE=$root/cmake/aarch64-linux-gnu.cmake -DUVMBUS_SYSROOT=$arm64_sysroot" ;;
	*) return 1 ;;
	esac
}
# Which tests a configuration runs: all, unit (the unit label: fast, and
# what -O3 can break without a warning, such as undefined behaviour the
# optimiser exploits; not the scripts and the module, which no C compiler
# flag changes: bind_, kstub_, pkg_) or none (building with warnings as
# errors is the test).
cfg_tests() {
	[ "$quick" -eq 0 ] || {
		echo quick
		return
	}
	case $1 in
	release) echo unit ;;
	# arm64: the unit tests under qemu-aarch64 (docs/PORTING.md)
	arm64) echo arm64 ;;
	clang-release | minsizerel) echo none ;;
	*) echo all ;;
	esac
}

# The arm64 sysroot: the target's -dev packages unpacked (never configured,
# so no emulation is needed) in a Debian arm64 tree, made once and reused
# while this list is the same (scripts/rootfs.sh --extract; about 15 s and
# 150 MB the first time, instant after). Never installed on this machine
# as foreign-architecture packages: several -dev packages are not
# co-installable with the amd64 ones and would replace them.
ARM64_PACKAGES=(
	libc6-dev libcriterion-dev libnuma-dev libhugetlbfs-dev libcurl4-openssl-dev libssl-dev
	libfuse3-dev libexpat1-dev systemtap-sdt-dev
)
arm64_sysroot=${UVMBUS_TEST_CACHE:-/var/cache/uvmbus-test}/sysroot-arm64
arm64_prepare() {
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO "$root/scripts/rootfs.sh" --extract arm64 "$arm64_sysroot" "${ARM64_PACKAGES[@]}"
}

for cfg in $configs; do
	args=$(cfg_args "$cfg") || { echo "test.sh: unknown configuration '$cfg'" >&2; exit 2; }
	if [ "$cfg" = arm64 ] && ! arm64_prepare; then
		echo "test.sh: [$cfg] making the arm64 sysroot failed" >&2
		status=1 failed=$((failed + 1))
		continue
	fi
	dir=$root/build/$cfg
	echo "=== [$cfg] configure and build in build/$cfg"
	mkdir -p "$dir"
	# shellcheck disable=SC2086
	if ! cmake -S "$root" -B "$dir" -G Ninja -DUVMBUS_WERROR=ON $args \
		>"$dir/configure.log" 2>&1; then
		cat "$dir/configure.log" >&2
		echo "test.sh: [$cfg] configure failed" >&2
		status=1 failed=$((failed + 1))
		continue
	fi
	if ! cmake --build "$dir" -j "$jobs"; then
		echo "test.sh: [$cfg] build failed" >&2
		status=1 failed=$((failed + 1))
		continue
	fi
	tests=$(cfg_tests "$cfg")
	if [ "$tests" = none ]; then
		echo "=== [$cfg] built (no tests in this configuration)"
		continue
	fi
	extra=()
	[ "$tests" = unit ] && extra=(-L unit -E '^(bind_|kstub_|pkg_)')
	# arm64, under qemu-aarch64 user emulation, both cores: the unit tests
	# of the C code, and kstub_qemu_arm64 (the module built against Debian's
	# arm64 headers and loaded in its arm64 kernel under qemu-system-aarch64:
	# the kernel label of this build). Not the host scripts, which x86 runs (bind_, deps_,
	# kstub_build_w1, kstub_checkpatch); not those whose script executes an
	# arm64 program itself, which the host kernel cannot run without a
	# binfmt_misc handler (pkg_man_, rest_sharedkey, cuse_direct_script);
	# not kstub_userspace (qemu answers an ioctl it does not know with
	# ENOSYS, the kernel with the ENOTTY the test checks); not cuse_caller
	# (qemu-user refuses clone3's set_tid, which hands a PID on).
	[ "$tests" = arm64 ] && extra=(-L 'unit|kernel' -j "$jobs" -E
		'^(bind_|deps_|pkg_|kstub_build_w1$|kstub_checkpatch$|kstub_userspace$|rest_sharedkey$|cuse_direct_script$|cuse_caller$)')
	# quick: no kernel label (QEMU), no package build or test root (the
	# pkg_man_ checks stay), no checkpatch; both cores.
	[ "$tests" = quick ] && extra=(-L 'unit|e2e' -j "$jobs"
		-E '^(pkg_(system|deb|rootfs|demo|consumer|probes|dkms)|kstub_checkpatch$)')
	echo "=== [$cfg] ctest ${extra[*]}"
	log=$dir/ctest.log
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
		ctest --test-dir "$dir" --output-on-failure --timeout 1800 "${extra[@]}" "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "test.sh: [$cfg] ctest ran no test" >&2
		status=1 failed=$((failed + 1))
		continue
	fi
	total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
	nfail=$(sed -E 's/.*, ([0-9]+) tests? failed.*/\1/' <<<"$line")
	# ctest counts a skipped test (SKIP_RETURN_CODE, "did not run") among
	# the passed: here it is a failure, since what it needs is missing.
	nskip=$(grep -cE '^[[:space:]]+[0-9]+ - .* \((Skipped|Not Run|Disabled)\)$' "$log")
	if [ "$nskip" -gt 0 ]; then
		echo "test.sh: [$cfg] $nskip test(s) did not run (above): counted as failed" >&2
		status=1
	fi
	passed=$((passed + total - nfail - nskip))
	failed=$((failed + nfail + nskip))
	[ "$rc" -eq 0 ] || status=1
done

echo
echo "total: $passed passed, $failed failed"
exit $status
