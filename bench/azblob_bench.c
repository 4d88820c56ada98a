/*
 * azblob-bench: request latency and throughput of the fast path against a
 * simulated host in a separate process (azblob-vspd), next to the physical
 * floor and to the original driver's wake-up model.
 *
 * Modes (--modes, comma separated, run side by side):
 *   floor      bare shared-memory ping-pong between the two CPUs
 *   poll       azblob, busy-polling client and host
 *   interrupt  azblob, client sleeps on the interrupt fd for every
 *              completion, host sleeps on its doorbell (the original
 *              driver's wait_for_completion per ioctl)
 *   sync       azblob_request_sync(), one request at a time
 *   cuse       the original ioctl on /dev/azure_blob served by azblob-cuse
 *              over the fast path (--via cuse: next to poll and interrupt)
 *   cost       instructions per request of the client alone, with a
 *              stepped null host in the same thread, under callgrind
 *              (cost.c)
 * The client runs pinned on CPU 0, azblob-vspd on CPU 1. --host null runs
 * azblob-vspd --backend null (the null host: the client alone), --host sim
 * (the default) the normal simulated host.
 */
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <azblob.h>
#include <azblob/blob.h>

#include "alloc_count.h"
#include "azblob_bench.h"
#include "bench_util.h"
#include "cost.h"
#include "report.h"
#include "result.h"
#include "spawn.h"
#include "threads.h"
#include "via_cuse.h"

struct az_clock bench_clock;

/* ---- floor: two threads ping-pong one cache line each way ---- */

struct pingpong {
	_Alignas(64) _Atomic uint64_t ping;
	_Alignas(64) _Atomic uint64_t pong;
	_Alignas(64) atomic_bool stop;
	int cpu;
};

static void *floor_echo(void *arg)
{
	struct pingpong *p = arg;
	uint64_t last = 0;

	pin_cpu(p->cpu);
	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		uint64_t v = atomic_load_explicit(&p->ping, memory_order_acquire);

		if (v != last) {
			atomic_store_explicit(&p->pong, v, memory_order_release);
			last = v;
		}
	}
	return NULL;
}

static void run_floor(const struct cfg *cfg, struct result *res)
{
	static struct pingpong p;
	pthread_t th;
	uint64_t i = 0, t_end, t0;

	memset(&p, 0, sizeof(p));
	p.cpu = cfg->host_cpu;
	pthread_create(&th, NULL, floor_echo, &p);
	pin_cpu(cfg->client_cpu);
	t0 = bench_now();
	t_end = t0 + (uint64_t)(cfg->warmup * 1e9);
	bool measuring = false;
	uint64_t m0 = 0, n = 0;

	for (;;) {
		uint64_t s = bench_now();

		if (!measuring && s >= t_end) {
			measuring = true;
			m0 = s;
			t_end = s + (uint64_t)(cfg->duration * 1e9);
		} else if (measuring &&
			   (cfg->requests > 0 ? (long)n >= cfg->requests : s >= t_end)) {
			break;
		}
		atomic_store_explicit(&p.ping, ++i, memory_order_release);
		while (atomic_load_explicit(&p.pong, memory_order_acquire) != i)
			;
		if (measuring) {
			hist_add(&res->h, bench_now() - s);
			n++;
		}
	}
	double secs = (double)(bench_now() - m0) / 1e9;

	atomic_store(&p.stop, true);
	pthread_join(th, NULL);
	res->requests = n;
	res->rps = (double)n / secs;
	res->cpu_ns = secs * 1e9 / (double)n;
}

/* ---- azblob modes ---- */

struct bench_req {
	uint64_t start;
	unsigned idx;
};

/* Completed requests, pushed by the callback (no scan over all slots). */
static unsigned done_list[1024], ndone;

static long failures;

static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct bench_req *q = user;

	(void)len;
	if ((err && err != -ECANCELED) || status) { /* ECANCELED: closing after the run */
		if (!failures)
			fprintf(stderr, "azblob-bench: a request failed: err %d status %#x\n", err,
				status);
		failures++;
	}
	done_list[ndone++] = q->idx;
}

static const char *head_for(const char *op, uint32_t size, char *buf, size_t cap)
{
	if (!strcmp(op, "put"))
		snprintf(buf, cap, "PUT /bench/b%u HTTP/1.1\r\n\r\n", size);
	else if (!strcmp(op, "get"))
		snprintf(buf, cap, "GET /bench/b%u HTTP/1.1\r\n\r\n", size);
	else if (size)
		snprintf(buf, cap, "POST /$sim/echo HTTP/1.1\r\n\r\n");
	else
		snprintf(buf, cap, "GET /$sim/noop HTTP/1.1\r\n\r\n");
	return buf;
}

