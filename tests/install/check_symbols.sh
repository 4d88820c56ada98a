#!/usr/bin/env bash
# A shared library exports only its public API (PREFIX* names) and has a
# versioned SONAME.  usage: check_symbols.sh LIB [PREFIX]   (default uvmbus_)
set -euo pipefail
lib=$1
prefix=${2:-uvmbus_}
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u)
[ -n "$syms" ] || { echo "no exported symbols in $lib" >&2; exit 1; }
bad=$(grep -v "^$prefix" <<<"$syms" || true)
if [ -n "$bad" ]; then
	echo "non-public symbols exported from $lib:" >&2
	echo "$bad" >&2
	exit 1
fi
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[[ $soname =~ ^lib[a-z]+\.so\.[0-9]+$ ]] || { echo "bad SONAME '$soname'" >&2; exit 1; }
echo "$(wc -l <<<"$syms") symbols, all $prefix*; SONAME $soname"
