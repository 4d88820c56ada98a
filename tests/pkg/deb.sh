#!/usr/bin/env bash
# pkg_: the Debian packages (debian/, docs/PACKAGING.md), built on this
# machine, then installed, checked and purged in a Debian root file system
# made for the tests (scripts/rootfs.sh), never in this machine's: its /usr,
# /etc, /lib/modules and /var/lib/dkms stay as they were (checked).
#   deb.sh build SRC OUT         dpkg-buildpackage -b in a copy of SRC; .debs
#                                to OUT; lintian: no error
#   deb.sh rootfs ROOT           the cached base tree (made or reused,
#                                UVMBUS_TEST_CACHE, /var/cache/uvmbus-test) and
#                                an empty overlay upon it in ROOT: ROOT/upper
#                                gets every change of the tests below
#   deb.sh install ROOT OUT      dpkg -i every .deb of OUT in ROOT
#   deb.sh purge ROOT            purge the packages in ROOT (dkms module too)
#   deb.sh demo ROOT             /usr/bin/azblob demo; every installed program
#                                has a man page
#   deb.sh consumer ROOT SRC CC  build SRC (tests/install/consumer) against the
#                                installed files: CMake and pkg-config
#   deb.sh probes ROOT           readelf -n lists the USDT probes of libazblob
#   deb.sh probes_fire ROOT      bpftrace counts the probes of /usr/bin/azblob
#                                (libazblob linked in) on known traffic
#   deb.sh dkms ROOT             dkms build against ROOT's kernel headers
#   deb.sh snapshot FILE         this machine's packages and files under /usr,
#                                /etc, /lib/modules, /var/lib/dkms (type, mode,
#                                size, mtime) to FILE
#   deb.sh unchanged FILE        the same listing now equals FILE
# The ROOT commands run in a mount namespace of their own (unshare): the
# overlay, /proc, /sys and /dev in it are gone when the command ends, also
# when it fails or is killed.
set -euo pipefail
PKGS=(azblob-tools libazblob-dev libazblob0 libuvmbus0 uvmbus-kstub-dkms)
# The probes of azblob/probes.h (docs/TRACING.md).
PROBES=(submit complete timeout late signal ring_full queue_full rescind)
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
ARCH=$(dpkg --print-architecture)
# The base tree: what the packages depend on (dpkg -i installs no
# dependency: a missing one fails pkg_deb_install, naming it) and what the
# checks run (dkms with Debian's kernel headers, a compiler, CMake,
# pkg-config, man, bpftrace: its -c program must be the probed binary, so
# it runs in the tree too). A change here rebuilds the cached tree.
ROOTFS_PACKAGES=(
	libnuma1 libcurl4 libexpat1 libssl3 libfuse3-3
	libnuma-dev libexpat1-dev libssl-dev
	build-essential cmake pkg-config man-db bpftrace
	dkms "linux-headers-$ARCH"
)
CACHE=${UVMBUS_TEST_CACHE:-/var/cache/uvmbus-test}
# Marks a test root (rootfs.sh writes it): the package commands refuse to
# run anywhere else.
STAMP=/.uvmbus-rootfs

die() {
	echo "deb.sh: $*" >&2
	exit 1
}
need() {
	for t in "$@"; do
		command -v "$t" >/dev/null || die "$t is missing: run scripts/deps.sh test"
	done
}
[ "$(id -u)" -eq 0 ] || die "needs root (a chroot with mounts; dpkg-buildpackage's tree)"