struct slotctx {
	struct bench_req q;
	unsigned buf;
};

#define HEAD_SLOT 256

/* The head of a put with the CRC-64 of data (else the slot's fixed head):
 * its length. */
static uint32_t put_head(const struct cfg *cfg, char *slot, const uint8_t *data, uint32_t size,
			 uint32_t fixed_len)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char b64[13];
	uint64_t crc;

	if (strcmp(cfg->op, "put") || !data)
		return fixed_len;
	/* base64 of the 8 bytes, least significant first: 11 digits and '=' */
	crc = azblob_crc64(0, data, size);
	for (int i = 0; i < 11; i++) {
		unsigned bit = 6u * (unsigned)i, k = bit / 8, sh = bit % 8;
		unsigned w = (unsigned)(k < 8 ? (uint8_t)(crc >> (8 * k)) : 0) << 8 |
			     (k + 1 < 8 ? (uint8_t)(crc >> (8 * (k + 1))) : 0);

		b64[i] = t[(w >> (10 - sh)) & 63];
	}
	b64[11] = '=';
	b64[12] = 0;
	return (uint32_t)snprintf(slot, HEAD_SLOT,
				  "PUT /bench/b%u HTTP/1.1\r\nx-ms-content-crc64: %s\r\n\r\n", size,
				  b64);
}

/* A memcpy of size bytes from each of the nbufs data buffers in turn into
 * one more buffer, for about 0.3 s: bytes/s. */
static double memcpy_rate(uint8_t **data, unsigned nbufs, uint32_t size)
{
	uint8_t *dst = alloc_uncounted(size);
	uint64_t t0, t, n = 0;

	if (!dst)
		return 0;
	memset(dst, 1, size);
	t0 = now_ns();
	do {
		memcpy(dst, data[n % nbufs], size);
		__asm__ volatile("" ::"r"(dst) : "memory");
		n++;
		t = now_ns();
	} while (t - t0 < 300000000ull);
	free_uncounted(dst);
	return (double)n * size / ((double)(t - t0) / 1e9);
}

/* One azblob point: the client, the helper it talks to, its buffers and
 * the counts of the run. */
struct run {
	const struct cfg *cfg;
	struct result *res;
	struct azblob_client *c;
	struct host h;
	unsigned qd, nbufs, nfree, nfly;
	uint32_t size, head_len;
	bool interrupt, sync;
	char *req, *resp;
	uint8_t **data;
	struct slotctx *ctx;
	unsigned *free_ctx;
	struct azblob_prep **prep; /* --api prepared: one template per slot */
	/* the measurement: from m0, the counters then */
	bool measuring;
	uint64_t m0, cpu_ns, n, waits;
	struct azblob_stats st0;
	long allocs0;
};

/* The cuse mode: the device in front of a busy-polling host. */
static int run_cuse(const struct cfg *cfg, uint32_t size, struct result *res)
{
	struct host h = {0};
	struct via_cuse_cfg vc = {cfg->cuse, h.root, cfg->duration, cfg->warmup, cfg->requests};
	int rc;

	if (host_start(cfg, &h, true, 256ull << 20))
		return -1;
	vc.sim_root = h.root;
	rc = via_cuse_run(&vc, size, res);
	host_stop(&h);
	return rc;
}

/* The helper (azblob-vspd, or azblobd with broker) and a client on it:
 * poll and sync a busy-polling host, interrupt a sleeping one. 0 or -1. */
static int run_open(struct run *r, bool broker)
{
	uint32_t size = r->size;
	unsigned qd = r->qd;
	uint64_t ram = 64ull << 20;
	struct azblob_opts o;

	r->nbufs = size ? qd : 1;
	if (size && (uint64_t)size * r->nbufs > (1ull << 30))
		r->nbufs = (unsigned)((1ull << 30) / size); /* share data buffers beyond 1 GiB */
	if (!r->nbufs)
		r->nbufs = 1;
	ram += ((uint64_t)(size + 8192) * r->nbufs + (4u << 20) + (2u << 20) - 1) &
	       ~((2ull << 20) - 1);
	if (broker ? broker_start(r->cfg, &r->h, !r->interrupt, size, qd)
		   : host_start(r->cfg, &r->h, !r->interrupt, ram))
		return -1;
	azblob_opts_init(&o);
	if (broker)
		o.broker = r->h.root;
	else
		o.sim_root = r->h.root;
	o.queue_depth = r->sync ? 1 : qd;
	o.interrupt_mode = r->interrupt;
	o.pool_buf_size = size > 512 * qd ? size : 512 * qd;
	o.pool_bufs = r->nbufs + 4;
	if (azblob_open(&r->c, &o)) {
		host_stop(&r->h);
		return -1;
	}
	return 0;
}

