/* azblob-bench --modes cost: instructions per request (cost.c). */
#ifndef BENCH_COST_H
#define BENCH_COST_H

#include <stdbool.h>
#include <stdint.h>

/* The client's phases, then the stepped host's (counted apart). */
enum { COST_SUBMIT, COST_FLUSH, COST_POLL, COST_HOST, COST_PHASES };

/* One point: instructions per request in each phase (the host's apart). */
struct cost_point {
	unsigned qd;
	uint32_t size;
	double ins[COST_PHASES];
	unsigned long requests; /* counted per phase */
	unsigned have;		/* bit per phase read (COST_GET_BITS: a get point) */
	/* --op get: the two counted downloads (cost_get.c): their totals and
	 * ranged Gets; the parent's per-Get figure and per-download rest. */
	double get_total[2];
	unsigned long get_n[2];
	double get_per_req, get_overhead;
};

#define COST_GET_BITS (3u << COST_PHASES)

/* The counter cost_measure() uses. */
#define COST_COUNTER "callgrind"

/* Run `self --cost-child` under callgrind for each queue depth in qds
 * (no-op requests and 64 KiB requests from one pool buffer each), `reqs`
 * requests per phase, against a stepped `host` ("null" or "sim": the
 * normal host, memory backend), submitted with `api` ("plain":
 * azblob_submit; "prepared": azblob_prep_submit), and read its dumps into pts (sorted by
 * queue depth, then size). 0 or -1 (a message on stderr). */
int cost_measure(const char *self, const char *host, const char *api, const unsigned *qds,
		 unsigned nqd, unsigned long reqs, struct cost_point *pts, unsigned cap,
		 unsigned *npts);

/* --op get: the blob helpers' ranged Get of `size`-byte chunks, one point
 * per queue depth (cost_get.c, the normal host in its own thread, only
 * the client thread counted). 0 or -1. */
int cost_measure_get(const char *self, const unsigned *qds, unsigned nqd, uint32_t size,
		     struct cost_point *pts, unsigned cap, unsigned *npts);
/* Its child (cost_get.c). 0 or 1. */
int cost_get_child(const unsigned *qds, unsigned nqd, uint32_t size);

/* The child: argv = {prog, "--cost-child", "QD,QD,...", "REQUESTS", "HOST", "API"};
 * HOST "get": API is the chunk size (cost_get_child). */
int cost_child_main(int argc, char **argv);

#endif
