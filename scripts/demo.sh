#!/usr/bin/env bash
# The main job: install build dependencies, build, run the demo.
# Today the demo round-trips Azure Blob requests through a channel's rings
# in one process (no VMbus needed) and prints every step.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build/default -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/default --target uvmbus-ring-demo >/dev/null
exec build/default/tools/uvmbus-ring-demo "$@"
