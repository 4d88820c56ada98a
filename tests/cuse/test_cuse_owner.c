/*
 * cuse_owner: the front end's core without /dev/cuse: many threads stage
 * requests in arenas and queue them to the one owner thread that drives a
 * libazblob client (an in-process simulator); every echo comes back
 * intact, nothing stays in flight, the arenas all come back. More threads
 * than arenas: the rest wait for one. A plain program (Criterion cannot
 * start under TSan), run in the default, ASan and TSan builds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azblob/sim.h>

#include "cuse_internal.h"

#define THREADS 8
#define ARENAS	3

static int requests = 150, echoes;
static struct azcuse s;

static void *worker(void *arg)
{
	long id = (long)arg, bad = 0;
	static const char head[] = "POST /$sim/echo HTTP/1.1\r\n\r\n";

	for (int i = 0; i < requests; i++) {
		struct azcuse_arena *ar = azcuse_arena_get(&s, 30000);
		struct azcuse_job j;
		uint32_t len = 1 + (uint32_t)((id * 7919 + i * 104729) % (3 * 65536));
		uint8_t *d, *rq, *rs;

		if (!ar)
			return (void *)1;
		d = ar->base + (i % 4096);
		rq = ar->base + 16 * 1024 * 1024;
		rs = rq + 4096;
		for (uint32_t k = 0; k < len; k++)
			d[k] = (uint8_t)(id + i + k * 13);
		memcpy(rq, head, sizeof(head) - 1);
		memset(&j, 0, sizeof(j));
		j.r = (struct azblob_request){.request = rq,
					      .request_len = sizeof(head) - 1,
					      .response = rs,
					      .response_len = 4096,
					      .data = d,
					      .data_len = len,
					      .data_valid = len};
		azcuse_run_job(&s, &j);
		if (j.err || j.status)
			bad++;
		for (uint32_t k = 0; k < len && !bad; k++)
			if (d[k] != (uint8_t)(id + i + k * 13))
				bad++;
		azcuse_arena_put(&s, ar, false);
	}
	return (void *)bad;
}

/* A request the host never answers: -ETIMEDOUT, and its arena is never
 * handed out again; the others still are, and still serve. */
static long retire(struct azblob_sim *sim)
{
	struct azblob_sim_faults f = {.drop = 1};
	struct azcuse_arena *ar = azcuse_arena_get(&s, 1000), *got[ARENAS];
	static const char head[] = "GET /$sim/noop HTTP/1.1\r\n\r\n";
	struct azcuse_job j;
	long bad = 0;
	unsigned n = 0;

	memcpy(ar->base, head, sizeof(head) - 1);
	memset(&j, 0, sizeof(j));
	j.r = (struct azblob_request){.request = ar->base,
				      .request_len = sizeof(head) - 1,
				      .response = ar->base + 4096,
				      .response_len = 4096,
				      .timeout_ms = 100};
	azblob_sim_set_faults(sim, &f);
	if (azcuse_run_staged(&s, ar, &j) != -ETIMEDOUT || !ar->lost || s.lost != 1) {
		printf("FAIL: a dropped answer: err %d, arena lost %d\n", j.err, ar->lost);
		bad++;
	}
	while (n < ARENAS && (got[n] = azcuse_arena_get(&s, 200)))
		if (got[n++] == ar)
			bad++;
	if (n != ARENAS - 1) {
		printf("FAIL: %u arenas after one was retired, want %d\n", n, ARENAS - 1);
		bad++;
	}
	while (n)
		azcuse_arena_put(&s, got[--n], false);
	requests = 3;
	if (worker((void *)99))
		bad++;
	return bad;
}

int main(void)
{
	struct azblob_sim_opts so;
	struct azblob_sim *sim;
	struct azblob_opts co;
	struct azcuse_opts o;
	struct azblob_client *c;
	pthread_t t[THREADS];
	long bad = 0;
	int rc;

	if (getenv("CUSE_OWNER_REQUESTS"))
		requests = atoi(getenv("CUSE_OWNER_REQUESTS"));
	azblob_sim_opts_init(&so);
	so.ram_bytes = 192u << 20;
	so.no_hugetlb = true;
	so.kernel = getenv("AZBLOB_SIM_KERNEL"); /* a kernel profile, when named */
	if ((rc = azblob_sim_create(&sim, &so)) || (rc = azblob_sim_start(sim))) {
		fprintf(stderr, "FAIL: simulator: %d\n", rc);
		return 1;
	}
	azblob_opts_init(&co);
	co.sim_root = azblob_sim_root(sim);
	azcuse_client_opts(&co, ARENAS);
	if ((rc = azblob_open(&c, &co))) {
		fprintf(stderr, "FAIL: open: %d\n", rc);
		return 1;
	}
	azcuse_opts_init(&o);
	o.arenas = ARENAS;
	if ((rc = azcuse_core_init(&s, c, &o)) || (rc = azcuse_owner_start(&s))) {
		fprintf(stderr, "FAIL: core: %d\n", rc);
		return 1;
	}
	echoes = requests;
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < THREADS; i++) {
		void *r;

		pthread_join(t[i], &r);
		bad += (long)r;
	}
	for (unsigned i = 0; i < s.narenas; i++)
		if (s.arenas[i].busy || s.arenas[i].lost)
			bad++;
	bad += retire(sim);
	azcuse_owner_stop(&s);
	if (s.inflight || s.head || azblob_inflight(c))
		bad++;
	azcuse_core_fini(&s);
	azblob_close(c);
	azblob_sim_destroy(sim);
	printf("%s: %d threads x %d echoes through %d arenas, %ld bad\n", bad ? "FAIL" : "PASS",
	       THREADS, echoes, ARENAS, bad);
	return bad ? 1 : 0;
}
