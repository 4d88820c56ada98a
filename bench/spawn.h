/* azblob-bench: the helper processes it starts (spawn.c). */
#ifndef BENCH_SPAWN_H
#define BENCH_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "azblob_bench.h"

/* A started helper: azblob-vspd (root: its publication directory) or
 * azblobd (root: its socket, in dir: a private directory of its own, as
 * azblobd refuses one others may write in). */
struct host {
	pid_t pid;
	char root[128];
	char dir[64];
};

/* azblob-vspd on the host CPU with ram bytes of guest memory, busy-polling
 * (poll_mode) or sleeping on its doorbell; --host null: its null backend.
 * 0 once its ready file exists, or -1 (a message on stderr). */
int host_start(const struct cfg *cfg, struct host *h, bool poll_mode, uint64_t ram);
/* Stop a started helper (SIGTERM) and reap it; nothing when none. */
void host_stop(struct host *h);
/* --via broker: azblobd --sim on the host CPU with bounce buffers for
 * requests of size bytes at queue depth qd. 0 or -1. */
int broker_start(const struct cfg *cfg, struct host *h, bool poll_mode, uint32_t size, unsigned qd);

/* The programs azblob-bench starts, relative to its own directory. */
extern const char *const VSPD_PATHS[], *const AZBLOBD_PATHS[], *const CUSE_PATHS[];
/* The first of rel (NULL-terminated) that exists next to this program,
 * into out; else the first candidate (its exec fails with a message). */
const char *helper_path(char *out, size_t cap, const char *const *rel);

#endif
