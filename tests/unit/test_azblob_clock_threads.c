/*
 * The time source shared by threads (azblob/clock.h): readers in two
 * threads while a third re-synchronises the reference point again and
 * again, as queues in shared mode do. Every reading stays within a few
 * milliseconds of CLOCK_MONOTONIC taken around it: a torn reference point
 * (an old tsc0 with a new ns0), or a TSC read that lands just below a
 * reference point published a moment ago (another vCPU, or rdtsc run ahead
 * of the loads), read as 2^64 ticks, put readings centuries ahead. Under
 * TSan the reads and the resyncs must not race. A plain program (TSan).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"

static struct az_clock k;
static atomic_bool stop;
static atomic_long bad;
static long resyncs;

static void *reader(void *arg)
{
	long n = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		uint64_t a = az_mono_ns(), t = az_clock_now(&k), b = az_mono_ns();

		/* 5 ms of slack: a descheduled reader on a busy machine */
		if (t + 5000000 < a || t > b + 5000000) {
			if (atomic_fetch_add(&bad, 1) < 5)
				fprintf(stderr, "reading %lld ns outside [%llu, %llu]\n",
					(long long)t, (unsigned long long)a, (unsigned long long)b);
		}
		n++;
	}
	return (void *)n;
}

int main(void)
{
	const char *env = getenv("CLOCK_THREADS_RESYNCS");
	pthread_t r[2];
	void *n0, *n1;

	resyncs = env ? atol(env) : 200000;
	az_clock_init(&k, true);
	printf("time source: %s, %ld resyncs\n", k.tsc ? "TSC" : "clock_gettime", resyncs);
	if (!k.tsc) {
		fprintf(stderr, "FAIL: no invariant TSC here: the shared reference point is not "
				"exercised\n");
		return 1;
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&r[i], NULL, reader, NULL);
	for (long i = 0; i < resyncs; i++)
		az_clock_resync(&k); /* one writer at a time, as under the client's lock */
	atomic_store(&stop, true);
	pthread_join(r[0], &n0);
	pthread_join(r[1], &n1);
	printf("%ld + %ld readings, %ld outside CLOCK_MONOTONIC's bounds\n", (long)n0, (long)n1,
	       atomic_load(&bad));
	if (atomic_load(&bad)) {
		fprintf(stderr, "FAIL: readings off CLOCK_MONOTONIC\n");
		return 1;
	}
	printf("PASS\n");
	return 0;
}