/* One request head per slot (a put carries its body's CRC-64,
 * x-ms-content-crc64, computed at submit as the blob helpers do), one
 * response buffer per request in flight, the data buffers, the free
 * slots. The benchmark's own arrays are not counted as allocations. */
static void run_buffers(struct run *r)
{
	char head[128];

	r->req = azblob_alloc(r->c, HEAD_SLOT * r->qd);
	r->resp = azblob_alloc(r->c, 512 * r->qd);
	r->data = calloc_uncounted(r->nbufs, sizeof(*r->data));
	head_for(r->cfg->op, r->size, head, sizeof(head));
	r->head_len = (uint32_t)strlen(head);
	for (unsigned i = 0; i < r->qd; i++)
		memcpy(r->req + HEAD_SLOT * i, head, r->head_len);
	for (unsigned i = 0; r->size && i < r->nbufs; i++) {
		r->data[i] = azblob_alloc(r->c, r->size);
		memset(r->data[i], (int)i, r->size);
	}
	r->ctx = calloc_uncounted(r->qd, sizeof(*r->ctx));
	r->free_ctx = calloc_uncounted(r->qd, sizeof(*r->free_ctx));
	r->nfree = r->qd;
	for (unsigned i = 0; i < r->qd; i++)
		r->free_ctx[i] = i;
}

static uint32_t data_valid(const struct run *r)
{
	return !strcmp(r->cfg->op, "get") ? 0 : r->size;
}

/* --api prepared (not for put, whose head changes per request): slot i's
 * request as a template. 0 or -1. */
static int run_preps(struct run *r)
{
	if (strcmp(r->cfg->api, "prepared") || r->sync || !strcmp(r->cfg->op, "put"))
		return 0;
	r->prep = calloc_uncounted(r->qd, sizeof(*r->prep));
	for (unsigned i = 0; i < r->qd; i++) {
		struct azblob_request q = {
		    .request = r->req + HEAD_SLOT * i,
		    .request_len = r->head_len,
		    .response = r->resp + 512 * i,
		    .response_len = 512,
		    .data = r->size ? r->data[i % r->nbufs] : NULL,
		    .data_len = r->size,
		    .data_valid = data_valid(r),
		    .done = on_done,
		};

		if (azblob_prep_create(r->c, &q, &r->prep[i]))
			return -1;
	}
	return 0;
}

/* sync: one azblob_request_sync(). 0 or -1. */
static int step_sync(struct run *r)
{
	struct azblob_request_sync_abi a = {
	    .timeout = 30000,
	    .request_len = r->head_len,
	    .response_len = 512,
	    .data_len = r->size,
	    .data_valid = data_valid(r),
	    .request_buffer = (uintptr_t)r->req,
	    .response_buffer = (uintptr_t)r->resp,
	    .data_buffer = r->size ? (uintptr_t)r->data[0] : 0,
	};
	uint64_t a0 = bench_now(), a1;

	if (azblob_request_sync(r->c, &a) || a.response.status)
		return -1;
	a1 = bench_now();
	if (r->measuring) {
		hist_add(&r->res->h, a1 - a0);
		r->cpu_ns += a1 - a0;
		r->n++;
	}
	return 0;
}

/* Submit into every free slot (up to qd in flight), flush after every
 * --batch submits and at the end. */
static void submit_free(struct run *r)
{
	uint64_t since_flush = 0;

	while (r->nfree) {
		unsigned i = r->free_ctx[--r->nfree];
		struct slotctx *x = &r->ctx[i];
		uint8_t *data = r->size ? r->data[i % r->nbufs] : NULL;
		struct azblob_request q = {
		    .request = r->req + HEAD_SLOT * i,
		    .request_len =
			put_head(r->cfg, r->req + HEAD_SLOT * i, data, r->size, r->head_len),
		    .response = r->resp + 512 * i,
		    .response_len = 512,
		    .data = data,
		    .data_len = r->size,
		    .data_valid = data_valid(r),
		    .done = on_done,
		    .user = &x->q,
		};

		x->q.start = bench_now();
		x->q.idx = i;
		x->buf = i;
		if (r->prep ? azblob_prep_submit(r->c, r->prep[i], AZBLOB_PREP_SAME,
						 AZBLOB_PREP_SAME, &x->q)
			    : azblob_submit(r->c, &q)) {
			r->nfree++;
			r->res->ring_full++;
			break;
		}
		r->nfly++;
		if (++since_flush >= r->cfg->batch) {
			azblob_flush(r->c);
			since_flush = 0;
		}
	}
	azblob_flush(r->c);
}

