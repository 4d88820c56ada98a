#!/usr/bin/env bash
# broker_cli: azblobd --help, and the azblob CLI through the broker
# (AZBLOB_BROKER in the environment, no other change): mb, put, get
# (compared), ls, rm, stat --broker; SIGHUP reloads the allow-list; SIGTERM
# drains and exits 0; a client over --max-arena or --max-qd is refused.  usage: test_broker_cli.sh AZBLOBD AZBLOB
set -euo pipefail
azblobd=$1
azblob=$2
dir=$(mktemp -d /tmp/broker-cli-XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

help=$("$azblobd" --help) # not piped: grep -q would cut the pipe (SIGPIPE)
grep -q '^SYNOPSIS' <<<"$help" || fail "--help"
set +e; "$azblobd" --mode sideways 2>/dev/null; rc=$?; set -e
[ $rc -eq 2 ] || fail "usage error exit 2, got $rc"

echo "user 4242" > "$dir/allow"
"$azblobd" --sim --socket "$dir/s.sock" --allow "$dir/allow" --ready-file "$dir/ready" \
	--log-level info 2> "$dir/log" &
pid=$!
for _ in $(seq 200); do [ -e "$dir/ready" ] && break; sleep 0.05; done
[ -e "$dir/ready" ] || fail "azblobd not ready: $(cat "$dir/log")"

export AZBLOB_BROKER=$dir/s.sock
head -c 5000000 /dev/urandom > "$dir/in"
"$azblob" mb cli-test
"$azblob" put "$dir/in" cli-test/blob
"$azblob" get cli-test/blob "$dir/out"
cmp "$dir/in" "$dir/out" || fail "the blob read back differs"
"$azblob" ls cli-test | grep -q blob || fail "ls"
"$azblob" rm cli-test/blob
"$azblob" stat --broker | tee "$dir/stat"
grep -q '^daemon: mode hybrid' "$dir/stat" || fail "stat --broker"
grep -q 'total 5' "$dir/stat" || fail "5 sessions served (mb put get ls rm)"

echo "group 4343" >> "$dir/allow"
kill -HUP "$pid"
for _ in $(seq 100); do grep -q '1 user(s), 1 group(s)' "$dir/log" && break; sleep 0.05; done
grep -q '1 user(s), 1 group(s)' "$dir/log" || fail "SIGHUP reload: $(cat "$dir/log")"

kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
pid=
[ $rc -eq 0 ] || fail "azblobd exit $rc after SIGTERM"
[ ! -e "$dir/s.sock" ] || fail "socket removed at exit"
grep -q 'draining' "$dir/log" || fail "drain logged"
# Per-client limits: an arena or a queue depth over them is refused, with why.
"$azblobd" --sim --socket "$dir/l.sock" --max-arena 8M --max-qd 4 --ready-file "$dir/lready" \
	--log-level warn 2> "$dir/llog" &
pid=$!
for _ in $(seq 200); do [ -e "$dir/lready" ] && break; sleep 0.05; done
export AZBLOB_BROKER=$dir/l.sock
set +e
"$azblob" put --qd 2 "$dir/in" cli-test/big 2> "$dir/err1"; rc1=$?
"$azblob" put --chunk 64K "$dir/in" cli-test/big 2> "$dir/err2"; rc2=$?
set -e
cat "$dir/err1" "$dir/err2"
if [ $rc1 -ne 1 ] || ! grep -q 'arena of' "$dir/err1"; then
	fail "a 4 MiB-chunk arena over --max-arena 8M"
fi
if [ $rc2 -ne 1 ] || ! grep -q 'queue depth 8' "$dir/err2"; then
	fail "queue depth 8 over --max-qd 4"
fi
kill -TERM "$pid"
wait "$pid"
pid=
# No broker at that path: the message names the broker, not a device.
set +e
AZBLOB_BROKER=$dir/none.sock "$azblob" stat 2> "$dir/err3"; rc3=$?
set -e
cat "$dir/err3"
[ $rc3 -ne 0 ] && grep -q "cannot open the azblobd broker at $dir/none.sock" "$dir/err3" ||
	fail "an absent broker is named in the error"
echo ok
