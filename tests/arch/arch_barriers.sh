#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# arch_barriers: the store->load (Dekker) points of the ring and of the
# emulator's ring side are ordered on arm64 (docs/RING.md, Ordering).
# Cross-compiles uvmbus/ring.c, sim/sim_ring.c and sim/sim_null.c for
# aarch64 at -O2 and -O3 and reads the object code (arch_barriers.awk):
# between the store of an index (or of the mask, pending_send_sz) and the
# next load of the shared ring header there must be a `dmb ish`, or the
# load must be an `ldar`. x86-TSO hides a missing fence (a seq_cst store
# is an xchg, a full barrier) and QEMU does not model arm64's weak
# ordering, so only the object code shows it.
# Usage: arch_barriers.sh SOURCE_DIR WORK_DIR [CC [OBJDUMP]]
set -uo pipefail
src=$1 work=$2
cc=${3:-aarch64-linux-gnu-gcc}
objdump=${4:-aarch64-linux-gnu-objdump}
for t in "$cc" "$objdump"; do
	command -v "$t" >/dev/null || {
		echo "arch_barriers: $t is missing: run scripts/deps.sh test" >&2
		exit 1
	}
done
mkdir -p "$work"
# object, source, the functions with a store->load point
checks=(
	"ring uvmbus/ring.c uvmbus_ring_publish uvmbus_ring_read_commit uvmbus_ring_set_interrupt_mask uvmbus_ring_set_pending_send"
	"sim_ring sim/sim_ring.c hring_consume hring_batch_publish"
	"sim_null sim/sim_null.c sim_null_drain"
)
fails=0
for opt in -O2 -O3; do
	for c in "${checks[@]}"; do
		read -r obj file funcs <<<"$c"
		o=$work/$obj$opt.o
		if ! "$cc" -std=gnu11 "$opt" -I"$src/include" -I"$src/uvmbus" -I"$src/sim" \
			-I"$src/common" -c "$src/$file" -o "$o"; then
			echo "arch_barriers: $file does not compile for aarch64" >&2
			fails=$((fails + 1))
			continue
		fi
		echo "=== $file ($cc $opt)"
		"$objdump" -d --no-show-raw-insn "$o" >"$o.s" || {
			fails=$((fails + 1))
			continue
		}
		awk -v FUNCS="$funcs" -f "$(dirname "$0")/arch_barriers.awk" "$o.s" ||
			fails=$((fails + 1))
	done
done
# The reload the inline read calls when its cache says empty: the one
# ordered access is the acquire load of the other side's index (`ldar`).
for opt in -O2 -O3; do
	body=$(awk '$2 == "<uvmbus_ring_reload>:" { on = 1; next } /^[0-9a-f]+ </ { on = 0 } on' \
		"$work/ring$opt.o.s" 2>/dev/null)
	if ! grep -Eq '\bldar\b' <<<"$body"; then
		echo "UNORDERED uvmbus_ring_reload ($opt): no ldar (acquire load of the index)" >&2
		fails=$((fails + 1))
	else
		echo "acquire   uvmbus_ring_reload ($opt): ldar"
	fi
done
# The inline fast paths (<uvmbus/ring.h>, inlined into libazblob): no
# barrier and no ordered access in them (they use the handle's cached
# indices only); each falls back to its out-of-line function, where the
# ordered loads are (checked above, and by the acquire loads in ring.c).
for opt in -O2 -O3; do
	o=$work/ring_inline$opt.o
	if ! "$cc" -std=gnu11 "$opt" -I"$src/include" -c "$(dirname "$0")/ring_inline_arm64.c" \
		-o "$o" || ! "$objdump" -d --no-show-raw-insn "$o" >"$o.s"; then
		echo "arch_barriers: the inline fast paths do not compile for aarch64" >&2
		fails=$((fails + 1))
		continue
	fi
	echo "=== include/uvmbus/ring.h inline fast paths ($cc $opt)"
	# function:the out-of-line functions it must call (comma-separated)
	for f in fast_reserve:uvmbus_ring_reserve fast_span_write:uvmbus_ring_span_write fast_stage: \
		fast_read:uvmbus_ring_read_payload,uvmbus_ring_reload; do
		fn=${f%%:*} slow=${f#*:}
		body=$(awk -v F="<$fn>:" '$2 == F { on = 1; next } /^[0-9a-f]+ </ { on = 0 } on' "$o.s")
		missing=
		for sl in ${slow//,/ }; do
			grep -q "<$sl>" <<<"$body" || missing="$missing $sl"
		done
		if [ -z "$body" ]; then
			echo "arch_barriers: $fn not found in the object" >&2
			fails=$((fails + 1))
		elif grep -Eq '\b(dmb|dsb|isb|ldar|ldarb|ldarh|ldapr|stlr|stlrb|stlrh|ldaxr|stlxr)\b' <<<"$body"; then
			echo "BARRIER   $fn: the inline fast path holds a barrier or ordered access" >&2
			fails=$((fails + 1))
		elif [ -n "$missing" ]; then
			echo "NOFALLBACK $fn: no call to$missing" >&2
			fails=$((fails + 1))
		else
			echo "no barrier $fn${slow:+ (falls back to ${slow//,/, })}"
		fi
	done
done
if [ "$fails" -ne 0 ]; then
	echo "arch_barriers: $fails object(s) with an unordered or unchecked store->load point" >&2
	exit 1
fi
echo "arch_barriers: every store->load point is ordered on arm64"
