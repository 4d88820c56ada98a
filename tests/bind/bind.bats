#!/usr/bin/env bats
# bind_uio.sh bind

load helpers

setup() {
	setup_tree
	add_device "$A1" "$AZBLOB" "" 0
	add_device "$A2" "$AZBLOB" "" 1
	add_device "$N1" "$NETVSC" hv_netvsc 0
	add_device "$X1" "$ODD"
	UIO=$V/drivers/uio_hv_generic
}

@test "bind azblob: driver_override then bind, for every Azure Blob device" {
	add_driver uio_hv_generic
	run "$SCRIPT" --verbose bind azblob
	assert_status 0
	assert_eq "$(actions)" "write $UVMBUS_STATE_DIR/$A1 - driver_override
write $V/devices/$A1/driver_override uio_hv_generic
write $UIO/bind $A1
write $UVMBUS_STATE_DIR/$A2 - driver_override
write $V/devices/$A2/driver_override uio_hv_generic
write $UIO/bind $A2"
	assert_output_has "$A1: bound to uio_hv_generic (was: no driver)"
	assert_eq "$(val "$V/devices/$A1/driver_override")" uio_hv_generic
	assert_eq "$(val "$V/devices/$A2/driver_override")" uio_hv_generic
	assert_eq "$(val "$UIO/bind")" "$A2" "last bind"
	assert_eq "$(val "$UVMBUS_STATE_DIR/$A1")" "- driver_override"
	# others untouched, no module loaded
	assert_eq "$(val "$V/devices/$N1/driver_override")" "(null)"
	assert_eq "$(val "$V/devices/$X1/driver_override")" "(null)"
	assert_eq "$(val "$UIO/new_id")" ""
	assert_eq "$(commands)" ""
}

@test "bind loads uio_hv_generic when its driver directory is missing" {
	run "$SCRIPT" bind "$A1"
	assert_status 0
	assert_eq "$(commands)" "modprobe uio_hv_generic"
	assert_eq "$(val "$UIO/bind")" "$A1"
	assert_eq "$(val "$V/devices/$A1/driver_override")" uio_hv_generic
}

