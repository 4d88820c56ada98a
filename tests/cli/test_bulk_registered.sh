#!/usr/bin/env bash
# azblob_bulk_registered (e2e): `azblob put` and `get` move a multi-block
# file through registered memory (issue 23, item 4; docs/CLI.md):
#   test_bulk_registered.sh AZBLOB CLI_SIMHOST AZBLOBD
# Against a memory-backed emulator in its own process (cli_simhost):
# 1. put of a 40 MiB file (10 blocks of 4 MiB) and get of it into a new
#    file, both "in place": the file mapped and registered, the host's data
#    buffers in it (the emulator's region_data_bytes grows by the file's
#    size each way), compared with cmp; the registrations are gone after.
# 2. A small file (one Put Blob with --md5, one Get checked against the
#    Content-MD5) in place.
# 3. --copy: the same through pool buffers (region_data_bytes unchanged).
# 4. Registration refused: through azblobd (a broker session reaches only
#    its arena) put and get fall back to pool buffers and still succeed.
set -u
AZ=${1:?usage: test_bulk_registered.sh AZBLOB CLI_SIMHOST AZBLOBD}
HOST=${2:?usage: test_bulk_registered.sh AZBLOB CLI_SIMHOST AZBLOBD}
AZBLOBD=${3:?usage: test_bulk_registered.sh AZBLOB CLI_SIMHOST AZBLOBD}
DPID=
# shellcheck disable=SC2317 # called by lib.sh's cleanup
extra_cleanup() {
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
}
PROG=$AZ NAME=azblob
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# stat NAME: the emulator's statistic NAME (cli_simhost prints them on SIGUSR1).
stat() {
	local n
	n=$(grep -c 'stats:' "$T/host.err")
	kill -USR1 "$HPID"
	for _ in $(seq 500); do
		[ "$(grep -c 'stats:' "$T/host.err")" -gt "$n" ] && break
		sleep 0.01
	done
	grep 'stats:' "$T/host.err" | tail -n 1 | grep -oE " $1=[0-9]+" | cut -d= -f2
}

head -c $((40 << 20)) /dev/urandom >"$T/big.bin" || fail "cannot make the 40 MiB file"
head -c 100000 /dev/urandom >"$T/small.bin"
big=$((40 << 20))

start_host "$HOST"
SR=(--sim-root "$ROOT")
run 0 "${SR[@]}" mb bulk

# ---- 1. in place ----
r0=$(stat region_data_bytes)
run 0 "${SR[@]}" put "$T/big.bin" bulk/big.bin
err_has '\(10 blocks, QD 8, in place\)'
r1=$(stat region_data_bytes)
[ $((r1 - r0)) -eq "$big" ] || fail "put: region_data_bytes grew by $((r1 - r0)), expected $big"
run 0 "${SR[@]}" get bulk/big.bin "$T/big.out"
err_has '\(in place\)'
cmp "$T/big.bin" "$T/big.out" || fail "the blob got in place differs"
r2=$(stat region_data_bytes)
[ $((r2 - r1)) -eq "$big" ] || fail "get: region_data_bytes grew by $((r2 - r1)), expected $big"
[ "$(stat regions)" = 0 ] || fail "registrations left in the emulator's memory table"
[ "$(stat violations)" = 0 ] || fail "emulator violations"
[ "$(stat region_errors)" = 0 ] || fail "memory-table errors"
# -vv says which path and why.
run 0 "${SR[@]}" -vv get bulk/big.bin "$T/big.out"
err_has 'get: in place: 41943040 bytes of the file.s mapping registered'
cmp "$T/big.bin" "$T/big.out" || fail "the blob got in place differs (2)"

# ---- 2. one request each way ----
run 0 "${SR[@]}" put --md5 "$T/small.bin" bulk/small.bin
err_has '\(one Put Blob, in place\)'
run 0 "${SR[@]}" get bulk/small.bin "$T/small.out"
err_has '\(in place\)'
cmp "$T/small.bin" "$T/small.out" || fail "the small blob got in place differs"
# A shorter existing file is made the blob's size; a longer one cut.
head -c 300000 /dev/zero >"$T/small.out"
run 0 "${SR[@]}" get bulk/small.bin "$T/small.out"
cmp "$T/small.bin" "$T/small.out" || fail "get into a longer file"
# Standard output: in order, through pool buffers, as before.
"$AZ" "${SR[@]}" get --quiet bulk/big.bin - | cmp - "$T/big.bin" || fail "get to standard output"

# ---- 3. --copy ----
r3=$(stat region_data_bytes)
run 0 "${SR[@]}" -vv put --copy "$T/big.bin" bulk/copy.bin
err_has 'copied through pool buffers \(--copy\)'
err_has '\(10 blocks, QD 8, copied\)'
run 0 "${SR[@]}" get --copy bulk/copy.bin "$T/copy.out"
err_has '\(copied\)'
cmp "$T/big.bin" "$T/copy.out" || fail "the blob copied differs"
[ "$(stat region_data_bytes)" = "$r3" ] || fail "--copy used registered memory"
run 2 "${SR[@]}" ls --copy bulk
err_has '\-\-copy goes with put and get'

# ---- 4. registration refused: a broker session ----
"$AZBLOBD" --socket "$T/b.sock" --sim-root "$ROOT" --ready-file "$T/bready" 2>"$T/d.err" &
DPID=$!
for _ in $(seq 1000); do
	[ -e "$T/bready" ] && break
	sleep 0.01
done
[ -e "$T/bready" ] || fail "azblobd not ready after 10 s"
export AZBLOB_BROKER=$T/b.sock
run 0 -vv put "$T/big.bin" bulk/broker.bin
err_has 'copied through pool buffers \(the host reaches only the pool\)'
err_has '\(10 blocks, QD 8, copied\)'
run 0 -vv get bulk/broker.bin "$T/broker.out"
err_has 'copied through pool buffers'
cmp "$T/big.bin" "$T/broker.out" || fail "the blob through the broker differs"
unset AZBLOB_BROKER
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null
DPID=
for _ in $(seq 1000); do
	[ -s "$T/ready" ] && [ -d "$ROOT" ] && "$AZ" "${SR[@]}" stat bulk/broker.bin >/dev/null 2>&1 && break
	sleep 0.01
done
run 0 "${SR[@]}" get bulk/broker.bin "$T/big.out"
cmp "$T/big.bin" "$T/big.out" || fail "the broker's blob got in place differs"
run 0 "${SR[@]}" rb bulk

echo "PASS: $CHECKS checks"
