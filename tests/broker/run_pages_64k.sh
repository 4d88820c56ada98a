#!/bin/bash
# broker_pages_64k (arm64 builds): the programs under qemu-aarch64 -p 65536,
# a kernel with 64 KiB pages as far as user space can tell
# (sysconf(_SC_PAGESIZE) = 65536; docs/PORTING.md):
#  1. azblob --sim demo: the emulator's device tree (uio maps and ring
#     headers in whole pages) opened by the device layer, a round trip, a
#     16 MiB blob and 20,000 requests;
#  2. azblobd --sim and a client through it: the session's rings
#     (whole pages, a header page each) opened as a virtual channel; a blob
#     put, listed, read back and compared.
# Usage: run_pages_64k.sh QEMU SYSROOT AZBLOBD AZBLOB
set -euo pipefail
qemu=$1 sysroot=$2 azblobd=$3 azblob=$4
q=("$qemu" -p 65536 -L "$sysroot")
tmp=$(mktemp -d /tmp/broker_pages_64k.XXXXXX)
daemon=
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	[ -f "$tmp/d.log" ] && sed 's/^/  azblobd: /' "$tmp/d.log"
	exit 1
}

"${q[@]}" "$azblob" --sim demo >"$tmp/demo.log" 2>&1 || { cat "$tmp/demo.log"; fail "azblob --sim demo"; }
grep -E '^Done in' "$tmp/demo.log" || fail "no verdict from the demo"
echo "ok: azblob --sim demo with 64 KiB pages"

"${q[@]}" "$azblobd" --sim --socket "$tmp/s.sock" --ready-file "$tmp/ready" \
	--allow-user "$(id -un)" >"$tmp/d.log" 2>&1 &
daemon=$!
for _ in $(seq 120); do
	[ -e "$tmp/ready" ] && break
	kill -0 "$daemon" 2>/dev/null || fail "azblobd exited"
	sleep 0.5
done
[ -e "$tmp/ready" ] || fail "azblobd not ready in 60 s"
grep -o 'rings [0-9]* bytes' "$tmp/d.log" | head -1
export AZBLOB_BROKER=$tmp/s.sock
head -c 3000000 /dev/urandom >"$tmp/in.bin"
"${q[@]}" "$azblob" mb pages64k || fail "mb"
"${q[@]}" "$azblob" put "$tmp/in.bin" pages64k/blob || fail "put"
"${q[@]}" "$azblob" ls pages64k || fail "ls"
"${q[@]}" "$azblob" get pages64k/blob "$tmp/out.bin" || fail "get"
cmp "$tmp/in.bin" "$tmp/out.bin" || fail "the blob read back differs"
"${q[@]}" "$azblob" stat --broker "$tmp/s.sock" | head -3
grep -q 'protocol errors 0' < <("${q[@]}" "$azblob" stat --broker "$tmp/s.sock") ||
	fail "protocol errors"
echo "ok: a broker session with 64 KiB pages: put, ls, get of 3000000 bytes, same bytes"
