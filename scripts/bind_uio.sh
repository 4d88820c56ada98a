#!/usr/bin/env bash
# bind_uio.sh: set up a Hyper-V guest for uvmbus. Binds VMbus devices (the
# Azure Blob device) to uio_hv_generic and back, reserves hugepages, loads the
# uvmbus_kstub module, grants a group access to the device files, reports what
# is missing, and makes the setup survive a reboot. docs/BINDING.md has the
# details; `bind_uio.sh --help` the summary.
#
# Every path is taken under a root from the environment so that the tests can
# run the script against a fake sysfs tree; commands are found through PATH so
# that the tests can shadow them.
set -euo pipefail
shopt -s nullglob # every glob here walks sysfs: no match means "none"

PROG=${0##*/}
UIO_DRV=uio_hv_generic
KSTUB_MOD=uvmbus_kstub
BROKER=azblobd # the broker that will serve untrusted users (DESIGN.md)
AZBLOB_CLASS=0590b792-db64-45cc-81db-b8d70c577c9e

SYSFS=${UVMBUS_SYSFS_ROOT:-/sys}
DEVFS=${UVMBUS_DEV_ROOT:-/dev}
ETC=${UVMBUS_ETC_ROOT:-/etc}
STATE_DIR=${UVMBUS_STATE_DIR:-/run/uvmbus}
VMBUS=$SYSFS/bus/vmbus

SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SELF")/.." && pwd)
KSTUB_KO_DEFAULT=${UVMBUS_KSTUB_KO:-$REPO/kstub/$KSTUB_MOD.ko}

UDEV_RULE=$ETC/udev/rules.d/90-uvmbus.rules
UNIT_NAME=uvmbus-bind.service
UNIT_FILE=$ETC/systemd/system/$UNIT_NAME

DRY_RUN=0
VERBOSE=0
FORCE=0   # bind/persist --force
METHOD='' # bind --method
SKIP_MONITOR_CHECK=0 # bind --skip-monitor-check

# Known VMbus device classes: "name class-guid description". The GUIDs are
# the ones Linux's include/linux/hyperv.h uses (HV_*_GUID); Azure Blob is the
# class of the original azure_blob driver.
CLASSES=(
	"azblob    0590b792-db64-45cc-81db-b8d70c577c9e Azure Blob"
	"netvsc    f8615163-df3e-46c5-913f-f2d2f965ed0e synthetic network"
	"storvsc   ba6163d9-04a1-4d29-b605-72e2ffb1dc7f synthetic SCSI"
	"ide       32412632-86cb-44a2-9b5c-50d1417354f5 synthetic IDE"
	"shutdown  0e0b6031-5213-4934-818b-38d90ced39db shutdown IC"
	"timesync  9527e630-d0ae-497b-adce-e80ab0175caf time sync IC"
	"heartbeat 57164f39-9115-4e78-ab55-382f3bd5422d heartbeat IC"
	"kvp       a9a0f4e7-5a45-4d96-b827-8a841e8c03e6 key-value pair IC"
	"vss       35fa2e29-ea23-4236-96ae-3a6ebacba440 backup (VSS) IC"
	"fcopy     34d14be3-dee4-41c8-9ae7-6b174977c192 guest file copy IC"
	"balloon   525074dc-8985-46e2-8057-a307dc18a502 dynamic memory"
	"mouse     cfa8b69e-5b4a-4cc0-b98b-8ba1a1f3f95a synthetic mouse"
	"keyboard  f912ad6d-2b17-48ea-bd65-f927a61c7684 synthetic keyboard"
	"synthvid  da0a7802-e377-4aac-8e77-0558eb1073f8 synthetic video"
	"synthfc   2f9bcc4a-0069-4af3-b76b-6fd0be528cda synthetic Fibre Channel"
	"nd        8c2eaf3d-32a7-4b09-ab99-bd1f1c86b501 NetworkDirect (RDMA)"
	"pcie      44c4f61d-4444-4400-9d52-802e27ede19f PCI pass-through"
	"avma1     f8e65716-3cb3-4a06-9a60-1889c5cccab5 activation (AVMA)"
	"avma2     3375baf4-9e15-4b30-b765-67acb10d607b activation (AVMA)"
	"rdv       276aacf4-ac15-426c-98dd-7521ad3f01fe remote desktop virtualization"
	"imc       c376c1c3-d276-48d2-90a9-c04748072c60 initial machine configuration"
)

# ---------------------------------------------------------------- messages

usage() {
	cat <<EOF
usage: $PROG [--dry-run] [--verbose] COMMAND [ARGS]

Set up a Hyper-V guest for uvmbus (user-space VMbus over uio_hv_generic).

commands:
  list [--classes]                 VMbus devices: class, driver, uio node, NUMA node
  bind [--force] [--method M] [--skip-monitor-check] TARGET...
                                   bind devices to $UIO_DRV
  unbind TARGET...                 give devices back to their previous driver
  hugepages N [--node K] [--size 2M|1G]
                                   reserve N hugepages (globally or on node K)
  kstub [--ko PATH] [--group G] [PARAM=VALUE...]
                                   load the $KSTUB_MOD module
  permissions --group G [TARGET...]
                                   let group G use the uio nodes, rings and kstub
  status [TARGET...]               what is set up, what is missing, how to fix it
  persist --group G [--driverctl] [--hugepages N [--node K]] [--ko PATH] [TARGET...]
                                   make the setup survive a reboot
  help [COMMAND]                   this text, or a command's

TARGET is a device GUID or a class name (azblob = every Azure Blob device).

global options:
  -n, --dry-run   print every write ("write PATH VALUE") and command
                  ("run CMD...") instead of doing it; needs no root
  -v, --verbose   also print the writes and commands when doing them
  -h, --help      help

environment: UVMBUS_SYSFS_ROOT (/sys), UVMBUS_DEV_ROOT (/dev),
UVMBUS_ETC_ROOT (/etc), UVMBUS_STATE_DIR (/run/uvmbus),
UVMBUS_KSTUB_KO (<repo>/kstub/$KSTUB_MOD.ko).
exit status: 0 done, 1 failed, 2 bad arguments, 3 (status) something missing.
EOF
}

help_cmd() {
	case $1 in
	list)
		cat <<EOF
usage: $PROG list [--classes]
List the VMbus devices: device GUID, class name (or class GUID when the class
is unknown), bound driver, uio node, NUMA node. --classes prints the class
names this script knows instead.
EOF
		;;
	bind)
		cat <<EOF
usage: $PROG bind [--force] [--method driver_override|new_id] [--skip-monitor-check] TARGET...
Bind each device to $UIO_DRV (loading it with modprobe when needed) and record
its previous driver under \$UVMBUS_STATE_DIR so that unbind restores it.
Method driver_override (default when the device has that attribute) binds
just this device; new_id (older kernels) adds the class to $UIO_DRV, which then
also claims unbound devices of the class. A device that is already bound is
left alone. Taking a device of another class than azblob away from its kernel
driver needs --force (it could be your disk or your network).
Before Linux 6.10, $UIO_DRV refuses a device without a monitor (error 524):
bind then says so and changes nothing; --skip-monitor-check tries anyway (a
vendor kernel with the change backported).
EOF
		;;
	unbind)
		cat <<EOF
