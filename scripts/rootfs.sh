#!/usr/bin/env bash
# A Debian root file system for tests that must not change this machine
# (the pkg_ tests install the project's packages into one, docs/TESTING.md):
#   scripts/rootfs.sh [--extract] ARCH DIR [PACKAGE...]
# makes DIR a Debian root file system for ARCH (amd64, arm64, ...) with
# mmdebstrap: Essential, apt and PACKAGE... with their dependencies (no
# Recommends), from Debian's mirror (UVMBUS_DEBIAN_MIRROR, default
# http://deb.debian.org/debian; the suite, its -updates and -security).
# The suite is bookworm (Debian 12, UVMBUS_ROOTFS_SUITE).
#
# Reused between runs: DIR/.uvmbus-rootfs holds the key of what it was made
# from (architecture, suite, mirror, sorted package list, this script's
# FORMAT); the same key reuses DIR as it is (instant), another one rebuilds
# it. Built in DIR.new and renamed when complete, so a half-made tree is
# never used; under an exclusive lock on DIR.lock. Users of DIR take a
# shared lock on DIR.lock and never write into DIR (tests/pkg/deb.sh mounts
# an overlay upon it), so a rebuild waits for them.
#
# Root (mmdebstrap --mode=root, in a mount namespace of its own so that
# nothing it mounts outlives it). The first build downloads and unpacks
# the packages: several minutes (docs/TESTING.md has the figures). A foreign
# ARCH needs qemu-user-static and binfmt-support on the host (not in
# deps.sh) to run the maintainer scripts.
#
# --extract: PACKAGE... and their dependencies only, unpacked and never
# configured (mmdebstrap --variant=extract): no maintainer script runs, so a
# foreign ARCH needs no emulation. A sysroot for cross-compiling (headers,
# libraries, .pc files: the arm64 configuration of scripts/test.sh), not a
# system to run.
set -euo pipefail

# Bump when the way the tree is made changes: every cached tree is rebuilt.
FORMAT=1

die() {
	echo "rootfs.sh: $*" >&2
	exit 1
}

variant=apt
if [ "${1:-}" = --extract ]; then
	variant=extract
	shift
fi
[ $# -ge 2 ] || die "usage: rootfs.sh [--extract] ARCH DIR [PACKAGE...]"
arch=$1 dir=$2
shift 2
[[ $arch =~ ^[a-z0-9]+$ ]] || die "bad architecture '$arch'"
[[ $dir == /* ]] || die "DIR must be an absolute path: $dir"
dir=${dir%/}
[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap --mode=root)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: run scripts/deps.sh test"
command -v unshare >/dev/null || die "unshare is missing (util-linux)"

native=$(dpkg --print-architecture)
if [ "$arch" != "$native" ] && [ "$variant" != extract ]; then
	# mmdebstrap runs the foreign maintainer scripts through binfmt_misc.
	ls /proc/sys/fs/binfmt_misc/qemu-* >/dev/null 2>&1 ||
		die "a $arch tree on $native needs qemu-user-static and binfmt-support (no qemu binfmt handler registered)"
fi

suite=${UVMBUS_ROOTFS_SUITE:-bookworm}
mirror=${UVMBUS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${UVMBUS_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
sources=(
	"deb $mirror $suite main"
	"deb $mirror $suite-updates main"
	"deb $security $suite-security main"
)
mapfile -t packages < <(printf '%s\n' "$@" | sed '/^$/d' | sort -u)
# the variant only when not the default: an apt tree keeps the key it had
# before --extract existed
variant_key=()
[ "$variant" = apt ] || variant_key=("variant $variant, relative links")
key=$(printf '%s\n' "format $FORMAT" "arch $arch" "suite $suite" "${sources[@]}" \
	"${packages[@]}" "${variant_key[@]}" | sha256sum | cut -c1-16)
stamp=$dir/.uvmbus-rootfs

mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9

if [ -f "$stamp" ] && [ "$(head -1 "$stamp")" = "$key" ]; then
	echo "rootfs.sh: $dir: reused (key $key, ${#packages[@]} packages)" >&2
	exit 0
fi

# Never remove a tree with something mounted in it (a killed run's /proc
# or /dev: removing those would remove the machine's).
mounted_below() {
	awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | grep -q .
}
for d in "$dir" "$dir.new"; do
	[ -e "$d" ] || continue
	! mounted_below "$d" || die "something is mounted below $d: unmount it first"
done
rm -rf --one-file-system "$dir.new"

echo "rootfs.sh: making $dir ($arch, $suite, $variant, key $key): ${packages[*]}" >&2
start=$SECONDS
include=$(
	IFS=,
	echo "${packages[*]}"
)
unshare --mount --propagation private -- \
	mmdebstrap --mode=root --variant="$variant" --architectures="$arch" \
	--aptopt='APT::Install-Recommends "false"' \
	${include:+--include="$include"} \
	"$suite" "$dir.new" "${sources[@]}" ||
	die "mmdebstrap failed (the log is above); $dir is unchanged"
if [ "$variant" = extract ]; then
	# A sysroot is read from outside, never chrooted into: an absolute
	# link (libexpat.so -> /lib/aarch64-linux-gnu/libexpat.so.1...) would
	# point into this machine. Made relative, inside the tree.
	find "$dir.new" -type l -lname '/*' -print0 |
		while IFS= read -r -d '' link; do
			target=$(readlink "$link")
			ln -sfn "$(realpath -m -s --relative-to="$(dirname "$link")" "$dir.new$target")" "$link"
		done
fi
{
	echo "$key"
	printf '%s\n' "${packages[@]}"
} >"$dir.new/.uvmbus-rootfs"
rm -rf --one-file-system "$dir"
mv "$dir.new" "$dir"
echo "rootfs.sh: $dir made in $((SECONDS - start)) s, $(du -sh --one-file-system "$dir" | cut -f1)" >&2
