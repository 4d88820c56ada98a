#!/usr/bin/env bats
# bind_uio.sh persist

load helpers

setup() {
	setup_tree
	add_device "$A1" "$AZBLOB" "" 0
	add_device "$A2" "$AZBLOB" "" 1
	add_device "$N1" "$NETVSC" hv_netvsc 0
	GRP=nogroup
	RULE=$T/etc/udev/rules.d/90-uvmbus.rules
	UNIT=$T/etc/systemd/system/uvmbus-bind.service
}

# expected_rule [claim]: the rule persist writes; "claim" adds the line that
# binds Azure Blob devices (re-offered ones too) by class.
expected_rule() {
	cat <<EOT
# Written by bind_uio.sh persist: group access to the uvmbus device files.
# uio nodes of devices bound to uio_hv_generic (their uio name is the driver's).
SUBSYSTEM=="uio", ATTR{name}=="uio_hv_generic", GROUP="$GRP", MODE="0660"
# The pinning module's device.
SUBSYSTEM=="misc", KERNEL=="uvmbus_kstub", GROUP="$GRP", MODE="0660"
EOT
	[[ ${1:-} == claim ]] || return 0
	cat <<'EOT'
# Azure Blob devices to uio_hv_generic, at boot and when the host re-offers one
# (servicing): a re-offer is a new device object, without the old one's
# driver_override. Set it, load the driver, probe the device.
ACTION=="add", SUBSYSTEM=="vmbus", ATTR{class_id}=="{0590b792-db64-45cc-81db-b8d70c577c9e}", ATTR{driver_override}="uio_hv_generic", RUN{builtin}+="kmod load uio_hv_generic", RUN+="/bin/sh -c 'echo $kernel > /sys/bus/vmbus/drivers_probe'"
EOT
}

exec_lines() {
	grep '^ExecStart=' "$UNIT"
}

@test "persist writes the udev rule (claiming Azure Blob devices by class) and the boot unit, reloads udev, enables the unit" {
	run "$SCRIPT" persist --group "$GRP"
	assert_status 0
	assert_eq "$(cat "$RULE")" "$(expected_rule claim)"
	assert_eq "$(exec_lines)" "ExecStart=$SCRIPT bind azblob
ExecStart=$SCRIPT kstub
ExecStart=-udevadm settle --timeout=30
ExecStart=$SCRIPT permissions --group $GRP azblob"
	grep -qx 'Type=oneshot' "$UNIT"
	grep -qx 'RemainAfterExit=yes' "$UNIT"
	grep -qx 'WantedBy=multi-user.target' "$UNIT"
	grep -qx 'ConditionPathIsDirectory=/sys/bus/vmbus/devices' "$UNIT"
	assert_eq "$(commands)" "udevadm control --reload-rules
udevadm trigger --action=change --subsystem-match=uio --subsystem-match=misc
systemctl daemon-reload
systemctl enable uvmbus-bind.service"
	# persist binds nothing now
	assert_eq "$(val "$V/devices/$A1/driver_override")" "(null)"
}

@test "persist --hugepages --node --ko --force and targets go into the unit" {
	run "$SCRIPT" persist --group "$GRP" --hugepages 256 --node 1 --ko /opt/uvmbus_kstub.ko --force "$A1" "$N1"
	assert_status 0
	assert_eq "$(exec_lines)" "ExecStart=$SCRIPT hugepages 256 --node 1
ExecStart=$SCRIPT bind --force $A1 $N1
ExecStart=$SCRIPT kstub --ko /opt/uvmbus_kstub.ko
ExecStart=-udevadm settle --timeout=30
ExecStart=$SCRIPT permissions --group $GRP $A1 $N1"
}

@test "persist --driverctl: a driverctl override per device, no bind in the unit, no claim in the rule" {
	run "$SCRIPT" persist --group "$GRP" --driverctl azblob
	assert_status 0
	assert_eq "$(commands | grep driverctl)" "driverctl -b vmbus set-override $A1 uio_hv_generic
driverctl -b vmbus set-override $A2 uio_hv_generic"
	# driverctl's own udev rule re-applies the override on a re-offer
	assert_eq "$(cat "$RULE")" "$(expected_rule)"
	assert_eq "$(exec_lines)" "ExecStart=$SCRIPT kstub
ExecStart=-udevadm settle --timeout=30
ExecStart=$SCRIPT permissions --group $GRP azblob"
}

@test "persist --driverctl refuses a device in use by another driver without --force" {
	run "$SCRIPT" persist --group "$GRP" --driverctl "$N1"
	assert_status 1
	assert_output_has "is in use by hv_netvsc; handing it to uio_hv_generic takes it away from the kernel: pass --force"
	[ ! -e "$RULE" ]
	run "$SCRIPT" persist --group "$GRP" --driverctl --force "$N1"
	assert_status 0
	assert_eq "$(commands | grep driverctl)" "driverctl -b vmbus set-override $N1 uio_hv_generic"
}

