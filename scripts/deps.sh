#!/usr/bin/env bash
# Install what the build (`deps.sh build`) or the build plus every test
# (`deps.sh test`, the default) needs on Debian 12. Idempotent and quick when
# all is present: apt-get runs only for what is missing. Needs root or sudo.
set -euo pipefail

BUILD=(
	build-essential cmake ninja-build pkg-config
	libcriterion-dev libhugetlbfs-dev libnuma-dev
)
TEST=(
	# sanitizer and fuzzing builds
	clang llvm libclang-rt-14-dev
	# kernel module tests: Debian's kernel under QEMU with a busybox initramfs
	linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static cpio kmod
	# checkpatch.pl for the module's style check comes with the kernel source
	linux-source-6.1
	# scripts and style
	bats shellcheck clang-format
	# benchmark charts
	gnuplot-nox
)

case "${1:-test}" in
build) PACKAGES=("${BUILD[@]}") ;;
test) PACKAGES=("${BUILD[@]}" "${TEST[@]}") ;;
*)
	echo "usage: deps.sh [build|test]" >&2
	exit 2
	;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
	SUDO=sudo
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
