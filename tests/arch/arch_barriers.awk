# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# arch_barriers.awk: read `aarch64-linux-gnu-objdump -d --no-show-raw-insn`
# of one object and check the store->load (Dekker) points of the functions
# named in FUNCS (space-separated): after a store to shared memory, the next
# load of shared memory on the straight-line path must be ordered after it:
# a `dmb ish` (or `dmb sy`) between them, or the load is an `ldar` (ARMv8:
# a store-release followed by a load-acquire is never reordered; `ldapr`
# is, and counts as a plain load).
#
# Shared memory is told apart from the caller's own structures by a simple
# register data flow over the function in address order: the argument
# registers (x0-x7 at entry, and what is copied or offset from them) point
# to private memory (the ring handle, the emulator's struct); a pointer
# loaded from private memory (r->hdr, h->w, rx->mask) points to shared
# memory, and so does anything offset from it. Loads and stores through a
# shared pointer are the ones checked.
#
# Prints one line per store that is followed by a shared load:
#   ordered FUNC ADDR: STORE ... BARRIER-OR-LDAR
#   UNORDERED FUNC ADDR: STORE ... LOAD
# and a summary per function; exit status 1 when a function has an
# unordered point or none ordered (a function that no longer compiles to
# a checked store->load is a test that stopped testing).
function reg(r) {
	sub(/^w/, "x", r)
	return r
}
function clear_call(i) {
	for (i = 0; i <= 18; i++)
		cls["x" i] = ""
	cls["x30"] = ""
}
function close_window(verdict, what) {
	if (!open)
		return
	if (verdict == "ordered") {
		ok[fn]++
		printf "ordered   %s %s: %s ... %s\n", fn, st_addr, st_text, what
	} else if (verdict == "unordered") {
		bad[fn]++
		printf "UNORDERED %s %s: %s ... %s (no dmb between them)\n", fn, st_addr, st_text, what
	}
	open = 0
}
BEGIN {
	n = split(FUNCS, want, " ")
	for (i = 1; i <= n; i++) {
		wanted[want[i]] = 1
		ok[want[i]] = 0
		bad[want[i]] = 0
		seen[want[i]] = 0
	}
	fn = ""
}
/^[0-9a-f]+ <[^>]+>:$/ {
	close_window("neutral", "")
	name = $2
	gsub(/[<>:]/, "", name)
	fn = (name in wanted) ? name : ""
	if (fn != "")
		seen[fn] = 1
	delete cls
	for (i = 0; i <= 7; i++)
		cls["x" i] = "arg"
	next
}
fn != "" && /^ *[0-9a-f]+:\t/ {
	line = $0
	sub(/[ \t]*\/\/.*$/, "", line)
	nf = split(line, f, "\t")
	addr = f[1]
	gsub(/[ :]/, "", addr)
	op = f[2]
	args = nf >= 3 ? f[3] : ""
	text = op " " args
	base = ""
	if (match(args, /\[[^]]*\]/)) {
		mem = substr(args, RSTART + 1, RLENGTH - 2)
		split(mem, m, ",")
		base = reg(m[1])
		pre = substr(args, 1, RSTART - 1)
	} else {
		pre = args
	}
	nr = split(pre, ops, /, */)
	isload = op ~ /^ld/
	isstore = op ~ /^st/
	shared = base != "" && cls[base] == "shm"

	# the window opened by a shared store
	if (open) {
		if (op ~ /^dmb$/ && args ~ /^(ish|sy)$/)
			close_window("ordered", text)
		else if (isload && shared && op ~ /^ldar/)
			close_window("ordered", text)
		else if (isload && shared)
			close_window("unordered", text)
		else if (op == "ret" || op == "b" || op == "br" || op == "bl" || op == "blr")
			close_window("neutral", "")
	}
	if (isstore && shared && op !~ /^stx|^stlx/) {
		open = 1
		st_addr = addr
		st_text = text
	}

	# register classes after this instruction
	if (op == "bl" || op == "blr") {
		clear_call()
	} else if (isload && base == "sp") {
		# a register restored from the stack keeps its class: the
		# epilogue of an early return restores the callee-saved
		# registers, and the blocks after it in address order still use
		# them as the body set them
	} else if (isload) {
		c = base != "" && cls[base] == "arg" ? "shm" : ""
		for (i = 1; i <= nr; i++)
			if (ops[i] ~ /^[xw][0-9]+$/)
				cls[reg(ops[i])] = ops[i] ~ /^x/ ? c : ""
	} else if (!isstore && nr >= 1 && ops[1] ~ /^[xw][0-9]+$/ && op !~ /^(cmp|cmn|tst|cb|tb|b\.)/) {
		d = reg(ops[1])
		s1 = nr >= 2 ? reg(ops[2]) : ""
		s2 = nr >= 3 ? reg(ops[3]) : ""
		if (op == "mov" && s1 ~ /^x[0-9]+$/)
			cls[d] = cls[s1]
		else if ((op == "add" || op == "sub") && s1 ~ /^x[0-9]+$/)
			cls[d] = cls[s1] != "" ? cls[s1] : (s2 ~ /^x[0-9]+$/ ? cls[s2] : "")
		else
			cls[d] = ""
	}
}
END {
	close_window("neutral", "")
	status = 0
	for (i = 1; i <= n; i++) {
		f1 = want[i]
		if (!seen[f1]) {
			printf "MISSING   %s: not in the object\n", f1
			status = 1
		} else if (bad[f1] || !ok[f1]) {
			printf "FAIL      %s: %d ordered, %d unordered store->load points\n", f1, ok[f1], bad[f1]
			status = 1
		} else {
			printf "pass      %s: %d ordered store->load point(s)\n", f1, ok[f1]
		}
	}
	exit status
}
