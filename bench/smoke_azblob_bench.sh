#!/usr/bin/env bash
# bench_azblob_smoke: the benchmark runs every mode briefly and prints what
# scripts rely on (JSON with a results array and the documented keys) and
# the PNG charts. It asserts no speed: figures are the benchmark's job.
set -euo pipefail
bench=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bench" --modes floor,poll,interrupt,sync --qd 1,4 --size 0,4096 --duration 0.2 --warmup 0.05 \
	--json --plot "$out/plots" >"$out/result.json"
for key in '"results":\[' '"mode":"floor"' '"mode":"poll"' '"mode":"interrupt"' '"mode":"sync"' \
	'"qd":4' '"size":4096' '"rps":' '"p50_ns":' '"p99_ns":' '"p999_ns":' '"cpu_ns_per_req":'; do
	grep -q "$key" "$out/result.json" || { echo "missing $key in the JSON" >&2; cat "$out/result.json" >&2; exit 1; }
done
jq -e '.results | length > 0' "$out/result.json" >/dev/null || { echo "the JSON does not parse" >&2; exit 1; }
# A point that completes nothing (a microsecond): its per-request figures
# are null, never NaN (which no JSON parser takes).
"$bench" --modes poll --qd 1 --duration 0.000001 --warmup 0 --json >"$out/empty.json" 2>/dev/null
jq -e '.results[0].requests > 0 or .results[0].cpu_ns_per_req == null' "$out/empty.json" >/dev/null ||
	{ echo "an empty point is not valid JSON with null figures:" >&2; cat "$out/empty.json" >&2; exit 1; }
for png in latency_cdf rps_by_qd p99_by_qd; do
	[ -s "$out/plots/$png.png" ] || { echo "no $png.png" >&2; exit 1; }
done
"$bench" --qd 1 --modes poll --duration 0.1 --warmup 0 | grep -q 'p99.9_ns'
if "$bench" --qd 0 2>/dev/null; then echo "--qd 0 accepted" >&2; exit 1; fi
echo "azblob-bench smoke: OK"
