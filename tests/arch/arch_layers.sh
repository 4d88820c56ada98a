#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# arch_layers: the rules of docs/ARCHITECTURE.md, checked against the code
# and against what `cmake --install` installs.
#   1. azblob/ and uvmbus/ know no emulator: no emulator header, no call
#      to azblob_sim_*.
#   2. uvmbus/ includes no azblob header.
#   3. No library (common/, uvmbus/, azblob/, sim/) includes anything
#      under tools/, broker/, cuse/ or bench/, by path or include
#      directory (read from compile_commands.json).
#   4. common/ includes nothing of the project but its own headers.
#   5. Every function an installed header declares is exported by an
#      installed library (nm -D), no emulator header is installed and the
#      shared libraries export no azblob_sim_*.
# Usage: arch_layers.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$1 build=$2
fails=0
fail() {
	echo "arch_layers: $*" >&2
	fails=$((fails + 1))
}
cd "$src" || exit 2

# 1. The emulator, from the libraries.
while IFS= read -r hit; do
	fail "library includes an emulator header: $hit"
done < <(grep -nE '#include *[<"](azblob/sim\.h|sim_[a-z_]*\.h)[>"]' -r azblob uvmbus --include='*.[ch]')
while IFS= read -r hit; do
	fail "library calls the emulator: $hit"
done < <(grep -nE '\bazblob_sim_[a-z_]+ *\(' -r azblob uvmbus --include='*.[ch]')

# 2. uvmbus below azblob.
while IFS= read -r hit; do
	fail "uvmbus includes an azblob header: $hit"
done < <(grep -nE '#include *[<"](azblob\.h|azblob/|\.\./azblob|.*/azblob/)' -r uvmbus --include='*.[ch]')

# 3. Libraries below the programs: by path ...
while IFS= read -r hit; do
	fail "library includes a program's file: $hit"
done < <(grep -nE '#include *"[^"]*(tools|broker|cuse|bench)/' -r common uvmbus azblob sim --include='*.[ch]')
# ... and by include directory, as the build compiles them.
db=$build/compile_commands.json
if [ ! -r "$db" ]; then
	fail "no $db (CMAKE_EXPORT_COMPILE_COMMANDS)"
else
	while IFS=$'\t' read -r file cmd; do
		case $file in
		"$src"/common/* | "$src"/uvmbus/* | "$src"/azblob/* | "$src"/sim/*) ;;
		*) continue ;;
		esac
		case $file in "$src"/sim/vspd/*) continue ;; esac # a program
		for d in tools broker cuse bench; do
			if grep -qE -- "-I *$src/$d(/| |$)" <<<"$cmd"; then
				fail "library ${file#"$src"/} is compiled with -I $d/"
			fi
		done
	done < <(jq -r '.[] | [.file, .command] | @tsv' "$db")
fi

# 4. common/ stands alone.
while IFS= read -r hit; do
	fail "common/ includes a project header: $hit"
done < <(grep -nE '#include *[<"](azblob|uvmbus|uapi|sim_|\.\./)' -r common --include='*.[ch]')

# 5. What is installed.
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
if ! cmake --install "$build" --prefix "$prefix" >"$prefix.log" 2>&1; then
	cat "$prefix.log" >&2
	fail "cmake --install failed"
else
	if find "$prefix/include" -name sim.h | grep -q .; then
		fail "the emulator's header is installed: $(find "$prefix/include" -name sim.h)"
	fi
	libs=$(find "$prefix" -name 'lib*.so*' -type f)
	[ -n "$libs" ] || fail "no shared library installed under $prefix"
	exported=$(for l in $libs; do nm -D --defined-only "$l" | awk '{print $3}'; done | sed 's/@.*//' | sort -u)
	if grep -E '^azblob_sim_' <<<"$exported"; then
		fail "an installed library exports the emulator's functions (above)"
	fi
	declared=$(find "$prefix/include" -name '*.h' -exec cat {} + | grep -v '^ *# *define' |
		grep -oE '(AZBLOB|UVMBUS)_API[^;{(]*[^A-Za-z0-9_(][A-Za-z_][A-Za-z0-9_]* *\(' |
		grep -oE '[A-Za-z_][A-Za-z0-9_]* *\($' | tr -d ' (' | sort -u)
	[ -n "$declared" ] || fail "no declaration found in the installed headers"
	n=0
	for f in $declared; do
		n=$((n + 1))
		grep -qx "$f" <<<"$exported" || fail "installed header declares $f, which no installed library exports"
	done
	echo "arch_layers: $n functions declared in the installed headers, all exported"
	rm -f "$prefix.log"
fi

if [ "$fails" -ne 0 ]; then
	echo "arch_layers: $fails rule(s) broken (docs/ARCHITECTURE.md)" >&2
	exit 1
fi
echo "arch_layers: every rule holds"
