/*
 * azblob-bench --threads N: N threads, each on its own queue of depth
 * qd / N, all on one client and its one channel, against the host
 * published at `root`; N = 0 is the plain client (one thread, depth qd),
 * the baseline at the same total queue depth. No-op requests, each
 * thread busy-polls its queue (driving the channel with the try-lock).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <azblob.h>

#include "threads.h"

static void log_stderr(void *arg, enum uvmbus_log_level lvl, const char *msg)
{
	(void)arg;
	(void)lvl;
	fprintf(stderr, "%s\n", msg);
}

static const char head[] = "GET /$sim/noop HTTP/1.1\r\n\r\n";

struct tw;

struct tctx {
	struct tw *w;
	unsigned idx;
};

struct tw {
	struct azblob_client *c;
	struct tctx *ctx;
	unsigned *free_idx, nfree;
	struct azblob_queue *q; /* NULL: the client's own calls */
	unsigned qd, inflight;
	int cpu;
	bool yield;
	atomic_bool *stop;
	_Alignas(64) atomic_ulong done;
	int err;
};

static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct tctx *x = user;
	struct tw *w = x->w;

	(void)len;
	w->free_idx[w->nfree++] = x->idx;
	if (err || status)
		w->err = err ? err : -EPROTO;
	w->inflight--;
	atomic_store_explicit(&w->done, atomic_load_explicit(&w->done, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static void *tw_run(void *arg)
{
	struct tw *w = arg;
	char *req = azblob_alloc(w->c, sizeof(head));
	char *resp = azblob_alloc(w->c, 512 * w->qd);

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	if (!req || !resp) {
		w->err = -ENOMEM;
		return NULL;
	}
	memcpy(req, head, sizeof(head) - 1);
	/* One response buffer per request in flight (the host checks that
	 * none is reused while it may still write it); one request head. */
	for (unsigned i = 0; i < w->qd; i++) {
		w->ctx[i] = (struct tctx){w, i};
		w->free_idx[w->nfree++] = i;
	}
	struct azblob_request r = {
	    .request = req, .request_len = sizeof(head) - 1, .response_len = 512, .done = on_done};

	while (!atomic_load_explicit(w->stop, memory_order_relaxed) && !w->err) {
		while (w->nfree) {
			unsigned i = w->free_idx[w->nfree - 1];
			int rc;

			r.response = resp + 512 * i;
			r.user = &w->ctx[i];
			rc = w->q ? azblob_queue_submit(w->q, &r) : azblob_submit(w->c, &r);

			if (rc == -EAGAIN)
				break;
			if (rc) {
				w->err = rc;
				break;
			}
			w->nfree--;
			w->inflight++;
		}
		if (w->q)
			azblob_queue_flush(w->q);
		else
			azblob_flush(w->c);
		int got = w->q ? azblob_queue_poll(w->q, 0) : azblob_poll(w->c, 0);

		if (got < 0)
			w->err = got;
		else if (!got && w->yield)
			sched_yield(); /* nothing for us: let the thread in the channel run */
	}
	/* Drain: the queue may only go when nothing is out. */
	for (int i = 0; i < 1000000 && w->inflight; i++)
		if ((w->q ? azblob_queue_flush(w->q) : azblob_flush(w->c)) < 0 ||
		    (w->q ? azblob_queue_poll(w->q, 0) : azblob_poll(w->c, 0)) < 0)
			break;
	azblob_free(w->c, req);
	azblob_free(w->c, resp);
	return NULL;
}

static uint64_t total(struct tw *w, unsigned n)
{
	uint64_t s = 0;

	for (unsigned i = 0; i < n; i++)
		s += atomic_load(&w[i].done);
	return s;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	nanosleep(&ts, NULL);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bench_threads(const char *root, unsigned nthreads, unsigned qd, double warmup, double secs,
		  int cpu, double *rps)
{
	unsigned n = nthreads ? nthreads : 1;
	struct azblob_opts o;
	struct azblob_client *c;
	struct tw *w;
	pthread_t *t;
	atomic_bool stop = false;
	int rc = 0;

	if (qd < n)
		return -EINVAL;
	azblob_opts_init(&o);
	o.sim_root = root;
	o.queue_depth = qd;
	o.pool_bufs = 2 * n + 8;
	o.pool_buf_size = 512 * qd > 4096 ? 512 * qd : 4096;
	o.log.fn = getenv("BENCH_LOG") ? log_stderr : NULL;
	o.log.max_level = UVMBUS_LOG_DEBUG;
	rc = azblob_open(&c, &o);
	if (rc)
		return rc;
	w = aligned_alloc(64, sizeof(*w) * n);
	t = calloc(n, sizeof(*t));
	if (!w || !t) {
		free(w);
		free(t);
		azblob_close(c);
		return -ENOMEM;
	}
	memset(w, 0, sizeof(*w) * n);
	for (unsigned i = 0; i < n; i++) {
		w[i].c = c;
		/* qd split over the threads; the first ones take the remainder */
		w[i].qd = qd / n + (i < qd % n);
		w[i].cpu = cpu;
		w[i].yield = getenv("BENCH_YIELD") && !strcmp(getenv("BENCH_YIELD"), "1");
		w[i].ctx = calloc(w[i].qd, sizeof(*w[i].ctx));
		w[i].free_idx = calloc(w[i].qd, sizeof(*w[i].free_idx));
		if (!w[i].ctx || !w[i].free_idx)
			rc = -ENOMEM;
		w[i].stop = &stop;
		if (nthreads && !rc)
			rc = azblob_queue_create(c, w[i].qd, &w[i].q);
	}
	for (unsigned i = 0; !rc && i < n; i++)
		pthread_create(&t[i], NULL, tw_run, &w[i]);
	if (!rc) {
		sleep_s(warmup);
		uint64_t d0 = total(w, n);
		double s0 = mono_s();

		sleep_s(secs);
		uint64_t d1 = total(w, n);
		double s1 = mono_s();

		*rps = (double)(d1 - d0) / (s1 - s0);
		atomic_store(&stop, true);
		for (unsigned i = 0; i < n; i++) {
			pthread_join(t[i], NULL);
			if (w[i].err && !rc)
				rc = w[i].err;
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (w[i].q && azblob_queue_destroy(w[i].q) && !rc) {
			fprintf(stderr, "azblob-bench: thread %u: %u request(s) still out\n", i,
				w[i].inflight);
			rc = -EBUSY;
		}
	int crc = azblob_close(c);

	if (crc && !rc) {
		fprintf(stderr, "azblob-bench: close: %s\n", strerror(-crc));
		rc = crc;
	}
	for (unsigned i = 0; i < n; i++) {
		free(w[i].ctx);
		free(w[i].free_idx);
	}
	free(w);
	free(t);
	return rc;
}
