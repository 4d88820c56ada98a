#!/usr/bin/env bash
# The main job: install build dependencies, build, run `azblob demo`:
# on a machine without a Hyper-V Azure Blob device it starts the built-in
# simulated device, puts and gets a blob through the fast path and prints
# request latency percentiles. Arguments go to `azblob demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build/default -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/default --target azblob-cli >/dev/null
exec build/default/tools/azblob/azblob demo "$@"
