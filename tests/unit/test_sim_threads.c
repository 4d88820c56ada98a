/*
 * The in-process simulator thread and a guest thread on the same rings:
 * SIM_THREADS_REQUESTS requests at queue depth 32 through the whole path
 * (device layer, sim validation, memory backend), with jittered delays and
 * duplicated completions, each request answered exactly once (duplicates
 * recognised). A plain program so that it runs under TSan.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim_guest.h"

#define QD 32

int main(void)
{
	const char *env = getenv("SIM_THREADS_REQUESTS");
	long n = env ? atol(env) : 200000, sent = 0, done = 0, dups = 0, bad = 0;
	static uint8_t state[1 << 20]; /* per tid: 0 free, 1 in flight, 2 done */
	struct azblob_sim_opts o;
	struct tguest t;
	struct tcompl c;

	if (n <= 0 || n >= (long)sizeof(state)) {
		fprintf(stderr, "sim_threads: SIM_THREADS_REQUESTS out of range\n");
		return 1;
	}
	azblob_sim_opts_init(&o);
	o.ram_bytes = 32u << 20;
	o.no_hugetlb = true;
	o.faults.jitter_us = 20;
	if (tguest_open(&t, &o, NULL)) {
		fprintf(stderr, "sim_threads: cannot open the simulated device\n");
		return 1;
	}
	static const char head[] = "GET /$sim/noop HTTP/1.1\r\n\r\n";

	memcpy(t.buf, head, sizeof(head) - 1);
	struct azblob_sim_faults f = {.jitter_us = 20, .duplicate = 100};

	azblob_sim_set_faults(t.sim, &f);
	while (done < n) {
		while (sent < n && sent - done < QD) {
			struct treq q = {.tid = (uint64_t)sent + 1,
					 .req_len = sizeof(head) - 1,
					 .resp_off = 8192 + (uint32_t)(sent % QD) * 128,
					 .resp_len = 128};
			int rc = tsend(&t, &q);

			if (rc == -EAGAIN)
				break;
			if (rc) {
				fprintf(stderr, "sim_threads: send: %d\n", rc);
				return 1;
			}
			state[sent + 1] = 1;
			sent++;
		}
		int rc = trecv(&t, &c, 10000);

		if (rc) {
			fprintf(stderr, "sim_threads: receive after %ld: %d\n", done, rc);
			return 1;
		}
		if (c.tid == 0 || c.tid > (uint64_t)sent || c.status) {
			bad++;
		} else if (state[c.tid] == 2) {
			dups++;
		} else {
			state[c.tid] = 2;
			done++;
		}
	}
	struct azblob_sim_stats st;

	azblob_sim_get_stats(t.sim, &st);
	tguest_close(&t);
	printf("sim_threads: %ld requests, %ld duplicates recognised, %ld bad, sim saw %llu "
	       "requests, %llu violations\n",
	       n, dups, bad, (unsigned long long)st.requests,
	       (unsigned long long)st.violations_total);
	int ok = bad == 0 && dups == 100 && st.requests == (uint64_t)n && !st.violations_total;

	printf("sim_threads: %d passed, %d failed\n", ok, !ok);
	return ok ? 0 : 1;
}
