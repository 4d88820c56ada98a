/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libazblob's one time source. A counter read in user space, converted to
 * CLOCK_MONOTONIC nanoseconds with a rate set once at open and
 * re-synchronised on slow paths that make a system call anyway (a rate
 * that changes, e.g. after a live migration, is followed from there):
 * - x86-64 with an invariant TSC: the TSC, its rate calibrated against
 *   CLOCK_MONOTONIC at open (about 1 ms);
 * - arm64: the generic timer's virtual count (CNTVCT_EL0), constant-rate
 *   and the same on every CPU by the architecture, its rate read from
 *   CNTFRQ_EL0 (no calibration wait);
 * elsewhere: clock_gettime(CLOCK_MONOTONIC) (vDSO). Deadlines are 1 s or
 * more past the host's timeout (AZBLOB_GRACE_MS), so a calibration error of
 * 1e-4 never matters. (The fields keep the name `tsc` for either counter.)
 *
 * Threads: az_clock_now() may run in any number of threads while one
 * thread at a time (the client's lock in shared mode) re-synchronises. The
 * reference point (tsc0, ns0, mult) is published under a sequence count
 * (a seqlock): a reader that overlapped a re-synchronisation reads again,
 * so it never combines an old tsc0 with a new ns0. Uncontended that is two
 * plain loads and a compare on x86 (TSO): no locked instruction; on arm64
 * an ldar, the loads, a dmb ishld and the count again (docs/RING.md has
 * the C11 argument).
 */
#ifndef AZBLOB_CLOCK_H
#define AZBLOB_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct az_clock {
	bool tsc;	  /* the TSC path is in use (set at init, then constant) */
	uint32_t seq;	  /* odd while the reference point is being rewritten */
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

/* The counter: the TSC on x86-64, CNTVCT_EL0 on arm64 (after an isb, as
 * Linux's arch_timer_read_cntvct_el0(): the read is otherwise not ordered
 * even with an earlier read of the same register, and time could step
 * back between two calls). */
#if defined(__x86_64__)
static inline uint64_t az_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}
#elif defined(__aarch64__)
static inline uint64_t az_rdtsc(void)
{
	uint64_t v;

	__asm__ __volatile__("isb\n\tmrs %0, cntvct_el0" : "=r"(v)::"memory");
	return v;
}
#else
static inline uint64_t az_rdtsc(void)
{
	return 0;
}
#endif

/* Now, in CLOCK_MONOTONIC nanoseconds, and in *raw the counter it was
 * converted from (0 when the counter is not in use: clock_gettime). No
 * system call on the TSC path. */
static inline uint64_t az_clock_now_raw(const struct az_clock *k, uint64_t *raw)
{
	if (!k->tsc) {
		*raw = 0;
		return az_mono_ns();
	}
	for (;;) {
		/* acquire: the fields below are read after this count ... */
		uint32_t s = __atomic_load_n(&k->seq, __ATOMIC_ACQUIRE);
		uint64_t tsc0 = __atomic_load_n(&k->tsc0, __ATOMIC_RELAXED);
		uint64_t ns0 = __atomic_load_n(&k->ns0, __ATOMIC_RELAXED);
		uint64_t mult = __atomic_load_n(&k->mult, __ATOMIC_RELAXED);

		/* ... and before the count is read again */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(s & 1) && __atomic_load_n(&k->seq, __ATOMIC_RELAXED) == s) {
			/* A TSC read just after a resync can lie below tsc0: rdtsc
			 * is not ordered with the loads above (nor is an arm64
			 * count read with loads), and the vCPUs of a VM are not
			 * exactly in step. Unclamped, that small
			 * negative difference is 2^64 ticks: centuries ahead, and
			 * every deadline past. */
			uint64_t t = az_rdtsc();
			int64_t d = (int64_t)(t - tsc0);

			if (d < 0)
				d = 0;
			*raw = t;
			return ns0 + (uint64_t)(((unsigned __int128)(uint64_t)d * mult) >> 32);
		}
	}
}

/* Now, in CLOCK_MONOTONIC nanoseconds. */
static inline uint64_t az_clock_now(const struct az_clock *k)
{
	uint64_t raw;

	return az_clock_now_raw(k, &raw);
}

/* The counter ticks of ns nanoseconds at the current rate, rounded down
 * (0 when the counter is not in use). A division: for slow paths. */
static inline uint64_t az_clock_ticks(const struct az_clock *k, uint64_t ns)
{
	if (!k->tsc || !k->mult)
		return 0;
	return (uint64_t)(((unsigned __int128)ns << 32) / k->mult);
}

/* Calibrate (about 1 ms when the TSC is usable); `use_tsc` false forces
 * clock_gettime. */
void az_clock_init(struct az_clock *k, bool use_tsc);
/* A fresh reference point, and the rate re-measured when the last
 * measurement is at least 100 ms old. For slow paths only. */
void az_clock_resync(struct az_clock *k);

#endif
