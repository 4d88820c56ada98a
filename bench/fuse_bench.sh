#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# azblob-fuse against the CLI and the library, same host, same run
# (docs/PERFORMANCE.md, "azblob-fuse"): the three goals of issue 25.
#   1. sequential read of a SIZE file: cat through the mount vs
#      `azblob get` of the same blob to /dev/null;
#   2. sequential write, close included: dd to the mount vs `azblob put`;
#   3. 4 KiB random reads at QD 1: fio (psync) p50 through the mount vs
#      the library's own ranged Get p50 (azblob-fuse-rget).
# The CLI's figures are its own transfer times (the summary it prints,
# 10 ms resolution), without its start and open; the mount's are dd's
# wall time with the mount already up, the write's including close (the
# commit). Prints each figure and the ratios; asserts nothing.
#   usage: bench/fuse_bench.sh BUILD_DIR [SIZE_MIB (default 1024)] [RUNS (default 3)]
# Needs root (mount), /dev/fuse, fio; about 2.5 * SIZE of memory.
set -euo pipefail
build=$(cd "$1" && pwd)
mib=${2:-1024}
runs=${3:-3}
FZ=$build/fuse/azblob-fuse
AZ=$build/tools/azblob/azblob
VSPD=$build/sim/vspd/azblob-vspd
RGET=$build/bench/azblob-fuse-rget
dir=$(mktemp -d /tmp/fuse-bench-XXXXXX)
vpid="" fpid=""
cleanup() {
	set +e
	grep -q " $dir/m " /proc/mounts && { fusermount3 -u "$dir/m" || umount -l "$dir/m"; }
	[ -n "$fpid" ] && kill -9 "$fpid" 2>/dev/null
	[ -n "$vpid" ] && kill "$vpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
"$VSPD" --root "$dir/v" --ram 2G --backend "memory=max_bytes=$(((mib * 3 + 64) << 20))" \
	--ready-file "$dir/ready" --log-level warn 2>"$dir/vspd.log" >/dev/null &
vpid=$!
for _ in $(seq 200); do [ -e "$dir/ready" ] && break; sleep 0.05; done
az() {
	for _ in $(seq 50); do
		"$AZ" --sim-root "$dir/v" "$@" 2>"$dir/az.err" && return 0
		grep -q 'cannot open' "$dir/az.err" || break
		sleep 0.1
	done
	cat "$dir/az.err" >&2
	return 1
}
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
mount_it() {
	mkdir -p "$dir/m"
	"$FZ" bench "$dir/m" --sim-root "$dir/v" -f "$@" 2>"$dir/fuse.log" &
	fpid=$!
	for _ in $(seq 400); do grep -q " $dir/m fuse" /proc/mounts && return 0; sleep 0.05; done
	cat "$dir/fuse.log" >&2
	exit 1
}
umount_it() {
	fusermount3 -u "$dir/m"
	wait "$fpid" || true
	fpid=
}
best() { sort -g | head -1; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

az mb bench >/dev/null 2>&1
head -c $((mib << 20)) /dev/urandom >"$dir/src"
az put --quiet "$dir/src" bench/file.bin

put=() get=() fread=() fwrite=()
for r in $(seq "$runs"); do
	# The CLI's own time of the transfer (its summary line), without its
	# start and the client's open: the mount is open before its timing too.
	az put "$dir/src" "bench/put-$r.bin"
	put+=("$(sed -nE 's/.* in ([0-9.]+) s,.*/\1/p' "$dir/az.err")")
	az get bench/file.bin /dev/null
	get+=("$(sed -nE 's/.* in ([0-9.]+) s,.*/\1/p' "$dir/az.err")")
	mount_it
	t0=$(now); dd if="$dir/m/file.bin" of=/dev/null bs=1M status=none; t1=$(now)
	fread+=("$(secs "$t0" "$t1")")
	t0=$(now); dd if="$dir/src" of="$dir/m/write-$r.bin" bs=1M status=none; t1=$(now)
	fwrite+=("$(secs "$t0" "$t1")")
	umount_it
	az rm "bench/put-$r.bin" 2>/dev/null
	az rm "bench/write-$r.bin" 2>/dev/null
done
mount_it
fio --name=rr --filename="$dir/m/file.bin" --rw=randread --bs=4k --ioengine=psync --iodepth=1 \
	--number_ios=4000 --size="${mib}M" --randseed=7 --output-format=json >"$dir/fio.json"
umount_it
fio_p50=$(jq '.jobs[0].read.clat_ns.percentile["50.000000"] / 1000' "$dir/fio.json")
lib=$(for _ in 1 2 3; do "$RGET" "$dir/v" bench file.bin 4000 4096; done)
lib_p50=$(sed -E 's/.*p50 ([0-9.]+) us.*/\1/' <<<"$lib" | median)

rate() { echo "scale=1; $mib / $1" | bc; }
gb=$(printf '%s\n' "${get[@]}" | best)
rb=$(printf '%s\n' "${fread[@]}" | best)
pb=$(printf '%s\n' "${put[@]}" | best)
wb=$(printf '%s\n' "${fwrite[@]}" | best)
echo "azblob-fuse benchmark: $mib MiB, best of $runs runs, azblob-vspd memory backend ($(nproc) CPUs)"
printf '  sequential read : mount %6.2f s (%s MiB/s)  azblob get %6.2f s (%s MiB/s)  ratio %.2f (goal >= 0.80)\n' \
	"$rb" "$(rate "$rb")" "$gb" "$(rate "$gb")" "$(echo "$gb / $rb" | bc -l)"
printf '  sequential write: mount %6.2f s (%s MiB/s)  azblob put %6.2f s (%s MiB/s)  ratio %.2f (goal >= 0.80)\n' \
	"$wb" "$(rate "$wb")" "$pb" "$(rate "$pb")" "$(echo "$pb / $wb" | bc -l)"
printf '  4 KiB random read QD 1 p50: fio on the mount %.1f us, library ranged Get %.1f us, ratio %.2f (goal <= 2)\n' \
	"$fio_p50" "$lib_p50" "$(echo "$fio_p50 / $lib_p50" | bc -l)"
echo "  runs (s): get ${get[*]} | mount read ${fread[*]} | put ${put[*]} | mount write ${fwrite[*]}"
