#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# fuse_ops: every operation of docs/FUSE.md's table on a real mount over
# azblob-vspd, checked against the blobs with the azblob CLI on the same
# emulator between mounts (one guest at a time);
# the errno each failure gives; `-o ro` (EROFS for every write);
# `azblob mount`; the background daemon; SIGTERM.  usage: test_fuse_ops.sh BUILD_DIR
source "$(dirname "$0")/lib.sh" "$1"

# One emulator for the mount and for the checks (one guest at a time:
# the checks run between mounts).
fz_vspd
az mb ops
head -c 3000000 /dev/urandom >"$fz_dir/pre"
az put --quiet "$fz_dir/pre" ops/dir/pre.bin
az put --quiet "$fz_dir/pre" ops/dir/sub/deep.bin
az put --quiet "$fz_dir/pre" ops/top.bin

m=$fz_dir/m
fz_mount "$m" "$fz_dir/fuse.log" ops "$m" --sim-root "$fz_dir/vspd" -o block_size=1M,read_ahead=3

# readdir: virtual directories from the listing's prefixes
[ "$(ls "$m" | tr '\n' ' ')" = "dir top.bin " ] || fail "ls /: $(ls "$m")"
[ "$(ls "$m/dir" | tr '\n' ' ')" = "pre.bin sub " ] || fail "ls /dir: $(ls "$m/dir")"
# stat: size, type, mtime from Last-Modified (within a minute of now)
[ "$(stat -c '%s %F' "$m/dir/pre.bin")" = "3000000 regular file" ] || fail "stat file"
[ "$(stat -c '%F' "$m/dir/sub")" = "directory" ] || fail "stat dir"
now=$(date +%s)
mt=$(stat -c %Y "$m/top.bin")
[ $((now - mt)) -lt 120 ] && [ $((mt - now)) -lt 120 ] || fail "mtime $mt vs now $now"
expect_err "No such file" stat "$m/absent"
# read: whole, and ranges (ranged Gets with read-ahead)
cmp "$fz_dir/pre" "$m/dir/pre.bin" || fail "read back"
cmp <(tail -c +1234568 "$fz_dir/pre" | head -c 100000) \
	<(dd if="$m/top.bin" bs=100000 skip=1234567 iflag=skip_bytes count=1 status=none) ||
	fail "ranged read"
# create/write/close: one committed blob, byte-identical (the CLI reads it)
head -c 5000000 /dev/urandom >"$fz_dir/w"
cp "$fz_dir/w" "$m/dir/new.bin"
cmp "$fz_dir/w" "$m/dir/new.bin" || fail "new file read back through the mount"
echo small >"$m/small.txt"
[ "$(cat "$m/small.txt")" = small ] || fail "small file"
# overwrite in place (open without O_TRUNC: read, modify, commit)
printf 'XYZ' | dd of="$m/small.txt" bs=1 seek=1 conv=notrunc status=none
[ "$(cat "$m/small.txt")" = sXYZl ] || fail "overwrite: $(cat "$m/small.txt")"
# append
echo more >>"$m/small.txt"
[ "$(cat "$m/small.txt")" = "$(printf 'sXYZl\nmore')" ] || fail "append: $(cat "$m/small.txt")"
# fsync commits without close
python3 - "$m/fsync.bin" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
os.write(fd, b"a" * 100000)
os.fsync(fd)
print(os.path.getsize(sys.argv[1]))
os.write(fd, b"b" * 10)
os.close(fd)
PY
[ "$(stat -c %s "$m/fsync.bin")" = 100010 ] || fail "fsync then write"
# truncate: shrink, grow (zeros), to 0
truncate -s 1000 "$m/dir/new.bin"
cmp <(head -c 1000 "$fz_dir/w") "$m/dir/new.bin" || fail "truncate shrink"
truncate -s 2000 "$m/dir/new.bin"
cmp <(head -c 1000 "$fz_dir/w"; head -c 1000 /dev/zero) "$m/dir/new.bin" || fail "truncate grow"
: >"$m/top.bin"
[ "$(stat -c %s "$m/top.bin")" = 0 ] || fail "truncate to 0"
# mkdir (virtual until a file is in it), rmdir
mkdir "$m/newdir"
[ -d "$m/newdir" ] || fail "mkdir"
expect_err "File exists" mkdir "$m/newdir"
expect_err "File exists" mkdir "$m/dir"
mkdir "$m/newdir/inner"
echo inside >"$m/newdir/inner/f"
expect_err "Directory not empty" rmdir "$m/newdir/inner"
expect_err "Directory not empty" rmdir "$m/dir"
rm "$m/newdir/inner/f"
rmdir "$m/newdir/inner"
rmdir "$m/newdir"
[ ! -e "$m/newdir" ] || fail "rmdir"
expect_err "No such file" rmdir "$m/absent"
expect_err "Not a directory" rmdir "$m/small.txt"
# rename: a file (copy + delete), onto an existing file, a directory
mv "$m/dir/pre.bin" "$m/moved.bin"
[ ! -e "$m/dir/pre.bin" ] || fail "rename left the source"
cmp "$fz_dir/pre" "$m/moved.bin" || fail "rename content"
mv "$m/small.txt" "$m/moved.bin"
[ "$(cat "$m/moved.bin")" = "$(printf 'sXYZl\nmore')" ] || fail "rename onto a file"
mkdir "$m/empty"
mv "$m/empty" "$m/empty2"
[ -d "$m/empty2" ] && [ ! -e "$m/empty" ] || fail "rename an empty directory"
python3 - "$m/dir" "$m/dir2" <<'PY' || fail "rename of a non-empty directory: EXDEV"
import errno, os, sys
try:
    os.rename(sys.argv[1], sys.argv[2])
