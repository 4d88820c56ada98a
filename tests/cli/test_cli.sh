#!/usr/bin/env bash
# azblob_cli (e2e): the azblob command line end to end.
#   test_cli.sh AZBLOB CLI_SIMHOST
# Help and exit codes of every command; `azblob demo` against the in-process
# simulator (round trip, p50/p99, well under 30 s); `azblob devices` on a
# simulator's tree and on a fake sysfs; `azblob raw` and `azblob stat`
# against a simulator in its own process (cli_simhost) and in-process;
# a rescinded simulator. Every command runs under `timeout`.
set -u
AZ=${1:?usage: test_cli.sh AZBLOB CLI_SIMHOST}
HOST=${2:?usage: test_cli.sh AZBLOB CLI_SIMHOST}
PROG=$AZ NAME=azblob
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# ---- help, usage, exit codes ----
run 0 --help
out_has '^Usage: azblob '
out_has 'Exit status'
err_empty
run 0 help
out_has '^Usage: azblob '
run 0 --version
out_has '^azblob [0-9]+\.[0-9]+\.[0-9]+'
for c in devices raw stat demo; do
	run 0 "$c" --help
	out_has "^Usage: azblob $c"
	out_has 'Global options'
	err_empty
	run 0 help "$c"
	out_has "^Usage: azblob $c"
	run 0 -v "$c" -h
	out_has "^Usage: azblob $c"
done
run 2
err_has 'missing command'
out_empty
run 2 frobnicate
err_has "unknown command 'frobnicate'"
err_has "; try 'azblob --help'$"
out_empty
run 2 help frobnicate
err_has "no command 'frobnicate'"
run 2 --bogus demo
err_has "unknown option '--bogus'"
run 2 raw --bogus
err_has "unknown option '--bogus'"
err_has "; try 'azblob raw --help'$"
run 2 raw --request
err_has "needs an argument"
run 2 raw --sim
err_has -- '--request FILE is required'
run 2 demo --qd 0
err_has 'out of range'
run 2 demo --requests many
err_has 'not a number'
run 2 stat --sim --sim-root /nonexistent
err_has 'exclude each other'
run 2 devices extra
err_has "unexpected argument 'extra'"
run 2 --device not-a-guid stat
err_has 'not a GUID'
run 2 --timeout 0 stat --sim
err_has 'out of range'
out_empty

# ---- demo: the in-process simulator (no device under an empty sysfs) ----
mkdir -p "$T/nosys"
start=$(date +%s%N)
UVMBUS_SYSFS_ROOT=$T/nosys run 0 demo
ms=$((($(date +%s%N) - start) / 1000000))
# (its duration is printed, never asserted: tests do not judge wall-clock time)
out_has 'in-process simulator'
out_has 'Round trip'
out_has 'PUT +/azblob-demo/hello.bin +201 Created'
out_has 'GET +/azblob-demo/hello.bin +200 OK'
out_has 'content verified: 4096 bytes, identical'
out_has 'min +p50 +p99 +max +requests/s'
out_has '^ +1 +10000 +[0-9.]+ [nmu]?s'
out_has '^ +32 +10000 +[0-9.]+ [nmu]?s'
out_has 'put +16 MiB in '
out_has 'get +16 MiB in .*content verified, identical'
out_has 'submitted +2[0-9]{4} '
out_has 'violations +0$'
out_has '^Done in '
echo "demo: ${ms} ms"
UVMBUS_SYSFS_ROOT=$T/nosys run 0 demo --requests 200 --qd 4 --blob-size 100K
out_has 'content verified: 102400 bytes'
out_has '^ +4 +200 '

# ---- a simulator in its own process ----
"$HOST" "$T/ready" 2>"$T/host.err" &
HPID=$!
for _ in $(seq 1000); do
	[ -s "$T/ready" ] && break
	kill -0 "$HPID" 2>/dev/null || fail "cli_simhost died"
	sleep 0.01