/* poll and interrupt: submit, poll, take what completed; interrupt: sleep
 * on the interrupt fd when nothing did. 0 or -1. */
static int step_async(struct run *r)
{
	uint64_t c0 = bench_now(), c1, c2;
	int got;

	submit_free(r);
	c1 = bench_now();
	got = azblob_poll(r->c, 0);
	c2 = bench_now();
	if (got < 0)
		return -1;
	if (r->measuring)
		r->cpu_ns += (c1 - c0) + (got > 0 ? c2 - c1 : 0);
	if (got > 0) {
		for (unsigned k = 0; k < ndone; k++) {
			unsigned i = done_list[k];

			if (r->measuring) {
				hist_add(&r->res->h, c2 - r->ctx[i].q.start);
				r->n++;
			}
			r->free_ctx[r->nfree++] = i;
			r->nfly--;
		}
		ndone = 0;
	} else if (r->interrupt && r->nfly) {
		azblob_wait(r->c, 100);
		if (r->measuring)
			r->waits++;
	}
	return 0;
}

/* Warm up for --warmup seconds, then measure for --duration seconds (or
 * --requests requests). 0 or -1. */
static int run_loop(struct run *r)
{
	const struct cfg *cfg = r->cfg;
	uint64_t t_end = bench_now() + (uint64_t)(cfg->warmup * 1e9);

	for (;;) {
		uint64_t s = bench_now();

		if (!r->measuring && s >= t_end) {
			r->measuring = true;
			r->m0 = s;
			t_end = s + (uint64_t)(cfg->duration * 1e9);
			azblob_get_stats(r->c, &r->st0);
			r->allocs0 = alloc_count();
			r->n = 0;
			r->cpu_ns = 0;
		} else if (r->measuring &&
			   (cfg->requests > 0 ? (long)r->n >= cfg->requests : s >= t_end)) {
			return 0;
		}
		if (r->sync ? step_sync(r) : step_async(r))
			return -1;
	}
}

/* The figures of the measured run into r->res. 0, or -1 when requests
 * failed. */
static int run_results(struct run *r)
{
	struct result *res = r->res;
	double secs = (double)(bench_now() - r->m0) / 1e9, n = (double)r->n;
	struct azblob_stats st1;

	azblob_get_stats(r->c, &st1);
	res->requests = r->n;
	res->rps = n / secs;
	res->bps = res->rps * r->size;
	res->cpu_ns = (double)r->cpu_ns / n;
	res->signals_per_req = (double)(st1.signals - r->st0.signals) / n;
	res->allocs_per_req = (double)(alloc_count() - r->allocs0) / n;
	/* System calls of the client per request, from its own counters: a
	 * signal is one write (no monitor page), a sleep is a write (unmask),
	 * a poll and a read. Sync in poll mode busy-polls: no sleeps. */
	res->syscalls_per_req = (double)(st1.signals - r->st0.signals + 3 * r->waits) / n;
	res->interrupts_per_req = (double)r->waits / n;
	if (failures) {
		fprintf(stderr, "azblob-bench: %ld requests failed\n", failures);
		return -1;
	}
	if (r->size && strcmp(r->cfg->op, "noop"))
		res->memcpy_bps = memcpy_rate(r->data, r->nbufs, r->size);
	return 0;
}

static int run_azblob(const struct cfg *cfg, const char *mode, unsigned qd, uint32_t size,
		      struct result *res, bool broker)
{
	struct run r = {.cfg = cfg,
			.res = res,
			.qd = qd,
			.size = size,
			.interrupt = !strcmp(mode, "interrupt"),
			.sync = !strcmp(mode, "sync")};
	int rc;

	if (!strcmp(mode, "cuse"))
		return run_cuse(cfg, size, res);
	failures = 0;
	ndone = 0;
	if (run_open(&r, broker))
		return -1;
	pin_cpu(cfg->client_cpu);
	run_buffers(&r);
	rc = run_preps(&r);
	if (!rc)
		rc = run_loop(&r);
	if (!rc)
		rc = run_results(&r);
	if (rc)
		fprintf(stderr, "azblob-bench: %s qd %u size %u failed\n", mode, qd, size);
	azblob_close(r.c); /* and the templates */
	host_stop(&r.h);
	free_uncounted(r.prep);
	free_uncounted(r.ctx);
	free_uncounted(r.free_ctx);
	free_uncounted(r.data);
	return rc;
}

