#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# cuse_direct_script: the ABI test's script through libazblob's sync call
# (no device): the results an unmodified program must also get through
# /dev/azure_blob (cuse_qemu compares the two transcripts byte for byte).
# Usage: direct_script.sh CUSE_ABI_DIRECT WORK_DIR
set -euo pipefail
prog=$1 work=$2
mkdir -p "$work"
"$prog" script - "$work/direct.txt"
fail=0
want() { # want CASE PATTERN
	if grep -q "^$1 $2" "$work/direct.txt"; then
		echo "ok: $1 $2"
	else
		echo "FAIL: $1: want '$2', got: $(grep "^$1 " "$work/direct.txt")"
		fail=1
	fi
}
want noop 'rc=0 errno=0 status=0 '
want noop_hv_number 'rc=0 errno=0 status=0 '
want echo_unaligned 'rc=0 errno=0 status=0 '
want get_missing 'rc=0 errno=0 status=0 '
want echo_32MiB 'rc=0 errno=0 status=0 '
want einval_response_len_0 'rc=-1 errno=22 '
want einval_data_valid 'rc=-1 errno=22 '
exit $fail
