/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libazblob's one time source. On x86-64 with an invariant TSC: the TSC,
 * converted to CLOCK_MONOTONIC nanoseconds with a rate calibrated once at
 * open (about 1 ms) and re-synchronised on slow paths that make a system
 * call anyway (a rate that changes, e.g. after a live migration, is
 * followed from there). Elsewhere: clock_gettime(CLOCK_MONOTONIC) (vDSO).
 * Deadlines are 1 s or more past the host's timeout (AZBLOB_GRACE_MS), so
 * a calibration error of 1e-4 never matters.
 */
#ifndef AZBLOB_CLOCK_H
#define AZBLOB_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct az_clock {
	bool tsc;	  /* the TSC path is in use */
	uint64_t tsc0;	  /* reference point: TSC ... */
	uint64_t ns0;	  /* ... and CLOCK_MONOTONIC at the same instant */
	uint64_t mult;	  /* ns per tick, << 32 */
	uint64_t tsc_cal; /* the reference point the rate was last measured from */
	uint64_t ns_cal;
};

static inline uint64_t az_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
static inline uint64_t az_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}
#else
static inline uint64_t az_rdtsc(void)
{
	return 0;
}
#endif

/* Now, in CLOCK_MONOTONIC nanoseconds. No system call on the TSC path. */
static inline uint64_t az_clock_now(const struct az_clock *k)
{
	if (!k->tsc)
		return az_mono_ns();
	uint64_t d = az_rdtsc() - k->tsc0;

	return k->ns0 + (uint64_t)(((unsigned __int128)d * k->mult) >> 32);
}

/* Calibrate (about 1 ms when the TSC is usable); `use_tsc` false forces
 * clock_gettime. */
void az_clock_init(struct az_clock *k, bool use_tsc);
/* A fresh reference point, and the rate re-measured when the last
 * measurement is at least 100 ms old. For slow paths only. */
void az_clock_resync(struct az_clock *k);

#endif
