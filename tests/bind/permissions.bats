#!/usr/bin/env bats
# bind_uio.sh permissions

load helpers

setup() {
	setup_tree
	add_device "$A1" "$AZBLOB" "" 0
	add_device "$A2" "$AZBLOB" "" 1
	add_device "$N1" "$NETVSC" hv_netvsc 0
	attach_uio "$A1" 0
	attach_uio "$A2" 1
	RING1=$V/devices/$A1/channels/$(val "$V/devices/$A1/id")/ring
	RING2=$V/devices/$A2/channels/$(val "$V/devices/$A2/id")/ring
	KNODE=$UVMBUS_DEV_ROOT/uvmbus_kstub
	: >"$KNODE"
	chmod 0600 "$KNODE"
	GRP=nogroup
}

access() { stat -c '%G %a' "$1"; }

@test "permissions: uio nodes, channel rings and the kstub node get the group and g+rw" {
	need_root_for_test
	run "$SCRIPT" permissions --group "$GRP"
	assert_status 0
	local f
	for f in "$T/dev/uio0" "$T/dev/uio1" "$RING1" "$RING2" "$KNODE"; do
		assert_eq "$(access "$f")" "$GRP 660" "$f"
	done
	# the device that is not on uio keeps its files
	assert_eq "$(val "$V/devices/$N1/driver_override")" "(null)"
}

@test "permissions: a second run changes nothing" {
	need_root_for_test
	run "$SCRIPT" permissions --group "$GRP"
	assert_status 0
	local before
	before=$(snapshot)
	run "$SCRIPT" -v permissions --group "$GRP"
	assert_status 0
	assert_eq "$(actions)" ""
	assert_output_has "$T/dev/uio0: group $GRP already has read-write access"
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "permissions --dry-run prints every chgrp and chmod and changes nothing" {
	local before
	before=$(snapshot)
	run "$SCRIPT" --dry-run permissions --group "$GRP"
	assert_status 0
	assert_eq "$(actions)" "run chgrp $GRP $T/dev/uio0
run chmod g+rw $T/dev/uio0
run chgrp $GRP $RING1
run chmod g+rw $RING1
run chgrp $GRP $T/dev/uio1
run chmod g+rw $T/dev/uio1
run chgrp $GRP $RING2
run chmod g+rw $RING2
run chgrp $GRP $KNODE
run chmod g+rw $KNODE"
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "permissions TARGET: only that device" {
	need_root_for_test
	run "$SCRIPT" permissions --group "$GRP" "$A1"
	assert_status 0
	assert_eq "$(access "$T/dev/uio0")" "$GRP 660"
	assert_eq "$(access "$T/dev/uio1")" "root 600"
}

@test "permissions: a target not bound to uio_hv_generic" {
	run "$SCRIPT" permissions --group "$GRP" "$N1"
	assert_status 1
	assert_output_has "error: $N1 is not bound to uio_hv_generic (run: bind_uio.sh bind $N1)"
}

@test "permissions: no device bound to uio_hv_generic" {
	set_driver "$A1"
	set_driver "$A2"
	run "$SCRIPT" permissions --group "$GRP"
	assert_status 1
	assert_output_has "error: no device is bound to uio_hv_generic (run: bind_uio.sh bind azblob)"
}

@test "permissions: no ring file yet, no kstub node: notes, still done" {
	need_root_for_test
	rm "$RING1" "$KNODE"
	run "$SCRIPT" permissions --group "$GRP" "$A1"
	assert_status 0
	assert_output_has "$A1: no channel ring file yet"
	assert_output_has "uvmbus_kstub does not exist (load it with: bind_uio.sh kstub --group $GRP)"
	assert_eq "$(access "$T/dev/uio0")" "$GRP 660"
}

@test "permissions: the uio node is missing" {
	rm "$T/dev/uio0"
	run "$SCRIPT" permissions --group "$GRP"
	assert_status 1
	assert_output_has "error: $T/dev/uio0 (uio node of $A1) does not exist"
}

@test "permissions: a group that does not exist" {
	run "$SCRIPT" permissions --group no-such-group-here
	assert_status 1
	assert_output_has "error: group 'no-such-group-here' does not exist"
}

@test "permissions: --group is required" {
	run "$SCRIPT" permissions
	assert_status 2
	assert_output_has "permissions needs --group G"
}

# bats test_tags=other_user
@test "permissions: not root" {
	local before
	before=$(snapshot)
	run_as_nobody permissions --group "$GRP"
	assert_status 1
	assert_output_has "error: permissions needs root"
	assert_eq "$(snapshot)" "$before" "tree changed"
}

# Issue "Hostile host, hostile local user", item 12: the group that may use
# the device files is root-equivalent, and must be told so.

@test "permissions: warns that the group is root-equivalent and names the broker" {
	need_root_for_test
	run "$SCRIPT" permissions --group "$GRP"
	assert_status 0
	assert_output_has "warning: members of group $GRP are root-equivalent"
	assert_output_has "the host then reads or writes that memory"
	assert_output_has "Add only users you trust like root"
	assert_output_has "Untrusted users need a broker that owns the device and serves them (azblobd: planned, it does not exist yet)"
}

@test "permissions --dry-run warns too" {
	run "$SCRIPT" --dry-run permissions --group "$GRP"
	assert_status 0
	assert_output_has "members of group $GRP are root-equivalent"
}

@test "permissions --help says the group is root-equivalent" {
	run "$SCRIPT" permissions --help
	assert_status 0
	assert_output_has "The members of G are root-equivalent"
	assert_output_has "azblobd: planned, it does not exist yet"
}

@test "permissions refuses a uio node open to all users and changes nothing" {
	chmod 0666 "$T/dev/uio1"
	local before
	before=$(snapshot)
	run "$SCRIPT" permissions --group "$GRP"
	assert_status 1
	assert_output_has "error: world access to $T/dev/uio1 (mode 0666): every local user would be root-equivalent"
	assert_output_has "remove it first (chmod o-rw"
	assert_eq "$(actions)" ""
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "permissions refuses world-readable ring and kstub files, naming each" {
	chmod 0604 "$RING2" "$KNODE"
	run "$SCRIPT" --dry-run permissions --group "$GRP"
	assert_status 1
	assert_output_has "error: world access to $RING2 (mode 0604) $KNODE (mode 0604):"
	assert_eq "$(actions)" ""
}

@test "kstub --group refuses a kstub node open to all users" {
	mkdir -p "$S/module/uvmbus_kstub"
	chmod 0662 "$KNODE"
	run "$SCRIPT" kstub --group "$GRP"
	assert_status 1
	assert_output_has "error: world access to $KNODE (mode 0662)"
	assert_eq "$(actions)" ""
}
