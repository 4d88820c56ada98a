# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# Sourced by the QEMU guests' scripts (tests/kernel/init.sh,
# tests/cuse/guest.sh): step NAME COMMAND... runs the command, prints a
# PASS/FAIL line and counts failures in $fails.
fails=${fails:-0}
step() {
	name=$1
	shift
	"$@"
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "PASS: $name"
	else
		echo "FAIL: $name (status $rc)"
		fails=$((fails + 1))
	fi
}
