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
	unsigned have;		/* bit per phase read */
};

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

/* The child: argv = {prog, "--cost-child", "QD,QD,...", "REQUESTS", "HOST", "API"}. */
int cost_child_main(int argc, char **argv);

#endif
