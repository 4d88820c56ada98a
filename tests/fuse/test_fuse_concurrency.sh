#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# fuse_concurrency: 8 readers and 2 writers on one mount. The writers
# replace the same file again and again, each with a content of its own;
# the readers read it whole again and again. Every read that succeeds
# gives exactly one of the versions (never a mix of two); a read whose
# blob was replaced under it fails with EIO (docs/FUSE.md); some reads of
# each kind succeed; the last version is whole. Readers of other files
# meanwhile read their own content.  usage: test_fuse_concurrency.sh BUILD_DIR
source "$(dirname "$0")/lib.sh" "$1"
m=$fz_dir/m
fz_mount "$m" "$fz_dir/fuse.log" conc "$m" --sim -o block_size=256K,read_ahead=4
python3 - "$m" <<'PY' || fail "concurrent readers and writers (above)"
import errno, hashlib, os, sys, threading

m = sys.argv[1]
SIZE = 6 << 20
versions = {}
def content(tag):
    seed = hashlib.sha256(tag.encode()).digest()
    block = (seed * ((1 << 16) // len(seed)))
    data = bytearray()
    i = 0
    while len(data) < SIZE:
        data += hashlib.sha256(seed + i.to_bytes(4, "little")).digest() + block[: (1 << 16) - 32]
        i += 1
    return bytes(data[:SIZE])

def write(path, data):
    with open(path, "wb") as f:
        for o in range(0, len(data), 1 << 20):
            f.write(data[o:o + (1 << 20)])

initial = content("initial")
versions[hashlib.sha256(initial).hexdigest()] = "initial"
write(m + "/shared.bin", initial)
other = content("other")
write(m + "/other.bin", other)
stats = {"ok": 0, "eio": 0, "writes": 0, "other": 0}
errors = []
lock = threading.Lock()
stop = threading.Event()

def writer(n):
    for r in range(6):
        data = content("w%d-%d" % (n, r))
        with lock:
            versions[hashlib.sha256(data).hexdigest()] = "w%d-%d" % (n, r)
        write(m + "/shared.bin", data)
        with lock:
            stats["writes"] += 1

def reader(n):
    while not stop.is_set():
        try:
            with open(m + "/shared.bin", "rb") as f:
                data = f.read()
        except OSError as e:
            if e.errno != errno.EIO:
                errors.append("reader %d: %s" % (n, e))
                return
            with lock:
                stats["eio"] += 1
            continue
        h = hashlib.sha256(data).hexdigest()
        with lock:
            known = h in versions
            stats["ok"] += known
        if not known:
            errors.append("reader %d: %d bytes that are no version (a mix)" % (n, len(data)))
            return
        if n % 4 == 0:
            with open(m + "/other.bin", "rb") as f:
                if f.read() != other:
                    errors.append("reader %d: other.bin differs" % n)
                    return
            with lock:
                stats["other"] += 1

readers = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
writers = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
for t in readers + writers:
    t.start()
for t in writers:
    t.join()
stop.set()
for t in readers:
    t.join()
with open(m + "/shared.bin", "rb") as f:
    last = hashlib.sha256(f.read()).hexdigest()
print("reads of a whole version %d, EIO (replaced while read) %d, writes %d, other %d, last %s"
      % (stats["ok"], stats["eio"], stats["writes"], stats["other"], versions.get(last)))
if errors:
    print("\n".join(errors))
    sys.exit(1)
if last not in versions or not versions[last].startswith("w"):
    sys.exit("the last content is no writer's version")
if stats["ok"] < 8 or stats["writes"] != 12 or stats["other"] < 2:
    sys.exit("too few operations went through")
PY
fz_umount "$m"
echo ok
