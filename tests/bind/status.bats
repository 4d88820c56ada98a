#!/usr/bin/env bats
# bind_uio.sh status

load helpers

setup() {
	setup_tree
	add_device "$A1" "$AZBLOB" "" 1
	add_device "$N1" "$NETVSC" hv_netvsc 0
	GRP=nogroup
}

# everything_set_up: what bind, permissions, hugepages, kstub and persist
# leave behind.
everything_set_up() {
	attach_uio "$A1" 0
	chgrp "$GRP" "$T/dev/uio0"
	chmod 0660 "$T/dev/uio0"
	echo 512 >"$S/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
	echo 500 >"$S/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
	echo 512 >"$S/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"
	mkdir -p "$S/module/uvmbus_kstub"
	: >"$T/dev/uvmbus_kstub"
	chgrp "$GRP" "$T/dev/uvmbus_kstub"
	chmod 0660 "$T/dev/uvmbus_kstub"
	mkdir -p "$T/etc/udev/rules.d" "$T/etc/systemd/system"
	echo "SUBSYSTEM==\"uio\", GROUP=\"$GRP\"" >"$T/etc/udev/rules.d/90-uvmbus.rules"
	: >"$T/etc/systemd/system/uvmbus-bind.service"
}

@test "status: nothing set up: every missing piece with the command that fixes it, exit 3" {
	run "$SCRIPT" status
	assert_status 3
	assert_output_has "missing  $A1 bound to uio_hv_generic (driver now: none)
         fix: bind_uio.sh bind $A1"
	assert_output_has "missing  hugepages: none of 2M reserved
         fix: bind_uio.sh hugepages 512"
	assert_output_has "missing  hugepages on node 1 (a device's node)
         fix: bind_uio.sh hugepages 512 --node 1"
	assert_output_has "missing  uvmbus_kstub module loaded
         fix: bind_uio.sh kstub --group <group>"
	assert_output_has "missing  udev rule $T/etc/udev/rules.d/90-uvmbus.rules
         fix: bind_uio.sh persist --group <group>"
	assert_output_has "missing  boot unit $T/etc/systemd/system/uvmbus-bind.service"
	assert_output_has "6 thing(s) missing"
	# the netvsc device is not asked about
	[[ $output != *"$N1"* ]]
}

@test "status: everything set up: exit 0" {
	need_root_for_test
	everything_set_up
	run "$SCRIPT" status
	assert_status 0
	assert_output_has "ok       $A1 bound to uio_hv_generic: $T/dev/uio0, NUMA node 1"
	assert_output_has "ok       $T/dev/uio0: group $GRP, mode 660"
	assert_output_has "ok       $A1: 1 channel ring file(s)"
	assert_output_has "ok       hugepages: 512 of 2M reserved, 500 free"
	assert_output_has "ok       hugepages on node 1 (a device's node): 512"
	assert_output_has "ok       uvmbus_kstub module loaded"
	assert_output_has "ok       $T/dev/uvmbus_kstub: group $GRP, mode 660"
	assert_output_has "everything is set up"
	[[ $output != *missing* ]]
}

@test "status: fixes name the group of the udev rule; root-only nodes are missing access" {
	need_root_for_test
	everything_set_up
	chgrp root "$T/dev/uio0"
	chmod 0600 "$T/dev/uvmbus_kstub"
	run "$SCRIPT" status
	assert_status 3
	assert_output_has "missing  $T/dev/uio0: group access (group root, mode 660)
         fix: bind_uio.sh permissions --group $GRP"
	assert_output_has "missing  $T/dev/uvmbus_kstub: group access (group $GRP, mode 600)
         fix: bind_uio.sh permissions --group $GRP"
	assert_output_has "2 thing(s) missing"
}

@test "status: no ring file yet is a note, not a missing piece" {
	need_root_for_test
	everything_set_up
	rm "$V/devices/$A1/channels/"*/ring
	run "$SCRIPT" status
	assert_status 0
	assert_output_has "note     $A1: no channel ring file yet"
}

@test "status: a udev rule without the Azure Blob claim is a note (re-offered devices come back unbound)" {
	need_root_for_test
	everything_set_up
	run "$SCRIPT" status
	assert_status 0
	assert_output_has "note     udev rule: does not claim Azure Blob devices the host re-offers (servicing)"
	echo 'ACTION=="add", SUBSYSTEM=="vmbus", ATTR{class_id}=="{0590b792-db64-45cc-81db-b8d70c577c9e}", ATTR{driver_override}="uio_hv_generic"' \
		>>"$T/etc/udev/rules.d/90-uvmbus.rules"
	run "$SCRIPT" status
	assert_status 0
	[[ $output != *"does not claim"* ]]
}

@test "status TARGET: another device or class" {
	run "$SCRIPT" status "$N1"
	assert_status 3
	assert_output_has "missing  $N1 bound to uio_hv_generic (driver now: hv_netvsc)"
	[[ $output != *"$A1"* ]]
}

@test "status: no Azure Blob device" {
	rm -rf "${V:?}/devices/$A1"
	run "$SCRIPT" status
	assert_status 3
	assert_output_has "missing  device azblob on the VMbus"
}

@test "status: no VMbus" {
	rm -rf "${V:?}/devices"
	run "$SCRIPT" status
	assert_status 3
	assert_output_has "missing  VMbus ($V/devices does not exist"
}

@test "status: unknown class name" {
	run "$SCRIPT" status blob
	assert_status 1
	assert_output_has "unknown class name 'blob'"
}

# bats test_tags=other_user
@test "status needs no root and changes nothing" {
	# let the unprivileged user walk the test's tree
	local d=$T top
	top=$(dirname "$BATS_RUN_TMPDIR")
	while [[ $d != "$top" && $d != / ]]; do
		chmod o+rx "$d"
		d=$(dirname "$d")
	done
	chmod -R o+rX "$T"
	local before
	before=$(snapshot)
	run_as_nobody status
	assert_status 3
	assert_output_has "missing  $A1 bound to uio_hv_generic"
	assert_eq "$(snapshot)" "$before" "tree changed"
}
