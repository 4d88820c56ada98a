#!/usr/bin/env bats
# bind_uio.sh unbind

load helpers

setup() {
	setup_tree
	add_device "$A1" "$AZBLOB" "" 0
	add_device "$A2" "$AZBLOB" "" 1
	add_device "$N1" "$NETVSC" hv_netvsc 0
	add_driver uio_hv_generic
	UIO=$V/drivers/uio_hv_generic
}

# kernel_bound GUID N: what the kernel shows after a successful bind
# (the fake tree does not move the driver link by itself).
kernel_bound() {
	attach_uio "$1" "$2"
}

@test "unbind gives the device back to the driver it had before bind" {
	run "$SCRIPT" bind --force "$N1"
	assert_status 0
	kernel_bound "$N1" 0
	run "$SCRIPT" -v unbind "$N1"
	assert_status 0
	assert_eq "$(actions)" "write $V/devices/$N1/driver_override ''
write $UIO/unbind $N1
write $V/drivers/hv_netvsc/bind $N1
run rm -f $UVMBUS_STATE_DIR/$N1"
	assert_eq "$(val "$V/devices/$N1/driver_override")" "" "override cleared"
	assert_eq "$(cat -A "$V/devices/$N1/driver_override")" '$' "override cleared with a newline"
	assert_eq "$(val "$UIO/unbind")" "$N1"
	assert_eq "$(val "$V/drivers/hv_netvsc/bind")" "$N1"
	[ ! -e "$UVMBUS_STATE_DIR/$N1" ]
	assert_output_has "$N1: unbound from uio_hv_generic, back to hv_netvsc"
}

@test "unbind of a device that had no driver leaves it without one" {
	run "$SCRIPT" bind "$A1"
	assert_status 0
	kernel_bound "$A1" 0
	run "$SCRIPT" -v unbind "$A1"
	assert_status 0
	assert_eq "$(actions)" "write $V/devices/$A1/driver_override ''
write $UIO/unbind $A1
run rm -f $UVMBUS_STATE_DIR/$A1"
	assert_output_has "it had no driver before, left without one"
}

@test "unbind without a record (bound by someone else) only unbinds" {
	kernel_bound "$A1" 0
	run "$SCRIPT" -v unbind azblob
	assert_status 0
	assert_eq "$(actions)" "write $UIO/unbind $A1"
	assert_output_has "$A1: unbound from uio_hv_generic; no previous driver recorded, left without a driver"
	assert_output_has "$A2: not bound to uio_hv_generic (driver: none), nothing to do"
}

@test "unbind of a device not on uio_hv_generic is a no-op" {
	local before
	before=$(snapshot)
	run "$SCRIPT" -v unbind "$N1"
	assert_status 0
	assert_output_has "$N1: not bound to uio_hv_generic (driver: hv_netvsc), nothing to do"
	assert_eq "$(actions)" ""
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "unbind after bind --method new_id removes the class id with the last device" {
	run "$SCRIPT" bind --method new_id azblob
	assert_status 0
	kernel_bound "$A1" 0
	kernel_bound "$A2" 1
	run "$SCRIPT" -v unbind "$A1"
	assert_status 0
	assert_eq "$(actions)" "write $UIO/unbind $A1
run rm -f $UVMBUS_STATE_DIR/$A1"
	set_driver "$A1" # the kernel unbound it
	run "$SCRIPT" -v unbind "$A2"
	assert_status 0
	assert_eq "$(actions)" "write $UIO/unbind $A2
write $UIO/remove_id $AZBLOB
run rm -f $UVMBUS_STATE_DIR/$A2"
	assert_eq "$(val "$UIO/remove_id")" "$AZBLOB"
}

@test "unbind loads the previous driver when it is gone" {
	run "$SCRIPT" bind --force "$N1"
	kernel_bound "$N1" 0
	rm -rf "$V/drivers/hv_netvsc"
	: >"$FAKE_LOG"
	run "$SCRIPT" unbind "$N1"
	assert_status 0
	assert_eq "$(commands)" "modprobe hv_netvsc"
	assert_eq "$(val "$V/drivers/hv_netvsc/bind")" "$N1"
}

@test "unbind fails clearly when the previous driver cannot be loaded" {
	run "$SCRIPT" bind --force "$N1"
	kernel_bound "$N1" 0
	rm -rf "$V/drivers/hv_netvsc"
	export FAKE_MODULES_MISSING=hv_netvsc
	run "$SCRIPT" unbind "$N1"
	assert_status 1
	assert_output_has "error: $N1: cannot load hv_netvsc to give the device back"
	# the record stays for another try
	assert_eq "$(val "$UVMBUS_STATE_DIR/$N1")" "hv_netvsc driver_override"
}

@test "unbind --dry-run prints every write and changes nothing" {
	run "$SCRIPT" bind --force "$N1"
	kernel_bound "$N1" 0
	: >"$FAKE_LOG"
	local before
	before=$(snapshot)
	run "$SCRIPT" --dry-run unbind "$N1"
	assert_status 0
	assert_eq "$(actions)" "write $V/devices/$N1/driver_override ''
write $UIO/unbind $N1
write $V/drivers/hv_netvsc/bind $N1
run rm -f $UVMBUS_STATE_DIR/$N1"
	assert_eq "$(snapshot)" "$before" "tree changed"
	assert_eq "$(commands)" ""
}

# bats test_tags=other_user
@test "unbind: not root" {
	kernel_bound "$A1" 0
	local before
	before=$(snapshot)
	run_as_nobody unbind azblob
	assert_status 1
	assert_output_has "error: unbind needs root"
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "unbind: device not found, unknown class, no target" {
	run "$SCRIPT" unbind 11111111-2222-3333-4444-555555555555
	assert_status 1
	assert_output_has "device 11111111-2222-3333-4444-555555555555 not found"
	run "$SCRIPT" unbind blob
	assert_status 1
	assert_output_has "unknown class name 'blob'"
	run "$SCRIPT" unbind
	assert_status 2
}
