#!/usr/bin/env bats
# bind_uio.sh list

load helpers

setup() {
	setup_tree
	add_device "$A1" "$AZBLOB" "" 1
	add_device "$N1" "$NETVSC" hv_netvsc 0
	add_device "$S1" "$STORVSC" hv_storvsc 0
	add_device "$X1" "$ODD"
	add_device "$A2" "$AZBLOB"
	attach_uio "$A2" 3
}

line_of() { # GUID: the list line of the device, fields squeezed
	grep "^$1 " <<<"$output" | tr -s ' '
}

@test "list: class name, driver, uio node and NUMA node of every device" {
	run "$SCRIPT" list
	assert_status 0
	assert_eq "$(head -n 1 <<<"$output" | tr -s ' ')" "DEVICE CLASS DRIVER UIO NUMA"
	assert_eq "$(line_of "$A1")" "$A1 azblob - - 1"
	assert_eq "$(line_of "$A2")" "$A2 azblob uio_hv_generic uio3 0"
	assert_eq "$(line_of "$N1")" "$N1 netvsc hv_netvsc - 0"
	assert_eq "$(line_of "$S1")" "$S1 storvsc hv_storvsc - 0"
	assert_eq "$(wc -l <<<"$output")" 6
}

@test "list: an unknown class shows its GUID" {
	run "$SCRIPT" list
	assert_status 0
	assert_eq "$(line_of "$X1")" "$X1 {$ODD} - - 0"
}

@test "list: a missing numa_node shows -" {
	rm "$V/devices/$A1/numa_node"
	run "$SCRIPT" list
	assert_eq "$(line_of "$A1")" "$A1 azblob - - -"
}

@test "list --classes: the known classes and their GUIDs" {
	run "$SCRIPT" list --classes
	assert_status 0
	assert_output_has "azblob     {$AZBLOB}  Azure Blob"
	assert_output_has "netvsc     {$NETVSC}"
	assert_output_has "storvsc    {$STORVSC}"
}

@test "list: no VMbus is an error" {
	rm -rf "$V/devices"
	run "$SCRIPT" list
	assert_status 1
	assert_output_has "no VMbus"
}

@test "list: unexpected argument is a usage error" {
	run "$SCRIPT" list azblob
	assert_status 2
}
