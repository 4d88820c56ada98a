#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# What the fuse_* tests share (sourced): the programs, a temporary
# directory, mounts made through fz_mount and unmounted in an EXIT trap
# whatever happens (fusermount3 -u, then umount -l), the daemons killed.
#   usage in a test: source lib.sh BUILD_DIR
set -euo pipefail
fz_build=$(cd "$1" && pwd)
fz_name=$(basename "$0" .sh)
fz_mounts=()
fz_pids=()

fail() {
	echo "FAIL: $*" >&2
	for l in "$fz_dir"/*.log; do
		[ -s "$l" ] && { echo "--- $l" >&2; tail -20 "$l" >&2; }
	done
	exit 1
}

fz_cleanup() {
	local m p
	set +e
	for m in "${fz_mounts[@]}"; do
		if mountpoint -q "$m" 2>/dev/null || grep -q " $m " /proc/mounts; then
			fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		fi
	done
	# Daemons that mount(8) started (not our children) for this test's
	# directories only: named by the unique temporary path.
	for p in $(pgrep -f -- "azblob-fuse .*$fz_dir/"); do fz_pids+=("$p"); done
	for p in "${fz_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	for p in "${fz_pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$fz_dir"
}

# Real mounts need /dev/fuse and fusermount3 (Debian's fuse3).
if [ ! -c /dev/fuse ]; then
	echo "SKIP $fz_name: no /dev/fuse here (modprobe fuse)" >&2
	exit 77
fi
command -v fusermount3 >/dev/null || { echo "FAIL: no fusermount3 (scripts/deps.sh: fuse3)" >&2; exit 1; }
fz_dir=$(mktemp -d "/tmp/$fz_name-XXXXXX")
chmod 755 "$fz_dir"
trap fz_cleanup EXIT
# As root, the programs are reached through a directory only root may
# enter, as from a checkout under /root (mode 0700) on every machine: a
# test that runs one as another user must use its copy in $fz_dir/ubin
# ($FZU), or it fails here too (it did only in CI, where the checkout was
# private: "timeout: failed to run command ...: Permission denied").
if [ "$(id -u)" = 0 ]; then
	mkdir -m 0700 "$fz_dir/private"
	ln -s "$fz_build" "$fz_dir/private/build"
	fz_build=$fz_dir/private/build
fi
FZ=$fz_build/fuse/azblob-fuse
AZ=$fz_build/tools/azblob/azblob
VSPD=$fz_build/sim/vspd/azblob-vspd
export AZBLOBD=$fz_build/broker/azblobd # the broker tests
mkdir -m 0755 "$fz_dir/ubin"
cp "$FZ" "$fz_dir/ubin/azblob-fuse" # linked statically to our libraries
# shellcheck disable=SC2034 # for the tests that source this file
FZU=$fz_dir/ubin/azblob-fuse

# fz_mount MOUNTPOINT LOG ARGS...: azblob-fuse ARGS -f in the background
# (its pid in fz_pid), waiting until MOUNTPOINT is mounted.
fz_mount() {
	local mnt=$1 log=$2
	shift 2
	mkdir -p "$mnt"
	fz_mounts+=("$mnt")
	"$FZ" "$@" -f >"$log" 2>&1 &
	fz_pid=$!
	fz_pids+=("$fz_pid")
	for _ in $(seq 600); do
		grep -q " $mnt fuse" /proc/mounts && return 0
		kill -0 "$fz_pid" 2>/dev/null || fail "azblob-fuse $* exited: $(cat "$log")"
		sleep 0.05
	done
	fail "azblob-fuse $*: not mounted after 30 s: $(cat "$log")"
}

# fz_umount MOUNTPOINT [PID]: unmount and wait for the daemon (exit 0).
fz_umount() {
	local mnt=$1 pid=${2:-$fz_pid} rc=0
	fusermount3 -u "$mnt" || umount -l "$mnt" || fail "cannot unmount $mnt"
	wait "$pid" || rc=$?
	[ $rc -eq 0 ] || fail "azblob-fuse exited $rc after unmount"
}

# expect_errno ERRNO_TEXT CMD...: CMD fails and its message names the errno.
expect_err() {
	local want=$1 out
	shift
	if out=$("$@" 2>&1); then fail "'$*' succeeded, expected '$want'"; fi
	grep -q "$want" <<<"$out" || fail "'$*': expected '$want', got: $out"
}

# fz_vspd: an azblob-vspd (memory backend) in $fz_dir/vspd that outlives
# the mounts, and az: the CLI on it (one guest at a time: between mounts).
fz_vspd() {
	"$VSPD" --root "$fz_dir/vspd" --ram "${1:-1G}" --backend memory \
		--ready-file "$fz_dir/vready" --log-level warn 2>"$fz_dir/vspd.log" >/dev/null &
	fz_pids+=($!)
	for _ in $(seq 200); do [ -e "$fz_dir/vready" ] && return 0; sleep 0.05; done
	fail "azblob-vspd not ready"
}
az() {
	# The emulator takes the next guest once it has seen the last one go.
	for _ in $(seq 50); do
		"$AZ" --sim-root "$fz_dir/vspd" "$@" 2>"$fz_dir/az.err" && return 0
		grep -q 'cannot open' "$fz_dir/az.err" || break
		sleep 0.1
	done
	cat "$fz_dir/az.err" >&2
	return 1
}