@test "bind fails clearly when uio_hv_generic cannot be loaded, and writes nothing" {
	export FAKE_MODULES_MISSING=uio_hv_generic
	local before
	before=$(snapshot)
	run "$SCRIPT" bind azblob
	assert_status 1
	assert_output_has "Module uio_hv_generic not found"
	assert_output_has "error: cannot load uio_hv_generic: modprobe failed"
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "bind --force takes a device from its driver and records the driver" {
	add_driver uio_hv_generic
	run "$SCRIPT" -v bind --force "$N1"
	assert_status 0
	assert_eq "$(actions)" "write $UVMBUS_STATE_DIR/$N1 hv_netvsc driver_override
write $V/devices/$N1/driver_override uio_hv_generic
write $V/drivers/hv_netvsc/unbind $N1
write $UIO/bind $N1"
	assert_eq "$(val "$V/drivers/hv_netvsc/unbind")" "$N1"
	assert_eq "$(val "$UIO/bind")" "$N1"
	assert_eq "$(val "$UVMBUS_STATE_DIR/$N1")" "hv_netvsc driver_override"
	assert_output_has "$N1: bound to uio_hv_generic (was: hv_netvsc)"
}

@test "bind refuses to take a non-azblob device from its kernel driver without --force" {
	add_driver uio_hv_generic
	local before
	before=$(snapshot)
	run "$SCRIPT" bind "$N1"
	assert_status 1
	assert_output_has "is in use by hv_netvsc"
	assert_output_has "--force"
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "bind checks every device before changing any" {
	add_driver uio_hv_generic
	local before
	before=$(snapshot)
	run "$SCRIPT" bind "$A1" "$N1"
	assert_status 1
	assert_output_has "is in use by hv_netvsc"
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "bind takes a device GUID in braces and upper case" {
	add_driver uio_hv_generic
	run "$SCRIPT" bind "{${A1^^}}"
	assert_status 0
	assert_eq "$(val "$UIO/bind")" "$A1"
}

@test "bind by class GUID binds the devices of that class" {
	add_driver uio_hv_generic
	run "$SCRIPT" bind "{$ODD}"
	assert_status 0
	assert_eq "$(val "$UIO/bind")" "$X1"
}

@test "bind --method new_id writes the class GUID without braces to new_id" {
	add_driver uio_hv_generic
	run "$SCRIPT" -v bind --method new_id "$A1"
	assert_status 0
	assert_eq "$(actions)" "write $UVMBUS_STATE_DIR/$A1 - new_id
write $UIO/new_id $AZBLOB
write $UIO/bind $A1"
	assert_eq "$(val "$UIO/new_id")" "$AZBLOB"
	assert_eq "$(val "$V/devices/$A1/driver_override")" "(null)"
}

@test "bind uses new_id on a kernel without driver_override" {
	add_driver uio_hv_generic
	rm "$V/devices/$N1/driver_override"
	run "$SCRIPT" -v bind --force "$N1"
	assert_status 0
	assert_eq "$(actions)" "write $UVMBUS_STATE_DIR/$N1 hv_netvsc new_id
write $UIO/new_id $NETVSC
write $V/drivers/hv_netvsc/unbind $N1
write $UIO/bind $N1"
}

@test "bind: a device already bound to uio_hv_generic is left alone" {
	attach_uio "$A1" 0
	attach_uio "$A2" 1
	local before
	before=$(snapshot)
	run "$SCRIPT" -v bind azblob
	assert_status 0
	assert_output_has "$A1: already bound to uio_hv_generic"
	assert_output_has "$A2: already bound to uio_hv_generic"
	assert_eq "$(actions)" ""
	assert_eq "$(snapshot)" "$before" "tree changed"
	assert_eq "$(commands)" ""
}

@test "bind: the same device named twice is bound once" {
	add_driver uio_hv_generic
	run "$SCRIPT" -v bind "$A1" azblob "$A1"
	assert_status 0
	assert_eq "$(actions | grep -c "$UIO/bind")" 2
}

@test "bind keeps the recorded driver of a device left without one" {
	add_driver uio_hv_generic
	mkdir -p "$UVMBUS_STATE_DIR"
	echo "hv_netvsc driver_override" >"$UVMBUS_STATE_DIR/$N1"
	set_driver "$N1"
	run "$SCRIPT" bind "$N1"
	assert_status 0
	assert_eq "$(val "$UVMBUS_STATE_DIR/$N1")" "hv_netvsc driver_override"
}

@test "bind: device not found" {
	add_driver uio_hv_generic
	local before
	before=$(snapshot)
	run "$SCRIPT" bind 11111111-2222-3333-4444-555555555555
	assert_status 1
	assert_output_has "error: device 11111111-2222-3333-4444-555555555555 not found under $V/devices"
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "bind: unknown class name" {
	run "$SCRIPT" bind blob
	assert_status 1
	assert_output_has "error: unknown class name 'blob' (known: azblob netvsc storvsc"
}

@test "bind: a known class without a device" {
	run "$SCRIPT" bind storvsc
	assert_status 1
	assert_output_has "error: no storvsc device ($STORVSC) under $V/devices"
}

@test "bind: no VMbus" {
	rm -rf "$V/devices"
	run "$SCRIPT" bind azblob
	assert_status 1
	assert_output_has "no VMbus"
}

# bats test_tags=other_user
@test "bind: not root" {
	add_driver uio_hv_generic
	local before
	before=$(snapshot)
	run_as_nobody bind azblob
	assert_status 1
	assert_output_has "error: bind needs root"
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "bind --dry-run prints every write and command, changes nothing, needs no root" {
	local before
	before=$(snapshot)
	run "$SCRIPT" --dry-run bind --force "$N1" "$A1"
	assert_status 0
	assert_eq "$(actions)" "run modprobe uio_hv_generic
write $UVMBUS_STATE_DIR/$N1 hv_netvsc driver_override
write $V/devices/$N1/driver_override uio_hv_generic
write $V/drivers/hv_netvsc/unbind $N1
write $UIO/bind $N1
write $UVMBUS_STATE_DIR/$A1 - driver_override
write $V/devices/$A1/driver_override uio_hv_generic
write $UIO/bind $A1"
	assert_eq "$(snapshot)" "$before" "tree changed"
	assert_eq "$(commands)" "" "commands ran"
}

@test "bind: a write the kernel refuses fails with the path and the error" {
	add_driver uio_hv_generic
	ln -sf /dev/full "$UIO/bind"
	run "$SCRIPT" bind "$A1"
	assert_status 1
	assert_output_has "error: writing '$A1' to $UIO/bind failed: No space left on device"
}

@test "bind: a missing driver attribute is an error, not a new file" {
	add_driver uio_hv_generic
	rm "$UIO/bind"
	run "$SCRIPT" bind "$A1"
	assert_status 1
	assert_output_has "cannot write '$A1' to $UIO/bind: no such file"
	[ ! -e "$UIO/bind" ]
}

@test "bind: bad arguments" {
	run "$SCRIPT" bind
	assert_status 2
	assert_output_has "bind needs a device GUID or a class name"
	run "$SCRIPT" bind --method bogus azblob
	assert_status 2
	run "$SCRIPT" bind azblob --method
	assert_status 2
}
