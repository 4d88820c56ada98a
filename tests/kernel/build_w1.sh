#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# kstub_build_w1: build the module with W=1 against the installed headers;
# fail on any compiler or modpost warning.
# Usage: build_w1.sh REPO_ROOT WORK_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"
repo=$1 work=$2

ensure_deps "$repo" make gcc
ver=$(find_kernel_or_install "$repo") || die "no kernel headers with a matching /boot/vmlinuz (linux-headers-amd64, linux-image-amd64)"
echo "kernel $ver"
build_module "$repo" "$work" "$(kernel_dir "$ver")" W=1 || die "module build failed"
if grep -qi 'warning' "$work/build.log"; then
	grep -i 'warning' "$work/build.log" >&2
	die "the W=1 build has warnings"
fi
modinfo "$work/src/uvmbus_kstub.ko" | grep -E '^(license|parm|vermagic):'
modinfo -F license "$work/src/uvmbus_kstub.ko" | grep -qx 'Dual BSD/GPL' || die "wrong license"
echo "kstub_build_w1: W=1 build clean"
