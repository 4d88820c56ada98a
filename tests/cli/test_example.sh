#!/usr/bin/env bash
# azblob_example (e2e): examples/epoll_daemon, the embedding example.
#   test_example.sh EPOLL_DAEMON CLI_SIMHOST
# Runs the daemon against the in-process simulator and a simulator in its
# own process (cli_simhost), checks its summary line (every request answered,
# both the busy-poll and the sleeping paths ran), a rescind by the host
# process (SIGUSR2): exit 3 after reporting ENODEV; SIGTERM: a clean stop,
# exit 0. Leaks: the ASan build runs this script too (LeakSanitizer at exit).
set -u
D=${1:?usage: test_example.sh EPOLL_DAEMON CLI_SIMHOST}
HOST=${2:?usage: test_example.sh EPOLL_DAEMON CLI_SIMHOST}
BG=
# shellcheck disable=SC2317 # called by lib.sh's cleanup
extra_cleanup() { [ -z "$BG" ] || kill -KILL "$BG" 2>/dev/null; }
PROG=$D NAME=epoll_daemon
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# field NAME: its value in the summary line
field() {
	grep -E '^epoll_daemon: summary: ' "$T/out" | grep -oE " $1=[^ ]+" | cut -d= -f2
}
expect() { # NAME OP VALUE (OP: = or >)
	local v
	v=$(field "$1")
	[ -n "$v" ] || fail "summary lacks $1"
	case $2 in
	=) [ "$v" = "$3" ] || fail "$1=$v, expected $3" ;;
	'>') [ "$v" -gt "$3" ] || fail "$1=$v, expected more than $3" ;;
	esac
}

# background RC ARGS... after `wait_bg`: start now, check later
background() {
	"$D" "$@" >"$T/out" 2>"$T/err" &
	BG=$!
}
wait_bg() { # RC
	local rc
	wait "$BG"
	rc=$?
	BG=
	[ "$rc" -eq "$1" ] || fail "epoll_daemon exited $rc, expected $1"
}
# wait until the background daemon has printed its first line
started() {
	for _ in $(seq 1000); do
		grep -q 'started: ' "$T/out" 2>/dev/null && return 0
		sleep 0.01
	done
	fail "epoll_daemon did not start"
}

# ---- usage ----
run 0 --help
grep -q '^Usage: epoll_daemon' "$T/out" || fail "--help"
grep -q 'Exit status' "$T/out" || fail "--help lacks the exit status"
for bad in "-n 0" "-n x" "-n -1" "-n 4294967296" "-n" "--bogus" "--sim --sim-root /x"; do
	# shellcheck disable=SC2086 # split on purpose
	run 2 $bad
	err_has '^Usage: epoll_daemon'
	[ ! -s "$T/out" ] || fail "$bad: output on standard output"
done

# ---- no-ops in bursts (of 256): busy polling and sleeping both happen ----
run 0 --sim -n 2000
expect result = "done"
expect requests = 2000
expect ok = 2000
expect failed = 0
expect polls '>' 0
expect idle_sleeps '>' 7 # 8 bursts, an idle sleep before each
expect exit = 0
echo "no-op: $(grep '^epoll_daemon: summary' "$T/out")"

# ---- SIGTERM: a clean stop ----
background --sim -n 1000000000
started
sleep 0.3
kill -TERM "$BG"
wait_bg 0
expect result = stopped
expect ok '>' 0
expect failed = 0
err_has 'Terminated: stopping'

# ---- a simulator in its own process ----
start_host "$HOST"
run 0 --sim-root "$ROOT" -n 1500
expect result = "done"
expect ok = 1500
expect failed = 0
# the host rescinds the device under a running daemon
background --sim-root "$ROOT" -n 1000000000
started
sleep 0.3
kill -USR2 "$HPID"
wait_bg 3
expect result = rescinded
expect exit = 3
expect ok '>' 0
err_has 'rescinded \(ENODEV\)'

# ---- no device ----
mkdir -p "$T/nosys"
UVMBUS_SYSFS_ROOT=$T/nosys run 1 -n 10
err_has 'cannot open the Azure Blob device'
expect result = failed
echo "azblob_example: all passed"