done
[ -s "$T/ready" ] || fail "cli_simhost not ready after 10 s"
ROOT=$(cat "$T/ready")
[ -d "$ROOT/sys/bus/vmbus/devices" ] || fail "no tree under $ROOT"

# ---- devices ----
GUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
for opt in "--sysfs-root $ROOT" "--sysfs-root $ROOT/sys" "--sim-root $ROOT"; do
	# shellcheck disable=SC2086
	run 0 devices $opt
	out_has "^\* $GUID_RE +Azure Blob +14 +0 +uio_hv_generic +uio0 +1$"
	out_has '^1 VMbus device under .*, 1 Azure Blob'
done
SIMGUID=$(grep -oE "^\* $GUID_RE" "$T/out" | cut -c3-)
run 0 devices --sim-root "$ROOT" --device "$SIMGUID"
out_has "^\* $SIMGUID"
run 1 devices --sim-root "$ROOT" --device 00000000-0000-0000-0000-000000000000
err_has 'no device 00000000-0000-0000-0000-000000000000'
run 1 devices --sysfs-root "$T/nosys"
err_has 'no VMbus devices under'
out_empty

# a fake sysfs: a network device and an Azure Blob device on another driver
F=$T/fake
mkdev() { # guid class driver relid
	local d=$F/bus/vmbus/devices/$1
	mkdir -p "$d" "$F/bus/vmbus/drivers/$3"
	echo "{$2}" >"$d/class_id"
	echo "{$1}" >"$d/device_id"
	echo "$4" >"$d/id"
	echo 0 >"$d/numa_node"
	ln -s "../../../../bus/vmbus/drivers/$3" "$d/driver"
}
mkdev 11111111-2222-3333-4444-555555555555 f8615163-df3e-46c5-913f-f2d2f965ed0e hv_netvsc 2
mkdev aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee 0590b792-db64-45cc-81db-b8d70c577c9e azure_blob 9
run 0 devices --sysfs-root "$F"
out_has '^  11111111-2222-3333-4444-555555555555 +network \(netvsc\) +2 +0 +hv_netvsc +- '
out_has '^\* aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee +Azure Blob +9 +0 +azure_blob '
out_has 'note: aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee is bound to azure_blob, not bound to uio_hv_generic'
out_has '^2 VMbus devices under .*, 1 Azure Blob'
run 0 devices --sysfs-root "$F" --azblob
grep -q 11111111 "$T/out" && fail "--azblob listed the network device"
UVMBUS_SYSFS_ROOT=$F run 0 devices
out_has '^2 VMbus devices'

# ---- raw ----
# shellcheck disable=SC2016 # $sim is literal
printf 'GET /$sim/noop HTTP/1.1\r\n\r\n' >"$T/noop"
run 0 raw --sim-root "$ROOT" --request "$T/noop"
out_has "^transaction +$GUID_RE$"
out_has '^status +0x00000000 STATUS_SUCCESS$'
out_has '^response_len +[1-9][0-9]*$'
out_has '^  HTTP/1.1 200 OK$'
out_has '^  x-ms-version: '
printf 'PUT /cli?restype=container HTTP/1.1\r\n\r\n' >"$T/mk"
run 0 raw --sim-root "$ROOT" --request "$T/mk" --timeout 5000
out_has '^  HTTP/1.1 201 Created$'
head -c 10000 /dev/urandom >"$T/blob"
printf 'PUT /cli/dir/blob.bin HTTP/1.1\n\n' >"$T/put.lf" # LF only: --crlf
run 0 raw --sim-root "$ROOT" --request "$T/put.lf" --crlf --data "$T/blob"
out_has '^  HTTP/1.1 201 Created$'
printf 'GET /cli/dir/blob.bin HTTP/1.1\r\n\r\n' >"$T/get"
run 0 raw --sim-root "$ROOT" --request "$T/get" --data-size 16K --out "$T/got" \
	--response-out "$T/resp" --guid 01234567-89ab-cdef-0123-456789abcdef
