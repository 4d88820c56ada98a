#!/usr/bin/env bash
# pkg_deb_*: the Debian packages (debian/, docs/PACKAGING.md), built and
# installed on this machine (root), then purged.
#   deb.sh build SRC OUT    dpkg-buildpackage -b in a copy of SRC; .debs to OUT;
#                           lintian: no error
#   deb.sh install OUT      purge leftovers, dpkg -i every .deb of OUT
#   deb.sh purge            purge the packages (the dkms module with them)
#   deb.sh demo             /usr/bin/azblob demo; every installed program
#                           has a man page
#   deb.sh consumer SRC CC  build SRC (tests/install/consumer) against the
#                           installed files: CMake and pkg-config
#   deb.sh probes           readelf -n lists the USDT probes of libazblob
#   deb.sh probes_fire      bpftrace counts the probes of /usr/bin/azblob
#                           (libazblob linked in) on known traffic
#   deb.sh dkms             dkms build against the installed kernel headers
set -euo pipefail
PKGS=(azblob-tools libazblob-dev libazblob0 libuvmbus0 uvmbus-kstub-dkms)
# The probes of azblob/probes.h (docs/TRACING.md).
PROBES=(submit complete timeout late signal ring_full queue_full rescind)

die() {
	echo "deb.sh: $*" >&2
	exit 1
}
need() {
	for t in "$@"; do
		command -v "$t" >/dev/null || die "$t is missing: run scripts/deps.sh test"
	done
}
[ "$(id -u)" -eq 0 ] || die "needs root (installs packages)"

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
	# dkms builds for the running kernel at configure time when it has
	# headers; this one has none (it is not Debian's): a note, no error.
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
	local az=${AZBLOB_BIN:-/usr/bin/azblob} out prog n
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
	# The kernels with installed headers (linux-headers-amd64), never a
	# hard-coded version; the running kernel may have none.
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

cmd=${1:-}
shift || true
case $cmd in
build) build "$@" ;;
install) install "$@" ;;
purge) purge ;;
demo) demo ;;
consumer) consumer "$@" ;;
probes) probes ;;
probes_fire) probes_fire ;;
dkms) dkms_build ;;
*) die "usage: deb.sh build|install|purge|demo|consumer|probes|probes_fire|dkms ..." ;;
esac
