#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# fuse_broker: mounts through azblobd by users who are not root (users
# with a passwd entry: fusermount3 wants a name). nobody is in the
# broker's allow-list: it mounts (fusermount3), writes, reads, lists and
# unmounts; the blob is there for root's CLI. daemon (uid 1) is not: its
# mount fails at once (foreground and background) with the broker's
# refusal (EACCES, "not in azblobd's allow-list") and nothing is mounted.
# Then the options about users, on a root mount: without allow_other
# another user cannot enter it; with allow_other,uid=,gid=,umask= files
# have that owner and mode, and the kernel checks them for other users.
#   usage: test_fuse_broker.sh BUILD_DIR
source "$(dirname "$0")/lib.sh" "$1"
command -v setpriv >/dev/null || fail "no setpriv (util-linux)"
[ "$(id -u)" = 0 ] || fail "run as root (it switches to the users nobody and daemon)"
ok_uid=$(id -u nobody) || fail "no user nobody"
no_uid=$(id -u daemon) || fail "no user daemon"
"$AZBLOBD" --sim --socket "$fz_dir/s.sock" --allow-user nobody --ready-file "$fz_dir/bready" \
	--log-level info 2>"$fz_dir/azblobd.log" &
fz_pids+=($!)
for _ in $(seq 200); do [ -e "$fz_dir/bready" ] && break; sleep 0.05; done
[ -e "$fz_dir/bready" ] || fail "azblobd not ready: $(cat "$fz_dir/azblobd.log")"
AZBLOB_BROKER=$fz_dir/s.sock "$AZ" mb shared 2>/dev/null
as() {
	local uid=$1
	shift
	setpriv --reuid "$uid" --regid "$uid" --clear-groups -- "$@"
}
opts=(--broker "$fz_dir/s.sock" -o "block_size=1M,cache_size=48M,qd=8")

# Allowed.
m=$fz_dir/mok
mkdir -p "$m"
chown nobody: "$m"
fz_mounts+=("$m")
as "$ok_uid" "$FZU" shared "$m" "${opts[@]}" -f >"$fz_dir/allowed.log" 2>&1 &
pid=$!
fz_pids+=("$pid")
for _ in $(seq 400); do grep -q " $m fuse" /proc/mounts && break; kill -0 "$pid" || break; sleep 0.05; done
grep -q " $m fuse.azblob-fuse .*user_id=$ok_uid" /proc/mounts || fail "nobody could not mount: $(cat "$fz_dir/allowed.log")"
head -c 3000000 /dev/urandom >"$fz_dir/data"
chmod 644 "$fz_dir/data"
as "$ok_uid" cp "$fz_dir/data" "$m/by-nobody.bin"
as "$ok_uid" cmp "$fz_dir/data" "$m/by-nobody.bin" || fail "nobody reads another content"
[ "$(as "$ok_uid" stat -c %u "$m/by-nobody.bin")" = "$ok_uid" ] || fail "files are the mounting user's"
as "$ok_uid" ls -l "$m"
as "$ok_uid" fusermount3 -u "$m" || fail "nobody cannot unmount"
wait "$pid" || fail "azblob-fuse (nobody) exited $?"
AZBLOB_BROKER=$fz_dir/s.sock "$AZ" get --quiet shared/by-nobody.bin "$fz_dir/got"
cmp "$fz_dir/data" "$fz_dir/got" || fail "the blob root reads differs"

# Refused: a clear error, a non-zero exit, no mount (foreground, then
# background: the parent waits for the daemon's verdict).
m=$fz_dir/mno
mkdir -p "$m"
chown daemon: "$m"
fz_mounts+=("$m")
for mode in -f ""; do
	set +e
	# shellcheck disable=SC2086
	as "$no_uid" timeout 60 "$FZU" shared "$m" "${opts[@]}" $mode >"$fz_dir/refused.log" 2>&1
	rc=$?
	set -e
	cat "$fz_dir/refused.log"
	[ $rc -eq 1 ] || fail "refused mount ($mode): exit $rc, expected 1"
	grep -q "Permission denied" "$fz_dir/refused.log" &&
		grep -q "not in azblobd's allow-list" "$fz_dir/refused.log" ||
		fail "refused mount ($mode): the message does not say EACCES / the allow-list"
	! grep -q " $m " /proc/mounts || fail "refused mount ($mode): something is mounted"
done
grep -q "uid $no_uid" "$fz_dir/azblobd.log" || fail "azblobd did not log the refusal"

m=$fz_dir/mroot
fz_mount "$m" "$fz_dir/root.log" users "$m" --sim
echo secret >"$m/f"
if as "$ok_uid" cat "$m/f" 2>"$fz_dir/err"; then fail "another user read a mount without allow_other"; fi
grep -q "Permission denied" "$fz_dir/err" || fail "without allow_other: $(cat "$fz_dir/err")"
fz_umount "$m"
fz_mount "$m" "$fz_dir/root2.log" users "$m" --sim -o "allow_other,uid=$ok_uid,gid=$ok_uid,umask=027"
echo shared >"$m/f"
mkdir "$m/d"
[ "$(stat -c '%u %g %a' "$m/f")" = "$ok_uid $ok_uid 640" ] || fail "uid/gid/umask on a file: $(stat -c '%u %g %a' "$m/f")"
[ "$(stat -c '%a' "$m/d")" = 750 ] || fail "umask on a directory: $(stat -c '%a' "$m/d")"
[ "$(as "$ok_uid" cat "$m/f")" = shared ] || fail "the owner (uid=) cannot read"
if as "$no_uid" cat "$m/f" 2>/dev/null; then fail "others read a file of mode 640"; fi
fz_umount "$m"
echo ok