/* --threads N: per total queue depth, the plain client on one thread,
 * then N threads on their own queues of one client (threads.c); a
 * busy-polling host of its own for each. */
static int run_threads(const struct cfg *cfg)
{
	printf("azblob-bench: --threads %u, no-op, client threads on CPU %d, host (host %s, "
	       "polling) on CPU %d\n",
	       cfg->threads, cfg->client_cpu, cfg->host, cfg->host_cpu);
	printf("%5s %14s %14s %7s\n", "qd", "1 thread req/s", "N queues req/s", "ratio");
	fflush(stdout); /* before the host's fork */
	for (unsigned i = 0; i < cfg->nqd; i++) {
		double r[2] = {0, 0};

		for (int k = 0; k < 2; k++) {
			struct host h = {0};
			int rc;

			if (host_start(cfg, &h, true, 64ull << 20))
				return 1;
			rc = bench_threads(h.root, k ? cfg->threads : 0, cfg->qd[i], cfg->warmup,
					   cfg->duration, cfg->client_cpu, &r[k]);
			host_stop(&h);
			if (rc) {
				fprintf(stderr, "azblob-bench: --threads %u qd %u: %s\n",
					k ? cfg->threads : 0, cfg->qd[i], strerror(-rc));
				return 1;
			}
		}
		printf("%5u %14.0f %14.0f %7.2f\n", cfg->qd[i], r[0], r[1], r[1] / r[0]);
		fflush(stdout);
	}
	return 0;
}

/* --modes cost: the client's instructions per request (cost.c), one
 * result per queue depth and size (0 and 64 KiB); with --op get, one per
 * queue depth and --size (the blob helpers' ranged Get, cost_get.c). */
static int run_cost(const struct cfg *cfg, struct result *res, unsigned *nres, unsigned cap)
{
	static struct cost_point pts[64];
	char self[4096];
	unsigned n;
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (k <= 0)
		return -1;
	self[k] = 0;
	bool get = !strcmp(cfg->op, "get");

	if (get &&
	    cost_measure_get(self, cfg->qd, cfg->nqd,
			     cfg->nsize && cfg->size[0] ? cfg->size[0] : 4u << 20, pts, 64, &n))
		return -1;
	if (!get &&
	    cost_measure(self, cfg->host, cfg->api, cfg->qd, cfg->nqd,
			 cfg->requests > 0 ? (unsigned long)cfg->requests : 4096, pts, 64, &n))
		return -1;
	for (unsigned i = 0; i < n && *nres < cap; i++) {
		struct result *r = &res[(*nres)++];

		memset(r, 0, sizeof(*r));
		hist_init(&r->h);
		r->mode = "cost";
		r->qd = pts[i].qd;
		r->size = pts[i].size;
		r->requests = pts[i].requests;
		r->counter = COST_COUNTER;
		r->api = cfg->api;
		r->ins_submit = pts[i].ins[COST_SUBMIT];
		r->ins_flush = pts[i].ins[COST_FLUSH];
		r->ins_poll = pts[i].ins[COST_POLL];
		r->ins_total = r->ins_submit + r->ins_flush + r->ins_poll;
		r->ins_host = pts[i].ins[COST_HOST];
		if (get) {
			/* phases not counted apart: a blocking helper's whole */
			r->op = "get";
			r->api = NULL;
			r->ins_submit = r->ins_flush = r->ins_poll = r->ins_host = NAN;
			r->ins_total = pts[i].get_per_req;
			r->ins_overhead = pts[i].get_overhead;
			if (!cfg->json)
				fprintf(stderr,
					"azblob-bench: cost get qd %u chunk %u: %.0f client "
					"instructions per ranged Get (+%.0f per download)\n",
					r->qd, r->size, r->ins_total, r->ins_overhead);
		} else if (!cfg->json)
			fprintf(stderr,
				"azblob-bench: cost qd %u size %u: %.0f instructions/req (host %s: "
				"%.0f)\n",
				r->qd, r->size, r->ins_total, cfg->host, r->ins_host);
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: azblob-bench [options]\n"
		   "  --modes LIST     floor,poll,interrupt,sync,cost (default: the first four);\n"
		   "                   cost: instructions per request under callgrind, client\n"
		   "                   and a stepped host (--host) in one thread (QD of --qd;\n"
		   "                   no-op and 64 KiB requests; --requests per phase, default\n"
		   "                   4096); the host's counted apart\n"
		   "  --host HOST      sim (default): azblob-vspd as it is; null: azblob-vspd\n"
		   "                   --backend null, every request answered at once\n"
		   "  --api API        plain (default, azblob_submit) or prepared: one template\n"
		   "                   per request in flight (azblob_prep_submit); cost, poll\n"
		   "                   and interrupt modes, not --op put\n"
		   "  --qd LIST        queue depths, e.g. 1,32,256 (default 1,32)\n"
		   "  --size LIST      data bytes per request, e.g. 0,4096,65536 (default 0)\n"
		   "  --op OP          noop (echo when size > 0), put, get (default noop); put\n"
		   "                   and get with --size: GiB/s next to a memcpy of the same\n"
		   "                   bytes; a put carries its CRC-64 (x-ms-content-crc64)\n"
		   "  --duration S     seconds per point (default 2)\n"
		   "  --requests N     requests per point instead of a duration\n"
		   "  --warmup S       seconds of warm-up per point (default 0.5)\n"
		   "  --batch N        flush after every N submits (default: once per round)\n"
		   "  --json           one JSON object with a results array\n"
		   "  --plot DIR       PNG charts with gnuplot (latency CDF, rps and p99 vs qd)\n"
		   "  --vspd PATH      the azblob-vspd binary (default: next to this one)\n"
		   "  --cpus C,H       client and host CPUs (default 0,1; C -1 with --threads:\n"
		   "                   client threads not pinned)\n"
		   "  --threads N      instead of the modes: per --qd, the plain client on one\n"
		   "                   thread, then N threads on their own queues of one client\n"
		   "                   (the same total queue depth), no-op requests\n"
		   "  --via broker     each poll/interrupt/sync point also through azblobd\n"
		   "                   (--sim, on the host CPU; with --host null and poll\n"
		   "                   the daemon steps the null host in its own loop)\n"
		   "  --azblobd PATH   the azblobd binary (default: next to this one)\n"
		   "  --via cuse       add the cuse mode: the original ioctl on a CUSE device\n"
		   "                   (azblob-cuse, next to azblob-vspd; needs /dev/cuse)\n");
}

