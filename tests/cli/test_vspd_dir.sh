#!/usr/bin/env bash
# azblob_vspd_dir (e2e): the dir backend of azblob-vspd through the azblob
# CLI (the reproduction of a Put Block stored as the whole blob and the
# block list XML stored over it):
#   test_vspd_dir.sh AZBLOB AZBLOB_VSPD
# azblob-vspd --backend dir=D: mb, put of a 20 MB file (5 blocks + Put
# Block List): D/backups/big.iso is the file, byte for byte; a name with
# '/' is D/backups/iso%2Fsmall.bin; ls with a prefix; a restart of the
# daemon on D: get back (cmp), stat; rm (the file goes), rb (the directory
# goes); --backend dir=D,max_bytes=N: a directory over the cap is refused.
set -u
AZ=${1:?usage: test_vspd_dir.sh AZBLOB AZBLOB_VSPD}
VSPD=${2:?usage: test_vspd_dir.sh AZBLOB AZBLOB_VSPD}
PROG=$AZ NAME=azblob
VPID=
# shellcheck disable=SC2317 # called by lib.sh's cleanup
extra_cleanup() { stop_vspd; }
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2317
stop_vspd() {
	if [ -n "$VPID" ]; then
		kill -TERM "$VPID" 2>/dev/null
		wait "$VPID" 2>/dev/null
		VPID=
	fi
}

start_vspd() {
	rm -f "$T/ready"
	"$VSPD" --root "$T/root" --ram 64M --backend "dir=$T/d" --ready-file "$T/ready" \
		>/dev/null 2>"$T/host.err" &
	VPID=$!
	wait_ready azblob-vspd
}

head -c 20000000 /dev/urandom >"$T/big.bin"
head -c 1000 /dev/urandom >"$T/small.bin"
start_vspd
SR=(--sim-root "$T/root")
run 0 "${SR[@]}" mb backups
run 0 "${SR[@]}" put "$T/big.bin" backups/big.iso
run 0 "${SR[@]}" put "$T/small.bin" backups/iso/small.bin
cmp -s "$T/big.bin" "$T/d/backups/big.iso" || fail "D/backups/big.iso is not the file" \
	"($(stat -c %s "$T/d/backups/big.iso" 2>&1) bytes)"
cmp -s "$T/small.bin" "$T/d/backups/iso%2Fsmall.bin" || fail "iso/small.bin not stored as iso%2Fsmall.bin"
files=$(cd "$T/d/backups" && ls)
[ "$files" = "big.iso
iso%2Fsmall.bin" ] || fail "the files under D/backups: $files"
run 0 "${SR[@]}" ls backups
out_has "big.iso"
out_has "iso/small.bin"
run 0 "${SR[@]}" ls backups/iso/
out_has "iso/small.bin"
out_lacks "big.iso"

# A restart on the same directory: the blobs are there.
stop_vspd
start_vspd
run 0 "${SR[@]}" get backups/big.iso "$T/back.bin"
cmp -s "$T/big.bin" "$T/back.bin" || fail "big.iso differs after a restart"
run 0 "${SR[@]}" stat backups/big.iso
out_has "20000000"
run 0 "${SR[@]}" rm backups/big.iso
[ ! -e "$T/d/backups/big.iso" ] || fail "rm left D/backups/big.iso"
run 0 "${SR[@]}" rm backups/iso/small.bin
run 0 "${SR[@]}" rb backups
[ ! -e "$T/d/backups" ] || fail "rb left D/backups"

# The memory cap applies to what the directory holds at start.
stop_vspd
mkdir -p "$T/d/capped"
head -c 100000 /dev/urandom >"$T/d/capped/blob"
"$VSPD" --root "$T/root" --backend "dir=$T/d,max_bytes=50000" --ready-file "$T/ready" \
	>/dev/null 2>"$T/host.err"
rc=$?
[ "$rc" -ne 0 ] || fail "azblob-vspd started over its cap"
grep -q "max_bytes" "$T/host.err" || fail "no word of the cap: $(cat "$T/host.err")"
echo "ok: $CHECKS checks"