kstub_version() { sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$1"; }

build() {
	local src=$1 out=$2 work
	need dpkg-buildpackage lintian tar
	work=$(mktemp -d)
	# shellcheck disable=SC2064
	trap "rm -rf '$work'" EXIT
	# The tracked and new files only: no build/ directory of the worktree.
	mkdir "$work/uvmbus"
	if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$src" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) |
			tar -xf - -C "$work/uvmbus"
	else # a source tarball: everything but the build directories
		tar -C "$src" --exclude=./build --exclude='./obj-*' -cf - . | tar -xf - -C "$work/uvmbus"
	fi
	echo "== dpkg-buildpackage -b -us -uc (log: $out/build.log)"
	rm -rf "$out"
	mkdir -p "$out"
	if ! (cd "$work/uvmbus" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1; then
		tail -40 "$out/build.log" >&2
		die "dpkg-buildpackage failed"
	fi
	mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
	ls "$out"
	for p in "${PKGS[@]}"; do
		compgen -G "$out/${p}_*.deb" >/dev/null || die "no package $p was built"
	done
	echo "== lintian"
	# Errors fail; warnings are printed.
	lintian --fail-on error --tag-display-limit 0 "$out"/*.changes | tee "$out/lintian.log" ||
		die "lintian reports errors (above)"
	! grep -q '^E: ' "$out/lintian.log" || die "lintian reports errors (above)"
	echo "build and lintian: OK"
}

purge() {
	local present=()
	for p in "${PKGS[@]}"; do
		if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv 'not-installed'; then
			present+=("$p")
		fi
	done
	if [ ${#present[@]} -gt 0 ]; then
		dpkg --purge "${present[@]}"
	fi
	for p in "${PKGS[@]}"; do
		if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv 'not-installed'; then
			die "$p is still installed after the purge"
		fi
	done
	echo "purged: ${PKGS[*]}"
}

install() {
	local out=$1
	purge
	# dkms builds at configure time for the running kernel when the test
	# root has its headers; it has Debian's only: a note, no error.
	local debs=()
	for p in "${PKGS[@]}"; do
		debs+=("$out/${p}"_*.deb)
	done
	dpkg -i "${debs[@]}" || die "dpkg -i failed"
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" | grep -q 'install ok installed' ||
			die "$p is not installed"
	done
	echo "installed: ${PKGS[*]}"
}

demo() {
	need man
	[ -x /usr/bin/azblob ] || die "/usr/bin/azblob is missing"
	local log
	log=$(mktemp)
	# shellcheck disable=SC2064
	trap "rm -f '$log'" EXIT
	(cd / && env -i PATH=/usr/bin:/bin /usr/bin/azblob demo --requests 200) >"$log" 2>&1 || {
		cat "$log" >&2
		die "/usr/bin/azblob demo failed"
	}
	cat "$log"
	# Every installed program has a man page (man -w finds it).
	local prog name n=0
	while read -r prog; do
		case $prog in /usr/bin/* | /usr/sbin/*) ;; *) continue ;; esac
		[ -f "$prog" ] || continue
		name=${prog##*/}
		man -w "$name" >/dev/null 2>&1 || die "$prog has no man page"
		n=$((n + 1))
	done < <(dpkg -L azblob-tools)
	[ "$n" -ge 4 ] || die "only $n programs found in azblob-tools"
	man -w 3 libazblob >/dev/null || die "no libazblob(3)"
	echo "demo from /usr/bin and $n programs with a man page: OK"
}

consumer() {
	local src=$1 cc=$2 work lib
	need cmake pkg-config "$cc"
	work=$(mktemp -d)
	# shellcheck disable=SC2064
	trap "rm -rf '$work'" EXIT
	echo "== find_package(uvmbus) from /usr"
	cmake -S "$src" -B "$work/cm" -DCMAKE_C_COMPILER="$cc" >/dev/null
	cmake --build "$work/cm" >/dev/null
	"$work/cm/consumer_shared"
	"$work/cm/consumer_static"
	"$work/cm/azblob_consumer"
	lib=$(ldd "$work/cm/azblob_consumer" | awk '/libazblob/ {print $3}')
	dpkg -S "$(readlink -f "$lib")" | grep -q '^libazblob0' ||
		die "azblob_consumer uses '$lib', not the installed library"
	echo "== pkg-config from /usr"
	# shellcheck disable=SC2046
	"$cc" -std=c11 -Wall -Wextra -Werror -o "$work/pca" "$src/azblob_consumer.c" \
		$(pkg-config --cflags --libs azblob)
	"$work/pca"
	echo "consumers against the installed packages: OK"
}

probes() {
	need readelf
	local lib notes n
	lib=$(dpkg -L libazblob0 | grep -E '/libazblob\.so\.[0-9]+$' | head -1)
	[ -n "$lib" ] || die "libazblob0 has no libazblob.so.N"
	notes=$(readelf -n "$lib")
	n=$(grep -c 'Provider: azblob' <<<"$notes" || true)
	echo "$lib: $n USDT probes (provider azblob)"
	grep -A1 'Provider: azblob' <<<"$notes" | grep -oE 'Name: [a-z_]+' | sort | uniq -c
	for p in "${PROBES[@]}"; do
		grep -A1 'Provider: azblob' <<<"$notes" | grep -q "Name: $p\$" ||
			die "probe azblob:$p is not in $lib (is systemtap-sdt-dev installed at build time?)"
	done
	[ "$n" -ge 7 ] || die "only $n probes"
	echo "probes: OK"
}

# bt_count OUT MAP: the value of "@MAP: N" in bpftrace's exit dump (0 if absent).
bt_count() {
	local v
	v=$(sed -n "s/^@$2: \([0-9]*\)\$/\1/p" "$1")
	echo "${v:-0}"
}

probes_fire() {
	need bpftrace
	local az=/usr/bin/azblob out prog n
	out=$(mktemp)
	# shellcheck disable=SC2064
	trap "rm -f '$out'" EXIT
	prog="usdt:$az:azblob:submit { @submit = count(); }
		usdt:$az:azblob:complete { @complete = count(); if (arg1 > 0) { @timed = count(); } }
		usdt:$az:azblob:signal { @signal = count(); }
		usdt:$az:azblob:timeout { @timeout = count(); }"
	# 50 no-op requests one at a time: 50 submits and completions, each
	# with a latency, at least one signal; no timeout.
	bpftrace -e "$prog" -c "$az stat --sim --requests 50" >"$out" 2>&1 ||
		{ cat "$out" >&2; die "bpftrace failed (a kernel without uprobes or BPF?)"; }
	for m in submit complete timed; do
		n=$(bt_count "$out" $m)
		[ "$n" -eq 50 ] || { cat "$out" >&2; die "azblob:$m fired $n times, not 50"; }
	done
	[ "$(bt_count "$out" signal)" -ge 1 ] || die "azblob:signal never fired"
	[ "$(bt_count "$out" timeout)" -eq 0 ] || die "azblob:timeout fired without a timeout"
	# A dropped answer: one timeout.
	bpftrace -e "$prog" -c "$az stat --sim --sim-fault drop=1 --timeout 100 --requests 1" \
		>"$out" 2>&1 || true
	n=$(bt_count "$out" timeout)
	[ "$n" -eq 1 ] || { cat "$out" >&2; die "azblob:timeout fired $n times, not 1"; }
	echo "probes fire under bpftrace: submit, complete (with latency), signal, timeout: OK"
}

dkms_build() {
	need dkms
	local conf ver k built=0
	conf=$(dpkg -L uvmbus-kstub-dkms | grep '/dkms.conf$' | head -1)
	[ -n "$conf" ] || die "uvmbus-kstub-dkms has no dkms.conf"
	ver=$(kstub_version "$conf")
	# The kernels with headers in the test root (linux-headers-ARCH there,
	# /lib/modules/K/build -> /usr/src/linux-headers-K), never a hard-coded
	# version; the running kernel has none there.
	for d in /lib/modules/*/build; do
		[ -f "$d/Makefile" ] || continue
		k=$(basename "$(dirname "$d")")
		echo "== dkms build uvmbus_kstub/$ver -k $k"
		# --force: the package's postinst may have built it already.
		dkms build --force "uvmbus_kstub/$ver" -k "$k" || die "dkms build for $k failed"
		find "/var/lib/dkms/uvmbus_kstub/$ver/$k" -name 'uvmbus_kstub.ko*' | grep -q . ||
			die "no uvmbus_kstub.ko for $k"
		built=$((built + 1))
	done
	[ "$built" -gt 0 ] || die "no kernel headers installed (linux-headers-amd64): nothing to build against"
	dkms status uvmbus_kstub
	echo "dkms build for $built kernel(s): OK"
}

# --- this machine: the base tree and the overlay state in ROOT ---

rootfs() {
	local root=$1 base=$CACHE/pkg-$ARCH d
	"$(dirname "$SELF")/../../scripts/rootfs.sh" "$ARCH" "$base" "${ROOTFS_PACKAGES[@]}"
	mkdir -p "$root"
	for d in "$root/merged" "$root/upper"; do
		! awk -v d="$d" '$5 == d || index($5, d "/") == 1' /proc/self/mountinfo | grep -q . ||
			die "something is mounted on $d: unmount it first"
	done
	rm -rf --one-file-system "$root/upper" "$root/work"
	mkdir -p "$root/upper" "$root/work" "$root/merged"
	echo "$base" >"$root/base"
	echo "test root: $base (read-only) + an empty overlay in $root/upper"
}

# in_root ROOT [--copy PATH DEST]... CMD ARGS...: CMD (below, under
# __chrooted) in a mount namespace where ROOT/merged is the overlay with
# /proc, /sys, /dev (a fresh /dev/shm) and /run mounted, after copying
# this machine's PATH to DEST in it.
in_root() {
	need unshare chroot
	[ -f "$1/base" ] || die "$1 is not set up: run deb.sh rootfs $1 (pkg_rootfs)"
	unshare --mount --propagation private -- "$SELF" __ns "$@"
}

ns() {
	local root=$1 base r
	shift
	base=$(cat "$root/base")
	[ -f "$base$STAMP" ] || die "$base is not a test root (no $STAMP)"
	# A rebuild of the base waits until this command ends (rootfs.sh).
	exec 8<"$base.lock"
	flock -s 8
	r=$root/merged
	mount -t overlay overlay -o "lowerdir=$base,upperdir=$root/upper,workdir=$root/work" "$r"
	mount -t proc proc "$r/proc"
	mount --rbind /sys "$r/sys"
	mount --rbind /dev "$r/dev"
	mount -t tmpfs tmpfs "$r/dev/shm"
	mount -t tmpfs tmpfs "$r/run"
	while [ "$1" = --copy ]; do
		rm -rf "${r:?}$3"
		cp -r "$2" "$r$3"
		shift 3
	done
	cp "$SELF" "$r/tmp/deb.sh"
	chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 TERM=dumb /bin/bash /tmp/deb.sh __chrooted "$@"
}

# snapshot: what a package installation changes on this machine.
snapshot() {
	local roots=(/usr /etc)
	# /lib/modules is /usr/lib/modules on a merged /usr (Debian 12)
	[ "$(readlink -f /lib/modules)" = /usr/lib/modules ] || roots+=(/lib/modules)
	[ ! -e /var/lib/dkms ] || roots+=(/var/lib/dkms)
	# shellcheck disable=SC2016 # dpkg-query's format
	dpkg-query -W -f='pkg ${binary:Package} ${Version} ${Status}\n'
	find "${roots[@]}" -xdev -printf 'file %y %m %s %T@ %p\n' 2>/dev/null
}

unchanged() {
	local before=$1 changes
	[ -s "$before" ] || die "no listing in $before (pkg_system_before did not run?)"
	changes=$(diff "$before" <(snapshot | sort) | grep '^[<>]' || true)
	if [ -n "$changes" ]; then
		echo "this machine changed during the pkg_ tests (< before, > after):" >&2
		head -60 <<<"$changes" >&2
		die "$(wc -l <<<"$changes") lines of the listing differ"
	fi
	echo "this machine's packages, /usr, /etc, /lib/modules, /var/lib/dkms: unchanged ($(wc -l <"$before") entries)"
}

cmd=${1:-}
shift || true
case $cmd in
build) build "$@" ;;
rootfs) rootfs "$@" ;;
snapshot) snapshot | sort >"$1" && echo "listing of this machine: $(wc -l <"$1") entries in $1" ;;
unchanged) unchanged "$@" ;;
install)
	[ $# -eq 2 ] || die "usage: deb.sh install ROOT OUT"
	in_root "$1" --copy "$2" /tmp/debs install /tmp/debs
	;;
consumer)
	# CC by name: the test root's compiler of that name
	[ $# -eq 3 ] || die "usage: deb.sh consumer ROOT SRC CC"
	in_root "$1" --copy "$2" /tmp/consumer consumer /tmp/consumer "$(basename "$3")"
	;;
purge | demo | probes | probes_fire | dkms)
	[ $# -eq 1 ] || die "usage: deb.sh $cmd ROOT"
	in_root "$1" "$cmd"
	;;
__ns) ns "$@" ;;
__chrooted)
	# Inside the test root only: these install and remove packages.
	[ -f "$STAMP" ] || die "not in a test root (no $STAMP): refusing to change this machine"
	cmd=$1
	shift
	case $cmd in
	install) install "$@" ;;
	purge) purge ;;
	demo) demo ;;
	consumer) consumer "$@" ;;
	probes) probes ;;
	probes_fire) probes_fire ;;
	dkms) dkms_build ;;
	*) die "unknown command in the test root: $cmd" ;;
	esac
	;;
*) die "usage: deb.sh build|rootfs|install|purge|demo|consumer|probes|probes_fire|dkms|snapshot|unchanged ..." ;;
esac
