#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# kstub_checkpatch: run the kernel's checkpatch.pl --strict on the module
# sources and the uapi header. Debian's headers lack checkpatch; it comes
# from the linux-source-6.1 tarball (only the three files it needs are
# extracted, into WORK_DIR).
# Usage: checkpatch.sh REPO_ROOT WORK_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"
repo=$1 work=$2

tarball() { printf '%s\n' /usr/src/linux-source-*.tar.xz | grep -v '\*' | sort -V | tail -n 1 || true; }
tb=$(tarball)
if [ -z "$tb" ]; then
	ensure_deps "$repo" /usr/src/linux-source-6.1.tar.xz
	tb=$(tarball)
fi
[ -n "$tb" ] || die "no /usr/src/linux-source-*.tar.xz: apt-get install linux-source-6.1"
top=$(basename "$tb" .tar.xz)
mkdir -p "$work"
if [ ! -e "$work/$top/scripts/checkpatch.pl" ]; then
	tar -xJf "$tb" -C "$work" "$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch"
fi
# Relative paths from the repo root: checkpatch applies its uapi rules to
# include/uapi/. GIT_DIR: keep it from asking git about the project.
cd "$repo"
files=()
for f in kstub/*.c kstub/*.h; do
	case $f in *.mod.c) ;; *) files+=("$f") ;; esac # skip in-place build products
done
files+=(include/uapi/uvmbus_kstub.h)
GIT_DIR=/nonexistent perl "$work/$top/scripts/checkpatch.pl" --no-tree --strict \
	--show-types -f "${files[@]}" | tee "$work/checkpatch.log"
if grep -Eq '(ERROR|WARNING|CHECK):' "$work/checkpatch.log"; then
	die "checkpatch found problems"
fi
echo "kstub_checkpatch: ${#files[@]} files clean"