/* A point done: its throughput on stderr (not with --json). */
static void point_done(const struct cfg *cfg, const struct result *r)
{
	if (!cfg->json)
		fprintf(stderr, "azblob-bench: %s qd %u size %u: %.0f req/s\n", r->mode, r->qd,
			r->size, r->rps);
}

/* --via broker: the point just measured directly (r), again through
 * azblobd, as the next result ("poll+brk", ...). */
static int broker_point(const struct cfg *cfg, const char *m, struct result *res, unsigned *nres)
{
	struct result *d = &res[*nres - 1], *r = &res[*nres];

	memset(r, 0, sizeof(*r));
	r->mode = !strcmp(m, "poll") ? "poll+brk" : !strcmp(m, "sync") ? "sync+brk" : "irq+brk";
	r->qd = d->qd;
	r->size = d->size;
	hist_init(&r->h);
	if (run_azblob(cfg, m, r->qd, r->size, r, true))
		return -1;
	(*nres)++;
	point_done(cfg, r);
	return 0;
}

/* The modes, by name (the result's mode points here). */
static const char *const MODES[] = {"floor", "poll", "interrupt", "sync", "cost", "cuse"};

static const char *mode_name(const char *m)
{
	for (size_t i = 0; i < sizeof(MODES) / sizeof(MODES[0]); i++)
		if (!strcmp(m, MODES[i]))
			return MODES[i];
	return NULL;
}

/* One mode (not cost) at each --size and --qd: floor, sync and cuse at
 * QD 1 only, floor without data. 0 or 1 (failed). */
static int run_mode(const struct cfg *cfg, const char *m, struct result *res, unsigned *nres)
{
	bool floor = !strcmp(m, "floor");
	bool one = floor || !strcmp(m, "sync") || !strcmp(m, "cuse"); /* by nature */

	for (unsigned si = 0; si < cfg->nsize && !(floor && si > 0); si++) {
		for (unsigned qi = 0; qi < cfg->nqd && !(one && qi > 0); qi++) {
			struct result *r = &res[*nres];

			memset(r, 0, sizeof(*r));
			r->mode = m;
			r->api = cfg->api;
			r->qd = one ? 1 : cfg->qd[qi];
			r->size = floor ? 0 : cfg->size[si];
			hist_init(&r->h);
			if (floor)
				run_floor(cfg, r);
			else if (run_azblob(cfg, m, r->qd, r->size, r, false))
				return 1;
			(*nres)++;
			point_done(cfg, r);
			if (cfg->via_broker && !floor && strcmp(m, "cuse") &&
			    broker_point(cfg, m, res, nres))
				return 1;
		}
	}
	return 0;
}

