#!/usr/bin/env bats
# bind_uio.sh: help, argument errors, global options.

load helpers

setup() {
	setup_tree
	add_device "$A1" "$AZBLOB"
	add_driver uio_hv_generic
}

@test "--help lists every command and the environment" {
	run "$SCRIPT" --help
	assert_status 0
	for c in list bind unbind hugepages kstub permissions status persist; do
		assert_output_has "  $c "
	done
	for e in UVMBUS_SYSFS_ROOT UVMBUS_DEV_ROOT UVMBUS_ETC_ROOT UVMBUS_STATE_DIR; do
		assert_output_has "$e"
	done
	assert_output_has "--dry-run"
}

@test "help is also a command" {
	run "$SCRIPT" help
	assert_status 0
	assert_output_has "usage: bind_uio.sh"
}

@test "help COMMAND and COMMAND --help print the command's help" {
	local c
	for c in list bind unbind hugepages kstub permissions status persist; do
		run "$SCRIPT" help "$c"
		assert_status 0
		assert_output_has "usage: bind_uio.sh $c"
		local help=$output
		run "$SCRIPT" "$c" --help
		assert_status 0
		assert_eq "$output" "$help" "$c --help"
	done
}

@test "no command: usage, exit 2" {
	run "$SCRIPT"
	assert_status 2
	assert_output_has "usage: bind_uio.sh"
}

@test "unknown command: exit 2 with a message" {
	run "$SCRIPT" frobnicate
	assert_status 2
	assert_output_has "unknown command 'frobnicate'"
}

@test "unknown global option: exit 2" {
	run "$SCRIPT" --bogus list
	assert_status 2
	assert_output_has "unknown option '--bogus'"
}

@test "unknown command option: exit 2" {
	local c
	for c in bind unbind hugepages kstub permissions status persist; do
		run "$SCRIPT" "$c" --bogus
		assert_status 2
		assert_output_has "unknown option '--bogus'"
	done
}

@test "--dry-run and -n work before and after the command" {
	local before
	before=$(snapshot)
	run "$SCRIPT" --dry-run bind azblob
	assert_status 0
	assert_output_has "write $V/drivers/uio_hv_generic/bind $A1"
	run "$SCRIPT" bind azblob -n
	assert_status 0
	assert_output_has "write $V/drivers/uio_hv_generic/bind $A1"
	assert_eq "$(snapshot)" "$before" "tree changed"
	assert_eq "$(commands)" "" "commands ran"
}

@test "the script is shellcheck clean" {
	command -v shellcheck >/dev/null || skip "shellcheck not installed"
	run shellcheck "$SCRIPT" "$BATS_TEST_DIRNAME/fake-cmd"
	assert_status 0
}
