#!/usr/bin/env bash
# rest_sharedkey: the rest backend's Shared Key string-to-sign and signature
# for fixed requests, key and date equal values derived here independently:
# the string-to-sign written by hand from the "Authorize with Shared Key"
# rules (blob service, version 2015-02-21 and later), the signature computed
# with `openssl dgst -sha256 -mac HMAC`. Also: heads the backend must refuse.
set -euo pipefail

TOOL=$1
ACCOUNT=devstoreaccount1
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
DATE='Fri, 26 Jun 2015 23:39:12 GMT'
fail=0

command -v openssl >/dev/null || { echo "FAIL: openssl is not installed" >&2; exit 1; }
HEXKEY=$(printf '%s' "$KEY" | base64 -d | od -An -v -tx1 | tr -d ' \n')

# check NAME BASE_PATH CONTENT_LENGTH HEAD EXPECTED_STRING_TO_SIGN
check() {
	local name=$1 base=$2 clen=$3 head=$4 want=$5 got sig want_auth
	# $(...) drops trailing newlines: compare through a trailing marker.
	got=$(printf '%s' "$head" | "$TOOL" sts "$ACCOUNT" "$KEY" "$base" "$DATE" "$clen"; echo x)
	got=${got%x}
	if [ "$got" != "$want" ]; then
		echo "FAIL $name: string-to-sign differs" >&2
		diff <(printf '%s' "$want" | od -c) <(printf '%s' "$got" | od -c) >&2 || true
		fail=1
		return
	fi
	sig=$(printf '%s' "$want" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$HEXKEY" -binary |
		base64 -w0)
	want_auth="SharedKey $ACCOUNT:$sig"
	got=$(printf '%s' "$head" | "$TOOL" auth "$ACCOUNT" "$KEY" "$base" "$DATE" "$clen")
	if [ "$got" != "$want_auth" ]; then
		echo "FAIL $name: Authorization '$got', want '$want_auth'" >&2
		fail=1
		return
	fi
	echo "ok $name: $want_auth"
}

# refuse NAME HEAD: the backend must not sign (nor forward) it.
refuse() {
	local rc=0
	printf '%s' "$2" | "$TOOL" sts "$ACCOUNT" "$KEY" "" "$DATE" 0 >/dev/null || rc=$?
	if [ "$rc" -ne 3 ]; then
		echo "FAIL refuse $1: exit $rc, want 3" >&2
		fail=1
		return
	fi
	echo "ok refuse $1"
}

CR=$'\r'
NL=$'\n'

# Put Block with standard headers, a folded x-ms-meta value, a guest
# x-ms-date (replaced by ours), headers that are not forwarded (Host,
# Content-Length, x-azblob-format is x-...: not x-ms-), an encoded path
# and encoded query values. The emulator's path-style URL puts the account
# twice in the resource.
HEAD="PUT /c/dir/b%20x.txt?comp=block&blockid=QUJD%3D%3D&timeout=30 HTTP/1.1$CR$NL"
HEAD+="x-ms-blob-type: BlockBlob$CR$NL"
HEAD+="Content-Type:text/plain$CR$NL"
HEAD+="X-MS-Meta-Foo:   a    b  $CR$NL"
HEAD+="x-ms-date: Mon, 01 Jan 2001 00:00:00 GMT$CR$NL"
HEAD+="Content-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==$CR$NL"
HEAD+="Host: evil.example$CR$NL"
HEAD+="Content-Length: 999$CR$NL"
HEAD+="x-azblob-format: 1$CR$NL"
HEAD+="x-ms-version: 2021-08-06$CR$NL$CR$NL"
WANT="PUT$NL"              # VERB
WANT+="$NL"                # Content-Encoding
WANT+="$NL"                # Content-Language
WANT+="11$NL"              # Content-Length
WANT+="1B2M2Y8AsgTpgAmY7PhCfg==$NL" # Content-MD5
WANT+="text/plain$NL"      # Content-Type
WANT+="$NL"                # Date (x-ms-date is used)
WANT+="$NL$NL$NL$NL"       # If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since
WANT+="$NL"                # Range
WANT+="x-ms-blob-type:BlockBlob$NL"
WANT+="x-ms-date:$DATE$NL"
WANT+="x-ms-meta-foo:a b$NL"
WANT+="x-ms-version:2021-08-06$NL"
WANT+="/devstoreaccount1/devstoreaccount1/c/dir/b%20x.txt"
WANT+="${NL}blockid:QUJD==${NL}comp:block${NL}timeout:30"
check put_block /devstoreaccount1 11 "$HEAD" "$WANT"

# Ranged conditional Get: no body (Content-Length empty), no x-ms-version
# from the guest (2021-08-06 added), a repeated query parameter (values
# sorted, comma-joined) and upper-case parameter names (lower-cased),
# the production URL form (no path in the endpoint URL).
HEAD="GET /c?restype=container&comp=list&include=snapshots&Include=metadata HTTP/1.1$CR$NL"
HEAD+="Range: bytes=0-99$CR$NL"
HEAD+="If-Match: \"0x8D2\"$CR$NL"
HEAD+="If-None-Match: *$CR$NL$CR$NL"
WANT="GET$NL$NL$NL$NL$NL$NL$NL$NL"   # VERB, then 7 empty: Enc, Lang, Len, MD5, Type, Date, If-Modified-Since
WANT+="\"0x8D2\"$NL"                  # If-Match
WANT+="*$NL"                          # If-None-Match
WANT+="$NL"                           # If-Unmodified-Since
WANT+="bytes=0-99$NL"                 # Range
WANT+="x-ms-date:$DATE$NL"
WANT+="x-ms-version:2021-08-06$NL"
WANT+="/devstoreaccount1/c${NL}comp:list${NL}include:metadata,snapshots${NL}restype:container"
check list_blobs "" 0 "$HEAD" "$WANT"

# Delete: Content-Length 0 is empty too.
HEAD="DELETE /c/b HTTP/1.1$CR$NL$CR$NL"
WANT="DELETE$NL$NL$NL$NL$NL$NL$NL$NL$NL$NL$NL$NL"
WANT+="x-ms-date:$DATE${NL}x-ms-version:2021-08-06$NL/devstoreaccount1/c/b"
check delete "" 0 "$HEAD" "$WANT"

refuse dotdot "GET /c/../other HTTP/1.1$CR$NL$CR$NL"
refuse dotdot_encoded "GET /c/%2E%2e/other HTTP/1.1$CR$NL$CR$NL"
refuse dot "GET /./c HTTP/1.1$CR$NL$CR$NL"
refuse absolute_url "GET http://evil.example/c HTTP/1.1$CR$NL$CR$NL"
refuse authority "GET @evil.example/c HTTP/1.1$CR$NL$CR$NL"
refuse fragment "GET /c/b#x HTTP/1.1$CR$NL$CR$NL"
refuse backslash "GET /c\\b HTTP/1.1$CR$NL$CR$NL"
refuse method "OPTIONS /c/b HTTP/1.1$CR$NL$CR$NL"
refuse version "GET /c/b HTTP/1.0$CR$NL$CR$NL"
refuse no_end "GET /c/b HTTP/1.1$CR$NL"
refuse header_name "GET /c/b HTTP/1.1${CR}${NL}x ms: 1$CR$NL$CR$NL"
refuse header_ctl "GET /c/b HTTP/1.1${CR}${NL}x-ms-a: 1${NL}x$CR$NL$CR$NL"
refuse duplicate "GET /c/b HTTP/1.1${CR}${NL}x-ms-a: 1${CR}${NL}X-MS-A: 2$CR$NL$CR$NL"

exit $fail