/* Each mode of --modes in turn. 0, 1 (a point failed) or 2 (unknown). */
static int run_modes(const struct cfg *cfg, struct result *res, unsigned *nres)
{
	char modes[128];

	snprintf(modes, sizeof(modes), "%s", cfg->modes);
	for (char *save = NULL, *s = strtok_r(modes, ",", &save); s;
	     s = strtok_r(NULL, ",", &save)) {
		const char *m = mode_name(s);

		if (!m) {
			fprintf(stderr, "azblob-bench: unknown mode '%s'\n", s);
			return 2;
		}
		if (!strcmp(m, "cost") ? run_cost(cfg, res, nres, 256) != 0
				       : run_mode(cfg, m, res, nres) != 0)
			return 1;
	}
	return 0;
}

/* ---- options ---- */

static int parse_list(const char *s, unsigned *out, unsigned cap)
{
	unsigned n = 0;
	char *copy = strdup(s), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t && n < cap; t = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v = strtoul(t, &end, 10);

		if (*end == 'K' || *end == 'k')
			v <<= 10, end++;
		else if (*end == 'M' || *end == 'm')
			v <<= 20, end++;
		if (*end)
			return -1;
		out[n++] = (unsigned)v;
	}
	free(copy);
	return (int)n;
}

static int opt_modes(struct cfg *cfg, const char *arg)
{
	snprintf(cfg->modes, sizeof(cfg->modes), "%s", arg);
	cfg->modes_given = true;
	return 0;
}

/* A list option (--qd, --size) into out[0..cap) and its count *n. */
static int opt_list(const char *arg, unsigned *out, unsigned cap, unsigned *n)
{
	int k = parse_list(arg, out, cap);

	if (k <= 0)
		return -1;
	*n = (unsigned)k;
	return 0;
}

static int opt_qd(struct cfg *cfg, const char *arg)
{
	return opt_list(arg, cfg->qd, 32, &cfg->nqd);
}

static int opt_size(struct cfg *cfg, const char *arg)
{
	return opt_list(arg, cfg->size, 16, &cfg->nsize);
}

static int opt_cpus(struct cfg *cfg, const char *arg)
{
	return sscanf(arg, "%d,%d", &cfg->client_cpu, &cfg->host_cpu) == 2 ? 0 : -1;
}

static int opt_threads(struct cfg *cfg, const char *arg)
{
	cfg->threads = (unsigned)atoi(arg);
	return !cfg->threads || cfg->threads > 64 ? -1 : 0;
}

static int opt_via(struct cfg *cfg, const char *arg)
{
	if (!strcmp(arg, "cuse")) {
		cfg->via_cuse = true;
		return 0;
	}
	if (strcmp(arg, "broker") && strcmp(arg, "direct"))
		return -1;
	cfg->via_broker = !strcmp(arg, "broker");
	return 0;
}

/* The options (usage() describes them): what each sets in struct cfg. */
enum opt_kind { O_FN, O_STR, O_DOUBLE, O_LONG, O_UINT, O_FLAG };

struct bench_opt {
	const char *name;
	enum opt_kind kind;
	size_t off;				     /* the field of struct cfg (not O_FN) */
	int (*fn)(struct cfg *cfg, const char *arg); /* O_FN: 0 or -1 (usage) */
};

#define FIELD(f) offsetof(struct cfg, f)

static const struct bench_opt OPTS[] = {
    {"modes", O_FN, 0, opt_modes},
    {"qd", O_FN, 0, opt_qd},
    {"size", O_FN, 0, opt_size},
    {"op", O_STR, FIELD(op), NULL},
    {"duration", O_DOUBLE, FIELD(duration), NULL},
    {"requests", O_LONG, FIELD(requests), NULL},
    {"warmup", O_DOUBLE, FIELD(warmup), NULL},
    {"batch", O_UINT, FIELD(batch), NULL},
    {"json", O_FLAG, FIELD(json), NULL},
    {"plot", O_STR, FIELD(plot_dir), NULL},
    {"vspd", O_STR, FIELD(vspd), NULL},
    {"cpus", O_FN, 0, opt_cpus},
    {"host", O_STR, FIELD(host), NULL},
    {"api", O_STR, FIELD(api), NULL},
    {"via", O_FN, 0, opt_via},
    {"azblobd", O_STR, FIELD(azblobd), NULL},
    {"threads", O_FN, 0, opt_threads},
};

#define NOPTS	 (sizeof(OPTS) / sizeof(OPTS[0]))
#define OPT_BASE 0x100 /* getopt_long's value of OPTS[i]: OPT_BASE + i */