except OSError as e:
    sys.exit(0 if e.errno == errno.EXDEV else 1)
sys.exit(1)
PY
mv "$m/dir" "$m/dir2" # mv copies on EXDEV
[ -f "$m/dir2/sub/deep.bin" ] && [ ! -e "$m/dir" ] || fail "mv of a directory"
cmp "$fz_dir/pre" "$m/dir2/sub/deep.bin" || fail "mv of a directory: content"
# unlink
rm "$m/moved.bin"
[ ! -e "$m/moved.bin" ] || fail "unlink"
expect_err "No such file" rm "$m/moved.bin"
expect_err "Is a directory" rm "$m/dir2"
# statfs: a large constant, never full
df -k "$m" | tail -1 | awk '{ exit !($4 > 1000000000) }' || fail "statfs: $(df -k "$m")"
# chmod/touch accepted (blobs keep no modes or times)
touch "$m/fsync.bin"
chmod 600 "$m/fsync.bin"
# not supported: links
expect_err "Function not implemented\|Operation not permitted\|not supported" ln -s x "$m/l"
expect_err "Function not implemented\|Operation not permitted\|not supported" ln "$m/fsync.bin" "$m/h"
fz_umount "$m"

# What the blobs are now, through the CLI.
az ls ops >"$fz_dir/ls"
grep -q 'dir2/new.bin' "$fz_dir/ls" || fail "dir2/new.bin not a blob: $(cat "$fz_dir/ls")"
grep -q 'top.bin' "$fz_dir/ls" || fail "top.bin"
! grep -q 'moved.bin\|small.txt\|dir/pre.bin\|newdir' "$fz_dir/ls" || fail "leftover blobs: $(cat "$fz_dir/ls")"
az get --quiet ops/dir2/sub/deep.bin "$fz_dir/deep"
cmp "$fz_dir/pre" "$fz_dir/deep" || fail "the CLI reads another content"

# -o ro: reads work, every write is EROFS.
fz_mount "$m" "$fz_dir/ro.log" ops "$m" --sim-root "$fz_dir/vspd" -o ro
cmp "$fz_dir/pre" "$m/dir2/sub/deep.bin" || fail "ro: read"
expect_err "Read-only file system" sh -c "echo x > '$m/new'"
expect_err "Read-only file system" sh -c "echo x >> '$m/fsync.bin'"
expect_err "Read-only file system" mkdir "$m/d"
expect_err "Read-only file system" rm "$m/fsync.bin"
expect_err "Read-only file system" rmdir "$m/dir2"
expect_err "Read-only file system" mv "$m/fsync.bin" "$m/x"
expect_err "Read-only file system" truncate -s 0 "$m/fsync.bin"
expect_err "Read-only file system" touch "$m/fsync.bin"
fz_umount "$m"

# azblob mount runs the same code; in the background the daemon returns
# once mounted, and an unmount ends it.
mkdir -p "$m"
fz_mounts+=("$m")
"$AZ" mount ops "$m" --sim-root "$fz_dir/vspd" -o ro
grep -q " $m fuse.azblob-fuse ro" /proc/mounts || fail "azblob mount: $(grep "$m" /proc/mounts)"
cmp "$fz_dir/pre" "$m/dir2/sub/deep.bin" || fail "azblob mount: read"
fusermount3 -u "$m"
for _ in $(seq 100); do pgrep -f "azblob mount ops $m" >/dev/null || break; sleep 0.05; done
# SIGTERM: the daemon unmounts and exits 0.
fz_mount "$m" "$fz_dir/term.log" ops "$m" --sim-root "$fz_dir/vspd"
kill -TERM "$fz_pid"
rc=0
wait "$fz_pid" || rc=$?
[ $rc -eq 0 ] || fail "exit $rc after SIGTERM"
! grep -q " $m " /proc/mounts || fail "still mounted after SIGTERM"
# A bad container or mount point: a clear message, a non-zero exit.
expect_err "no such container" "$FZ" nosuch "$m" --sim-root "$fz_dir/vspd" -f
expect_err "not a container name" "$FZ" No_Such "$m" --sim
expect_err "not a directory" "$FZ" ops "$fz_dir/none" --sim
echo ok
