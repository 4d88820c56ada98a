// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The counter time source: calibration and re-synchronisation (clock.h). */
#include "clock.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

/* The counter's rate in Hz where the architecture states it (arm64's
 * CNTFRQ_EL0, its low 32 bits), else 0: measured against CLOCK_MONOTONIC. */
static uint64_t counter_hz(void)
{
#if defined(__aarch64__)
	uint64_t hz;

	__asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(hz));
	return (uint32_t)hz;
#else
	return 0;
#endif
}

/* A counter that runs at a constant rate, in every C-state, the same on
 * every CPU of the VM. x86-64: the invariant TSC (CPUID 0x80000007 EDX
 * bit 8). arm64: the generic timer's virtual count always is (the Arm
 * architecture's system counter is uniform and constant-frequency); its
 * rate must be stated (CNTFRQ_EL0 not 0). */
static bool counter_usable(void)
{
#if defined(__x86_64__)
	unsigned a, b, c, d;

	if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
		return false;
	__get_cpuid(0x80000007u, &a, &b, &c, &d);
	return d & (1u << 8);
#elif defined(__aarch64__)
	return counter_hz() != 0;
#else
	return false;
#endif
}

/* (tsc, ns) taken as close together as possible: the pair of the
 * tightest of three tries. */
static void pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t t0 = az_rdtsc(), n = az_mono_ns(), t1 = az_rdtsc();
	uint64_t best = t1 - t0;

	*tsc = t0 + (t1 - t0) / 2;
	*ns = n;
	for (int i = 1; i < 3; i++) {
		t0 = az_rdtsc();
		n = az_mono_ns();
		t1 = az_rdtsc();
		if (t1 - t0 < best) {
			best = t1 - t0;
			*tsc = t0 + (t1 - t0) / 2;
			*ns = n;
		}
	}
}

/* ns per tick << 32 between two points; 0 when unusable. */
static uint64_t rate(uint64_t tsc0, uint64_t ns0, uint64_t tsc1, uint64_t ns1)
{
	if (tsc1 <= tsc0 || ns1 <= ns0)
		return 0;
	return (uint64_t)(((unsigned __int128)(ns1 - ns0) << 32) / (tsc1 - tsc0));
}

void az_clock_init(struct az_clock *k, bool use_tsc)
{
	uint64_t tsc1, ns1;
	uint64_t hz;

	*k = (struct az_clock){0};
	if (!use_tsc || !counter_usable())
		return;
	pair(&k->tsc0, &k->ns0);
	hz = counter_hz();
	if (hz) {
		/* stated: ns per tick << 32, no wait */
		tsc1 = k->tsc0;
		ns1 = k->ns0;
		k->mult = (uint64_t)(((unsigned __int128)1000000000u << 32) / hz);
	} else {
		do
			pair(&tsc1, &ns1);
		while (ns1 - k->ns0 < 1000000);
		k->mult = rate(k->tsc0, k->ns0, tsc1, ns1);
	}
	if (!k->mult)
		return;
	k->tsc0 = k->tsc_cal = tsc1;
	k->ns0 = k->ns_cal = ns1;
	k->tsc = true;
}

void az_clock_resync(struct az_clock *k)
{
	uint64_t tsc, ns, m;

	if (!k->tsc)
		return;
	pair(&tsc, &ns);
	m = k->mult;
	if (ns - k->ns_cal >= 100000000 && (m = rate(k->tsc_cal, k->ns_cal, tsc, ns))) {
		k->tsc_cal = tsc; /* the writer's own fields: no reader uses them */
		k->ns_cal = ns;
	}
	if (!m)
		m = k->mult;
	/* The seqlock's write side (clock.h): odd count, then the fields,
	 * then the even count; the release fence keeps the field stores after
	 * the odd count, the release store keeps them before the even one. */
	uint32_t s = k->seq;

	__atomic_store_n(&k->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&k->mult, m, __ATOMIC_RELAXED);
	__atomic_store_n(&k->tsc0, tsc, __ATOMIC_RELAXED);
	__atomic_store_n(&k->ns0, ns, __ATOMIC_RELAXED);
	__atomic_store_n(&k->seq, s + 2, __ATOMIC_RELEASE);
}