usage: $PROG unbind TARGET...
Unbind each device from $UIO_DRV, clear its driver_override and bind it back
to the driver recorded by bind (none: it stays without a driver).
EOF
		;;
	hugepages)
		cat <<EOF
usage: $PROG hugepages N [--node K] [--size 2M|1G]
Set the hugepage pool (2 MiB pages by default) to N pages, on NUMA node K or
globally, and check that the kernel reserved exactly N.
EOF
		;;
	kstub)
		cat <<EOF
usage: $PROG kstub [--ko PATH] [--group G] [PARAM=VALUE...]
Load $KSTUB_MOD unless it is loaded: insmod PATH with --ko, else modprobe when
it is installed (dkms), else insmod \$UVMBUS_KSTUB_KO
(default $KSTUB_KO_DEFAULT). PARAM=VALUE are module parameters
(quarantine_ms=...). --group G gives group G read-write access to
$DEVFS/$KSTUB_MOD.
EOF
		;;
	permissions)
		cat <<EOF
usage: $PROG permissions --group G [TARGET...]
chgrp G and chmod g+rw: the uio node of each device bound to $UIO_DRV (or of
each TARGET), the devices' channel ring files, and $DEVFS/$KSTUB_MOD.
The members of G are root-equivalent: they can make the host read or write
any guest memory. Give G only to users trusted like root; untrusted users
need a broker that owns the device ($BROKER: planned, it does not exist yet).
Refuses when one of the files is accessible to all users (o+r or o+w).
EOF
		;;
	status)
		cat <<EOF
usage: $PROG status [TARGET...]
Report what is set up for TARGET (default azblob) and what is missing, with
the command that fixes each missing piece, and what this kernel's
$UIO_DRV does (monitor required, ring file size, who owns the RX interrupt
mask), inferred from uname -r and sysfs, each line saying how sure it is.
Exit status 0 when everything is set up, 3 when something is missing. Needs
no root.
EOF
		;;
	persist)
		cat <<EOF
usage: $PROG persist --group G [--driverctl] [--force] [--hugepages N [--node K]] [--ko PATH] [TARGET...]
Write $UDEV_RULE (group G, mode 0660 for the
$UIO_DRV uio nodes and $DEVFS/$KSTUB_MOD) and $UNIT_FILE,
a oneshot unit that runs this script at boot: kstub, hugepages (with
--hugepages), bind TARGET (default azblob), permissions. Then reload udev and
enable the unit. The udev rule also claims Azure Blob devices by class (sets
driver_override, loads $UIO_DRV, probes), so that a device the host re-offers
(servicing) is bound again. With --driverctl the binding is made persistent
with driverctl set-override instead (the unit does not bind, the rule does
not claim; driverctl's own rule re-applies the override on a re-offer).
EOF
		;;
	*) usage ;;
	esac
}

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}

usage_error() {
	printf '%s: %s (see %s --help)\n' "$PROG" "$*" "$PROG" >&2
	exit 2
}

note() {
	printf '%s\n' "$*"
}

# ---------------------------------------------------------------- actions
# Every change goes through sysfs_write, file_write, file_remove or act, so
# that --dry-run shows all of them and changes nothing.

show_write() {
	local value=$2
	[[ -n $value ]] || value="''"
	printf 'write %s %s\n' "$1" "$value"
}

# sysfs_write PATH VALUE [TOLERATED]: write VALUE plus a newline (like echo)
# to a sysfs attribute. The kernel reports a refused bind, unbind or new_id
# as the write() error, so that error is the check. TOLERATED is an error
# text meaning "already done" (new_id: File exists).
sysfs_write() {
	local path=$1 value=$2 tolerated=${3:-} err
	if ((DRY_RUN)); then
		show_write "$path" "$value"
		return 0
	fi
	if ((VERBOSE)); then show_write "$path" "$value"; fi
	# sysfs never creates files: a missing attribute means a missing driver
	# or feature, not something to create.
	[[ -e $path ]] || die "cannot write '$value' to $path: no such file"
	if ! err=$({ printf '%s\n' "$value" >"$path"; } 2>&1); then
		if [[ -n $tolerated && $err == *"$tolerated"* ]]; then
			return 0
		fi
		die "writing '$value' to $path failed: ${err##*: }$(refusal_hint "$path" "$err")"
	fi
}

# file_write PATH CONTENT: create or replace a regular file (state, udev
# rule, unit) atomically. Returns 1 (without failing) when the file already
# has this content, so callers can skip reloads.
file_write() {
	local path=$1 content=$2 tmp
	if [[ -f $path && $(<"$path") == "$content" ]]; then
		return 1
	fi
	if ((DRY_RUN)) || ((VERBOSE)); then
		if [[ $content == *$'\n'* ]]; then
			printf "write %s <<'EOF'\n%s\nEOF\n" "$path" "$content"
		else
			show_write "$path" "$content"
		fi
	fi
	((DRY_RUN)) && return 0
	mkdir -p "$(dirname "$path")" || die "cannot create $(dirname "$path")"
	tmp=$path.tmp.$$
	printf '%s\n' "$content" >"$tmp" || die "cannot write $tmp"
	mv -f "$tmp" "$path" || die "cannot rename $tmp to $path"
}

# refusal_hint PATH ERROR: why uio_hv_generic refused a device, when the
# error says it did. ENOTSUPP (524) has no text in user space; the probe
# returns it for a channel without a monitor before 6.10.
refusal_hint() {
	[[ $1 == "$VMBUS/drivers/$UIO_DRV/"* && $2 == *"Unknown error 524"* ]] || return 0
	kernel_version
	printf '\n  error 524 is ENOTSUPP: %s refused the device. %s.' "$UIO_DRV" "$MONITOR_REFUSAL"
	printf '\n  This kernel: %s. What to do: %s.' "$KREL" "$MONITOR_FIX"
}

file_remove() {
	[[ -e $1 ]] || return 0
	act rm -f "$1" || die "cannot remove $1"
}

# act CMD...: run a command that changes the system (or print it).
act() {
	if ((DRY_RUN)); then
		printf 'run %s\n' "$*"
		return 0
	fi
	if ((VERBOSE)); then printf 'run %s\n' "$*"; fi
	"$@"
}

need_root() {
	((DRY_RUN)) && return 0
	[[ $(id -u) == 0 ]] || die "$1 needs root (run it with sudo, or add --dry-run to see what it would do)"
}

# ---------------------------------------------------------------- sysfs reads

read_attr() { # PATH: the attribute's content, empty when it does not exist
	local v=''
	if [[ -r $1 ]]; then v=$(<"$1") || v=; fi
	printf '%s' "$v"
}

norm_guid() { # strip braces, lower case
	local g=${1#\{}
	g=${g%\}}
	printf '%s' "${g,,}"
}

