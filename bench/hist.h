/* Log-linear latency histogram (HdrHistogram-like): 32 linear sub-buckets
 * per power of two, so any recorded value is off by at most 1/32 (~3%). */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdint.h>
#include <string.h>

#define HIST_SUB_BITS 5
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_BUCKETS  (64 * HIST_SUB)

struct hist {
	uint64_t count[HIST_BUCKETS];
	uint64_t n, min, max;
};

static inline void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static inline unsigned hist_index(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned e = 63 - (unsigned)__builtin_clzll(v); /* >= HIST_SUB_BITS */
	unsigned sub = (unsigned)(v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1);

	return (e - HIST_SUB_BITS + 1) * HIST_SUB + sub;
}

/* Lowest value of bucket i. */
static inline uint64_t hist_value(unsigned i)
{
	if (i < HIST_SUB)
		return i;
	unsigned e = i / HIST_SUB + HIST_SUB_BITS - 1, sub = i % HIST_SUB;

	return ((uint64_t)HIST_SUB + sub) << (e - HIST_SUB_BITS);
}

static inline void hist_add(struct hist *h, uint64_t v)
{
	h->count[hist_index(v)]++;
	h->n++;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

static inline uint64_t hist_min(const struct hist *h)
{
	return h->n ? h->min : 0;
}

static inline uint64_t hist_max(const struct hist *h)
{
	return h->max;
}

/* The value at percentile p (0..100): the bucket's lower bound. */
static inline uint64_t hist_pct(const struct hist *h, double p)
{
	uint64_t want = (uint64_t)((double)h->n * p / 100.0), seen = 0;

	if (!h->n)
		return 0;
	if (want >= h->n)
		want = h->n - 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen > want)
			return hist_value(i) > h->min ? hist_value(i) : h->min;
	}
	return h->max;
}

#endif
