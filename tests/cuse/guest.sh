#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# The CUSE device end to end, where /dev/cuse exists: inside the QEMU guest
# (cuse_qemu, from init.sh) or on a host that has it (cuse_host). Starts
# azblob-cuse over an in-process simulator, runs the ABI test program
# against /dev/azure_blob, compares its transcript with the direct API's,
# and benchmarks. Exit status: the number of failed steps.
#
# Usage: guest.sh BIN_DIR WORK_DIR   (or, from ctest on a host:
#        guest.sh REPO AZBLOB_CUSE ABI_CLIENT ABI_DIRECT AZBLOB_BENCH AZBLOB_VSPD AZBLOBD WORK_DIR)
if [ $# -eq 8 ]; then
	cuse=$2 client=$3 direct=$4 bench=$5 vspd=$6 azblobd=$7 work=$8 guest=false
else
	cuse=$1/azblob-cuse client=$1/cuse_abi_client direct=$1/cuse_abi_direct
	bench=$1/azblob-bench vspd=$1/azblob-vspd azblobd=$1/azblobd work=$2 guest=true
fi
dev=/dev/azure_blob
fails=0
mkdir -p "$work"
# step NAME COMMAND...: in the guest next to this script, on a host in
# the source tree.
here=$(dirname "$0")
if [ -r "$here/step.sh" ]; then . "$here/step.sh"; else . "$here/../kernel/step.sh"; fi
wait_dev() { # wait_dev [PATH]: the device node (or a file) appears
	f=${1:-$dev}
	i=0
	while [ ! -e "$f" ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e "$f" ]
}
[ -e /dev/cuse ] || { echo "FAIL: no /dev/cuse"; exit 1; }
[ -e $dev ] && { echo "FAIL: $dev exists already"; exit 1; }

# Only root (always) and uid 4242 may use the device; the node is 0666 so
# that the allow-list, not the mode, refuses uid 65534.
"$cuse" --sim --arenas 4 --allow-uid 4242 2>"$work/cuse.log" &
daemon=$!
step "azblob-cuse creates $dev" wait_dev
chmod 0666 $dev
step "invalid requests get the driver's errno" "$client" errors $dev
step "script through $dev" "$client" script $dev "$work/cuse.txt"
step "script through the direct API" "$direct" script - "$work/direct.txt"
step "transcripts byte-identical" cmp "$work/cuse.txt" "$work/direct.txt"
step "uid 65534 refused with EACCES" "$client" access $dev 65534
step "uid 4242 served, but not on a file root opened" "$client" opener $dev 4242
step "4 processes x 8 threads at once" "$client" stress $dev 8 4 25
step "a caller killed mid-request" "$client" kill $dev
echo "--- benchmark (figures for docs/CUSE.md; never asserted)"
"$bench" --via cuse --qd 1 --requests 2000 --warmup 0.2 2>&1 || echo "(benchmark failed)"
"$client" bench $dev 2000 0
"$client" bench $dev 200 1048576
stop_under_load() { # stop_under_load PID: callers blocked in their ioctl at the time
	"$client" stress $dev 4 2 1000000 >/dev/null 2>&1 &
	load=$!
	sleep 2
	kill -TERM "$1"
	wait "$1"
	st=$?
	wait $load
	return $st
}
step "azblob-cuse stops on SIGTERM under load, status 0" stop_under_load $daemon
step "$dev gone after the daemon" test ! -e $dev

# PID reuse (docs/CUSE.md): a caller killed in a request at a host that
# answers 4 s late; processes are spawned until its PID comes back (a
# lowered pid_max: the guest only), and the new process's pages at the
# caller's addresses stay as it wrote them.
if $guest; then
	slow=/dev/azure_blob_slow
	"$vspd" --root "$work/vspd" --fault delay_us=4000000 --ready-file "$work/vspd.ready" \
		>/dev/null 2>"$work/vspd.log" &
	vspd_pid=$!
	step "azblob-vspd with a 4 s host delay" wait_dev "$work/vspd.ready"
	"$cuse" --sim-root "$work/vspd" --name azure_blob_slow 2>"$work/cuse_slow.log" &
	slow_pid=$!
	step "azblob-cuse on it creates $slow" wait_dev $slow
	pid_max=$(cat /proc/sys/kernel/pid_max)
	echo 400 >/proc/sys/kernel/pid_max
	step "a caller killed mid-request: its PID comes back to an untouched process" \
		"$client" reuse $slow
	echo "$pid_max" >/proc/sys/kernel/pid_max
	kill -TERM $slow_pid
	wait $slow_pid
	kill -TERM $vspd_pid
	wait $vspd_pid
	cat "$work/cuse_slow.log"
fi

# Hole punching in a hugetlb arena (docs/BROKER.md): huge pages reserved
# here, the daemon's arenas are hugetlb; a client punches its arena and
# takes every free huge page while its echoes are out.
# Under TCG azblobd sometimes fails to open the emulator at its start
# ("cannot open the device": it opens it twice, to ask whether the host
# reaches its arenas in place, and the second connection can come before
# the emulator has seen the first go); only that is tried again.
punch_huge() {
	for _ in 1 2 3; do
		"$here/broker_arena_punch" "$azblobd" --hugetlb >"$work/punch.log" 2>&1
		st=$?
		cat "$work/punch.log"
		grep -q "cannot open the device" "$work/punch.log" || return $st
		echo "(azblobd could not open the emulator at its start: again)"
	done
	return $st
}
if $guest && [ -x "$here/broker_arena_punch" ]; then
	echo 8 >/proc/sys/vm/nr_hugepages
	step "hugetlb arenas: a client punching its arena cannot bring azblobd down" punch_huge
	echo 0 >/proc/sys/vm/nr_hugepages
fi

# The usual set-up: azblobd owns the device and serves /dev/azure_blob
# itself (--cuse: the front end is a client of its own socket), admitting
# callers by its allow-list file.
if [ -x "$azblobd" ]; then
	printf 'user 4242\n' >"$work/allow"
	"$azblobd" --socket "$work/azblobd.sock" --sim --bounce-bufs 4 --bounce-size 33M \
		--allow "$work/allow" --cuse --cuse-arenas 2 2>"$work/azblobd.log" &
	broker=$!
	step "azblobd --cuse creates $dev" wait_dev
	chmod 0666 $dev
	# The registered path, as on a device: the arenas go into the
	# emulator's memory table (--copy would copy them).
	step "azblobd: the clients' arenas registered, in place" \
		grep -q "arenas registered, in place" "$work/azblobd.log"
	step "through the broker: invalid requests" "$client" errors $dev
	step "through the broker: script" "$client" script $dev "$work/broker.txt"
	# The broker's registered path must give the direct API's results,
	# the 32 MiB case included.
	results() { awk '/ rc=/ {print $1, $2, $3, $4, $5}' "$1"; }
	same_results() { results "$work/broker.txt" >"$work/b.res" &&
		results "$work/direct.txt" >"$work/d.res" && cmp "$work/b.res" "$work/d.res"; }
	step "through the broker: same results as the direct API" same_results
	step "through the broker: uid 65534 refused" "$client" access $dev 65534
	step "through the broker: uid 4242 (allow file) served" "$client" opener $dev 4242
	step "through the broker: 2 processes x 4 threads" "$client" stress $dev 4 2 10
	# SIGHUP re-reads the allow file: uid 4242 is refused from then on.
	reload() { : >"$work/allow" && kill -HUP $broker && sleep 1 && "$client" access $dev 4242; }
	step "through the broker: SIGHUP reload, uid 4242 refused" reload
	step "azblobd --cuse stops on SIGTERM under load, status 0" stop_under_load $broker
	step "$dev gone after azblobd" test ! -e $dev
	cat "$work/azblobd.log"
	# The copy path (--copy), which a device's users may choose too: the
	# same script through it gives the direct API's results.
	"$azblobd" --socket "$work/azblobd-copy.sock" --sim --copy --bounce-bufs 4 \
		--bounce-size 33M --cuse --cuse-arenas 2 2>"$work/azblobd-copy.log" &
	copy=$!
	step "azblobd --copy --cuse creates $dev" wait_dev
	step "azblobd --copy: requests copied" \
		grep -q "requests copied (--copy)" "$work/azblobd-copy.log"
	step "through the broker, copied: script" "$client" script $dev "$work/broker.txt"
	step "through the broker, copied: same results as the direct API" same_results
	kill -TERM $copy
	wait $copy
	step "$dev gone after azblobd --copy" test ! -e $dev
else
	echo "FAIL: no azblobd at $azblobd"
	fails=$((fails + 1))
fi
echo "--- azblob-cuse log"
cat "$work/cuse.log"
exit $fails
