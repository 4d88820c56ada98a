# Shared by the bind_uio.sh tests: a fake sysfs/dev/etc tree under
# $BATS_TEST_TMPDIR/root, fake commands first in PATH, and helpers to read
# back what the script wrote. Every sysfs attribute is a regular file, so a
# file holds the last value written to it ("value\n", as echo writes it).

SCRIPT=$(cd "$BATS_TEST_DIRNAME/../../scripts" && pwd)/bind_uio.sh

# Class GUIDs (include/linux/hyperv.h, and the Azure Blob class).
AZBLOB=0590b792-db64-45cc-81db-b8d70c577c9e
NETVSC=f8615163-df3e-46c5-913f-f2d2f965ed0e
STORVSC=ba6163d9-04a1-4d29-b605-72e2ffb1dc7f
ODD=12345678-9abc-def0-1234-56789abcdef0 # a class nobody knows

# Device instance GUIDs.
A1=3ae7f5c1-2b1a-4c2e-9d5f-1a2b3c4d5e01
A2=3ae7f5c1-2b1a-4c2e-9d5f-1a2b3c4d5e02
N1=000d3a6e-1c2b-4d5e-8f90-a1b2c3d4e5f6
S1=f8b3781b-1e82-4818-a1c3-63d806ec15bb
X1=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee

setup_tree() {
	T=$BATS_TEST_TMPDIR/root
	export UVMBUS_SYSFS_ROOT=$T/sys
	export UVMBUS_DEV_ROOT=$T/dev
	export UVMBUS_ETC_ROOT=$T/etc
	export UVMBUS_STATE_DIR=$T/run/uvmbus
	export UVMBUS_KSTUB_KO=$T/build/uvmbus_kstub.ko
	S=$UVMBUS_SYSFS_ROOT
	V=$S/bus/vmbus
	mkdir -p "$V/devices" "$V/drivers" "$S/module" "$T/dev" "$T/etc"
	attr "$V/drivers_probe" ""
	add_driver hv_netvsc
	add_driver hv_storvsc
	add_hugepages
	RELID=14

	export FAKE_LOG=$BATS_TEST_TMPDIR/commands.log
	export FAKE_STATE=$BATS_TEST_TMPDIR/fake-state
	# A kernel new enough for every uio_hv_generic change (kernels.bats
	# tries older ones).
	export FAKE_KERNEL_RELEASE=6.17.0-fake
	: >"$FAKE_LOG"
	local bin=$BATS_TEST_TMPDIR/bin c
	mkdir -p "$bin"
	for c in modprobe insmod modinfo udevadm driverctl systemctl dkms uname; do
		ln -s "$BATS_TEST_DIRNAME/fake-cmd" "$bin/$c"
	done
	PATH=$bin:$PATH
	# Not root (a developer's ctest run): let the script believe it is, the
	# tree is the caller's own. The "not root" tests drop this again.
	if ((EUID != 0)); then
		ID_BIN=$BATS_TEST_TMPDIR/idbin
		mkdir -p "$ID_BIN"
		printf '#!/bin/sh\necho 0\n' >"$ID_BIN/id"
		chmod +x "$ID_BIN/id"
		PATH=$ID_BIN:$PATH
	fi
	export PATH
}

# attr PATH VALUE: a sysfs attribute holding VALUE.
attr() {
	mkdir -p "$(dirname "$1")"
	printf '%s\n' "$2" >"$1"
}

# val PATH: what the attribute holds now.
val() {
	cat "$1"
}

add_driver() { # NAME
	local a
	for a in bind unbind new_id remove_id; do attr "$V/drivers/$1/$a" ""; done
	mkdir -p "$S/module/$1"
}

add_hugepages() {
	local n
	for n in 0 1; do
		attr "$S/devices/system/node/node$n/hugepages/hugepages-2048kB/nr_hugepages" 0
		attr "$S/devices/system/node/node$n/hugepages/hugepages-2048kB/free_hugepages" 0
	done
	attr "$S/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages" 0
	attr "$S/kernel/mm/hugepages/hugepages-2048kB/free_hugepages" 0
	attr "$S/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages" 0
}

# add_device GUID CLASS [DRIVER] [NUMA]: a VMbus device with its primary
# channel (no ring file: that comes with uio).
add_device() {
	local g=$1 class=$2 drv=${3:-} numa=${4:-0} d
	d=$V/devices/$g
	RELID=$((RELID + 1))
	attr "$d/class_id" "{$class}"
	attr "$d/device_id" "{$g}"
	attr "$d/id" "$RELID"
	attr "$d/numa_node" "$numa"
	attr "$d/monitor_id" 255
	attr "$d/driver_override" "(null)"
	attr "$d/channels/$RELID/cpu" 0
	attr "$d/channels/$RELID/monitor_id" 255
	attr "$d/channels/$RELID/subchannel_id" 0
	[[ -z $drv ]] || set_driver "$g" "$drv"
}

