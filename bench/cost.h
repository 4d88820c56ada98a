/* azblob-bench --modes cost: instructions per request (cost.c). */
#ifndef BENCH_COST_H
#define BENCH_COST_H

#include <stdbool.h>
#include <stdint.h>

enum { COST_SUBMIT, COST_FLUSH, COST_POLL, COST_PHASES };

/* One point: the client's instructions per request in each phase. */
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
 * requests per phase, and read its dumps into pts (sorted by queue depth,
 * then size). 0 or -1 (a message on stderr). */
int cost_measure(const char *self, const unsigned *qds, unsigned nqd, unsigned long reqs,
		 struct cost_point *pts, unsigned cap, unsigned *npts);

/* The child: argv = {prog, "--cost-child", "QD,QD,...", "REQUESTS"}. */
int cost_child_main(int argc, char **argv);

#endif
