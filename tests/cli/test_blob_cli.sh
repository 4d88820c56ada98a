#!/usr/bin/env bash
# azblob_blob_cli (e2e): the blob commands of the azblob CLI end to end.
#   test_blob_cli.sh AZBLOB CLI_SIMHOST AZURITE_SH
# 1. Against Azurite (started here on a free loopback port, always
#    stopped) through `--sim --backend rest=...` (Shared Key, the emulator's
#    well-known account): mb, put of a 50 MiB file (Put Block + Put Block
#    List), get it back (cmp), ls with a prefix and small pages, stat, the
#    error codes of a missing blob and an existing container, rm, rb.
# 2. The memory backend: `--sim --backend memory` (a fresh store per run:
#    mb, and put into a missing container -> 404 ContainerNotFound), and a
#    memory-backed simulator in its own process (cli_simhost, --sim-root):
#    mb, put and get of a small file (cmp), stat, rm, rb.
# Fails (never skips) when Azurite cannot be started.
set -u
AZ=${1:?usage: test_blob_cli.sh AZBLOB CLI_SIMHOST AZURITE_SH}
HOST=${2:?usage: test_blob_cli.sh AZBLOB CLI_SIMHOST AZURITE_SH}
AZURITE=${3:?usage: test_blob_cli.sh AZBLOB CLI_SIMHOST AZURITE_SH}
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
# shellcheck disable=SC2317 # called by lib.sh's cleanup
extra_cleanup() { "$AZURITE" stop "$T/azurite" >/dev/null 2>&1 || true; }
PROG=$AZ NAME=azblob
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# ---- usage ----
for c in put get ls rm mb rb; do
	run 0 "$c" --help
	out_has "^Usage: azblob $c"
done
run 0 stat --help
out_has '^Usage: azblob stat \[OPTIONS\] CONTAINER/BLOB'
run 2 put onlyone
err_has 'expected FILE CONTAINER/BLOB'
run 2 --sim mb AB
err_has 'not a container name'
run 2 --sim rm cc1
err_has 'expected CONTAINER/BLOB'
run 2 mb --backend memory abc
err_has -- '--backend goes with --sim'
run 2 --sim mb --backend nosuch abc
err_has "no backend 'nosuch'"

# ---- files ----
head -c $((50 << 20)) /dev/urandom >"$T/big.bin" || fail "cannot make the 50 MiB file"
head -c 100000 /dev/urandom >"$T/small.bin"

# ---- Azurite ----
mkdir -p "$T/azurite"
"$AZURITE" bin >/dev/null || fail "Azurite is not installed (scripts/azurite.sh install)"
port=$("$AZURITE" startany "$T/azurite") || fail "Azurite did not start"
echo "azurite on 127.0.0.1:$port"
REST=(--sim --backend "rest=http://127.0.0.1:$port/devstoreaccount1;account=devstoreaccount1;key=$KEY")

run 0 "${REST[@]}" mb blobcli
err_has 'blobcli: 201'
run 1 "${REST[@]}" mb blobcli
err_has '409 ContainerAlreadyExists'

start=$(date +%s%N)
run 0 "${REST[@]}" put --qd 8 "$T/big.bin" blobcli/dir/big.bin
ms=$((($(date +%s%N) - start) / 1000000))
err_has '52428800 bytes .* \(13 blocks, QD 8, in place\)'
echo "put 50 MiB through Put Block: $ms ms"
run 0 "${REST[@]}" put "$T/small.bin" blobcli/dir/small.bin
err_has '100000 bytes .*one Put Blob'
run 0 "${REST[@]}" put --content-type text/plain "$T/small.bin" blobcli/other/x.txt
run 0 "${REST[@]}" put "$T/small.bin" blobcli/dir/

start=$(date +%s%N)
run 0 "${REST[@]}" get --qd 8 blobcli/dir/big.bin "$T/big.out"
ms=$((($(date +%s%N) - start) / 1000000))
cmp "$T/big.bin" "$T/big.out" || fail "the 50 MiB blob came back different"
echo "get 50 MiB in ranged chunks: $ms ms"
# Chunks smaller than the blob, standard output.
run 0 "${REST[@]}" get --chunk 64K blobcli/dir/small.bin -
cmp "$T/small.bin" "$T/out" || fail "small blob through stdout differs"

