/*
 * Queues under stress: THREADS threads, each with its own queue on one
 * client, submit QUEUE_STRESS_REQUESTS requests each (no-op and echo with
 * data) and reap them on their own queue, driving the channel with the
 * try-lock; the simulator injects duplicates, unknown ids, delays and
 * pauses meanwhile, and the threads allocate and free pool buffers as they
 * go; every other request goes through a prepared request of its slot
 * (azblob_queue_prep_submit, the request length and data_valid patched).
 * Every request must complete exactly once, on the queue and in the
 * thread that submitted it, with its own bytes. No race (TSan: a plain
 * program for that reason), no leak (ASan).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <azblob.h>
#include <azblob/sim.h>

#define THREADS 4
#define QDEPTH	16

struct worker {
	struct azblob_client *c;
	struct azblob_queue *q;
	int id;
	long n, done, bad;
	pthread_t self;
	uint8_t *seen;
	char *req[QDEPTH], *resp[QDEPTH];
	uint8_t *data[QDEPTH];
	struct azblob_prep *prep[QDEPTH];
	unsigned free_ctx[QDEPTH], nfree;
};

struct ctx {
	struct worker *w;
	unsigned slot;
	long idx;
	bool echo;
};

static struct ctx ctxs[THREADS][QDEPTH];
static atomic_long failures;
static atomic_int finished;

static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct ctx *x = user;
	struct worker *w = x->w;

	/* The callback runs in the submitting thread, on its queue only. */
	if (!pthread_equal(pthread_self(), w->self))
		w->bad++;
	if (err || status)
		w->bad++;
	if (x->echo) {
		/* the echo carries the request index back in the data */
		long got;

		memcpy(&got, w->data[x->slot], sizeof(got));
		if (got != x->idx)
			w->bad++;
	}
	(void)len;
	if (++w->seen[x->idx] != 1)
		w->bad++;
	w->done++;
	w->free_ctx[w->nfree++] = x->slot;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	long sent = 0;

	w->self = pthread_self();
	for (unsigned i = 0; i < QDEPTH; i++) {
		w->req[i] = azblob_alloc(w->c, 256);
		w->resp[i] = azblob_alloc(w->c, 512);
		w->data[i] = azblob_alloc(w->c, 64);
		if (!w->req[i] || !w->resp[i] || !w->data[i]) {
			fprintf(stderr, "queue_stress: thread %d: alloc failed\n", w->id);
			atomic_fetch_add(&failures, 1);
			atomic_fetch_add(&finished, 1);
			return NULL;
		}
		w->free_ctx[w->nfree++] = i;
		struct azblob_request t = {.request = w->req[i],
					   .request_len = 64,
					   .response = w->resp[i],
					   .response_len = 512,
					   .data = w->data[i],
					   .data_len = 64,
					   .done = on_done};

		if (azblob_prep_create(w->c, &t, &w->prep[i])) {
			fprintf(stderr, "queue_stress: thread %d: prep_create failed\n", w->id);
			atomic_fetch_add(&failures, 1);
			atomic_fetch_add(&finished, 1);
			return NULL;
		}
	}
	while (w->done < w->n) {
		while (sent < w->n && w->nfree) {
			unsigned i = w->free_ctx[w->nfree - 1];
			struct ctx *x = &ctxs[w->id][i];
			bool echo = sent % 3 == 0;

			x->w = w;
			x->slot = i;
			x->idx = sent;
			x->echo = echo;
			strcpy(w->req[i], echo ? "POST /$sim/echo HTTP/1.1\r\n\r\n"
					       : "GET /$sim/noop HTTP/1.1\r\n\r\n");
			memcpy(w->data[i], &sent, sizeof(sent));
			struct azblob_request r = {.request = w->req[i],
						   .request_len = (uint32_t)strlen(w->req[i]),
						   .response = w->resp[i],
						   .response_len = 512,
						   .data = echo ? w->data[i] : NULL,
						   .data_len = echo ? 64 : 0,
						   .data_valid = echo ? 64 : 0,
						   .done = on_done,
						   .user = x};
			int rc = sent % 2 ? azblob_queue_prep_submit(w->q, w->prep[i],
								     r.request_len, r.data_valid, x)
					  : azblob_queue_submit(w->q, &r);

			if (rc == -EAGAIN)
				break;
			if (rc) {
				fprintf(stderr, "queue_stress: thread %d: submit: %d\n", w->id, rc);
				atomic_fetch_add(&failures, 1);
				return NULL;
			}
			w->nfree--;
			sent++;
		}
		azblob_queue_flush(w->q);
		int got = azblob_queue_poll(w->q, 0);

		if (got < 0) {
			fprintf(stderr, "queue_stress: thread %d: poll: %d\n", w->id, got);
			atomic_fetch_add(&failures, 1);
			atomic_fetch_add(&finished, 1);
			return NULL;
		}
		/* Memory calls from every thread meanwhile. */
		if (sent % 64 == 0) {
			void *p = azblob_alloc(w->c, 128);

			azblob_free(w->c, p);
		}
	}
	for (unsigned i = 0; i < QDEPTH; i++) {
		if (azblob_prep_destroy(w->prep[i])) {
			fprintf(stderr, "queue_stress: thread %d: prep_destroy refused\n", w->id);
			atomic_fetch_add(&failures, 1);
		}
		azblob_free(w->c, w->req[i]);
		azblob_free(w->c, w->resp[i]);
		azblob_free(w->c, w->data[i]);
	}
	atomic_fetch_add(&finished, 1);
	return NULL;
}

