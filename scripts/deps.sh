#!/usr/bin/env bash
# Install what the build (`deps.sh build`) or the build plus every test
# (`deps.sh test`, the default) needs on Debian 12. Idempotent and quick when
# all is present: apt-get runs only for what is missing. Needs root or sudo.
#   deps.sh [build|test]          install what is missing (and Azurite for test)
#   deps.sh check [build|test]    print what is missing, one a line; install
#                                 nothing, no root needed; exit 1 if anything is
#   deps.sh list [build|test]     print the package list
# A package counts as installed when it is for this machine's architecture
# (dpkg --print-architecture) or Architecture: all: an arm64 -dev package
# that replaced the amd64 one builds nothing here (deps.sh says so).
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
	# azblob-fuse tests (fuse_*): fusermount3 and mount.fuse3, fio with
	# --verify for the mount's reads and writes
	fuse3 fio
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
	# the root file system the packages are installed and tested in
	# (scripts/rootfs.sh, pkg_ tests): this machine's stay unchanged
	mmdebstrap
	# arm64 (docs/PORTING.md): Debian's cross compiler and binutils (native
	# amd64 packages; the arm64 libraries live in a root file system made by
	# scripts/rootfs.sh, never as foreign-architecture packages here), and
	# qemu-aarch64 to run arm64 programs (arch_ tests, the arm64 unit
	# tests), qemu-system-aarch64 to boot Debian's arm64 kernel with the
	# module (kstub_qemu_arm64)
	gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
	qemu-system-arm
)

usage() {
	echo "usage: deps.sh [check|list] [build|test]" >&2
	exit 2
}
action=install
case "${1:-}" in
check | list)
	action=$1
	shift
	;;
esac
mode=${1:-test}
case $mode in
build) PACKAGES=("${BUILD[@]}") ;;
test) PACKAGES=("${BUILD[@]}" "${TEST[@]}") ;;
*) usage ;;
esac
[ $# -le 1 ] || usage
if [ "$action" = list ]; then
	printf '%s\n' "${PACKAGES[@]}"
	exit 0
fi

# What is installed, by name: `dpkg-query -W NAME` lists NAME:ARCH of every
# architecture (and `NAME:amd64` finds no Architecture: all package), so
# ask for every instance and keep the native and the arch-all ones.
native=$(dpkg --print-architecture)
declare -A installed=() foreign=()
# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
while IFS=$'\t' read -r name arch status; do
	[ "$status" = "install ok installed" ] || continue
	if [ "$arch" = "$native" ] || [ "$arch" = all ]; then
		installed[$name]=1
	else
		foreign[$name]+="${foreign[$name]:+, }$name:$arch"
	fi
done < <(dpkg-query -W -f='${Package}\t${Architecture}\t${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for p in "${PACKAGES[@]}"; do
	[ -z "${installed[$p]:-}" ] || continue
	missing+=("$p")
	if [ -n "${foreign[$p]:-}" ]; then
		echo "deps.sh: $p is installed for another architecture only (${foreign[$p]}), not for $native: the build cannot use it; counted as missing (installing $p:$native may remove it)" >&2
	fi
done
if [ "$action" = check ]; then
	[ ${#missing[@]} -eq 0 ] && exit 0
	printf '%s\n' "${missing[@]}"
	exit 1
fi
azurite() {
	# Azurite 3.35.0 from npm (later versions need Node 22); npm ships
	# with NodeSource's nodejs, Debian's needs its own package.
	[ "$mode" = test ] || return 0
	if ! command -v npm >/dev/null; then
		$SUDO "${APT[@]}" install -y -q --no-install-recommends npm
	fi
	"$(dirname "$0")/azurite.sh" install
}

# Another apt or dpkg at work (unattended-upgrades on a fresh VM, a
# parallel build's deps.sh): wait for its lock instead of failing.
APT=(apt-get -o DPkg::Lock::Timeout=600)
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
$SUDO "${APT[@]}" update -q
$SUDO "${APT[@]}" install -y -q --no-install-recommends "${missing[@]}"
azurite
