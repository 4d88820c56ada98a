#!/usr/bin/env bats
# scripts/deps.sh's view of what is installed (deps_foreign_arch), against a
# fake dpkg database (fake-dpkg: dpkg-query, dpkg, apt-get and sudo first in
# PATH). `deps.sh check` installs nothing: apt-get is a fake that fails and
# logs, and the log must stay empty.

bats_require_minimum_version 1.5.0

DEPS=$(cd "$BATS_TEST_DIRNAME/../../scripts" && pwd)/deps.sh

setup() {
	local bin=$BATS_TEST_TMPDIR/bin c
	mkdir -p "$bin"
	for c in dpkg dpkg-query apt-get sudo; do
		ln -s "$BATS_TEST_DIRNAME/fake-dpkg" "$bin/$c"
	done
	export PATH=$bin:$PATH
	export FAKE_ARCH=amd64
	export FAKE_DPKG_DB=$BATS_TEST_TMPDIR/db
	export FAKE_LOG=$BATS_TEST_TMPDIR/commands.log
	: >"$FAKE_LOG"
	mapfile -t BUILD < <("$DEPS" list build)
	((${#BUILD[@]} > 5))
}

# installed NAME ARCH [STATUS]: one instance in the fake database.
installed() {
	printf '%s\t%s\t%s\n' "$1" "$2" "${3:-install ok installed}" >>"$FAKE_DPKG_DB"
}

# all_native [EXCEPT...]: every package of `deps.sh list build` installed
# for amd64, but EXCEPT.
all_native() {
	local p
	for p in "${BUILD[@]}"; do
		[[ " $* " == *" $p "* ]] || installed "$p" amd64
	done
}

no_apt() {
	if [ -s "$FAKE_LOG" ]; then
		echo "deps.sh check ran: $(cat "$FAKE_LOG")" >&2
		return 1
	fi
}

@test "deps: everything native: nothing missing" {
	all_native
	run "$DEPS" check build
	[ "$status" -eq 0 ] || { echo "$output" >&2; false; }
	[ -z "$output" ]
	no_apt
}

@test "deps: a foreign -dev package in place of the native one is missing, and named" {
	all_native libcriterion-dev
	installed libcriterion-dev arm64
	run --separate-stderr "$DEPS" check build
	[ "$status" -eq 1 ] || { echo "status $status: $output $stderr" >&2; false; }
	[ "$output" = libcriterion-dev ] || { echo "missing: '$output'" >&2; false; }
	[[ $stderr == *"libcriterion-dev is installed for another architecture only (libcriterion-dev:arm64), not for amd64"* ]] ||
		{ echo "stderr: $stderr" >&2; false; }
	no_apt
}

@test "deps: native and foreign both installed (Multi-Arch: same): not missing, no message" {
	all_native
	installed libnuma-dev arm64
	installed libssl-dev i386
	run --separate-stderr "$DEPS" check build
	[ "$status" -eq 0 ] || { echo "status $status: $output $stderr" >&2; false; }
	[ -z "$output" ] && [ -z "$stderr" ]
	no_apt
}

@test "deps: an Architecture: all package counts as installed" {
	all_native cmake
	installed cmake all
	run "$DEPS" check build
	[ "$status" -eq 0 ] || { echo "status $status: $output" >&2; false; }
	no_apt
}

@test "deps: removed (config files left) and unknown packages are missing" {
	all_native pkg-config ninja-build
	installed pkg-config amd64 "deinstall ok config-files"
	run --separate-stderr "$DEPS" check build
	[ "$status" -eq 1 ]
	[ "$output" = "ninja-build
pkg-config" ] || { echo "missing: '$output'" >&2; false; }
	no_apt
}

@test "deps: a foreign package only, in install mode: named before apt-get runs" {
	all_native libcriterion-dev
	installed libcriterion-dev arm64
	# as root: apt-get (the fake) runs and fails; as another user: sudo does
	run "$DEPS" build
	[ "$status" -ne 0 ]
	[[ $output == *"libcriterion-dev:arm64"* ]] || { echo "$output" >&2; false; }
	grep -q 'apt-get .*update' "$FAKE_LOG" || { cat "$FAKE_LOG" >&2; false; }
}