@test "persist twice: the second run writes and reloads nothing" {
	run "$SCRIPT" persist --group "$GRP" --driverctl
	assert_status 0
	: >"$FAKE_LOG"
	local before
	before=$(snapshot)
	run "$SCRIPT" persist --group "$GRP" --driverctl
	assert_status 0
	assert_output_has "$RULE: unchanged"
	assert_output_has "$UNIT: unchanged"
	assert_output_has "uvmbus-bind.service: already enabled"
	assert_output_has "$A1: driverctl override to uio_hv_generic already set"
	assert_eq "$(snapshot)" "$before" "tree changed"
	assert_eq "$(commands)" ""
}

@test "persist: a changed group rewrites the rule" {
	run "$SCRIPT" persist --group "$GRP"
	: >"$FAKE_LOG"
	GRP=users
	run "$SCRIPT" persist --group "$GRP"
	assert_status 0
	assert_eq "$(cat "$RULE")" "$(expected_rule claim)"
	assert_eq "$(commands)" "udevadm control --reload-rules
udevadm trigger --action=change --subsystem-match=uio --subsystem-match=misc
systemctl daemon-reload"
}

@test "persist --dry-run prints the files and commands and changes nothing" {
	local before
	before=$(snapshot)
	run "$SCRIPT" --dry-run persist --group "$GRP" --driverctl
	assert_status 0
	assert_output_has "run driverctl -b vmbus set-override $A1 uio_hv_generic"
	assert_output_has "write $RULE <<'EOF'
$(expected_rule)
EOF"
	assert_output_has "write $UNIT <<'EOF'"
	assert_output_has "ExecStart=$SCRIPT permissions --group $GRP azblob"
	assert_output_has "run udevadm control --reload-rules"
	assert_output_has "run systemctl daemon-reload"
	assert_output_has "run systemctl enable uvmbus-bind.service"
	assert_eq "$(snapshot)" "$before" "tree changed"
	assert_eq "$(commands)" ""
}

@test "persist: the claim matches a re-offered device by class, as sysfs shows class_id" {
	run "$SCRIPT" persist --group "$GRP" "$A1"
	assert_status 0
	# A re-offer: a new device object under the same GUID, without the
	# driver_override the old one had. What the rule matches is what the
	# new object shows.
	rm -rf "${V:?}/devices/$A1"
	add_device "$A1" "$AZBLOB"
	assert_eq "$(val "$V/devices/$A1/driver_override")" "(null)"
	grep -qF "SUBSYSTEM==\"vmbus\", ATTR{class_id}==\"$(val "$V/devices/$A1/class_id")\"" "$RULE"
	grep -qF 'ACTION=="add"' "$RULE"
	grep -qF 'ATTR{driver_override}="uio_hv_generic"' "$RULE"
	grep -qF 'RUN{builtin}+="kmod load uio_hv_generic"' "$RULE"
	grep -qF "RUN+=\"/bin/sh -c 'echo \$kernel > /sys/bus/vmbus/drivers_probe'\"" "$RULE"
	# the claim is by class: no device GUID in the rule
	[[ $(cat "$RULE") != *"$A1"* ]]
}

@test "persist --dry-run without --driverctl prints the claim, changes nothing" {
	local before
	before=$(snapshot)
	run "$SCRIPT" --dry-run persist --group "$GRP"
	assert_status 0
	assert_output_has "write $RULE <<'EOF'
$(expected_rule claim)
EOF"
	assert_eq "$(snapshot)" "$before" "tree changed"
	assert_eq "$(commands)" ""
}

@test "persist of a device of another class: no claim (its kernel driver binds first), said so" {
	run "$SCRIPT" persist --group "$GRP" --force "$N1"
	assert_status 0
	assert_eq "$(cat "$RULE")" "$(expected_rule)"
	assert_output_has "$N1: not claimed by the udev rule (not an Azure Blob device): bound at boot by uvmbus-bind.service, not after the host re-offers it"
	grep -qx "ExecStart=$SCRIPT bind --force $N1" "$UNIT"
}

@test "persist --driverctl without driverctl installed: says so, writes nothing" {
	rm "$BATS_TEST_TMPDIR/bin/driverctl"
	if command -v driverctl >/dev/null; then skip "driverctl is installed on this machine"; fi
	local before
	before=$(snapshot)
	run "$SCRIPT" persist --group "$GRP" --driverctl
	assert_status 1
	assert_output_has "error: driverctl is not installed"
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "persist: no Azure Blob device" {
	rm -rf "${V:?}/devices/$A1" "${V:?}/devices/$A2"
	run "$SCRIPT" persist --group "$GRP"
	assert_status 1
	assert_output_has "no azblob device"
}

@test "persist: bad arguments" {
	run "$SCRIPT" persist
	assert_status 2
	assert_output_has "persist needs --group G"
	run "$SCRIPT" persist --group "$GRP" --node 1
	assert_status 2
	run "$SCRIPT" persist --group "$GRP" --hugepages lots
	assert_status 2
	run "$SCRIPT" persist --group "$GRP" --ko relative/uvmbus_kstub.ko
	assert_status 2
	run "$SCRIPT" persist --group no-such-group-here
	assert_status 1
	assert_output_has "group 'no-such-group-here' does not exist"
	[ ! -e "$RULE" ]
}

# bats test_tags=other_user
@test "persist: not root" {
	local before
	before=$(snapshot)
	run_as_nobody persist --group "$GRP"
	assert_status 1
	assert_output_has "error: persist needs root"
	assert_eq "$(snapshot)" "$before" "tree changed"
}
