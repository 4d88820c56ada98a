#!/usr/bin/env bash
# Azurite (the Azure Storage emulator, blob service only) for the rest
# backend's end-to-end test. docs/REST.md.
#
#   azurite.sh install          install azurite@3.35.0 with npm (idempotent)
#   azurite.sh bin              print the azurite-blob path (fails if missing)
#   azurite.sh freeport         print a free TCP port on 127.0.0.1
#   azurite.sh start PORT DIR   start it on 127.0.0.1:PORT, in memory, files
#                               (pid, log) in DIR; returns once it accepts
#                               connections (at most AZURITE_WAIT_S, 30 s)
#   azurite.sh startany DIR     start it on a free port (3 tries: a port picked
#                               free can be taken before Azurite binds it);
#                               prints the port
#   azurite.sh stop DIR         stop what `start` started (its process group)
#
# AZURITE_DEBUG=1: start writes Azurite's debug log to DIR/azurite-debug.log.
# Installed into AZURITE_PREFIX (default ~/.cache/azblob-azurite/3.35.0),
# outside the work tree and without root. AZURITE_BLOB=/path/to/azurite-blob
# uses another installation instead.
set -euo pipefail

VERSION=3.35.0
PREFIX=${AZURITE_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/azblob-azurite/$VERSION}

die() {
	echo "azurite.sh: $*" >&2
	exit 1
}

installed_version() {
	local pkg=$PREFIX/node_modules/azurite/package.json
	[ -f "$pkg" ] && [ -x "$PREFIX/node_modules/.bin/azurite-blob" ] || return 1
	node -p "require(process.argv[1]).version" "$pkg" 2>/dev/null
}

cmd_install() {
	if [ "$(installed_version || true)" = "$VERSION" ]; then
		return 0
	fi
	command -v node >/dev/null || die "node is not installed (Azurite needs Node.js >= 18)"
	command -v npm >/dev/null || die "npm is not installed"
	mkdir -p "$PREFIX"
	echo "azurite.sh: installing azurite@$VERSION into $PREFIX" >&2
	npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "azurite@$VERSION" >&2 ||
		die "npm install azurite@$VERSION failed"
	[ "$(installed_version || true)" = "$VERSION" ] || die "azurite@$VERSION did not install"
}

cmd_bin() {
	if [ -n "${AZURITE_BLOB:-}" ]; then
		[ -x "$AZURITE_BLOB" ] || die "AZURITE_BLOB=$AZURITE_BLOB is not executable"
		echo "$AZURITE_BLOB"
		return 0
	fi
	command -v node >/dev/null || die "node is not installed: Azurite cannot run"
	[ "$(installed_version || true)" = "$VERSION" ] ||
		die "azurite@$VERSION is not installed in $PREFIX: run scripts/azurite.sh install"
	echo "$PREFIX/node_modules/.bin/azurite-blob"
}

cmd_freeport() {
	command -v node >/dev/null || die "node is not installed"
	node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

accepts() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cmd_start() {
	local port=$1 dir=$2 bin pid waited=0 limit=$((${AZURITE_WAIT_S:-30} * 10))
	[[ $port =~ ^[0-9]+$ ]] || die "start: bad port '$port'"
	[ -d "$dir" ] || die "start: $dir is not a directory"
	bin=$(cmd_bin)
	if accepts "$port"; then
		die "start: something already listens on 127.0.0.1:$port"
	fi
	# setsid: Azurite leads its own process group, so stop can end it and
	# anything it started. (A background job of a script is no group
	# leader, so setsid execs in place and $! is Azurite's pid.)
	local debug=()
	if [ -n "${AZURITE_DEBUG:-}" ]; then
		debug=(--debug "$dir/azurite-debug.log")
	fi
	# Run in DIR so that nothing Azurite writes lands elsewhere.
	(cd "$dir" && exec setsid "$bin" --blobHost 127.0.0.1 --blobPort "$port" \
		--inMemoryPersistence --disableTelemetry --silent --skipApiVersionCheck --loose \
		"${debug[@]}" </dev/null >"$dir/azurite.log" 2>&1) &
	pid=$!
	echo "$pid" >"$dir/azurite.pid"
	until accepts "$port"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			cat "$dir/azurite.log" >&2 || true
			rm -f "$dir/azurite.pid"
			die "start: azurite exited before accepting connections on port $port"
		fi
		if [ "$waited" -ge "$limit" ]; then
			cmd_stop "$dir"
			die "start: azurite did not accept connections on port $port within $((limit / 10)) s"
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
}

cmd_stop() {
	local dir=$1 pid i
	[ -f "$dir/azurite.pid" ] || return 0
	pid=$(cat "$dir/azurite.pid")
	[[ $pid =~ ^[0-9]+$ ]] || die "stop: bad pid file $dir/azurite.pid"
	kill -TERM -- "-$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 -- "-$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	# Reap it when it is our child (start and stop in one shell).
	wait "$pid" 2>/dev/null || true
	rm -f "$dir/azurite.pid"
}

cmd_startany() {
	local dir=$1 port attempt
	for attempt in 1 2 3; do
		port=$(cmd_freeport)
		if (cmd_start "$port" "$dir") >&2; then
			echo "$port"
			return 0
		fi
		echo "azurite.sh: start attempt $attempt on port $port failed" >&2
	done
	die "startany: azurite did not start"
}

case "${1:-}" in
install) cmd_install ;;
bin) cmd_bin ;;
freeport) cmd_freeport ;;
start)
	[ $# -eq 3 ] || die "usage: azurite.sh start PORT DIR"
	cmd_start "$2" "$3"
	;;
startany)
	[ $# -eq 2 ] || die "usage: azurite.sh startany DIR"
	cmd_startany "$2"
	;;
stop)
	[ $# -eq 2 ] || die "usage: azurite.sh stop DIR"
	cmd_stop "$2"
	;;
*)
	echo "usage: azurite.sh install|bin|freeport|start PORT DIR|startany DIR|stop DIR" >&2
	exit 2
	;;
esac
