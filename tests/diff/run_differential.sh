#!/usr/bin/env bash
# rest_differential: start Azurite on 127.0.0.1 with a free port, run the
# differential program (the same seeded operations through the memory
# backend and through the rest backend on Azurite), stop Azurite always.
# Fails (never skips) when node, npm or azurite@3.35.0 is missing or when
# Azurite does not start.
#
#   run_differential.sh DIFF_GUEST AZURITE_SH [diff_guest options...]
set -euo pipefail

GUEST=$1
AZURITE=$2 # scripts/azurite.sh
shift 2

dir=$(mktemp -d "${TMPDIR:-/tmp}/azurite-diff-XXXXXX")
# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
	"$AZURITE" stop "$dir" || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$AZURITE" bin >/dev/null # fails loudly when it is not installed
port=$("$AZURITE" startany "$dir") || {
	echo "FAIL: azurite did not start" >&2
	exit 1
}
echo "azurite on 127.0.0.1:$port (pid $(cat "$dir/azurite.pid"))"
rc=0
"$GUEST" "http://127.0.0.1:$port/devstoreaccount1" "$@" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "--- azurite log (tail)" >&2
	tail -n 50 "$dir/azurite.log" >&2 || true
fi
exit "$rc"
