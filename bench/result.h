/* One measured point of azblob-bench. */
#ifndef BENCH_RESULT_H
#define BENCH_RESULT_H

#include <stdint.h>

#include "hist.h"

struct result {
	const char *mode;
	unsigned qd;
	uint32_t size;
	double rps, bps, cpu_ns, signals_per_req, interrupts_per_req, syscalls_per_req,
	    allocs_per_req;
	uint64_t ring_full, requests;
	struct hist h;
	/* --modes cost: instructions per request, and what counted them */
	const char *counter;
	const char *api;				   /* plain or prepared submits */
	double ins_submit, ins_flush, ins_poll, ins_total; /* total: the client's */
	double ins_host; /* the stepped host's (null or sim), counted apart */
	/* "get": the blob helpers' ranged Get (phases NaN: not apart), and
	 * its per-download rest (Get Blob Properties, set-up); else NULL */
	const char *op;
	double ins_overhead;
	/* --op put/get with data: a memcpy of the same bytes (the same
	 * buffers, the same run), bytes/s; 0 otherwise. */
	double memcpy_bps;
};

/* plot.c: PNG charts with gnuplot into dir. */
int plot(const char *dir, const struct result *r, unsigned n);

#endif
