#!/usr/bin/env bash
# pkg_man_*: a man page is warning-free roff (groff -ww) and names every
# option its program's --help prints (man/CMakeLists.txt).
#   man_check.sh PAGE PROGRAM [COMMAND...]
# Options are read from `PROGRAM --help` and from `PROGRAM COMMAND --help`
# for each COMMAND given. PROGRAM may be a header instead (FOO.h): then
# every AZBLOB_API function it declares must be in the page.
set -euo pipefail
page=$1 prog=$2
shift 2
command -v groff >/dev/null || { echo "groff is missing: run scripts/deps.sh test" >&2; exit 1; }
[ -f "$page" ] || { echo "no man page $page" >&2; exit 1; }

# 1. No warnings at all (-ww), output discarded (-z).
warn=$(groff -man -ww -z "$page" 2>&1) || true
if [ -n "$warn" ]; then
	echo "$page: groff warnings:" >&2
	echo "$warn" >&2
	exit 1
fi

# 2. The rendered text: one long line per paragraph, no hyphenation.
text=$(groff -man -Tascii -rLL=1000n -rHY=0 -P-cbou "$page" 2>/dev/null)
[ -n "$text" ] || { echo "$page renders to nothing" >&2; exit 1; }

if [[ $prog == *.h ]]; then
	# A library page: every exported function of the header.
	what="functions of $prog"
	mapfile -t opts < <(grep -oE '^AZBLOB_API [^(]*[ *]azblob_[a-z_]+\(' "$prog" |
		grep -oE 'azblob_[a-z_]+' | sort -u)
else
	what="options printed by $prog --help"
	help=$("$prog" --help 2>&1) || { echo "$prog --help failed" >&2; exit 1; }
	for cmd in "$@"; do
		help+=$'\n'$("$prog" "$cmd" --help 2>&1) || { echo "$prog $cmd --help failed" >&2; exit 1; }
	done
	# Long options (--name) and short ones (-x) where an option starts:
	# after the line's indent, a comma, a bracket or a space.
	mapfile -t opts < <(grep -oE '(^|[ ,[(|])(--[a-z0-9][a-z0-9-]*|-[a-zA-Z])([^a-zA-Z0-9-]|$)' <<<"$help" |
		sed -E 's/^[ ,[(|]//; s/[^a-zA-Z0-9-]$//' | sort -u)
fi
[ ${#opts[@]} -gt 0 ] || { echo "nothing found to look for ($what)" >&2; exit 1; }
missing=()
for o in "${opts[@]}"; do
	grep -qE -- "(^|[^a-zA-Z0-9-])${o}([^a-zA-Z0-9-]|$)" <<<"$text" || missing+=("$o")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "$page: missing from the page ($what): ${missing[*]}" >&2
	exit 1
fi
echo "$page: no warnings; all ${#opts[@]} $what are in it"
