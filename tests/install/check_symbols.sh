#!/usr/bin/env bash
# The shared library exports only the public API (uvmbus_* names).
set -euo pipefail
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u)
[ -n "$syms" ] || { echo "no exported symbols in $lib" >&2; exit 1; }
bad=$(grep -v '^uvmbus_' <<<"$syms" || true)
if [ -n "$bad" ]; then
	echo "non-public symbols exported from $lib:" >&2
	echo "$bad" >&2
	exit 1
fi
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[[ $soname =~ ^libuvmbus\.so\.[0-9]+$ ]] || { echo "bad SONAME '$soname'" >&2; exit 1; }
echo "$(wc -l <<<"$syms") symbols, all uvmbus_*; SONAME $soname"
