#!/usr/bin/env bash
# bulk_vs_cp.sh: `azblob put` and `get` of a file against `cp` of the same
# file, in the same run (issue 23, item 4; docs/PERFORMANCE.md).
#   bench/bulk_vs_cp.sh [-s SIZE_MB] [-r ROUNDS] [-d DIR] AZBLOB AZBLOB_VSPD [AZBLOB_BASE]
# A SIZE_MB (default 400) MB file of random bytes in DIR (default /dev/shm:
# memory, warm); an azblob-vspd with the memory backend (its own process,
# default options: sleeps on the doorbell). Each round, in this order:
#   cp FILE FILE.cp;  azblob put FILE b/x;  azblob get b/x FILE.get
#   (in place: the file mapped and registered);
#   azblob put --copy / get --copy (through pool buffers);
#   and with AZBLOB_BASE (e.g. main's binary) its put and get.
# Every output is compared with cmp (untimed) and removed before the next
# write (new files each time, as cp makes); the blob is removed after each
# get. Prints each round's MB/s (10^6 bytes/s), then per mode the median
# MB/s and time / cp's time (1.00: as fast as cp; 2.00: twice cp's time),
# and the command's own CPU time (user + system: the guest's side).
# The emulator's own work (its memcpy of every byte into or out of its
# store, the CRC-64 it checks on each Put Block) is in azblob's times. Not a
# ctest: a run of the defaults takes about a minute and 2 GB of memory.
set -eu
size_mb=400 rounds=3 dir=/dev/shm
while getopts s:r:d: o; do
	case $o in
	s) size_mb=$OPTARG ;;
	r) rounds=$OPTARG ;;
	d) dir=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
AZ=${1:?usage: bulk_vs_cp.sh [-s MB] [-r N] [-d DIR] AZBLOB AZBLOB_VSPD [AZBLOB_BASE]}
VSPD=${2:?usage: bulk_vs_cp.sh [-s MB] [-r N] [-d DIR] AZBLOB AZBLOB_VSPD [AZBLOB_BASE]}
BASE=${3:-}
T=$(mktemp -d "$dir/bulk_vs_cp.XXXXXX")
VPID=
cleanup() {
	[ -n "$VPID" ] && kill -TERM "$VPID" 2>/dev/null && wait "$VPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bytes=$((size_mb * 1000000))
head -c "$bytes" /dev/urandom >"$T/f"
"$VSPD" --root "$T/root" --ram 256M --backend memory --ready-file "$T/ready" \
	>/dev/null 2>"$T/vspd.err" &
VPID=$!
for _ in $(seq 1000); do
	[ -e "$T/ready" ] && break
	sleep 0.01
done
[ -e "$T/ready" ] || { cat "$T/vspd.err"; exit 1; }
SR=(--sim-root "$T/root")
"$AZ" "${SR[@]}" mb bulk 2>/dev/null

# ns CMD...: run CMD, print its wall time in ns and its CPU time (user +
# system, of the command: the guest side) in ms.
ns() {
	local t0 t1
	t0=$(date +%s%N)
	/usr/bin/time -f '%U %S' -o "$T/cpu" "$@" >/dev/null 2>"$T/err" ||
		{ cat "$T/err" >&2; exit 1; }
	t1=$(date +%s%N)
	echo "$((t1 - t0)) $(awk '{ printf "%.0f", ($1 + $2) * 1000 }' "$T/cpu")"
}
check() { cmp "$T/f" "$1" || exit 1; rm -f "$1"; }

modes=(cp put get put_copy get_copy)
[ -n "$BASE" ] && modes+=(put_base get_base)
declare -A times cpus
for r in $(seq "$rounds"); do
	line="round $r:"
	for m in "${modes[@]}"; do
		case $m in
		cp) tc=$(ns cp "$T/f" "$T/o") ;;
		put) tc=$(ns "$AZ" "${SR[@]}" put --quiet "$T/f" bulk/x) ;;
		put_copy) tc=$(ns "$AZ" "${SR[@]}" put --quiet --copy "$T/f" bulk/x) ;;
		put_base) tc=$(ns "$BASE" "${SR[@]}" put --quiet "$T/f" bulk/x) ;;
		get) tc=$(ns "$AZ" "${SR[@]}" get --quiet bulk/x "$T/o") ;;
		get_copy) tc=$(ns "$AZ" "${SR[@]}" get --quiet --copy bulk/x "$T/o") ;;
		get_base) tc=$(ns "$BASE" "${SR[@]}" get --quiet bulk/x "$T/o") ;;
		esac
		t=${tc% *}
		case $m in
		put*) ;;
		*)
			check "$T/o"
			[ "$m" = cp ] || "$AZ" "${SR[@]}" rm bulk/x 2>/dev/null
			;;
		esac
		times[$m]="${times[$m]:-} $t"
		cpus[$m]="${cpus[$m]:-} ${tc#* }"
		line+=$(awk -v m="$m" -v b="$bytes" -v t="$t" 'BEGIN { printf "  %s %.0f", m, b / (t / 1e3) }')
	done
	echo "$line MB/s"
done

med() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
cpt=$(echo "${times[cp]}" | med)
printf '%-9s %9s %9s %9s   (%d MB in %s, %d rounds, medians)\n' mode MB/s "x cp" "CPU ms" \
	"$size_mb" "$dir" "$rounds"
for m in "${modes[@]}"; do
	t=$(echo "${times[$m]}" | med)
	c=$(echo "${cpus[$m]}" | med)
	awk -v m="$m" -v b="$bytes" -v t="$t" -v c="$cpt" -v u="$c" \
		'BEGIN { printf "%-9s %9.0f %9.2f %9d\n", m, b / (t / 1e3), t / c, u }'
done
