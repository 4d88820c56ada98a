#!/usr/bin/env bash
# azblob_cli_json (e2e): `--json` of devices, stat, stat C/BLOB and ls
# (docs/CLI.md): one valid JSON object on standard output (checked with
# jq), the documented fields with the right values, nothing else there;
# --json refused by the commands without it; errors one line on stderr.
#   test_json.sh AZBLOB CLI_SIMHOST
set -u
AZ=${1:?usage: test_json.sh AZBLOB CLI_SIMHOST}
HOST=${2:?usage: test_json.sh AZBLOB CLI_SIMHOST}
PROG=$AZ NAME=azblob
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing: run scripts/deps.sh test"

# jq_is FILTER: stdout is one JSON document and FILTER is true of it.
jq_is() {
	[ "$(wc -l <"$T/out")" -eq 1 ] || fail "stdout is not one line"
	jq -e "$1" "$T/out" >/dev/null || fail "jq '$1' is not true of: $(cat "$T/out")"
}

# ---- devices ----
run 0 devices --sim --json
jq_is '.count == 1 and .azblob_count == 1 and (.root | endswith("/sys"))'
jq_is '.devices[0] | .azblob and .usable and .class == "Azure Blob" and .relid == 14
	and .driver == "uio_hv_generic" and .uio == 0 and .channels == 1 and .fix == null
	and (.guid | test("^[0-9a-f-]{36}$"))'

# ---- stat (client counters) ----
run 0 stat --sim --requests 5 --json
jq_is '.requests_sent == 5 and .requests_failed == 0 and .in_flight == 0'
jq_is '.counters.submitted == 5 and .counters.completed == 5 and .counters.timeouts == 0'
jq_is '([.latency[].count] | add) == 5 and .pending == []'
run 0 stat --sim --in-flight 3 --json
jq_is '.in_flight == 3 and (.pending | length) == 3'

# ---- blobs: a memory-backed host in its own process ----
start_host "$HOST"
SR=(--sim-root "$ROOT")
run 1 devices "${SR[@]}" --json --device 00000000-0000-0000-0000-000000000000
jq_is '.devices == []'
err_has '^azblob devices: no device'
printf 'hello json\n' >"$T/f"
run 0 "${SR[@]}" mb jsonc
run 0 "${SR[@]}" put --quiet --content-type text/plain "$T/f" jsonc/d/a.txt
run 0 "${SR[@]}" put --quiet "$T/f" 'jsonc/q"uote\x'
run 0 "${SR[@]}" stat jsonc/d/a.txt --json
jq_is '.container == "jsonc" and .blob == "d/a.txt" and .size == 11
	and .content_type == "text/plain" and (.etag | type) == "string"'
run 0 "${SR[@]}" ls jsonc --json
jq_is '.container == "jsonc" and .prefix == null and .blobs == 2 and .bytes == 22 and .complete'
jq_is '[.items[].name] | sort == ["d/a.txt", "q\"uote\\x"]'
run 0 "${SR[@]}" ls jsonc --delimiter / --json
jq_is '.items | map(select(.prefix)) | map(.name) == ["d/"]'
run 0 "${SR[@]}" ls jsonc/d/ --json
jq_is '.prefix == "d/" and .blobs == 1 and .items[0].size == 11'
# A missing blob: exit 1, nothing on stdout, one line on stderr.
run 1 "${SR[@]}" stat jsonc/nope --json
out_empty
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "more than one error line: $(cat "$T/err")"
err_has '404 BlobNotFound'

# ---- commands without --json ----
run 2 "${SR[@]}" put --json "$T/f" jsonc/x
err_has '\-\-json goes with ls, stat and devices'
run 2 raw --json
err_has "unknown option '--json'; try 'azblob raw --help'$"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "a usage error on more than one line: $(cat "$T/err")"
# No device: one line, with what to do.
run 1 --sysfs-root "$T/nosys" stat
[ "$(wc -l <"$T/err" )" -ge 1 ] || fail "no error message"
grep -E "^azblob stat: cannot open" "$T/err" | grep -q "'azblob devices' lists VMbus devices" ||
	fail "the open error has no hint on its line: $(cat "$T/err")"
echo "azblob --json: $CHECKS checks passed"
