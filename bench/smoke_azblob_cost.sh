#!/usr/bin/env bash
# bench_azblob_cost_smoke: --host null and --modes cost run and produce
# numbers (instructions per request for each queue depth, per phase and in
# total, the stepped host's apart, and the counter used); --host sim steps
# the normal host. It asserts no speed and no counts.
set -euo pipefail
bench=$1
if ! command -v valgrind >/dev/null; then
	echo "valgrind is not installed: run scripts/deps.sh test" >&2
	exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bench" --json --host null --modes floor,poll,cost --qd 1,4 --duration 0.1 --warmup 0.02 \
	--requests 256 >"$out"
grep -q '"host":"null"' "$out" || { echo "no host null in the JSON" >&2; cat "$out" >&2; exit 1; }
for mode in floor poll cost; do
	grep -q "\"mode\":\"$mode\"" "$out" || { echo "no $mode result" >&2; cat "$out" >&2; exit 1; }
done
# one cost result per queue depth and size, each with a counter and numbers
num='[0-9][0-9.]*'
for qd in 1 4; do
	for size in 0 65536; do
		grep -Eq "\"mode\":\"cost\",\"qd\":$qd,\"size\":$size,[^}]*\"counter\":\"(callgrind|perf)\",\"instructions_per_req\":$num,\"submit_instructions_per_req\":$num,\"flush_instructions_per_req\":$num,\"poll_instructions_per_req\":$num,\"host_instructions_per_req\":$num" "$out" ||
			{ echo "no cost numbers for qd $qd size $size" >&2; cat "$out" >&2; exit 1; }
	done
done
if grep -Eq '"instructions_per_req":0(\.0)?[,}]' "$out"; then
	echo "a cost result counted nothing" >&2; cat "$out" >&2; exit 1
fi
"$bench" --host null --modes cost --qd 2 --requests 64 | grep -q 'instructions per request'
# the normal host stepped: its own count, apart from the client's
"$bench" --json --host sim --modes cost --qd 2 --requests 64 >"$out"
grep -Eq '"host":"sim".*"mode":"cost","qd":2,"size":0,[^}]*"host_instructions_per_req":[1-9]' "$out" ||
	{ echo "no host count for --host sim" >&2; cat "$out" >&2; exit 1; }
# prepared requests (azblob_prep_submit): the same entries, api named
"$bench" --json --host null --modes cost --qd 4 --requests 64 --api prepared >"$out"
for size in 0 65536; do
	grep -Eq "\"mode\":\"cost\",\"qd\":4,\"size\":$size,[^}]*\"api\":\"prepared\",[^}]*\"instructions_per_req\":[1-9]" "$out" ||
		{ echo "no prepared cost numbers for size $size" >&2; cat "$out" >&2; exit 1; }
done
if "$bench" --modes cost --api nosuch 2>/dev/null; then echo "--api nosuch accepted" >&2; exit 1; fi
if "$bench" --host nosuch --modes poll 2>/dev/null; then echo "--host nosuch accepted" >&2; exit 1; fi
echo "azblob-bench cost smoke: OK"