static int opt_set(struct cfg *cfg, const struct bench_opt *o, const char *arg)
{
	char *f = (char *)cfg + o->off;

	switch (o->kind) {
	case O_FN:
		return o->fn(cfg, arg);
	case O_STR:
		*(const char **)(void *)f = arg;
		break;
	case O_DOUBLE:
		*(double *)(void *)f = atof(arg);
		break;
	case O_LONG:
		*(long *)(void *)f = atol(arg);
		break;
	case O_UINT:
		*(unsigned *)(void *)f = (unsigned)atoi(arg);
		break;
	case O_FLAG:
		*(bool *)(void *)f = true;
		break;
	}
	return 0;
}

/* What no single option can check. */
static bool cfg_ok(const struct cfg *cfg)
{
	if (cfg->duration <= 0 || !cfg->batch ||
	    (strcmp(cfg->host, "sim") && strcmp(cfg->host, "null")) ||
	    (strcmp(cfg->op, "noop") && strcmp(cfg->op, "put") && strcmp(cfg->op, "get")))
		return false;
	for (unsigned i = 0; i < cfg->nqd; i++)
		if (!cfg->qd[i] || cfg->qd[i] > 1024)
			return false;
	for (unsigned i = 0; i < cfg->nsize; i++)
		if (cfg->size[i] > (32u << 20))
			return false;
	return true;
}

/* The command line into cfg: -1 to go on, else the exit code (--help 0,
 * a bad option 2 with the usage on stderr). */
static int parse_options(struct cfg *cfg, int argc, char **argv)
{
	struct option lo[NOPTS + 2];
	int opt;

	for (size_t i = 0; i < NOPTS; i++)
		lo[i] =
		    (struct option){OPTS[i].name, OPTS[i].kind != O_FLAG, NULL, OPT_BASE + (int)i};
	lo[NOPTS] = (struct option){"help", 0, NULL, 'h'};
	lo[NOPTS + 1] = (struct option){NULL, 0, NULL, 0};
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return 0;
		}
		if (opt < OPT_BASE || opt >= OPT_BASE + (int)NOPTS ||
		    opt_set(cfg, &OPTS[opt - OPT_BASE], optarg))
			goto bad;
	}
	if (optind < argc || !cfg_ok(cfg))
		goto bad;
	return -1;
bad:
	usage(stderr);
	return 2;
}

/* The helpers' binaries: the options', else next to this program; with
 * --via cuse azblob-cuse and the cuse mode (after poll and interrupt
 * unless --modes says otherwise). */
static void find_helpers(struct cfg *cfg)
{
	static char vspd[4096], azblobd[4096], cuse[4096];

	if (!cfg->vspd)
		cfg->vspd = helper_path(vspd, sizeof(vspd), VSPD_PATHS);
	if (!cfg->azblobd)
		cfg->azblobd = helper_path(azblobd, sizeof(azblobd), AZBLOBD_PATHS);
	if (!cfg->via_cuse || cfg->threads)
		return;
	cfg->cuse = helper_path(cuse, sizeof(cuse), CUSE_PATHS);
	if (!cfg->modes_given)
		snprintf(cfg->modes, sizeof(cfg->modes), "poll,interrupt,cuse");
	else if (!strstr(cfg->modes, "cuse"))
		strncat(cfg->modes, ",cuse", sizeof(cfg->modes) - strlen(cfg->modes) - 1);
}

int main(int argc, char **argv)
{
	static struct cfg cfg = {.modes = "floor,poll,interrupt,sync",
				 .qd = {1, 32},
				 .nqd = 2,
				 .nsize = 1,
				 .duration = 2,
				 .warmup = 0.5,
				 .batch = UINT32_MAX,
				 .op = "noop",
				 .client_cpu = 0,
				 .host_cpu = 1,
				 .host = "sim",
				 .api = "plain"};
	static struct result res[256];
	unsigned nres = 0;
	int rc;

	az_clock_init(&bench_clock, true);
	if (argc == 6 && !strcmp(argv[1], "--cost-child"))
		return cost_child_main(argc, argv);
	if ((rc = parse_options(&cfg, argc, argv)) >= 0)
		return rc;
	if (strcmp(cfg.api, "plain") && strcmp(cfg.api, "prepared")) {
		fprintf(stderr, "azblob-bench: --api plain or prepared\n");
		return 2;
	}
	find_helpers(&cfg);
	if (cfg.threads)
		return run_threads(&cfg);
	if ((rc = run_modes(&cfg, res, &nres)))
		return rc;
	report_print(&cfg, res, nres);
	if (cfg.plot_dir && plot(cfg.plot_dir, res, nres))
		return 1;
	return 0;
}
