# Shared by the CLI test scripts (sourced, not run). Before sourcing set
# PROG (the program under test) and NAME (its name in messages); the script
# may define extra_cleanup(). Provides T (a scratch directory, removed at
# exit), HPID (a simulator host to stop at exit), CHECKS, fail, run and the
# output assertions.
# shellcheck shell=bash
T=$(mktemp -d "${TMPDIR:-/tmp}/$NAME-test.XXXXXX")
HPID=
CHECKS=0

# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
	if declare -F extra_cleanup >/dev/null; then
		extra_cleanup
	fi
	if [ -n "$HPID" ]; then
		kill -TERM "$HPID" 2>/dev/null
		wait "$HPID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*"
	for f in out err; do
		[ -s "$T/$f" ] && { echo "--- std$f of the last command:"; head -c 4000 "$T/$f"; }
	done
	[ -s "$T/azurite/azurite.log" ] && { echo "--- azurite log:"; tail -n 40 "$T/azurite/azurite.log"; }
	[ -s "$T/host.err" ] && { echo "--- the host's stderr:"; cat "$T/host.err"; }
	exit 1
}

# run RC ARGS...: PROG ARGS must exit with RC (stdout, stderr kept in $T).
run() {
	local want=$1 rc
	shift
	timeout 120 "$PROG" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "$NAME $* exited $rc, expected $want"
	CHECKS=$((CHECKS + 1))
}
out_has() { grep -qE -- "$1" "$T/out" || fail "stdout lacks /$1/"; }
out_lacks() { ! grep -qE -- "$1" "$T/out" || fail "stdout has /$1/"; }
err_has() { grep -qE -- "$1" "$T/err" || fail "stderr lacks /$1/"; }
out_empty() { [ ! -s "$T/out" ] || fail "stdout should be empty"; }
err_empty() { [ ! -s "$T/err" ] || fail "stderr should be empty"; }

# wait_ready WHO: wait up to 10 s for $T/ready to be written (fail after).
wait_ready() {
	for _ in $(seq 1000); do
		[ -s "$T/ready" ] && return
		sleep 0.01
	done
	fail "$1 not ready after 10 s"
}

# start_host HOST: start cli_simhost HOST in the background (HPID, stopped
# at exit) and wait until it is ready; ROOT is then its directory.
start_host() {
	"$1" "$T/ready" 2>"$T/host.err" &
	HPID=$!
	wait_ready cli_simhost
	# shellcheck disable=SC2034 # for the sourcing script
	ROOT=$(cat "$T/ready")
}
