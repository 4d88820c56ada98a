#!/usr/bin/env bash
# azurite_fastpath (e2e): the blob helpers through the fast path (the azblob
# CLI with `--sim --backend rest=...`, and azurite_range for ranged reads)
# against Azurite, checked directly against Azurite with curl over plain
# HTTP on 127.0.0.1 (an account SAS signed here with openssl):
#   - put through the fast path, read directly: byte-identical, Content-MD5
#     = base64(md5(file)); Azurite refuses a wrong Content-MD5 (400);
#   - written directly, read through the fast path; a stored MD5 that does
#     not match the bytes fails the fast-path read;
#   - ranged reads (azblob_blob_get with an offset) against dd cuts;
#   - 100 MiB through Put Block + Put Block List: get, cmp, Content-MD5 by
#     curl HEAD (the whole blob's MD5 sent as x-ms-blob-content-md5);
#   - list paging: 25 blobs, --page-size 7, every name once;
#   - error codes: ContainerAlreadyExists, ContainerNotFound, BlobNotFound,
#     InvalidRange (416 from the service; -ERANGE from the helper),
#     AuthorizationFailure (a wrong key).
#   azurite_fastpath.sh AZBLOB AZURITE_RANGE AZURITE_SH
# Fails (never skips) when Azurite, curl or openssl is missing.
set -u
AZ=${1:?usage: azurite_fastpath.sh AZBLOB AZURITE_RANGE AZURITE_SH}
RANGE=${2:?usage: azurite_fastpath.sh AZBLOB AZURITE_RANGE AZURITE_SH}
AZURITE=${3:?usage: azurite_fastpath.sh AZBLOB AZURITE_RANGE AZURITE_SH}
ACCOUNT=devstoreaccount1
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
T=$(mktemp -d "${TMPDIR:-/tmp}/azurite-fastpath.XXXXXX")
CHECKS=0

# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
	"$AZURITE" stop "$T/azurite" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*"
	for f in out err hdr; do
		[ -s "$T/$f" ] && { echo "--- $f of the last command:"; head -c 4000 "$T/$f"; echo; }
	done
	[ -s "$T/azurite/azurite.log" ] && { echo "--- azurite log:"; tail -n 40 "$T/azurite/azurite.log"; }
	exit 1
}
ok() { CHECKS=$((CHECKS + 1)); }

for tool in curl openssl base64 xxd dd cmp md5sum; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done

# run RC ARGS...: azblob ARGS must exit with RC (stdout, stderr kept).
run() {
	local want=$1 rc
	shift
	timeout 300 "$AZ" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "azblob $* exited $rc, expected $want"
	ok
}
err_has() { grep -qE -- "$1" "$T/err" || fail "stderr lacks /$1/"; }
out_has() { grep -qE -- "$1" "$T/out" || fail "stdout lacks /$1/"; }
md5_of() { openssl dgst -md5 -binary "$1" | base64; }

# The header NAME of the last curl answer ($T/hdr), without CR.
hdr() { grep -i "^$1:" "$T/hdr" | head -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }

# ---- an account SAS (version 2019-12-12), signed with the account key ----
sas_sign() {
	local sp=racwdl ss=b srt=sco se=2099-01-01T00:00:00Z spr=https,http sv=2019-12-12 sig
	sig=$(printf '%s\n%s\n%s\n%s\n\n%s\n\n%s\n%s\n' "$ACCOUNT" "$sp" "$ss" "$srt" "$se" "$spr" \
		"$sv" | openssl dgst -sha256 -mac HMAC \
		-macopt "hexkey:$(printf '%s' "$KEY" | base64 -d | xxd -p -c 256)" -binary | base64)
	sig=${sig//+/%2B}
	sig=${sig//\//%2F}
	sig=${sig//=/%3D}
	echo "sv=$sv&ss=$ss&srt=$srt&sp=$sp&se=$se&spr=$spr&sig=$sig"
}
SAS=$(sas_sign) || fail "cannot sign the SAS"

# direct METHOD PATH [CURL ARGS...]: curl to Azurite, head into $T/hdr,
# body into $T/body; prints the HTTP status.
direct() {
	local method=$1 path=$2 q
	shift 2
	case $path in *\?*) q="&$SAS" ;; *) q="?$SAS" ;; esac
	curl -sS --noproxy '*' -X "$method" -D "$T/hdr" -o "$T/body" -w '%{http_code}' \
		-H 'x-ms-version: 2021-08-06' "$@" "$BASE$path$q" ||
		fail "curl $method $path failed"
}
direct_head() {
	local path=$1
	curl -sS --noproxy '*' -I -D "$T/hdr" -o /dev/null -w '%{http_code}' \
		-H 'x-ms-version: 2021-08-06' "$BASE$path?$SAS" || fail "curl HEAD $path failed"
}

# ---- files ----
head -c 300000 /dev/urandom >"$T/small.bin" || fail "cannot make files"
head -c 5000000 /dev/urandom >"$T/mid.bin"
head -c $((100 << 20)) /dev/urandom >"$T/big.bin" || fail "cannot make the 100 MiB file"

# ---- Azurite ----
mkdir -p "$T/azurite"
"$AZURITE" bin >/dev/null || fail "Azurite is not installed (scripts/azurite.sh install)"
port=$("$AZURITE" startany "$T/azurite") || fail "Azurite did not start"
echo "azurite on 127.0.0.1:$port"
BASE="http://127.0.0.1:$port/$ACCOUNT"
RARG="$BASE;account=$ACCOUNT;key=$KEY" # the rest backend's argument
REST=(--sim --backend "rest=$RARG")

# ---- containers, ContainerAlreadyExists ----
run 0 "${REST[@]}" mb fastpath
err_has 'fastpath: 201'
run 1 "${REST[@]}" mb fastpath
err_has '409 ContainerAlreadyExists'

# ---- put through the fast path, read directly ----
run 0 "${REST[@]}" put "$T/small.bin" fastpath/dir/small.bin
err_has 'one Put Blob'
[ "$(direct GET /fastpath/dir/small.bin)" = 200 ] || fail "direct GET of small.bin"
cmp "$T/small.bin" "$T/body" || fail "small.bin read directly differs"
[ "$(hdr Content-MD5)" = "$(md5_of "$T/small.bin")" ] ||
	fail "Content-MD5 '$(hdr Content-MD5)' is not base64(md5) $(md5_of "$T/small.bin")"
ok
# Block path with a small chunk: per-block x-ms-content-crc64 and, with
# --md5, the whole MD5.
run 0 "${REST[@]}" put --md5 --chunk 1M --qd 4 "$T/mid.bin" fastpath/dir/mid.bin
err_has '5000000 bytes .*\(5 blocks'
[ "$(direct GET /fastpath/dir/mid.bin)" = 200 ] || fail "direct GET of mid.bin"
cmp "$T/mid.bin" "$T/body" || fail "mid.bin read directly differs"
[ "$(hdr Content-MD5)" = "$(md5_of "$T/mid.bin")" ] ||
	fail "mid.bin: Content-MD5 '$(hdr Content-MD5)', expected $(md5_of "$T/mid.bin")"
ok
run 0 "${REST[@]}" stat fastpath/dir/mid.bin
out_has "^content-md5 +$(md5_of "$T/mid.bin" | sed 's/[+/]/\\&/g')\$"
# Azurite checks a Content-MD5 that is sent (so the fast path's puts above
# were checked): a wrong one is refused.
code=$(direct PUT /fastpath/wrong.bin -H 'x-ms-blob-type: BlockBlob' \
	-H "Content-MD5: $(md5_of "$T/mid.bin")" --data-binary "@$T/small.bin")
# (Azure: 400 Md5Mismatch; Azurite 3.35: 400 InvalidOperation "Provided
# contentMD5 doesn't match.")
[ "$code" = 400 ] || fail "a wrong Content-MD5 was not refused (HTTP $code)"
grep -qiE "Md5Mismatch|contentMD5 doesn't match" "$T/hdr" "$T/body" ||
	fail "a wrong Content-MD5: not an MD5 mismatch"
ok

# Azurite 3.35 does not check x-ms-content-crc64 (Azure: 400 Crc64Mismatch;
# docs/REST.md): a wrong one is taken. Should that change, the fast path's
# CRC-64 puts above were checked too.
code=$(direct PUT /fastpath/crc.bin -H 'x-ms-blob-type: BlockBlob' \
	-H 'x-ms-content-crc64: AAAAAAAAAAA=' --data-binary "@$T/small.bin")
[ "$code" = 201 ] || echo "note: Azurite now refuses a wrong x-ms-content-crc64 ($code)"
ok

# ---- written directly, read through the fast path ----
code=$(direct PUT /fastpath/direct/mid.bin -H 'x-ms-blob-type: BlockBlob' \
	-H "Content-MD5: $(md5_of "$T/mid.bin")" --data-binary "@$T/mid.bin")
[ "$code" = 201 ] || fail "direct PUT answered $code"
run 0 "${REST[@]}" get fastpath/direct/mid.bin "$T/mid.out"
cmp "$T/mid.bin" "$T/mid.out" || fail "blob written directly reads back different"
run 0 "${REST[@]}" get --chunk 64K --qd 16 fastpath/direct/mid.bin "$T/mid.out2"
cmp "$T/mid.bin" "$T/mid.out2" || fail "blob written directly (64K chunks) differs"
code=$(direct PUT /fastpath/direct/small.bin -H 'x-ms-blob-type: BlockBlob' \
	--data-binary "@$T/small.bin")
[ "$code" = 201 ] || fail "direct PUT answered $code"
run 0 "${REST[@]}" get fastpath/direct/small.bin "$T/small.out"
cmp "$T/small.bin" "$T/small.out" || fail "small blob written directly differs"
# A stored MD5 that does not match: the one-Get read of the fast path fails.
# (Put Blob checks x-ms-blob-content-md5 too; Set Blob Properties does not.)
code=$(direct PUT /fastpath/direct/badmd5.bin -H 'x-ms-blob-type: BlockBlob' \
	--data-binary "@$T/small.bin")
[ "$code" = 201 ] || fail "direct PUT answered $code"
code=$(direct PUT '/fastpath/direct/badmd5.bin?comp=properties' \
	-H "x-ms-blob-content-md5: $(md5_of "$T/mid.bin")" -H 'Content-Length: 0')
[ "$code" = 200 ] || fail "direct Set Blob Properties answered $code"
run 1 "${REST[@]}" get fastpath/direct/badmd5.bin "$T/bad.out"
err_has 'Bad message|EBADMSG'

# ---- ranged reads through the fast path (azblob_blob_get with an offset) ----
expect_range() { # OFF LEN FILE
	dd if="$3" of="$T/want" bs=1 skip="$1" count="$2" iflag=skip_bytes,count_bytes status=none ||
		fail "dd"
}
for r in "0 1" "1 4095" "4096 4096" "123457 300000" "999999 1048577" "4000000 1000000" \
	"4999999 1" "4999000 100000" "0 5000000" "2500000 0"; do
	read -r off len <<<"$r"
	"$RANGE" "$RARG" get fastpath dir/mid.bin "$off" "$len" "$T/got" >"$T/out" 2>"$T/err" ||
		fail "ranged get $off+$len failed"
	want=$((off + len > 5000000 ? 5000000 - off : len))
	expect_range "$off" "$want" "$T/mid.bin"
	[ "$(cat "$T/out")" = "$want" ] || fail "ranged get $off+$len read $(cat "$T/out"), not $want"
	cmp "$T/want" "$T/got" || fail "ranged get $off+$len differs"
	ok
done

# ---- InvalidRange ----
# (A range starting exactly at the size: Azurite 3.35 answers 206 with
# "bytes 5000000-4999999/5000000", Azure 416; beyond it both say 416.)
"$RANGE" "$RARG" raw fastpath dir/mid.bin 6000000-6000100 >"$T/out" 2>"$T/err" ||
	fail "raw ranged get failed"
out_has '^416 InvalidRange$'
ok
"$RANGE" "$RARG" get fastpath dir/mid.bin 5000001 10 "$T/got" >"$T/out" 2>"$T/err" &&
	fail "a read past the end succeeded"
err_has 'Numerical result out of range|ERANGE'
ok

# ---- 100 MiB through blocks ----
start=$(date +%s%N)
run 0 "${REST[@]}" put --md5 --qd 8 "$T/big.bin" fastpath/big/100m.bin
err_has '104857600 bytes .*\(25 blocks, QD 8, in place\)'
echo "put 100 MiB: $((($(date +%s%N) - start) / 1000000)) ms"
start=$(date +%s%N)
run 0 "${REST[@]}" get --qd 8 fastpath/big/100m.bin "$T/big.out"
echo "get 100 MiB: $((($(date +%s%N) - start) / 1000000)) ms"
cmp "$T/big.bin" "$T/big.out" || fail "the 100 MiB blob came back different"
[ "$(direct_head /fastpath/big/100m.bin)" = 200 ] || fail "HEAD of the 100 MiB blob"
[ "$(hdr Content-Length)" = 104857600 ] || fail "HEAD: Content-Length $(hdr Content-Length)"
[ "$(hdr Content-MD5)" = "$(md5_of "$T/big.bin")" ] ||
	fail "100 MiB: Content-MD5 '$(hdr Content-MD5)', expected $(md5_of "$T/big.bin")"
ok
run 0 "${REST[@]}" rm fastpath/big/100m.bin
rm -f "$T/big.out"

# ---- list paging ----
run 0 "${REST[@]}" mb pages
for i in $(seq -w 1 25); do
	run 0 "${REST[@]}" put --quiet "$T/small.bin" "pages/p/blob-$i"
done
run 0 "${REST[@]}" ls --page-size 7 pages
awk '{print $NF}' "$T/out" | sort >"$T/names"
seq -w 1 25 | sed 's|^|p/blob-|' >"$T/want"
cmp "$T/names" "$T/want" || fail "ls --page-size 7 did not list the 25 blobs once each"
[ "$(wc -l <"$T/out")" -eq 25 ] || fail "ls --page-size 7: $(wc -l <"$T/out") lines"
ok
run 0 "${REST[@]}" ls --page-size 7 pages/p/blob-1
[ "$(wc -l <"$T/out")" -eq 10 ] || fail "ls with a prefix: $(wc -l <"$T/out") lines, not 10"

# ---- error codes ----
run 1 "${REST[@]}" get fastpath/nope "$T/nope"
err_has '404 BlobNotFound'
run 1 "${REST[@]}" stat fastpath/nope
err_has '404'
run 1 "${REST[@]}" rm fastpath/nope
err_has '404 BlobNotFound'
run 1 "${REST[@]}" ls nosuchcontainer
err_has '404 ContainerNotFound'
run 1 "${REST[@]}" put "$T/small.bin" nosuchcontainer/x
err_has '404 ContainerNotFound'
run 1 "${REST[@]}" put --chunk 64K "$T/mid.bin" nosuchcontainer/x
err_has '404 ContainerNotFound'
run 1 "${REST[@]}" rb nosuchcontainer
err_has '404 ContainerNotFound'
run 1 --sim --backend "rest=$BASE;account=$ACCOUNT;key=${KEY/E/F}" ls fastpath
err_has '403 AuthorizationFailure'

# ---- the rest backend authenticated by a SAS token instead of Shared Key ----
SASREST=(--sim --backend "rest=$BASE;sas=$SAS")
run 0 "${SASREST[@]}" put "$T/small.bin" fastpath/sas/small.bin
run 0 "${SASREST[@]}" get fastpath/sas/small.bin "$T/sas.out"
cmp "$T/small.bin" "$T/sas.out" || fail "a SAS-authenticated round trip differs"
run 1 --sim --backend "rest=$BASE;sas=${SAS/sig=/sig=x}" get fastpath/sas/small.bin "$T/sas2.out"
err_has '403 AuthenticationFailed|403 AuthorizationFailure'
ok

run 0 "${REST[@]}" rb pages
run 0 "${REST[@]}" rb fastpath
[ "$(direct GET '/fastpath?restype=container')" = 404 ] || fail "container still there"
ok
"$AZURITE" stop "$T/azurite"

echo "PASS: $CHECKS checks"
