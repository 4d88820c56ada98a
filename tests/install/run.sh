#!/usr/bin/env bash
# Install the built tree into a scratch prefix, then build a tiny consumer
# against it twice: with find_package(uvmbus) and with pkg-config, shared
# and static; run each.
set -euo pipefail
build=$1 src=$2 cc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/include/uvmbus.h"
test -f "$prefix/lib/pkgconfig/uvmbus.pc" || test -f "$prefix"/lib*/pkgconfig/uvmbus.pc

echo "== find_package(uvmbus)"
cmake -S "$src" -B "$work/cm" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$work/cm" >/dev/null
LD_LIBRARY_PATH="$(dirname "$(find "$prefix" -name 'libuvmbus.so.*' | head -1)")" "$work/cm/consumer_shared"
"$work/cm/consumer_static"
LD_LIBRARY_PATH="$(dirname "$(find "$prefix" -name 'libuvmbus.so.*' | head -1)")" "$work/cm/azblob_consumer"
if ldd "$work/cm/consumer_static" | grep -q libuvmbus; then
	echo "static consumer links libuvmbus.so" >&2
	exit 1
fi

echo "== pkg-config"
pcdir=$(dirname "$(find "$prefix" -name uvmbus.pc | head -1)")
export PKG_CONFIG_PATH=$pcdir
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Werror -o "$work/pc" "$src/consumer.c" $(pkg-config --cflags --libs uvmbus)
LD_LIBRARY_PATH="$(pkg-config --variable=libdir uvmbus)" "$work/pc"
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Werror -o "$work/pca" "$src/azblob_consumer.c" $(pkg-config --cflags --libs azblob)
LD_LIBRARY_PATH="$(pkg-config --variable=libdir azblob)" "$work/pca"
echo "install consumer: OK"
