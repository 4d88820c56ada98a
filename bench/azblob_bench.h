/* azblob-bench: what its files share (azblob_bench.c, spawn.c, report.c). */
#ifndef BENCH_AZBLOB_BENCH_H
#define BENCH_AZBLOB_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"

/* The options. */
struct cfg {
	char modes[128];
	unsigned qd[32], nqd;
	uint32_t size[16], nsize;
	double duration;
	long requests; /* per point, when > 0 (instead of duration) */
	double warmup;
	unsigned batch;
	const char *op;
	const char *vspd;
	const char *plot_dir;
	const char *host; /* "sim" or "null" (azblob-vspd --backend null) */
	const char *api;  /* --modes cost: "plain" (azblob_submit) or "prepared" */
	bool via_broker;  /* --via broker: each azblob point also through azblobd */
	bool via_cuse;	  /* --via cuse: add the cuse mode */
	bool modes_given; /* --modes */
	const char *azblobd;
	bool json;
	int client_cpu, host_cpu;
	unsigned threads; /* --threads N: queues (threads.c) */
	const char *cuse; /* azblob-cuse binary, for the cuse mode */
};

/* The benchmark's clock: the library's time source (azblob/clock.h), the
 * TSC where invariant, so that its own reads (one per request for the
 * latency, a few per round for the CPU column) do not inflate "client
 * CPU"; printed as "clock" in the output. */
extern struct az_clock bench_clock;

static inline uint64_t bench_now(void)
{
	return az_clock_now(&bench_clock);
}

static inline const char *bench_clock_name(void)
{
	return bench_clock.tsc ? "tsc" : "clock_gettime";
}

#endif
