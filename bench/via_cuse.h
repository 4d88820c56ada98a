/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* azblob-bench --via cuse (via_cuse.c). */
#ifndef BENCH_VIA_CUSE_H
#define BENCH_VIA_CUSE_H

#include "result.h"

struct via_cuse_cfg {
	const char *cuse_bin; /* azblob-cuse */
	const char *sim_root; /* the simulated host it connects to */
	double duration, warmup;
	long requests; /* > 0: this many instead of a duration */
};

/* One point: ioctls one at a time on a fresh azblob-cuse device. */
int via_cuse_run(const struct via_cuse_cfg *vc, uint32_t size, struct result *res);

#endif
