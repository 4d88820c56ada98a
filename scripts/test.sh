#!/usr/bin/env bash
# Run every test: install what is needed (apt-get), build the plain,
# ASan+UBSan and TSan configurations, run each one's tests through ctest.
#   scripts/test.sh                 everything
#   scripts/test.sh -L unit         extra arguments go to every ctest call
#   CONFIGS="default" scripts/test.sh -R ring_   one configuration only
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD

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

configs=${CONFIGS:-default asan tsan}
jobs=$(nproc)
passed=0 failed=0 status=0
if [ "$style_failed" -ne 0 ]; then failed=1 status=1; fi

cfg_args() {
	case $1 in
	default) echo "-DCMAKE_C_COMPILER=gcc" ;;
	# clang: libFuzzer is part of the ASan build
	asan) echo "-DCMAKE_C_COMPILER=clang -DUVMBUS_SANITIZE=address" ;;
	tsan) echo "-DCMAKE_C_COMPILER=clang -DUVMBUS_SANITIZE=thread" ;;
	*) return 1 ;;
	esac
}

for cfg in $configs; do
	args=$(cfg_args "$cfg") || { echo "test.sh: unknown configuration '$cfg'" >&2; exit 2; }
	dir=$root/build/$cfg
	echo "=== [$cfg] configure and build in build/$cfg"
	mkdir -p "$dir"
	# shellcheck disable=SC2086
	if ! cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $args \
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
	echo "=== [$cfg] ctest"
	log=$dir/ctest.log
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
		ctest --test-dir "$dir" --output-on-failure --timeout 1800 "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "test.sh: [$cfg] ctest ran no test" >&2
		status=1 failed=$((failed + 1))
		continue
	fi
	total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
	nfail=$(sed -E 's/.*, ([0-9]+) tests? failed.*/\1/' <<<"$line")
	passed=$((passed + total - nfail))
	failed=$((failed + nfail))
	[ "$rc" -eq 0 ] || status=1
done

echo
echo "total: $passed passed, $failed failed"
exit $status
