#!/usr/bin/env bats
# bind_uio.sh across uio_hv_generic variants: the kernel version (a fake
# uname -r) and what sysfs shows decide what bind refuses and what status
# reports. WIRE.md section 5 has the kernel facts.

load helpers

OLD=5.15.0-1057-azure # before 6.10: a channel without a monitor is refused
NEW=6.17.0-fake       # after every change status knows about

setup() {
	setup_tree
	add_device "$A1" "$AZBLOB" "" 0
	add_device "$A2" "$AZBLOB" "" 1
	UIO=$V/drivers/uio_hv_generic
}

with_monitor() { # GUID ID: the host offered the device with monitor ID
	echo "$2" >"$V/devices/$1/monitor_id"
}

ring_of() { # GUID: the primary channel's ring file
	echo "$V/devices/$1/channels/$(val "$V/devices/$1/id")/ring"
}

# kernel_refuses PATH: a write to PATH fails as a refused probe does: bash
# reports ENOTSUPP (524, no text in user space) as "Unknown error 524". A
# regular file cannot fail so: the script gets a printf function through
# BASH_ENV that fails writes to PATH and leaves every other write alone.
kernel_refuses() {
	local env=$BATS_TEST_TMPDIR/enotsupp.bash
	cat >"$env" <<'EOF'
printf() {
	if [[ /dev/stdout -ef $FAKE_ENOTSUPP ]]; then
		echo "bash: printf: write error: Unknown error 524" >&2
		return 1
	fi
	builtin printf "$@"
}
EOF
	export FAKE_ENOTSUPP=$1 BASH_ENV=$env
}

# ---------------------------------------------------------------- bind

@test "bind on a kernel before 6.10, device without a monitor: refused with the reason, nothing written" {
	export FAKE_KERNEL_RELEASE=$OLD
	local before
	before=$(snapshot)
	run "$SCRIPT" bind azblob
	assert_status 1
	assert_output_has "error: $A1 cannot be bound to uio_hv_generic on this kernel ($OLD): the device has no monitor (monitor_id absent or 255)"
	assert_output_has '"vmbus channel requires hypercall" in the kernel log, "Unknown error 524" from the bind write'
	assert_output_has "Nothing was changed."
	assert_output_has "What to do: boot Linux 6.10 or later, or have the host offer the device with a monitor."
	assert_output_has "bind --skip-monitor-check tries anyway"
	assert_eq "$(snapshot)" "$before" "tree changed"
	assert_eq "$(commands)" "" "commands ran (modprobe?)"
}

@test "bind before 6.10: an absent monitor_id (newer kernels hide it) is no monitor either" {
	export FAKE_KERNEL_RELEASE=6.9.12
	rm "$V/devices/$A1/monitor_id"
	run "$SCRIPT" --dry-run bind "$A1"
	assert_status 1
	assert_output_has "$A1 cannot be bound to uio_hv_generic on this kernel (6.9.12)"
	assert_eq "$(actions)" ""
}

@test "bind before 6.10: every device is checked before any is bound" {
	export FAKE_KERNEL_RELEASE=$OLD
	add_driver uio_hv_generic
	with_monitor "$A1" 3
	local before
	before=$(snapshot)
	run "$SCRIPT" bind "$A1" "$A2"
	assert_status 1
	assert_output_has "$A2 cannot be bound"
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "bind before 6.10: a device with a monitor is bound" {
	export FAKE_KERNEL_RELEASE=$OLD
	add_driver uio_hv_generic
	with_monitor "$A1" 3
	run "$SCRIPT" bind "$A1"
	assert_status 0
	assert_eq "$(val "$UIO/bind")" "$A1"
}

@test "bind on 6.10 and later: a device without a monitor is bound" {
	export FAKE_KERNEL_RELEASE=6.10.0
	add_driver uio_hv_generic
	run "$SCRIPT" bind "$A1"
	assert_status 0
	assert_eq "$(val "$UIO/bind")" "$A1"
}

@test "bind --skip-monitor-check tries anyway on a kernel before 6.10 (a vendor backport)" {
	export FAKE_KERNEL_RELEASE=$OLD
	add_driver uio_hv_generic
	run "$SCRIPT" bind --skip-monitor-check "$A1"
	assert_status 0
	assert_eq "$(val "$UIO/bind")" "$A1"
}

@test "bind before 6.10: a device already bound without a monitor is left alone" {
	export FAKE_KERNEL_RELEASE=$OLD
	attach_uio "$A1" 0
	run "$SCRIPT" bind "$A1"
	assert_status 0
	assert_output_has "$A1: already bound to uio_hv_generic"
}

@test "bind: a kernel version the script cannot read does not refuse (the kernel decides)" {
	export FAKE_KERNEL_RELEASE=custom-build
	add_driver uio_hv_generic
	run "$SCRIPT" bind "$A1"
	assert_status 0
	assert_eq "$(val "$UIO/bind")" "$A1"
}

@test "bind: the kernel refuses the bind write with error 524 on any kernel: explained" {
	add_driver uio_hv_generic
	with_monitor "$A1" 3
	kernel_refuses "$UIO/bind"
	run "$SCRIPT" bind "$A1"
	assert_status 1
	assert_output_has "error: writing '$A1' to $UIO/bind failed: Unknown error 524"
	assert_output_has "error 524 is ENOTSUPP: uio_hv_generic refused the device."
	assert_output_has '"vmbus channel requires hypercall" in the kernel log'
	assert_output_has "This kernel: $FAKE_KERNEL_RELEASE. What to do: boot Linux 6.10 or later, or have the host offer the device with a monitor."
}

@test "bind: another error of the bind write gets no monitor explanation" {
	add_driver uio_hv_generic
	ln -sf /dev/full "$UIO/bind"
	run "$SCRIPT" bind "$A1"
	assert_status 1
	assert_output_has "failed: No space left on device"
	[[ $output != *ENOTSUPP* ]]
}
