#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# fuse_big: a 1 GiB file written through the mount (staged in an unlinked
# file of -o stage_dir, committed as 256 blocks in parallel at close) and
# read back with cmp through a new open (ranged Gets of the committed
# blob with read-ahead: the daemon keeps no data past a close, the kernel
# none without -o page_cache). The in-process emulator's memory backend
# holds the blob (its cap raised past 1 GiB; azblob-vspd's is fixed).
#   usage: test_fuse_big.sh BUILD_DIR
source "$(dirname "$0")/lib.sh" "$1"
head -c $((1 << 30)) /dev/urandom >"$fz_dir/src"
m=$fz_dir/m
mkdir -p "$fz_dir/stage"
fz_mount "$m" "$fz_dir/fuse.log" big "$m" --sim --backend memory=max_bytes=$((3 << 30)) \
	-o "stage_dir=$fz_dir/stage"
dd if="$fz_dir/src" of="$m/one-gib.bin" bs=1M status=none || fail "dd to the mount"
[ "$(stat -c %s "$m/one-gib.bin")" = $((1 << 30)) ] || fail "size after close"
[ -z "$(ls -A "$fz_dir/stage")" ] || fail "the staging directory keeps names"
cmp "$fz_dir/src" "$m/one-gib.bin" || fail "read back"
fz_umount "$m"
echo ok
