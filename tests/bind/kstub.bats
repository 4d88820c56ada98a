#!/usr/bin/env bats
# bind_uio.sh kstub

load helpers

setup() {
	setup_tree
	NODE=$UVMBUS_DEV_ROOT/uvmbus_kstub
	GRP=nogroup
}

built_ko() { # the module as make -C kstub leaves it
	mkdir -p "$(dirname "$UVMBUS_KSTUB_KO")"
	: >"$UVMBUS_KSTUB_KO"
}

@test "kstub: already loaded: nothing to do" {
	mkdir -p "$S/module/uvmbus_kstub"
	built_ko
	local before
	before=$(snapshot)
	run "$SCRIPT" kstub
	assert_status 0
	assert_output_has "uvmbus_kstub: already loaded"
	assert_eq "$(commands)" ""
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "kstub: installed (dkms): modprobe with the module parameters" {
	export FAKE_MODULES_INSTALLED=uvmbus_kstub
	built_ko
	run "$SCRIPT" kstub quarantine_ms=3000
	assert_status 0
	assert_eq "$(commands)" "modprobe uvmbus_kstub quarantine_ms=3000"
	[ -d "$S/module/uvmbus_kstub" ]
	assert_output_has "uvmbus_kstub: loaded"
}

@test "kstub: not installed: insmod of the built module" {
	built_ko
	run "$SCRIPT" kstub
	assert_status 0
	assert_eq "$(commands)" "insmod $UVMBUS_KSTUB_KO"
}

@test "kstub --ko PATH: insmod of that file, even when installed" {
	export FAKE_MODULES_INSTALLED=uvmbus_kstub
	local ko=$BATS_TEST_TMPDIR/other/uvmbus_kstub.ko
	mkdir -p "$(dirname "$ko")"
	: >"$ko"
	run "$SCRIPT" kstub --ko "$ko" quarantine_ms=5
	assert_status 0
	assert_eq "$(commands)" "insmod $ko quarantine_ms=5"
}

@test "kstub: the default module path is kstub/uvmbus_kstub.ko in the repository" {
	unset UVMBUS_KSTUB_KO
	run "$SCRIPT" help kstub
	assert_output_has "$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/kstub/uvmbus_kstub.ko"
}

@test "kstub: neither installed nor built: clear failure" {
	run "$SCRIPT" kstub
	assert_status 1
	assert_output_has "error: uvmbus_kstub is neither installed"
	assert_output_has "make -C kstub"
	assert_eq "$(commands)" ""
}

@test "kstub --ko of a missing file" {
	run "$SCRIPT" kstub --ko /nonexistent/uvmbus_kstub.ko
	assert_status 1
	assert_output_has "error: --ko /nonexistent/uvmbus_kstub.ko: no such file"
}

@test "kstub: modprobe fails: reported" {
	export FAKE_MODULES_INSTALLED=uvmbus_kstub FAKE_MODULES_MISSING=uvmbus_kstub
	run "$SCRIPT" kstub
	assert_status 1
	assert_output_has "error: modprobe uvmbus_kstub failed"
}

@test "kstub --group: the device file gets the group and g+rw" {
	need_root_for_test
	built_ko
	run "$SCRIPT" kstub --group "$GRP"
	assert_status 0
	assert_eq "$(stat -c '%G %a' "$NODE")" "$GRP 660"
	# again: loaded, access already there
	run "$SCRIPT" kstub --group "$GRP"
	assert_status 0
	assert_output_has "already loaded"
	assert_output_has "group $GRP already has read-write access"
}

@test "kstub --group with a group that does not exist: nothing loaded" {
	built_ko
	run "$SCRIPT" kstub --group no-such-group-here
	assert_status 1
	assert_output_has "error: group 'no-such-group-here' does not exist"
	assert_eq "$(commands)" ""
}

@test "kstub --dry-run prints the commands and changes nothing" {
	built_ko
	local before
	before=$(snapshot)
	run "$SCRIPT" --dry-run kstub --group "$GRP" quarantine_ms=3000
	assert_status 0
	assert_eq "$(actions)" "run insmod $UVMBUS_KSTUB_KO quarantine_ms=3000
run chgrp $GRP $NODE
run chmod g+rw $NODE"
	assert_eq "$(snapshot)" "$before" "tree changed"
	assert_eq "$(commands)" ""
}

# bats test_tags=other_user
@test "kstub: not root" {
	built_ko
	run_as_nobody kstub
	assert_status 1
	assert_output_has "error: kstub needs root"
	[ ! -d "$S/module/uvmbus_kstub" ]
}

@test "kstub: bad arguments" {
	run "$SCRIPT" kstub foo
	assert_status 2
	run "$SCRIPT" kstub --ko
	assert_status 2
}
