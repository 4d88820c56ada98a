#!/usr/bin/env bash
# bench_azblob_cost_get_smoke: --op get --modes cost counts the blob
# helpers' ranged Get (bench/cost_get.c: the host in its own thread, the
# client thread counted under callgrind) and reports instructions_per_req
# for it. It asserts no count, only that there is one.
set -euo pipefail
bench=$1
if ! command -v valgrind >/dev/null; then
	echo "valgrind is not installed: run scripts/deps.sh test" >&2
	exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bench" --json --op get --size 1048576 --modes cost --qd 2 >"$out"
num='[0-9][0-9.]*'
grep -Eq "\"mode\":\"cost\",\"qd\":2,\"size\":1048576,[^}]*\"op\":\"get\",\"download_overhead_instructions\":-?$num,\"counter\":\"callgrind\",\"instructions_per_req\":$num" "$out" ||
	{ echo "no instructions_per_req for the ranged Get" >&2; cat "$out" >&2; exit 1; }
echo "azblob-bench cost get smoke: OK"
