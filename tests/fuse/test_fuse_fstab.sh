#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# fuse_fstab: the ways an administrator mounts (docs/FUSE.md, fstab and
# systemd). In a private mount namespace whose /usr/local/bin holds
# azblob-fuse (mount(8) runs mount.fuse3 with the standard PATH only):
# an fstab line of type fuse.azblob-fuse with `mount -T FILE`, and
# `mount -t fuse.azblob-fuse` (what a systemd mount unit runs): mounted
# in the background, read, written, read-only refused, unmounted with
# umount. examples/fuse/fstab passes findmnt --verify; the example mount
# unit passes systemd-analyze verify (systemd is not PID 1 here: the unit
# is not started).  usage: test_fuse_fstab.sh BUILD_DIR
source "$(dirname "$0")/lib.sh" "$1"
src=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || fail "run as root (mount, a mount namespace)"
command -v mount.fuse3 >/dev/null || [ -x /sbin/mount.fuse3 ] || fail "no mount.fuse3 (fuse3)"
mkdir -p "$fz_dir/bin" "$fz_dir/rw" "$fz_dir/ro"
ln -s "$FZ" "$fz_dir/bin/azblob-fuse"
cat >"$fz_dir/fstab" <<EOT
fstab-rw $fz_dir/rw fuse.azblob-fuse _netdev,nofail,sim,block_size=1M,list_timeout=5 0 0
fstab-ro $fz_dir/ro fuse.azblob-fuse nofail,sim,ro,attr_timeout=30 0 0
EOT
unshare --mount --propagation private bash -euo pipefail -c '
	d=$1
	mount --bind "$d/bin" /usr/local/bin
	mount -T "$d/fstab" "$d/rw"
	grep -q " $d/rw fuse.azblob-fuse rw" /proc/mounts
	echo written >"$d/rw/f.txt"
	[ "$(cat "$d/rw/f.txt")" = written ]
	umount "$d/rw"
	mount -T "$d/fstab" "$d/ro"
	grep -q " $d/ro fuse.azblob-fuse ro" /proc/mounts
	if sh -c "echo x >\"\$1\"" sh "$d/ro/g" 2>"$d/err"; then exit 1; fi
	grep -q "Read-only file system" "$d/err"
	umount "$d/ro"
	mount -t fuse.azblob-fuse fstab-t "$d/rw" -o sim,list_timeout=1
	mkdir "$d/rw/dir"
	[ -d "$d/rw/dir" ]
	umount "$d/rw"
	! grep -q " $d/" /proc/mounts
' fuse_fstab "$fz_dir" || fail "fstab and mount -t (above)"
# No daemon may be left behind (each exits at its unmount).
for _ in $(seq 100); do pgrep -f "$fz_dir/(rw|ro)" >/dev/null || break; sleep 0.05; done
! pgrep -f "$fz_dir/(rw|ro)" || fail "a daemon outlived its unmount"
findmnt --verify --tab-file "$src/examples/fuse/fstab" >"$fz_dir/findmnt.out" 2>&1 || true
grep -q "^0 parse errors" "$fz_dir/findmnt.out" ||
	fail "findmnt --verify of examples/fuse/fstab"
if command -v systemd-analyze >/dev/null; then
	cp "$src/examples/fuse/mnt-blobs.mount" "$fz_dir/"
	systemd-analyze verify --man=no "$fz_dir/mnt-blobs.mount" ||
		fail "systemd-analyze verify examples/fuse/mnt-blobs.mount"
else
	echo "systemd-analyze missing: the unit is not verified" >&2
	exit 1
fi
echo ok
