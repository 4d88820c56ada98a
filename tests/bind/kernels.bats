#!/usr/bin/env bats
# bind_uio.sh across uio_hv_generic variants: the kernel version (a fake
# uname -r) and what sysfs shows decide what bind refuses and what status
# reports. docs/WIRE.md section 5 has the kernel facts.

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

# ---------------------------------------------------------------- status

@test "status on a kernel before 6.10: monitor required (a guess), the device without one cannot be bound" {
	export FAKE_KERNEL_RELEASE=$OLD
	with_monitor "$A2" 3
	run "$SCRIPT" status
	assert_status 3
	assert_output_has "note     kernel $OLD: what uio_hv_generic does is inferred from this version (a guess on distribution and vendor kernels, which backport changes)"
	assert_output_has "note     monitor: required; uio_hv_generic before Linux 6.10 refuses a channel without a monitor: its probe fails with ENOTSUPP"
	assert_output_has "[a guess from the kernel version: vendor kernels backport changes]"
	assert_output_has "missing  $A1 bound to uio_hv_generic (driver now: none): it has no monitor, which uio_hv_generic before 6.10 refuses [a guess from the kernel version: vendor kernels backport changes]
         fix: boot Linux 6.10 or later, or have the host offer the device with a monitor"
	assert_output_has "note     $A2: monitor 3: uio_hv_generic accepts the channel on every kernel [sure: seen in sysfs]"
	assert_output_has "missing  $A2 bound to uio_hv_generic (driver now: none)
         fix: bind_uio.sh bind $A2"
	assert_output_has "note     ring file size: a fixed 4 MiB whatever the rings' size (before 6.15 / 6.12.42)"
	assert_output_has "note     RX interrupt mask: set by the kernel at open and after each interrupt, unless this kernel has \"Let userspace take care of interrupt mask\" (2025, in stable trees down to 5.4) [the kernel version cannot tell]; the library owns the mask either way"
}

@test "status on a new kernel: no monitor needed, dynamic ring file, mask left to user space" {
	run "$SCRIPT" status
	assert_status 3
	assert_output_has "note     monitor: not required; without one, the library's write to /dev/uioN makes the kernel signal the host with a hypercall (6.10 or later) [likely: from the kernel version]"
	assert_output_has "note     $A1: no monitor: fine on 6.10 or later [likely: from the kernel version]"
	assert_output_has "missing  $A1 bound to uio_hv_generic (driver now: none)
         fix: bind_uio.sh bind $A1"
	assert_output_has "note     ring file size: the rings' size (\"Make the sysfs node size for the ring buffer dynamic\": 6.15 or later, stable 6.12.42 or later) [likely: from the kernel version]"
	assert_output_has "note     RX interrupt mask: left to user space (\"Let userspace take care of interrupt mask\", 2025) [likely: from the kernel version]; the library owns the mask either way"
	[[ $output != *"monitor: required"* ]]
}

@test "status: the ring file is dynamic from stable 6.12.42 on, fixed before" {
	export FAKE_KERNEL_RELEASE=6.12.42-cloud-amd64
	run "$SCRIPT" status
	assert_output_has "note     ring file size: the rings' size"
	export FAKE_KERNEL_RELEASE=6.12.41
	run "$SCRIPT" status
	assert_output_has "note     ring file size: a fixed 4 MiB"
	export FAKE_KERNEL_RELEASE=6.14.3
	run "$SCRIPT" status
	assert_output_has "note     ring file size: a fixed 4 MiB"
}

@test "status: a kernel version the script cannot read: sysfs only" {
	export FAKE_KERNEL_RELEASE=custom-build
	run "$SCRIPT" status
	assert_output_has "note     kernel custom-build: not a version this script can read; what uio_hv_generic does is told by sysfs only"
	assert_output_has "note     $A1: no monitor: uio_hv_generic before 6.10 refuses such a channel (bind says so with error 524) [the kernel version cannot tell]"
	assert_output_has "missing  $A1 bound to uio_hv_generic (driver now: none)
         fix: bind_uio.sh bind $A1"
}

@test "status: bound without a monitor on a kernel before 6.10: sysfs shows this kernel accepts it" {
	export FAKE_KERNEL_RELEASE=$OLD
	attach_uio "$A1" 0
	run "$SCRIPT" status "$A1"
	assert_output_has "note     $A1: no monitor, and bound all the same: this kernel accepts a channel without a monitor [sure: seen in sysfs]"
	assert_output_has "ok       $A1 bound to uio_hv_generic"
}

@test "status: ring file fixed at 4 MiB, rings of 2 MiB + 4 KiB in uio map 0" {
	attach_uio "$A1" 0
	truncate -s 4M "$(ring_of "$A1")"
	echo 0x0000000000402000 >"$V/devices/$A1/uio/uio0/maps/map0/size"
	run "$SCRIPT" status "$A1"
	assert_output_has "note     $A1: ring file 4194304 bytes, uio map 0 4202496 bytes: the ring file does not report the rings' size (a fixed 4 MiB before 6.15 / 6.12.42; each ring is 2101248 bytes); the library sizes the rings from map 0, right either way [sure: seen in sysfs]"
}

@test "status: ring file and uio map 0 of the same size" {
	attach_uio "$A1" 0
	truncate -s 4202496 "$(ring_of "$A1")"
	echo 0x0000000000402000 >"$V/devices/$A1/uio/uio0/maps/map0/size"
	run "$SCRIPT" status "$A1"
	assert_output_has "ok       $A1: ring file and uio map 0 both 4202496 bytes (each ring 2101248) [sure: seen in sysfs]"
}

@test "status: no primary ring file (re-offered, bound through new_id on an older kernel): map 0 only" {
	attach_uio "$A1" 0
	rm "$(ring_of "$A1")"
	run "$SCRIPT" status "$A1"
	assert_output_has "note     $A1: no channel ring file yet (it appears once the channel is set up; on older kernels a device bound through new_id after a re-offer gets none)"
	assert_output_has "note     $A1: uio map 0: 4194304 bytes (each ring 2097152); no primary ring file to compare [sure: seen in sysfs]"
}
