#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# fuse_fio: fio with --verify=crc32c on the mount: sequential 1 MiB and
# random 4 KiB writes (each job's file committed at close), then the same
# jobs with --verify_only reading them back from the blobs (new opens:
# ranged Gets, sequential with read-ahead and random 4 KiB), and a
# random-read job at QD 1 (psync).  usage: test_fuse_fio.sh BUILD_DIR
source "$(dirname "$0")/lib.sh" "$1"
command -v fio >/dev/null || fail "no fio (scripts/deps.sh: fio)"
m=$fz_dir/m
fz_mount "$m" "$fz_dir/fuse.log" fio "$m" --sim -o block_size=1M
# fio leaves verify state files (local-*-verify.state) in its working
# directory whatever --verify_state_save says: never the checkout's.
cd "$fz_dir" || fail "cd $fz_dir"
run() {
	local name=$1
	shift
	fio --name="$name" --directory="$m" --ioengine=psync --iodepth=1 --verify=crc32c \
		--verify_fatal=1 --verify_state_save=0 --output="$fz_dir/$name.out" "$@" ||
		{ cat "$fz_dir/$name.out" >&2; fail "fio $name $*"; }
	grep -qE 'err= *0' "$fz_dir/$name.out" || { cat "$fz_dir/$name.out" >&2; fail "fio $name: errors"; }
}
seq=(--filename=seq.bin --rw=write --bs=1M --size=256M)
rnd=(--filename=rand.bin --rw=randwrite --bs=4k --size=32M --randseed=7)
run seqwrite "${seq[@]}" --do_verify=0
run seqverify "${seq[@]}" --verify_only
run randwrite "${rnd[@]}" --do_verify=0
run randverify "${rnd[@]}" --verify_only
# In the verify-only runs every block was read back and checked.
grep -q 'READ: bw=' "$fz_dir/seqverify.out" || fail "seqverify read nothing"
grep -q 'READ: bw=' "$fz_dir/randverify.out" || fail "randverify read nothing"
# Random 4 KiB reads at QD 1 of the blob the random writes made.
fio --name=randread --directory="$m" --filename=rand.bin --rw=randread --bs=4k --size=32M \
	--ioengine=psync --iodepth=1 --number_ios=2000 --output="$fz_dir/randread.out" ||
	fail "fio randread"
grep -qE 'err= *0' "$fz_dir/randread.out" || fail "fio randread: errors"
grep -E 'READ:|clat \(usec\)|50.00th' "$fz_dir/"{seqverify,randverify,randread}.out
fz_umount "$m"
echo ok