is_guid() {
	[[ $1 =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]
}

dev_dir() { printf '%s' "$VMBUS/devices/$1"; }

dev_class() { norm_guid "$(read_attr "$(dev_dir "$1")/class_id")"; }

dev_driver() { # bound driver name, empty when none
	local link
	link=$(dev_dir "$1")/driver
	[[ -L $link ]] || return 0
	basename "$(readlink "$link")"
}

dev_uio() { # uio node name (uio0), empty when none
	local u
	for u in "$(dev_dir "$1")"/uio/uio*; do
		basename "$u"
		return 0
	done
}

dev_numa() {
	local n
	n=$(read_attr "$(dev_dir "$1")/numa_node")
	printf '%s' "${n:--}"
}

all_devices() { # device GUIDs, one a line
	local d
	for d in "$VMBUS"/devices/*; do
		[[ -d $d ]] && basename "$d"
	done
	return 0
}

need_vmbus() {
	[[ -d $VMBUS/devices ]] || die "no VMbus: $VMBUS/devices does not exist (not a Hyper-V guest?)"
}

class_guid_of() { # NAME: class GUID, empty when unknown
	local name guid _
	for entry in "${CLASSES[@]}"; do
		read -r name guid _ <<<"$entry"
		if [[ $name == "$1" ]]; then
			printf '%s' "$guid"
			return 0
		fi
	done
}

class_name_of() { # GUID: class name, empty when unknown
	local name guid _
	for entry in "${CLASSES[@]}"; do
		read -r name guid _ <<<"$entry"
		if [[ $guid == "$1" ]]; then
			printf '%s' "$name"
			return 0
		fi
	done
}

class_names() {
	local entry out=''
	for entry in "${CLASSES[@]}"; do out+="${entry%% *} "; done
	printf '%s' "${out% }"
}

devices_of_class() { # CLASS-GUID: its devices, one a line
	local g
	while read -r g; do
		[[ $(dev_class "$g") == "$1" ]] && printf '%s\n' "$g"
	done < <(all_devices)
	return 0
}

# resolve_targets ARG...: fill TARGETS with device GUIDs. An argument is a
# device GUID (braces and case do not matter), a class GUID, or a class name.
TARGETS=()
resolve_targets() {
	local arg g cg devs
	TARGETS=()
	need_vmbus
	for arg in "$@"; do
		g=$(norm_guid "$arg")
		if is_guid "$g"; then
			if [[ -d $(dev_dir "$g") ]]; then
				TARGETS+=("$g")
				continue
			fi
			cg=$g
		else
			cg=$(class_guid_of "${arg,,}")
			[[ -n $cg ]] || die "unknown class name '$arg' (known: $(class_names); or give a device GUID)"
		fi
		devs=$(devices_of_class "$cg")
		if [[ -z $devs ]]; then
			if is_guid "$g"; then
				die "device $g not found under $VMBUS/devices"
			fi
			die "no $arg device ($cg) under $VMBUS/devices"
		fi
		mapfile -t -O "${#TARGETS[@]}" TARGETS <<<"$devs"
	done
	# The same device through a GUID and a class name: once is enough.
	mapfile -t TARGETS < <(printf '%s\n' "${TARGETS[@]}" | awk '!seen[$0]++')
}

# ---------------------------------------------------------------- modules

UIO_READY=0
ensure_uio_driver() {
	((UIO_READY)) && return 0
	UIO_READY=1
	[[ -d $VMBUS/drivers/$UIO_DRV ]] && return 0
	act modprobe "$UIO_DRV" ||
		die "cannot load $UIO_DRV: modprobe failed (kernel built without CONFIG_UIO_HV_GENERIC? on some distributions it is in an extra modules package)"
	((DRY_RUN)) && return 0
	[[ -d $VMBUS/drivers/$UIO_DRV ]] ||
		die "modprobe $UIO_DRV succeeded but $VMBUS/drivers/$UIO_DRV does not exist"
}

# ---------------------------------------------------------------- kernel
# What this kernel's uio_hv_generic does, inferred from its version (uname -r,
# found through PATH like every command) and, where it shows, from sysfs.
# Distribution and vendor kernels backport changes: a version older than a
# change's mainline release says little, and the messages say so.

KREL=''  # uname -r
KVER=-1  # major*1000000 + minor*1000 + patch; -1: not a version we can read
kernel_version() { # sets KREL and KVER (call it outside $(...))
	[[ -z $KREL ]] || return 0
	KREL=$(uname -r 2>/dev/null) || KREL=''
	KREL=${KREL:-unknown}
	if [[ $KREL =~ ^([0-9]+)\.([0-9]+)(\.([0-9]+))? ]]; then
		KVER=$((BASH_REMATCH[1] * 1000000 + BASH_REMATCH[2] * 1000 + 10#${BASH_REMATCH[4]:-0}))
	fi
}

kernel_at_least() { # MAJOR MINOR [PATCH]
	((KVER >= $1 * 1000000 + $2 * 1000 + ${3:-0}))
}

# How sure an inference is, at the end of its line.
SURE='[sure: seen in sysfs]'
LIKELY='[likely: from the kernel version]'
GUESS='[a guess from the kernel version: vendor kernels backport changes]'
UNSURE='[the kernel version cannot tell]'

# Before 6.10, uio_hv_generic's probe refuses a channel whose offer has no
# monitor (the host then has to be signalled with a hypercall, which only the
# kernel can make); since 6.10 its write() makes that hypercall.
kernel_needs_monitor() {
	((KVER >= 0)) && ! kernel_at_least 6 10
}

# The channel's ring file reports the rings' size since "Make the sysfs node
# size for the ring buffer dynamic" (mainline 6.15, stable 6.12.42); before,
# a fixed 4 MiB.
ring_file_dynamic() {
	kernel_at_least 6 15 || { kernel_at_least 6 12 42 && ! kernel_at_least 6 13; }
}

MONITOR_REFUSAL='uio_hv_generic before Linux 6.10 refuses a channel without a monitor: its probe fails with ENOTSUPP ("vmbus channel requires hypercall" in the kernel log, "Unknown error 524" from the bind write)'
MONITOR_FIX='boot Linux 6.10 or later, or have the host offer the device with a monitor'

dev_monitor() { # GUID: the monitor id, empty when the offer has none
	local m
	m=$(read_attr "$(dev_dir "$1")/monitor_id")
	# Absent (hidden by newer kernels) or 255: no monitor.
	if [[ $m =~ ^[0-9]+$ && $m != 255 ]]; then printf '%s' "$m"; fi
}

# ---------------------------------------------------------------- state
# $STATE_DIR/<guid> holds "<previous driver or -> <method>", written before
# the device leaves its driver, so that unbind can put it back.

state_file() { printf '%s' "$STATE_DIR/$1"; }

record_previous() { # GUID DRIVER METHOD
	local f prev=${2:--} old_prev _
	f=$(state_file "$1")
	# Bound to nothing now but recorded earlier (someone unbound it from uio
	# by hand): keep the older, more useful record of the real driver.
	if [[ $prev == - && -f $f ]]; then
		read -r old_prev _ <"$f" || true
		[[ -n $old_prev ]] && prev=$old_prev
	fi
	file_write "$f" "$prev $3" || true
}

# ---------------------------------------------------------------- bind

bind_method() { # GUID: driver_override when the kernel has it (>= 5.0)
	if [[ -n $METHOD ]]; then
		printf '%s' "$METHOD"
	elif [[ -e $(dev_dir "$1")/driver_override ]]; then
		printf driver_override
	else
		printf new_id
	fi
}

# may_take GUID: refuse to take a device of another class than azblob away
# from the kernel driver using it (it could be the disk or the network)
# unless --force.
may_take() {
	local g=$1 cur class cname
	cur=$(dev_driver "$g")
	class=$(dev_class "$g")
	[[ -n $cur && $cur != "$UIO_DRV" && $class != "$AZBLOB_CLASS" ]] || return 0
	((!FORCE)) || return 0
	cname=$(class_name_of "$class")
	die "$g (${cname:-class $class}) is in use by $cur; handing it to $UIO_DRV takes it away from the kernel: pass --force if you mean it"
}

# may_bind GUID: a device without a monitor cannot be bound before 6.10 (the
# kernel refuses it): say why and what to do instead of trying, unless
# --skip-monitor-check (a vendor kernel with the change backported).
may_bind() {
	local g=$1
	((!SKIP_MONITOR_CHECK)) || return 0
	[[ $(dev_driver "$g") != "$UIO_DRV" && -z $(dev_monitor "$g") ]] || return 0
	kernel_needs_monitor || return 0
	die "$g cannot be bound to $UIO_DRV on this kernel ($KREL): the device has no monitor (monitor_id absent or 255), and $MONITOR_REFUSAL. Nothing was changed.
  What to do: $MONITOR_FIX.
  The version is a guess on a vendor kernel that backported the 6.10 change: bind --skip-monitor-check tries anyway."
}

bind_one() {
	local g=$1 dir cur class method
	dir=$(dev_dir "$g")
	cur=$(dev_driver "$g")
	if [[ $cur == "$UIO_DRV" ]]; then
		note "$g: already bound to $UIO_DRV"
		return 0
	fi
	class=$(dev_class "$g")
	ensure_uio_driver
	method=$(bind_method "$g")
	record_previous "$g" "$cur" "$method"
	# Claim the device first, so that no other driver can grab it between
	# the unbind and the bind.
	if [[ $method == driver_override ]]; then
		sysfs_write "$dir/driver_override" "$UIO_DRV"
	else
		# new_id takes the GUID without braces (guid_parse); EEXIST: the
		# class is already one of the driver's dynamic ids.
		sysfs_write "$VMBUS/drivers/$UIO_DRV/new_id" "$class" "File exists"
	fi
	if [[ -n $cur ]]; then
		sysfs_write "$VMBUS/drivers/$cur/unbind" "$g"
	fi
	# new_id attaches unbound devices of the class at once; binding again
	# would fail with EBUSY.
	if ((!DRY_RUN)) && [[ $(dev_driver "$g") == "$UIO_DRV" ]]; then
		note "$g: bound to $UIO_DRV (was: ${cur:-no driver})"
		return 0
	fi
	sysfs_write "$VMBUS/drivers/$UIO_DRV/bind" "$g"
	note "$g: bound to $UIO_DRV (was: ${cur:-no driver})"
}

cmd_bind() {
	local args=()
	FORCE=0 METHOD='' SKIP_MONITOR_CHECK=0
	while (($#)); do
		case $1 in
		--force) FORCE=1 ;;
		--skip-monitor-check) SKIP_MONITOR_CHECK=1 ;;
		--method)
			(($# > 1)) || usage_error "--method needs a value"
			METHOD=$2
			shift
			;;
		--method=*) METHOD=${1#*=} ;;
		-*) usage_error "bind: unknown option '$1'" ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	case $METHOD in
	'' | driver_override | new_id) ;;
	*) usage_error "bind: --method is driver_override or new_id, not '$METHOD'" ;;
	esac
	((${#args[@]})) || usage_error "bind needs a device GUID or a class name (e.g. azblob)"
	need_root bind
	resolve_targets "${args[@]}"
	local g
	kernel_version
	# Check every device before changing any.
	for g in "${TARGETS[@]}"; do
		may_take "$g"
		may_bind "$g"
	done
	for g in "${TARGETS[@]}"; do bind_one "$g"; done
}

# ---------------------------------------------------------------- unbind

uio_users_of_class() { # CLASS-GUID EXCEPT-GUID: other devices of the class on uio
	local g
	while read -r g; do
		[[ -n $g && $g != "$2" && $(dev_driver "$g") == "$UIO_DRV" ]] && printf '%s\n' "$g"
	done < <(devices_of_class "$1")
	return 0
}

unbind_one() {
	local g=$1 dir cur prev='' method='' f
	dir=$(dev_dir "$g")
	cur=$(dev_driver "$g")
	if [[ $cur != "$UIO_DRV" ]]; then
		note "$g: not bound to $UIO_DRV (driver: ${cur:-none}), nothing to do"
		return 0
	fi
	f=$(state_file "$g")
	if [[ -f $f ]]; then read -r prev method <"$f" || true; fi
	if [[ -e $dir/driver_override && $(read_attr "$dir/driver_override") == "$UIO_DRV" ]]; then
		# An empty line clears the override (the kernel stores NULL).
		sysfs_write "$dir/driver_override" ""
	fi
	sysfs_write "$VMBUS/drivers/$UIO_DRV/unbind" "$g"
	if [[ $method == new_id && -z $(uio_users_of_class "$(dev_class "$g")" "$g") ]]; then
		# Last device of the class: stop uio claiming the class's new devices.
		sysfs_write "$VMBUS/drivers/$UIO_DRV/remove_id" "$(dev_class "$g")" "No such device"
	fi
	if [[ -z $prev ]]; then
		note "$g: unbound from $UIO_DRV; no previous driver recorded, left without a driver"
		return 0
	fi
	if [[ $prev == - ]]; then
		file_remove "$f"
		note "$g: unbound from $UIO_DRV; it had no driver before, left without one"
		return 0
	fi
	if [[ ! -d $VMBUS/drivers/$prev ]]; then
		act modprobe "$prev" || die "$g: cannot load $prev to give the device back; it is left without a driver"
	fi
	sysfs_write "$VMBUS/drivers/$prev/bind" "$g"
	file_remove "$f"
	note "$g: unbound from $UIO_DRV, back to $prev"
}

cmd_unbind() {
	local args=()
	while (($#)); do
		case $1 in
		-*) usage_error "unbind: unknown option '$1'" ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	((${#args[@]})) || usage_error "unbind needs a device GUID or a class name (e.g. azblob)"
	need_root unbind
	resolve_targets "${args[@]}"
	local g
	for g in "${TARGETS[@]}"; do unbind_one "$g"; done
}

# ---------------------------------------------------------------- list

cmd_list() {
	local classes=0 g class name
	while (($#)); do
		case $1 in
		--classes) classes=1 ;;
		*) usage_error "list: unexpected argument '$1'" ;;
		esac
		shift
	done
	if ((classes)); then
		local entry cname guid desc
		for entry in "${CLASSES[@]}"; do
			read -r cname guid desc <<<"$entry"
			printf '%-10s {%s}  %s\n' "$cname" "$guid" "$desc"
		done
		return 0
	fi
	need_vmbus
	local fmt='%-36s  %-10s  %-16s  %-6s  %s\n' drv uio
	# shellcheck disable=SC2059 # the format is the constant above
	printf "$fmt" DEVICE CLASS DRIVER UIO NUMA
	while read -r g; do
		[[ -n $g ]] || continue
		class=$(dev_class "$g")
		name=$(class_name_of "$class")
		[[ -n $name ]] || name="{$class}"
		drv=$(dev_driver "$g")
		uio=$(dev_uio "$g")
		# shellcheck disable=SC2059
		printf "$fmt" "$g" "$name" "${drv:--}" "${uio:--}" "$(dev_numa "$g")"
	done < <(all_devices)
}

# ---------------------------------------------------------------- hugepages

hugepage_path() { # SIZE-DIR NODE(empty: global)
	if [[ -z $2 ]]; then
		printf '%s' "$SYSFS/kernel/mm/hugepages/$1/nr_hugepages"
	else
		printf '%s' "$SYSFS/devices/system/node/node$2/hugepages/$1/nr_hugepages"
	fi
}

size_dir() { # 2M | 1G -> hugepages-2048kB | hugepages-1048576kB
	case ${1^^} in
	2M | 2048KB) printf hugepages-2048kB ;;
	1G | 1048576KB) printf hugepages-1048576kB ;;
	*) return 1 ;;
	esac
}

cmd_hugepages() {
	local n='' node='' size=2M sdir path where cur got
	while (($#)); do
		case $1 in
		--node | --size)
			(($# > 1)) || usage_error "hugepages: $1 needs a value"
			if [[ $1 == --node ]]; then node=$2; else size=$2; fi
			shift
			;;
		-*) usage_error "hugepages: unknown option '$1'" ;;
		*)
			[[ -z $n ]] || usage_error "hugepages: one count only"
			n=$1
			;;
		esac
		shift
	done
	[[ $n =~ ^[0-9]+$ ]] || usage_error "hugepages needs a page count N (a number), got '${n}'"
	[[ -z $node || $node =~ ^[0-9]+$ ]] || usage_error "hugepages: --node takes a node number, got '$node'"
	sdir=$(size_dir "$size") || usage_error "hugepages: --size is 2M or 1G, not '$size'"
	need_root hugepages
	n=$((10#$n))
	path=$(hugepage_path "$sdir" "$node")
	where=${node:+ on node $node}
	if [[ ! -e $path ]]; then
		[[ -z $node || -d $SYSFS/devices/system/node/node$node ]] ||
			die "NUMA node $node not found ($SYSFS/devices/system/node/node$node)"
		die "no $size hugepage pool$where: $path does not exist"
	fi
	cur=$(read_attr "$path")
	if [[ $cur == "$n" ]]; then
		note "hugepages: already $n pages of $size$where"
		return 0
	fi
	sysfs_write "$path" "$n"
	((DRY_RUN)) && return 0
	# The kernel reserves what it can and reports it: read it back.
	got=$(read_attr "$path")
	if [[ $got != "$n" ]]; then
		if [[ $got =~ ^[0-9]+$ ]] && ((got > n)); then
			die "hugepages: asked for $n pages of $size$where, the kernel kept $got (pages in use cannot be freed)"
		fi
		die "hugepages: asked for $n pages of $size$where, the kernel reserved only ${got:-none} (memory too fragmented or too small: free memory, or reserve at boot with hugepages=$n on the kernel command line)"
	fi
	note "hugepages: $n pages of $size$where reserved"
}

# ---------------------------------------------------------------- permissions

group_gid() { # NAME-or-GID: the gid, empty when the group does not exist
	local line
	line=$(getent group "$1" 2>/dev/null) || return 0
	printf '%s' "$(cut -d: -f3 <<<"$line")"
}

need_group() {
	[[ -n $(group_gid "$1") ]] || die "group '$1' does not exist (create it with: groupadd $1)"
}

has_group_rw() { # PATH GID: the file has this group and g+rw
	local gid mode
	read -r gid mode < <(stat -L -c '%g %a' "$1")
	[[ $gid == "$2" ]] && (((8#$mode & 8#060) == 8#060))
}

# grant PATH GROUP: chgrp + chmod g+rw, unless already so.
grant() {
	local path=$1 group=$2 gid
	gid=$(group_gid "$group")
	if has_group_rw "$path" "$gid"; then
		note "$path: group $group already has read-write access"
		return 0
	fi
	act chgrp "$group" "$path" || die "chgrp $group $path failed"
	act chmod g+rw "$path" || die "chmod g+rw $path failed"
	((DRY_RUN)) || note "$path: group $group, read-write"
}

# Whoever may use the device files is root-equivalent: a uio node lets its
# user put any guest pfn in a GPA-direct packet, which the host then reads or
# writes; the kstub node hands out pfns, which pagemap hides from non-root
# (Rowhammer). So no file may be open to all users. Before any change.
refuse_world() { # PATH...
	local p mode bad=()
	for p in "$@"; do
		mode=$(stat -L -c '%a' "$p")
		((8#$mode & 8#006)) && bad+=("$p (mode $(printf '%04o' "$((8#$mode))"))")
	done
	((${#bad[@]} == 0)) ||
		die "world access to ${bad[*]}: every local user would be root-equivalent (the host reads and writes any guest memory a packet names); remove it first (chmod o-rw, and fix what set it: a udev rule, the module's mode= parameter)"
}

trust_warning() { # GROUP
	printf '%s: warning: members of group %s are root-equivalent: with a uio node they can put any guest page number in a GPA-direct packet and the host then reads or writes that memory (any process, the kernel); %s gives them physical page numbers, which the kernel hides from non-root (Rowhammer). Add only users you trust like root. Untrusted users need a broker that owns the device and serves them (%s: planned, it does not exist yet).\n' \
		"$PROG" "$1" "$DEVFS/$KSTUB_MOD" "$BROKER" >&2
}

grant_device() { # GUID GROUP
	local g=$1 group=$2 dir uio ring rings=0
	dir=$(dev_dir "$g")
	uio=$(dev_uio "$g")
	[[ -n $uio ]] || die "$g is bound to $UIO_DRV but has no uio node under $dir/uio"
	[[ -e $DEVFS/$uio ]] || die "$DEVFS/$uio (uio node of $g) does not exist"
	grant "$DEVFS/$uio" "$group"
	for ring in "$dir"/channels/*/ring; do
		grant "$ring" "$group"
		rings=$((rings + 1))
	done
	# The ring file can appear only once the channel is set up.
	((rings)) || note "$g: no channel ring file yet under $dir/channels (run permissions again once it appears)"
}

cmd_permissions() {
	local group='' args=() g
	while (($#)); do
		case $1 in
		--group)
			(($# > 1)) || usage_error "permissions: --group needs a value"
			group=$2
			shift
			;;
		--group=*) group=${1#*=} ;;
		-*) usage_error "permissions: unknown option '$1'" ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	[[ -n $group ]] || usage_error "permissions needs --group G"
	need_root permissions
	need_group "$group"
	if ((${#args[@]})); then
		resolve_targets "${args[@]}"
		for g in "${TARGETS[@]}"; do
			[[ $(dev_driver "$g") == "$UIO_DRV" ]] ||
				die "$g is not bound to $UIO_DRV (run: $PROG bind $g)"
		done
	else
		need_vmbus
		mapfile -t TARGETS < <(all_devices | while read -r g; do
			[[ $(dev_driver "$g") == "$UIO_DRV" ]] && printf '%s\n' "$g"
		done)
		((${#TARGETS[@]})) || die "no device is bound to $UIO_DRV (run: $PROG bind azblob)"
	fi
	local files=() uio
	for g in "${TARGETS[@]}"; do
		uio=$(dev_uio "$g")
		[[ -n $uio && -e $DEVFS/$uio ]] && files+=("$DEVFS/$uio")
		files+=("$(dev_dir "$g")"/channels/*/ring)
	done
	[[ -e $DEVFS/$KSTUB_MOD ]] && files+=("$DEVFS/$KSTUB_MOD")
	refuse_world "${files[@]}"
	trust_warning "$group"
	for g in "${TARGETS[@]}"; do grant_device "$g" "$group"; done
	if [[ -e $DEVFS/$KSTUB_MOD ]]; then
		grant "$DEVFS/$KSTUB_MOD" "$group"
	else
		note "$DEVFS/$KSTUB_MOD does not exist (load it with: $PROG kstub --group $group)"
	fi
}

# ---------------------------------------------------------------- kstub

kstub_installed() { # known to modprobe (dkms or make install)
	modinfo "$KSTUB_MOD" >/dev/null 2>&1
}

load_kstub() { # KO-PATH PARAM...
	local ko=$1
	shift
	if [[ -n $ko ]]; then
		[[ -f $ko ]] || die "--ko $ko: no such file"
		act insmod "$ko" "$@" || die "insmod $ko failed"
	elif kstub_installed; then
		act modprobe "$KSTUB_MOD" "$@" || die "modprobe $KSTUB_MOD failed"
	elif [[ -f $KSTUB_KO_DEFAULT ]]; then
		act insmod "$KSTUB_KO_DEFAULT" "$@" || die "insmod $KSTUB_KO_DEFAULT failed"
	else
		die "$KSTUB_MOD is neither installed (dkms install, see docs/KSTUB.md) nor built at $KSTUB_KO_DEFAULT (make -C kstub); or pass --ko PATH"
	fi
	((DRY_RUN)) && return 0
	[[ -d $SYSFS/module/$KSTUB_MOD ]] || die "$KSTUB_MOD was loaded but $SYSFS/module/$KSTUB_MOD does not exist"
	note "$KSTUB_MOD: loaded"
}

cmd_kstub() {
	local ko='' group='' params=()
	while (($#)); do
		case $1 in
		--ko | --group)
			(($# > 1)) || usage_error "kstub: $1 needs a value"
			if [[ $1 == --ko ]]; then ko=$2; else group=$2; fi
			shift
			;;
		-*) usage_error "kstub: unknown option '$1'" ;;
		*=*) params+=("$1") ;;
		*) usage_error "kstub: unexpected argument '$1' (module parameters are NAME=VALUE)" ;;
		esac
		shift
	done
	need_root kstub
	[[ -z $group ]] || need_group "$group"
	if [[ -d $SYSFS/module/$KSTUB_MOD ]]; then
		note "$KSTUB_MOD: already loaded"
		((${#params[@]} == 0)) || note "$KSTUB_MOD: parameters ${params[*]} not applied (unload it first to change read-only ones)"
	else
		load_kstub "$ko" "${params[@]}"
	fi
	[[ -n $group ]] || return 0
	if [[ -e $DEVFS/$KSTUB_MOD ]]; then
		refuse_world "$DEVFS/$KSTUB_MOD"
		grant "$DEVFS/$KSTUB_MOD" "$group"
	elif ((DRY_RUN)); then
		act chgrp "$group" "$DEVFS/$KSTUB_MOD"
		act chmod g+rw "$DEVFS/$KSTUB_MOD"
	else
		die "$DEVFS/$KSTUB_MOD does not exist although $KSTUB_MOD is loaded (devtmpfs not mounted?)"
	fi
}

# ---------------------------------------------------------------- status

MISSING=0
ok() { printf 'ok       %s\n' "$1"; }
info() { printf 'note     %s\n' "$1"; }
missing() { # WHAT FIX
	MISSING=$((MISSING + 1))
	printf 'missing  %s\n' "$1"
	[[ -z ${2:-} ]] || printf '         fix: %s\n' "$2"
}

persisted_group() { # GROUP= from our udev rule, <group> when unknown
	local grp=''
	[[ -f $UDEV_RULE ]] && grp=$(sed -n 's/.*GROUP="\([^"]*\)".*/\1/p' "$UDEV_RULE" | head -n 1)
	printf '%s' "${grp:-<group>}"
}

node_access() { # PATH: "group G mode M", and 0 when a group can read-write
	local grp mode
	read -r grp mode < <(stat -L -c '%G %a' "$1")
	printf 'group %s, mode %s' "$grp" "$mode"
	[[ $grp != root ]] && (((8#$mode & 8#060) == 8#060))
}

status_device() { # GUID GROUP
	local g=$1 group=$2 drv uio node access rings
	drv=$(dev_driver "$g")
	node=$(dev_numa "$g")
	status_monitor "$g" "$drv"
	if [[ $drv != "$UIO_DRV" ]]; then
		if [[ -z $(dev_monitor "$g") ]] && kernel_needs_monitor; then
			missing "$g bound to $UIO_DRV (driver now: ${drv:-none}): it has no monitor, which $UIO_DRV before 6.10 refuses $GUESS" "$MONITOR_FIX"
		else
			missing "$g bound to $UIO_DRV (driver now: ${drv:-none})" "$PROG bind $g"
		fi
		return 0
	fi
	uio=$(dev_uio "$g")
	if [[ -z $uio || ! -e $DEVFS/$uio ]]; then
		missing "$g: uio node ${uio:+$DEVFS/$uio }(bound, but no device file)" "$PROG unbind $g && $PROG bind $g"
		return 0
	fi
	ok "$g bound to $UIO_DRV: $DEVFS/$uio, NUMA node $node"
	if access=$(node_access "$DEVFS/$uio"); then
		ok "$DEVFS/$uio: $access"
	else
		missing "$DEVFS/$uio: group access ($access)" "$PROG permissions --group $group"
	fi
	rings=("$(dev_dir "$g")"/channels/*/ring)
	if ((${#rings[@]})); then
		ok "$g: ${#rings[@]} channel ring file(s)"
	else
		info "$g: no channel ring file yet (it appears once the channel is set up; on older kernels a device bound through new_id after a re-offer gets none)"
	fi
	status_ring_size "$g" "$uio"
}

# status_kernel: what this kernel's uio_hv_generic does, from its version.
status_kernel() {
	kernel_version
	if ((KVER < 0)); then
		info "kernel $KREL: not a version this script can read; what $UIO_DRV does is told by sysfs only"
		return 0
	fi
	info "kernel $KREL: what $UIO_DRV does is inferred from this version (a guess on distribution and vendor kernels, which backport changes) and, where it shows, from sysfs"
	if kernel_needs_monitor; then
		info "monitor: required; $MONITOR_REFUSAL $GUESS"
	else
		info "monitor: not required; without one, the library's write to /dev/uioN makes the kernel signal the host with a hypercall (6.10 or later) $LIKELY"
	fi
	if ring_file_dynamic; then
		info "ring file size: the rings' size (\"Make the sysfs node size for the ring buffer dynamic\": 6.15 or later, stable 6.12.42 or later) $LIKELY"
	else
		info "ring file size: a fixed 4 MiB whatever the rings' size (before 6.15 / 6.12.42), while each ring may be 2 MiB + 4 KiB (\"Align ring size to system page\", 2025, in stable trees down to 5.10) $GUESS; the library sizes the rings from uio map 0, right either way"
	fi
	if kernel_at_least 6 16; then
		info "RX interrupt mask: left to user space (\"Let userspace take care of interrupt mask\", 2025) $LIKELY; the library owns the mask either way"
	else
		info "RX interrupt mask: set by the kernel at open and after each interrupt, unless this kernel has \"Let userspace take care of interrupt mask\" (2025, in stable trees down to 5.4) $UNSURE; the library owns the mask either way"
	fi
}

status_monitor() { # GUID DRIVER
	local g=$1 m
	m=$(dev_monitor "$g")
	if [[ -n $m ]]; then
		info "$g: monitor $m: $UIO_DRV accepts the channel on every kernel $SURE"
	elif [[ $2 == "$UIO_DRV" ]]; then
		info "$g: no monitor, and bound all the same: this kernel accepts a channel without a monitor $SURE"
	elif ((KVER < 0)); then
		info "$g: no monitor: $UIO_DRV before 6.10 refuses such a channel (bind says so with error 524) $UNSURE"
	elif ! kernel_needs_monitor; then
		info "$g: no monitor: fine on 6.10 or later $LIKELY"
	fi
}

size_attr() { # PATH: a uio map size (hex, 0x...) in bytes, empty when unreadable
	local v
	v=$(read_attr "$1")
	if [[ $v =~ ^0[xX][0-9a-fA-F]+$ || $v =~ ^[0-9]+$ ]]; then printf '%d' "$((v))"; fi
}

# status_ring_size GUID UIO: the primary channel's ring file against uio map
# 0, which is what the library maps and sizes the rings from.
status_ring_size() {
	local g=$1 dir ring map0 fsize
	dir=$(dev_dir "$g")
	map0=$(size_attr "$dir/uio/$2/maps/map0/size")
	ring=$dir/channels/$(read_attr "$dir/id")/ring
	if [[ -z $map0 ]]; then
		info "$g: no uio map 0 size under $dir/uio/$2/maps: cannot tell the rings' size"
		return 0
	fi
	if [[ ! -f $ring ]]; then
		info "$g: uio map 0: $map0 bytes (each ring $((map0 / 2))); no primary ring file to compare $SURE"
		return 0
	fi
	fsize=$(stat -L -c %s "$ring")
	if ((fsize == map0)); then
		ok "$g: ring file and uio map 0 both $map0 bytes (each ring $((map0 / 2))) $SURE"
	else
		info "$g: ring file $fsize bytes, uio map 0 $map0 bytes: the ring file does not report the rings' size (a fixed 4 MiB before 6.15 / 6.12.42; each ring is $((map0 / 2)) bytes); the library sizes the rings from map 0, right either way $SURE"
	fi
}

status_hugepages() { # NODE...: the devices' NUMA nodes
	local nr free node path
	path=$(hugepage_path hugepages-2048kB "")
	nr=$(read_attr "$path")
	free=$(read_attr "${path%nr_hugepages}free_hugepages")
	if [[ ${nr:-0} -gt 0 ]]; then
		ok "hugepages: $nr of 2M reserved, ${free:-?} free"
	else
		missing "hugepages: none of 2M reserved" "$PROG hugepages 512"
	fi
	for node in "$@"; do
		[[ $node =~ ^[0-9]+$ ]] || continue
		path=$(hugepage_path hugepages-2048kB "$node")
		[[ -e $path ]] || continue
		nr=$(read_attr "$path")
		if [[ ${nr:-0} -gt 0 ]]; then
			ok "hugepages on node $node (a device's node): $nr"
		else
			missing "hugepages on node $node (a device's node)" "$PROG hugepages 512 --node $node"
		fi
	done
}

status_kstub() { # GROUP
	local access
	if [[ ! -d $SYSFS/module/$KSTUB_MOD ]]; then
		missing "$KSTUB_MOD module loaded" "$PROG kstub --group $1"
		return 0
	fi
	ok "$KSTUB_MOD module loaded"
	if [[ ! -e $DEVFS/$KSTUB_MOD ]]; then
		missing "$DEVFS/$KSTUB_MOD (module loaded, no device file)" ""
	elif access=$(node_access "$DEVFS/$KSTUB_MOD"); then
		ok "$DEVFS/$KSTUB_MOD: $access"
	else
		missing "$DEVFS/$KSTUB_MOD: group access ($access)" "$PROG permissions --group $1"
	fi
}

status_persist() { # GROUP
	if [[ -f $UDEV_RULE ]]; then ok "udev rule $UDEV_RULE"; else
		missing "udev rule $UDEV_RULE" "$PROG persist --group $1"
	fi
	if [[ -f $UDEV_RULE ]] && ! grep -qF "$(claim_match)" "$UDEV_RULE"; then
		info "udev rule: does not claim Azure Blob devices the host re-offers (servicing): they come back unbound unless driverctl binds them (persist without --driverctl writes the claim)"
	fi
	if [[ -f $UNIT_FILE ]]; then ok "boot unit $UNIT_FILE"; else
		missing "boot unit $UNIT_FILE" "$PROG persist --group $1"
	fi
}

cmd_status() {
	local args=("$@") group g nodes=()
	for g in "${args[@]}"; do
		[[ $g != -* ]] || usage_error "status: unknown option '$g'"
		is_guid "$(norm_guid "$g")" || [[ -n $(class_guid_of "${g,,}") ]] ||
			die "unknown class name '$g' (known: $(class_names); or give a device GUID)"
	done
	((${#args[@]})) || args=(azblob)
	group=$(persisted_group)
	[[ ! -d $VMBUS/devices ]] || status_kernel
	# resolve_targets dies when nothing matches: try it in a subshell first.
	if [[ ! -d $VMBUS/devices ]]; then
		missing "VMbus ($VMBUS/devices does not exist: not a Hyper-V guest?)" ""
	elif (
		resolve_targets "${args[@]}" 2>/dev/null
		((${#TARGETS[@]}))
	); then
		resolve_targets "${args[@]}"
		for g in "${TARGETS[@]}"; do
			status_device "$g" "$group"
			nodes+=("$(dev_numa "$g")")
		done
	else
		missing "device ${args[*]} on the VMbus (none under $VMBUS/devices)" "offer the device to this VM on the host"
	fi
	mapfile -t nodes < <(printf '%s\n' "${nodes[@]}" | sort -u)
	status_hugepages "${nodes[@]}"
	status_kstub "$group"
	status_persist "$group"
	if ((MISSING)); then
		note "$MISSING thing(s) missing"
		exit 3
	fi
	note "everything is set up"
}

# ---------------------------------------------------------------- persist

# What the claim matches: Azure Blob devices, by class. class_id reads
# "{guid}"; the uevent's MODALIAS has the GUID's bytes in memory order (the
# first three fields byte-swapped), which is easy to get wrong.
claim_match() {
	printf 'ACTION=="add", SUBSYSTEM=="vmbus", ATTR{class_id}=="{%s}"' "$AZBLOB_CLASS"
}

udev_rule_text() { # GROUP CLAIM(0/1)
	cat <<EOF
# Written by $PROG persist: group access to the uvmbus device files.
# uio nodes of devices bound to $UIO_DRV (their uio name is the driver's).
SUBSYSTEM=="uio", ATTR{name}=="$UIO_DRV", GROUP="$1", MODE="0660"
# The pinning module's device.
SUBSYSTEM=="misc", KERNEL=="$KSTUB_MOD", GROUP="$1", MODE="0660"
EOF
	((${2:-0})) || return 0
	cat <<EOF
# Azure Blob devices to $UIO_DRV, at boot and when the host re-offers one
# (servicing): a re-offer is a new device object, without the old one's
# driver_override. Set it, load the driver, probe the device.
$(claim_match), ATTR{driver_override}="$UIO_DRV", RUN{builtin}+="kmod load $UIO_DRV", RUN+="/bin/sh -c 'echo \$kernel > /sys/bus/vmbus/drivers_probe'"
EOF
}

# unit_text GROUP TARGETS BIND HUGEPAGES KSTUB-ARGS: a oneshot unit that
# replays the setup at boot. Hugepages first, while memory is least
# fragmented; then the binding (unless driverctl does it), the module, and
# the group access, which needs the uio nodes and the module's node.
unit_text() {
	local group=$1 targets=$2 bind=$3 huge=$4 kstub=$5
	cat <<EOF
# Written by $PROG persist. Remove with:
#   systemctl disable $UNIT_NAME && rm $UNIT_FILE
[Unit]
Description=uvmbus: bind VMbus devices to $UIO_DRV, load $KSTUB_MOD
ConditionPathIsDirectory=/sys/bus/vmbus/devices
After=systemd-modules-load.service systemd-udevd.service local-fs.target

[Service]
Type=oneshot
RemainAfterExit=yes
EOF
	[[ -z $huge ]] || printf 'ExecStart=%s hugepages %s\n' "$SELF" "$huge"
	[[ -z $bind ]] || printf 'ExecStart=%s bind %s\n' "$SELF" "$bind"
	cat <<EOF
ExecStart=$SELF kstub${kstub}
# Let udev finish binding (driverctl) and creating the device nodes.
ExecStart=-udevadm settle --timeout=30
ExecStart=$SELF permissions --group $group $targets

[Install]
WantedBy=multi-user.target
EOF
}

cmd_persist() {
	local group='' driverctl=0 huge='' node='' ko='' args=() force=0 g targets bind_line='' huge_line='' kstub_args='' claim=0
	while (($#)); do
		case $1 in
		--group | --hugepages | --node | --ko)
			(($# > 1)) || usage_error "persist: $1 needs a value"
			case $1 in
			--group) group=$2 ;;
			--hugepages) huge=$2 ;;
			--node) node=$2 ;;
			--ko) ko=$2 ;;
			esac
			shift
			;;
		--driverctl) driverctl=1 ;;
		--force) force=1 ;;
		-*) usage_error "persist: unknown option '$1'" ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	[[ -n $group ]] || usage_error "persist needs --group G (the group that may use the devices)"
	[[ -z $huge || $huge =~ ^[0-9]+$ ]] || usage_error "persist: --hugepages takes a page count, got '$huge'"
	[[ -z $node || -n $huge ]] || usage_error "persist: --node goes with --hugepages"
	[[ -z $node || $node =~ ^[0-9]+$ ]] || usage_error "persist: --node takes a node number, got '$node'"
	# The unit runs at boot with no working directory: absolute paths only.
	[[ -z $ko || $ko == /* ]] || usage_error "persist: --ko needs an absolute path"
	((${#args[@]})) || args=(azblob)
	need_root persist
	need_group "$group"
	resolve_targets "${args[@]}"

	[[ -z $huge ]] || huge_line="$huge${node:+ --node $node}"
	[[ -z $ko ]] || kstub_args=" --ko $ko"
	targets="${args[*]}"
	if ((driverctl)); then
		command -v driverctl >/dev/null || die "driverctl is not installed (apt-get install driverctl), or persist without --driverctl"
		FORCE=$force
		for g in "${TARGETS[@]}"; do may_take "$g"; done
		for g in "${TARGETS[@]}"; do persist_driverctl "$g"; done
	else
		bind_line=$targets
		((!force)) || bind_line="--force $bind_line"
		# The udev rule claims the Azure Blob class only: a device of
		# another class has its kernel driver bound before udev runs.
		for g in "${TARGETS[@]}"; do
			if [[ $(dev_class "$g") == "$AZBLOB_CLASS" ]]; then
				claim=1
			else
				note "$g: not claimed by the udev rule (not an Azure Blob device): bound at boot by $UNIT_NAME, not after the host re-offers it"
			fi
		done
	fi

	if file_write "$UDEV_RULE" "$(udev_rule_text "$group" "$claim")"; then
		((DRY_RUN)) || note "wrote $UDEV_RULE"
		if command -v udevadm >/dev/null; then
			act udevadm control --reload-rules || die "udevadm control --reload-rules failed"
			act udevadm trigger --action=change --subsystem-match=uio --subsystem-match=misc ||
				die "udevadm trigger failed"
		fi
	else
		note "$UDEV_RULE: unchanged"
	fi
	if file_write "$UNIT_FILE" "$(unit_text "$group" "$targets" "$bind_line" "$huge_line" "$kstub_args")"; then
		((DRY_RUN)) || note "wrote $UNIT_FILE"
		if command -v systemctl >/dev/null; then
			act systemctl daemon-reload || die "systemctl daemon-reload failed"
		fi
	else
		note "$UNIT_FILE: unchanged"
	fi
	if ! command -v systemctl >/dev/null; then
		note "systemctl not found: enable $UNIT_FILE with your init system"
	elif systemctl is-enabled --quiet "$UNIT_NAME" 2>/dev/null; then
		note "$UNIT_NAME: already enabled"
	else
		act systemctl enable "$UNIT_NAME" || die "systemctl enable $UNIT_NAME failed"
	fi
}

persist_driverctl() { # GUID: a persistent override that driverctl replays at boot
	local g=$1
	if [[ $(driverctl -b vmbus list-overrides 2>/dev/null) == *"$g $UIO_DRV"* ]]; then
		note "$g: driverctl override to $UIO_DRV already set"
		return 0
	fi
	act driverctl -b vmbus set-override "$g" "$UIO_DRV" || die "driverctl set-override $g $UIO_DRV failed"
}

# ---------------------------------------------------------------- main

main() {
	local cmd='' args=() sub_help=0
	# Global options may come before or after the command.
	while (($#)); do
		case $1 in
		-n | --dry-run) DRY_RUN=1 ;;
		-v | --verbose) VERBOSE=1 ;;
		-h | --help)
			if [[ -z $cmd ]]; then
				usage
				exit 0
			fi
			sub_help=1
			;;
		--)
			shift
			args+=("$@")
			break
			;;
		*)
			if [[ -z $cmd ]]; then
				[[ $1 != -* ]] || usage_error "unknown option '$1'"
				cmd=$1
			else
				args+=("$1")
			fi
			;;
		esac
		shift
	done
	if [[ -z $cmd ]]; then
		usage >&2
		exit 2
	fi
	if ((sub_help)); then
		help_cmd "$cmd"
		exit 0
	fi
	case $cmd in
	help)
		if ((${#args[@]})); then help_cmd "${args[0]}"; else usage; fi
		;;
	list) cmd_list "${args[@]}" ;;
	bind) cmd_bind "${args[@]}" ;;
	unbind) cmd_unbind "${args[@]}" ;;
	hugepages) cmd_hugepages "${args[@]}" ;;
	kstub) cmd_kstub "${args[@]}" ;;
	permissions) cmd_permissions "${args[@]}" ;;
	status) cmd_status "${args[@]}" ;;
	persist) cmd_persist "${args[@]}" ;;
	*) usage_error "unknown command '$cmd'" ;;
	esac
}

main "$@"
