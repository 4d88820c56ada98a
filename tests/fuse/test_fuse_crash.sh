#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# fuse_crash: SIGKILL of the daemon never leaves a half-written blob under
# the final name. Killed with files open for writing (before close): the
# new file is absent, the overwritten one keeps its old content. Killed
# while close commits a large file (at several moments): the blob is
# absent or whole, never a part.  usage: test_fuse_crash.sh BUILD_DIR
source "$(dirname "$0")/lib.sh" "$1"
fz_vspd 2G
az mb crash
head -c 20000000 /dev/urandom >"$fz_dir/old"
az put --quiet "$fz_dir/old" crash/old.bin
m=$fz_dir/m

# 1. Killed before close.
fz_mount "$m" "$fz_dir/fuse1.log" crash "$m" --sim-root "$fz_dir/vspd" -o block_size=1M
python3 - "$m" "$fz_dir/written" <<'PY' &
import os, sys, time
m, flag = sys.argv[1], sys.argv[2]
a = os.open(m + "/new.bin", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
b = os.open(m + "/old.bin", os.O_WRONLY | os.O_TRUNC)
for i in range(30):
    os.write(a, os.urandom(1 << 20))
    os.write(b, b"N" * (1 << 20))
open(flag, "w").close()
time.sleep(60)
PY
writer=$!
fz_pids+=("$writer")
for _ in $(seq 600); do [ -e "$fz_dir/written" ] && break; sleep 0.05; done
[ -e "$fz_dir/written" ] || fail "the writer did not finish writing"
kill -9 "$fz_pid"
kill -9 "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
umount -l "$m" 2>/dev/null || fusermount3 -u "$m" 2>/dev/null || true
wait "$fz_pid" 2>/dev/null || true
az ls crash >"$fz_dir/ls1"
! grep -q new.bin "$fz_dir/ls1" || fail "a blob written by a killed daemon is visible: $(cat "$fz_dir/ls1")"
az get --quiet crash/old.bin "$fz_dir/old.after"
cmp "$fz_dir/old" "$fz_dir/old.after" || fail "the overwritten blob changed although never closed"

# 2. Killed while close commits (Put Block in parallel, then Put Block
# List): absent or whole. The delays cover before, during and after.
head -c 200000000 /dev/urandom >"$fz_dir/big"
for delay in 0.2 1 1.8 2.3 2.8 4; do
	fz_mount "$m" "$fz_dir/fuse-$delay.log" crash "$m" --sim-root "$fz_dir/vspd" \
		-o block_size=1M,qd=8
	cp "$fz_dir/big" "$m/big-$delay.bin" 2>/dev/null &
	cpid=$!
	# cp's writes land in the staging file quickly; the commit is at close.
	sleep "$delay"
	kill -9 "$fz_pid"
	wait "$cpid" 2>/dev/null || true
	umount -l "$m" 2>/dev/null || fusermount3 -u "$m" 2>/dev/null || true
	wait "$fz_pid" 2>/dev/null || true
	if az ls crash | grep -q "big-$delay.bin"; then
		az get --quiet "crash/big-$delay.bin" "$fz_dir/got"
		cmp "$fz_dir/big" "$fz_dir/got" || fail "killed at $delay s: a partial blob is visible"
		echo "killed at $delay s: the blob is whole"
	else
		echo "killed at $delay s: no blob"
	fi
	rm -f "$fz_dir/got"
done
echo ok
