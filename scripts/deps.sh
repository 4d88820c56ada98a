#!/usr/bin/env bash
# Install what the build (`deps.sh build`) or the build plus every test
# (`deps.sh test`, the default) needs on Debian 12. Idempotent and quick when
# all is present: apt-get runs only for what is missing. Needs root or sudo.
set -euo pipefail

BUILD=(
	build-essential cmake ninja-build pkg-config
	libcriterion-dev libhugetlbfs-dev libnuma-dev
	# the simulator's rest backend: HTTP and Shared Key signing
	libcurl4-openssl-dev libssl-dev
	# the CUSE front end (/dev/azure_blob in user space)
	libfuse3-dev
	# XML (block lists, List Blobs)
	libexpat1-dev
	# USDT trace points in libazblob (<sys/sdt.h>, docs/TRACING.md)
	systemtap-sdt-dev
)
TEST=(
	# sanitizer and fuzzing builds
	clang llvm libclang-rt-14-dev
	# kernel module tests: Debian's kernel under QEMU with a busybox initramfs
	linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static cpio kmod
	# an ext2 image for the file-mapping test (mounted by ext4 on a loop device)
	e2fsprogs
	# checkpatch.pl for the module's style check comes with the kernel source
	linux-source-6.1
	# scripts and style
	bats shellcheck clang-format
	# benchmark charts
	gnuplot-nox
	# azblob-bench --modes cost counts instructions under callgrind
	valgrind
	# Azurite (npm) for the REST end-to-end tests, which also talk to it
	# directly (curl, a SAS signed with openssl)
	nodejs curl openssl xxd
	# the Debian packages (pkg_ tests, docs/PACKAGING.md): build, check,
	# install the module source with dkms; man pages checked with groff
	dpkg-dev debhelper dh-dkms fakeroot lintian dkms groff-base man-db binutils
	# the USDT probes fired and counted (pkg_probes_fire); --json checked
	bpftrace jq
)

case "${1:-test}" in
build) PACKAGES=("${BUILD[@]}") ;;
test) PACKAGES=("${BUILD[@]}" "${TEST[@]}") ;;
*)
	echo "usage: deps.sh [build|test]" >&2
	exit 2
	;;
esac

mode=${1:-test}
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
azurite() {
	# Azurite 3.35.0 from npm (later versions need Node 22); npm ships
	# with NodeSource's nodejs, Debian's needs its own package.
	[ "$mode" = test ] || return 0
	if ! command -v npm >/dev/null; then
		$SUDO apt-get install -y -q --no-install-recommends npm
	fi
	"$(dirname "$0")/azurite.sh" install
}

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
if [ ${#missing[@]} -eq 0 ]; then
	azurite
	exit 0
fi

if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
	echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
azurite