int main(void)
{
	const char *env = getenv("QUEUE_STRESS_REQUESTS");
	long n = env ? atol(env) : 250000;
	struct worker w[THREADS];
	struct azblob_sim_opts so;
	struct azblob_sim *sim;
	struct azblob_opts o;
	struct azblob_client *c;
	pthread_t t[THREADS];
	int ok = 1;

	if (n <= 0)
		return 1;
	azblob_sim_opts_init(&so);
	so.ram_bytes = 64u << 20;
	so.no_hugetlb = true;
	so.seed = 11;
	so.poll = true;
	if (azblob_sim_create(&sim, &so) || azblob_sim_start(sim))
		return 1;
	azblob_opts_init(&o);
	o.sim_root = azblob_sim_root(sim);
	o.queue_depth = THREADS * QDEPTH;
	o.pool_buf_size = 4096;
	o.pool_bufs = 3 * THREADS * QDEPTH + 64;
	if (azblob_open(&c, &o))
		return 1;
	memset(w, 0, sizeof(w));
	for (int i = 0; i < THREADS; i++) {
		w[i].c = c;
		w[i].id = i;
		w[i].n = n;
		w[i].seen = calloc((size_t)n, 1);
		if (!w[i].seen || azblob_queue_create(c, QDEPTH, &w[i].q))
			return 1;
	}
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, run, &w[i]);
	/* Faults the routing must survive while the workers run: duplicated
	 * and unknown answers are dropped by whoever drives, never delivered
	 * to a queue; delays and pauses reorder the queues' answers. */
	for (unsigned k = 0; atomic_load(&finished) < THREADS; k++) {
		struct azblob_sim_faults f = {0};
		struct timespec ts = {0, 5000000};

		switch (k % 4) {
		case 0:
			f.duplicate = 3;
			f.unknown_tid = 2;
			break;
		case 1:
			f.delay_us = 20;
			f.jitter_us = 80;
			break;
		case 2:
			f.pause_ms = 1;
			break;
		default:
			break;
		}
		azblob_sim_set_faults(sim, &f);
		nanosleep(&ts, NULL);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);

	long total = 0, bad = 0, missing = 0;

	for (int i = 0; i < THREADS; i++) {
		total += w[i].done;
		bad += w[i].bad;
		for (long k = 0; k < n; k++)
			missing += w[i].seen[k] != 1;
		if (azblob_queue_inflight(w[i].q) || azblob_queue_destroy(w[i].q))
			ok = 0;
		free(w[i].seen);
	}
	struct azblob_stats cs;
	struct azblob_sim_stats ss;

	azblob_get_stats(c, &cs);
	azblob_sim_get_stats(sim, &ss);
	printf("queue_stress: %d threads x %ld requests: %ld completed, %ld bad, %ld not "
	       "exactly once; %llu duplicates and %llu unknown answers dropped; %llu host "
	       "violations\n",
	       THREADS, n, total, bad, missing, (unsigned long long)cs.duplicates,
	       (unsigned long long)cs.unknown, (unsigned long long)ss.violations_total);
	ok = ok && !atomic_load(&failures) && total == THREADS * n && !bad && !missing &&
	     cs.completed == (uint64_t)(THREADS * n) && !ss.violations_total;
	if (azblob_close(c))
		ok = 0;
	azblob_sim_destroy(sim);
	printf("queue_stress: %d passed, %d failed\n", ok, !ok);
	return ok ? 0 : 1;
}