run 0 "${REST[@]}" ls blobcli/dir/
out_has ' 52428800 .* dir/big\.bin$'
out_has ' 100000 .* dir/small\.bin$'
out_has ' 100000 .* dir/small\.bin$'
out_lacks 'other/x\.txt'
[ "$(wc -l <"$T/out")" -eq 2 ] || fail "ls blobcli/dir/ should list 2 blobs"
# Paging: one blob per List Blobs request.
run 0 "${REST[@]}" ls --page-size 1 blobcli
[ "$(wc -l <"$T/out")" -eq 3 ] || fail "ls --page-size 1 should list 3 blobs"
out_has 'other/x\.txt$'
run 0 "${REST[@]}" ls --delimiter / blobcli
out_has '^ +PRE +dir/$'
out_has '^ +PRE +other/$'

run 0 "${REST[@]}" stat blobcli/dir/big.bin
out_has '^size +52428800$'
out_has '^content-md5 +-$' # no --md5
run 0 "${REST[@]}" put --md5 --chunk 64K "$T/small.bin" blobcli/dir/md5.bin
err_has '\(2 blocks'
run 0 "${REST[@]}" stat blobcli/dir/md5.bin
out_has "^content-md5 +$(openssl dgst -md5 -binary "$T/small.bin" | base64 | sed 's/[+/]/\\&/g')\$"
out_has '^etag +"?0x'
out_has '^blob-type +BlockBlob$'
run 0 "${REST[@]}" stat blobcli/other/x.txt
out_has '^content-type +text/plain$'
run 1 "${REST[@]}" stat blobcli/nope
err_has '404'
run 1 "${REST[@]}" get blobcli/nope "$T/nope"
err_has '404 BlobNotFound'

run 0 "${REST[@]}" rm blobcli/dir/big.bin
run 1 "${REST[@]}" rm blobcli/dir/big.bin
err_has '404 BlobNotFound'
run 0 "${REST[@]}" rb blobcli
run 1 "${REST[@]}" rb blobcli
err_has '404 ContainerNotFound'
run 1 "${REST[@]}" ls blobcli
err_has '404 ContainerNotFound'
"$AZURITE" stop "$T/azurite"

# ---- memory backend ----
run 0 --sim --backend memory mb memc
err_has 'memc: 201'
run 1 --sim --backend memory put "$T/small.bin" memc/small.bin
err_has '404 ContainerNotFound'

start_host "$HOST"
SR=(--sim-root "$ROOT")
run 0 "${SR[@]}" mb memc
run 0 "${SR[@]}" put --chunk 1M --qd 4 "$T/small.bin" memc/a/small.bin
err_has 'one Put Blob'
run 0 "${SR[@]}" get --chunk 1M --qd 4 memc/a/small.bin "$T/small.out"
cmp "$T/small.bin" "$T/small.out" || fail "small blob through the memory backend differs"
run 0 "${SR[@]}" stat memc/a/small.bin
out_has '^size +100000$'
# The whole blob's MD5 only with --md5 (as FILE or standard input is read);
# each block's body carries its CRC-64 (or Content-MD5 with --check md5),
# which the memory backend checks.
md5=$(openssl dgst -md5 -binary "$T/small.bin" | base64 | sed 's/[+/]/\\&/g')
run 0 "${SR[@]}" put --chunk 64K --qd 4 "$T/small.bin" memc/a/nomd5.bin
err_has '\(2 blocks'
run 0 "${SR[@]}" stat memc/a/nomd5.bin
out_has '^content-md5 +-$'
run 0 "${SR[@]}" put --md5 --chunk 64K --qd 4 "$T/small.bin" memc/a/md5.bin
run 0 "${SR[@]}" stat memc/a/md5.bin
out_has "^content-md5 +$md5\$"
run 0 "${SR[@]}" put --md5 --check md5 --chunk 64K - memc/a/stdin.bin <"$T/small.bin"
run 0 "${SR[@]}" stat memc/a/stdin.bin
out_has "^content-md5 +$md5\$"
run 0 "${SR[@]}" put --check none --chunk 64K "$T/small.bin" memc/a/none.bin
run 0 "${SR[@]}" get --chunk 64K memc/a/none.bin "$T/small.out"
cmp "$T/small.bin" "$T/small.out" || fail "blob put without checks differs"
run 2 "${SR[@]}" put --check sha1 "$T/small.bin" memc/a/x.bin
err_has 'crc64, md5 or none'
run 2 "${SR[@]}" get --md5 memc/a/md5.bin "$T/small.out"
err_has '\-\-md5 goes with put'
run 0 "${SR[@]}" rm memc/a/small.bin
run 1 "${SR[@]}" get --chunk 1M memc/a/small.bin "$T/small.out"
err_has '404 BlobNotFound'
run 0 "${SR[@]}" rb memc

echo "PASS: $CHECKS checks"