out_has '^transaction +01234567-89ab-cdef-0123-456789abcdef$'
out_has '^  Content-Length: 10000$'
out_has '^data +10000 bytes written to '
cmp -s "$T/blob" "$T/got" || fail "GET returned other bytes than PUT sent"
grep -q 'HTTP/1.1 200 OK' "$T/resp" || fail "--response-out lacks the response"
printf 'GET /cli/missing HTTP/1.1\r\n\r\n' >"$T/miss"
run 0 raw --sim-root "$ROOT" --request "$T/miss"
out_has '^  HTTP/1.1 404 '
out_has 'x-ms-error-code: BlobNotFound'
printf 'nonsense\r\n\r\n' >"$T/nonsense"
run 0 raw --sim-root "$ROOT" --request - <"$T/nonsense"
out_has '^  HTTP/1.1 400 '
# a non-zero VSP status: the response head does not fit 8 bytes
run 3 raw --sim-root "$ROOT" --request "$T/noop" --response-size 8
out_has '^status +0xc0000023 STATUS_BUFFER_TOO_SMALL$'
err_has 'VSP status 0xc0000023'
run 2 raw --sim-root "$ROOT" --request "$T/noop" --data-size 2G
err_has 'out of range'
run 2 raw --sim-root "$ROOT" --request "$T/noop" --out "$T/x"
err_has -- '--out needs a data buffer'
run 1 raw --sim-root "$ROOT" --request "$T/does-not-exist"
err_has 'does-not-exist: No such file'
# the same in-process, and the client's errors through the simulator's faults
run 0 raw --sim --request "$T/noop"
out_has '^status +0x00000000 STATUS_SUCCESS$'
run 1 raw --sim --sim-fault drop=1 --timeout 200 --request "$T/noop"
out_has '^error +ETIMEDOUT'
err_has 'the request failed: .*ETIMEDOUT'
err_has '^azblob: lib: warning: .*timed out'
run 1 raw --sim --sim-fault oversize_response=1 --request "$T/noop"
err_has 'EPROTO'
run 2 raw --sim --sim-fault nosuch=1 --request "$T/noop"
err_has "no knob 'nosuch'"
run 2 raw --sim-root "$ROOT" --sim-fault drop=1 --request "$T/noop"
err_has 'goes with --sim'

# ---- stat ----
run 0 stat --sim-root "$ROOT" --requests 50
out_has 'Sent 50 no-op requests one at a time: 0 failed'
out_has '^  submitted +50 '
out_has '^  completed +50 '
out_has '^  errors +0 '
out_has 'latency \(completion time'
out_has '^Pending requests:$'
out_has '^  none$'
run 0 stat --sim --requests 10 --in-flight 4
out_has 'Counters \(4 requests in flight\)'
out_has '^  submitted +14 '
[ "$(grep -cE "^  $GUID_RE request [0-9]+ response 1024 data 0 age [0-9]+ ms in flight$" "$T/out")" -eq 4 ] ||
	fail "the pending dump does not show the 4 requests in flight"
out_has 'The 4 in-flight requests completed'
out_has '^Simulator counters:'
out_has '^  requests +14$'
out_has '^  violations +0$'

run 0 stat --sim --sim-fault duplicate=1 --requests 5
out_has '^  duplicates +1 '

# ---- -v: the library's info messages on stderr ----
run 0 -v stat --sim
err_has '^azblob: (lib|sim): info: '
run 0 stat --sim
grep -q ': info: ' "$T/err" && fail "info messages without -v"

# ---- a rescinded simulator: runtime failure ----
kill -USR2 "$HPID"
sleep 0.2
run 1 raw --sim-root "$ROOT" --request "$T/noop"
err_has 'cannot open the simulator at'
run 1 stat --sim-root "$ROOT"

# ---- no device at all ----
UVMBUS_SYSFS_ROOT=$T/nosys run 1 raw --request "$T/noop"
err_has 'cannot open the first Azure Blob device'

kill -TERM "$HPID"
wait "$HPID" || fail "cli_simhost exited $?"
HPID=
[ ! -e "$ROOT" ] || fail "the simulator's tree is still there"
echo "azblob_cli: $CHECKS commands checked, all passed"