# set_driver GUID [DRIVER]: what the kernel shows after a bind (no DRIVER:
# after an unbind).
set_driver() {
	local d=$V/devices/$1
	rm -f "$d/driver"
	[[ -z ${2:-} ]] || ln -s "../../drivers/$2" "$d/driver"
}

# attach_uio GUID N: the device as uio_hv_generic shows it once bound, with
# /dev/uioN and the channel ring file.
attach_uio() {
	local g=$1 n=$2 d relid
	d=$V/devices/$g
	[[ -d $V/drivers/uio_hv_generic ]] || add_driver uio_hv_generic
	set_driver "$g" uio_hv_generic
	attr "$d/uio/uio$n/name" uio_hv_generic
	attr "$d/uio/uio$n/maps/map0/name" txrx_rings
	attr "$d/uio/uio$n/maps/map0/size" 0x400000
	attr "$d/uio/uio$n/maps/map0/offset" 0x0
	attr "$d/uio/uio$n/maps/map0/addr" 0xffff8880
	relid=$(val "$d/id")
	: >"$d/channels/$relid/ring"
	chmod 0600 "$d/channels/$relid/ring"
	: >"$T/dev/uio$n"
	chmod 0600 "$T/dev/uio$n"
}

# snapshot: every path of the tree with its type, mode, group, link target
# and content hash: equal snapshots mean nothing changed.
snapshot() {
	(
		cd "$T" || return
		find . -printf '%p %y %m %g %l\n' | sort
		find . -type f -exec md5sum {} + | sort
	)
}

# actions: the "write ..."/"run ..." lines of the last run's output.
actions() {
	grep -E '^(write|run) ' <<<"$output" || true
}

commands() {
	cat "$FAKE_LOG"
}

# public_copy: a new directory that every user may enter (mode 0755, in
# $BATS_TMPDIR, /tmp by default) holding copies of the script
# (scripts/bind_uio.sh) and of the fake commands (bin/NAME -> fake-cmd);
# prints its path. The checkout itself may be out of another user's reach (a
# clone under a 0700 home such as /root). Fails when uid 65534 cannot run
# the copy.
public_copy() {
	local d c
	d=$(mktemp -d "${BATS_TMPDIR:-/tmp}/bind-public.XXXXXX") || return 1
	mkdir "$d/scripts" "$d/bin"
	cp "$SCRIPT" "$d/scripts/bind_uio.sh"
	cp "$BATS_TEST_DIRNAME/fake-cmd" "$d/fake-cmd"
	for c in "$BATS_TEST_TMPDIR"/bin/*; do
		ln -s ../fake-cmd "$d/bin/${c##*/}"
	done
	chmod -R a+rX "$d"
	chmod 0755 "$d"
	if ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$d/scripts/bind_uio.sh"; then
		echo "public_copy: uid 65534 cannot run $d/scripts/bind_uio.sh: is ${BATS_TMPDIR:-/tmp} (TMPDIR) open to every user?" >&2
		rm -rf "$d"
		return 1
	fi
	echo "$d"
}

# run_as_nobody ARGS...: the script as an unprivileged user. As root: uid
# 65534 runs a public copy of the script, its fake commands first in PATH.
run_as_nobody() {
	if ((EUID == 0)); then
		local pub
		pub=$(public_copy) || return 1
		PATH=$pub/bin:$PATH run setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$pub/scripts/bind_uio.sh" "$@"
		rm -rf "$pub"
	else
		PATH=${PATH#"$ID_BIN":} run "$SCRIPT" "$@"
	fi
}

need_root_for_test() {
	((EUID == 0)) || skip "needs root (chgrp to another group)"
}

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
	if [[ $1 != "$2" ]]; then
		printf '%s\n  expected: %s\n  actual:   %s\n' "${3:-mismatch}" "$2" "$1" >&2
		printf 'output was:\n%s\n' "${output:-}" >&2
		return 1
	fi
}

# assert_output_has TEXT: the last run's output contains TEXT.
assert_output_has() {
	if [[ $output != *"$1"* ]]; then
		printf 'output does not contain: %s\noutput was:\n%s\n' "$1" "$output" >&2
		return 1
	fi
}

assert_status() {
	if [[ $status != "$1" ]]; then
		printf 'exit status %s, expected %s\noutput was:\n%s\n' "$status" "$1" "$output" >&2
		return 1
	fi
}
