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
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <azblob.h>
#include <azblob/blob.h>

#include "clock.h"
#include "bench_util.h"
#include "cost.h"
#include "result.h"
#include "threads.h"
#include "via_cuse.h"

/* The benchmark's clock: the library's time source (azblob/clock.h), the
 * TSC where invariant, so that its own reads (one per request for the
 * latency, a few per round for the CPU column) do not inflate "client
 * CPU"; printed as "clock" in the output. */
static struct az_clock bench_clock;

static inline uint64_t bench_now(void)
{
	return az_clock_now(&bench_clock);
}

static const char *bench_clock_name(void)
{
	return bench_clock.tsc ? "tsc" : "clock_gettime";
}

/* ---- allocation counter (the benchmark reports allocations per request) ---- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
static atomic_long n_allocs;

void *malloc(size_t n)
{
	atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (p)
		atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
	__libc_free(p);
}

/* ---- options ---- */

struct cfg {
	char modes[128];
	unsigned qd[32], nqd;
	uint32_t size[16], nsize;
	double duration;
	long requests; /* per point, when > 0 (instead of duration) */
	double warmup;
	unsigned batch;
	const char *op;
	const char *vspd;
	const char *plot_dir;
	const char *host; /* "sim" or "null" (azblob-vspd --backend null) */
	bool via_broker;  /* --via broker: each azblob point also through azblobd */
	const char *azblobd;
	bool json;
	int client_cpu, host_cpu;
	unsigned threads; /* --threads N: queues (threads.c) */
	const char *cuse; /* azblob-cuse binary, for the cuse mode */
};

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

/* ---- the simulated host in its own process ---- */

struct host {
	pid_t pid;
	char root[128];
};

/* Wait up to 10 s for a started helper (azblob-vspd, azblobd) to create
 * its ready file; 0, or -1 (it exited or never got ready: killed). */
static int wait_ready(struct host *h, const char *ready, const char *name)
{
	for (int i = 0; i < 1000; i++) {
		struct stat st;
		int status;

		if (stat(ready, &st) == 0)
			return 0;
		if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
			fprintf(stderr, "azblob-bench: %s exited (status %d)\n", name, status);
			return -1;
		}
		usleep(10000);
	}
	fprintf(stderr, "azblob-bench: %s did not get ready\n", name);
	kill(h->pid, SIGKILL);
	return -1;
}

static int host_start(const struct cfg *cfg, struct host *h, bool poll_mode, uint64_t ram)
{
	char ready[160], cpu[16], ramarg[32];

	snprintf(h->root, sizeof(h->root), "/dev/shm/azblob-bench-%d-%s", (int)getpid(),
		 poll_mode ? "poll" : "irq");
	snprintf(ready, sizeof(ready), "%s.ready", h->root);
	snprintf(cpu, sizeof(cpu), "%d", cfg->host_cpu);
	snprintf(ramarg, sizeof(ramarg), "%lluM", (unsigned long long)(ram >> 20));
	unlink(ready);
	h->pid = fork();
	if (h->pid == 0) {
		const char *argv[16] = {cfg->vspd, "--root",	  h->root, "--ready-file",
					ready,	   "--cpu",	  cpu,	   "--ram",
					ramarg,	   "--log-level", "err"};
		int n = 11;

		if (poll_mode)
			argv[n++] = "--poll";
		if (!strcmp(cfg->host, "null")) {
			argv[n++] = "--backend";
			argv[n++] = "null";
		}
		argv[n] = NULL;
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execv(cfg->vspd, (char *const *)argv);
		fprintf(stderr, "azblob-bench: cannot run %s: %s\n", cfg->vspd, strerror(errno));
		_exit(127);
	}
	return wait_ready(h, ready, "azblob-vspd");
}

static void host_stop(struct host *h)
{
	int status;

	if (h->pid <= 0)
		return;
	kill(h->pid, SIGTERM);
	waitpid(h->pid, &status, 0);
	h->pid = 0;
}

/* --via broker: azblobd on the host CPU with its own simulated device;
 * with the null host in poll mode the daemon steps it in its own loop
 * (--sim-step: daemon and host share the host CPU, no third spinner). */
static int broker_start(const struct cfg *cfg, struct host *h, bool poll_mode, uint32_t size,
			unsigned qd)
{
	char ready[160], cpu[16], bsize[32], bbufs[16];
	bool null = !strcmp(cfg->host, "null");

	snprintf(h->root, sizeof(h->root), "/dev/shm/azblob-bench-%d.sock", (int)getpid());
	snprintf(ready, sizeof(ready), "%s.ready", h->root);
	snprintf(cpu, sizeof(cpu), "%d", cfg->host_cpu);
	snprintf(bsize, sizeof(bsize), "%u", size + (128u << 10));
	snprintf(bbufs, sizeof(bbufs), "%u", qd + 4);
	unlink(ready);
	h->pid = fork();
	if (h->pid == 0) {
		const char *argv[32] = {cfg->azblobd,	 "--sim",
					"--sim-backend", null ? "null" : "memory",
					"--mode",	 poll_mode ? "poll" : "interrupt",
					"--cpu",	 cpu,
					"--socket",	 h->root,
					"--ready-file",	 ready,
					"--bounce-size", bsize,
					"--bounce-bufs", bbufs,
					"--log-level",	 "err"};
		int n = 18;

		if (null && poll_mode)
			argv[n++] = "--sim-step";
		argv[n] = NULL;
		execv(cfg->azblobd, (char *const *)argv);
		fprintf(stderr, "azblob-bench: cannot run %s: %s\n", cfg->azblobd, strerror(errno));
		_exit(127);
	}
	return wait_ready(h, ready, "azblobd");
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
	uint8_t *dst = __libc_malloc(size);
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
	__libc_free(dst);
	return (double)n * size / ((double)(t - t0) / 1e9);
}

static int run_azblob(const struct cfg *cfg, const char *mode, unsigned qd, uint32_t size,
		      struct result *res, bool broker)
{
	bool interrupt = !strcmp(mode, "interrupt"), sync = !strcmp(mode, "sync");
	unsigned nbufs = size ? qd : 1, nfly;
	uint64_t ram = 64ull << 20;
	struct azblob_opts o;
	struct azblob_client *c;
	struct host h = {0};
	char head[128];

	if (!strcmp(mode, "cuse")) { /* the device in front of a busy-polling host */
		struct via_cuse_cfg vc = {cfg->cuse, h.root, cfg->duration, cfg->warmup,
					  cfg->requests};
		int rc;

		if (host_start(cfg, &h, true, 256ull << 20))
			return -1;
		vc.sim_root = h.root;
		rc = via_cuse_run(&vc, size, res);
		host_stop(&h);
		return rc;
	}
	failures = 0;
	ndone = 0;
	if (size && (uint64_t)size * nbufs > (1ull << 30))
		nbufs = (unsigned)((1ull << 30) / size); /* share data buffers beyond 1 GiB */
	if (!nbufs)
		nbufs = 1;
	ram +=
	    ((uint64_t)(size + 8192) * nbufs + (4u << 20) + (2u << 20) - 1) & ~((2ull << 20) - 1);
	/* poll and sync: a busy-polling host; interrupt: a sleeping one */
	if (broker ? broker_start(cfg, &h, !interrupt, size, qd)
		   : host_start(cfg, &h, !interrupt, ram))
		return -1;
	azblob_opts_init(&o);
	if (broker)
		o.broker = h.root;
	else
		o.sim_root = h.root;
	o.queue_depth = sync ? 1 : qd;
	o.interrupt_mode = interrupt;
	o.pool_buf_size = size > 512 * qd ? size : 512 * qd;
	o.pool_bufs = nbufs + 4;
	if (azblob_open(&c, &o)) {
		host_stop(&h);
		return -1;
	}
	pin_cpu(cfg->client_cpu);
	/* One request head per slot: a put carries its body's CRC-64
	 * (x-ms-content-crc64), computed at submit as the blob helpers do. */
	char *req = azblob_alloc(c, HEAD_SLOT * qd);
	char *resp = azblob_alloc(c, 512 * qd); /* one response buffer per request in flight */
	uint8_t **data = __libc_calloc(nbufs, sizeof(*data));

	head_for(cfg->op, size, head, sizeof(head));
	for (unsigned i = 0; i < qd; i++)
		memcpy(req + HEAD_SLOT * i, head, strlen(head));
	for (unsigned i = 0; size && i < nbufs; i++) {
		data[i] = azblob_alloc(c, size);
		memset(data[i], (int)i, size);
	}
	struct slotctx *ctx = __libc_calloc(qd, sizeof(*ctx));
	unsigned *free_ctx = __libc_calloc(qd, sizeof(*free_ctx)), nfree = qd;

	for (unsigned i = 0; i < qd; i++)
		free_ctx[i] = i;

	uint64_t t0 = bench_now(), t_end = t0 + (uint64_t)(cfg->warmup * 1e9), m0 = 0;
	uint64_t cpu_ns = 0, n = 0, since_flush = 0, waits = 0;
	struct azblob_stats st0 = {0}, st1;
	long allocs0 = 0;
	bool measuring = false;

	nfly = 0;
	for (;;) {
		uint64_t s = bench_now();

		if (!measuring && s >= t_end) {
			measuring = true;
			m0 = s;
			t_end = s + (uint64_t)(cfg->duration * 1e9);
			azblob_get_stats(c, &st0);
			allocs0 = atomic_load(&n_allocs);
			n = 0;
			cpu_ns = 0;
		} else if (measuring &&
			   (cfg->requests > 0 ? (long)n >= cfg->requests : s >= t_end)) {
			break;
		}
		if (sync) {
			struct azblob_request_sync_abi a = {
			    .timeout = 30000,
			    .request_len = (uint32_t)strlen(head),
			    .response_len = 512,
			    .data_len = size,
			    .data_valid = !strcmp(cfg->op, "get") ? 0 : size,
			    .request_buffer = (uintptr_t)req,
			    .response_buffer = (uintptr_t)resp,
			    .data_buffer = size ? (uintptr_t)data[0] : 0,
			};
			uint64_t a0 = bench_now();

			if (azblob_request_sync(c, &a) || a.response.status)
				goto fail;
			uint64_t a1 = bench_now();

			if (measuring) {
				hist_add(&res->h, a1 - a0);
				cpu_ns += a1 - a0;
				n++;
			}
			continue;
		}
		/* submit up to qd, flush every `batch` requests */
		uint64_t c0 = bench_now();

		while (nfree) {
			unsigned i = free_ctx[--nfree];
			struct slotctx *x = &ctx[i];
			struct azblob_request r = {
			    .request = req + HEAD_SLOT * i,
			    .request_len =
				put_head(cfg, req + HEAD_SLOT * i, size ? data[i % nbufs] : NULL,
					 size, (uint32_t)strlen(head)),
			    .response = resp + 512 * i,
			    .response_len = 512,
			    .data = size ? data[i % nbufs] : NULL,
			    .data_len = size,
			    .data_valid = !strcmp(cfg->op, "get") ? 0 : size,
			    .done = on_done,
			    .user = &x->q,
			};

			x->q.start = bench_now();
			x->q.idx = i;
			x->buf = i;
			if (azblob_submit(c, &r)) {
				nfree++;
				res->ring_full++;
				break;
			}
			nfly++;
			if (++since_flush >= cfg->batch) {
				azblob_flush(c);
				since_flush = 0;
			}
		}
		azblob_flush(c);
		since_flush = 0;
		uint64_t c1 = bench_now();
		int got = azblob_poll(c, 0);
		uint64_t c2 = bench_now();

		if (got < 0)
			goto fail;
		if (measuring)
			cpu_ns += (c1 - c0) + (got > 0 ? c2 - c1 : 0);
		if (got > 0) {
			for (unsigned k = 0; k < ndone; k++) {
				unsigned i = done_list[k];

				if (measuring) {
					hist_add(&res->h, c2 - ctx[i].q.start);
					n++;
				}
				free_ctx[nfree++] = i;
				nfly--;
			}
			ndone = 0;
		} else if (interrupt && nfly) {
			azblob_wait(c, 100);
			if (measuring)
				waits++;
		}
	}
	double secs = (double)(bench_now() - m0) / 1e9;

	azblob_get_stats(c, &st1);
	res->requests = n;
	res->rps = (double)n / secs;
	res->bps = res->rps * size;
	res->cpu_ns = (double)cpu_ns / (double)n;
	res->signals_per_req = (double)(st1.signals - st0.signals) / (double)n;
	res->allocs_per_req = (double)(atomic_load(&n_allocs) - allocs0) / (double)n;
	/* System calls of the client per request, from its own counters: a
	 * signal is one write (no monitor page), a sleep is a write (unmask),
	 * a poll and a read. Sync in poll mode busy-polls: no sleeps. */
	res->syscalls_per_req = (double)(st1.signals - st0.signals + 3 * waits) / (double)n;
	res->interrupts_per_req = (double)waits / (double)n;
	if (failures) {
		fprintf(stderr, "azblob-bench: %ld requests failed\n", failures);
		goto fail;
	}
	if (size && strcmp(cfg->op, "noop"))
		res->memcpy_bps = memcpy_rate(data, nbufs, size);
	azblob_close(c);
	host_stop(&h);
	__libc_free(ctx);
	__libc_free(free_ctx);
	__libc_free(data);
	return 0;
fail:
	fprintf(stderr, "azblob-bench: %s qd %u size %u failed\n", mode, qd, size);
	azblob_close(c);
	host_stop(&h);
	return -1;
}

/* ---- output ---- */

static void print_table(const struct result *r, unsigned n)
{
	printf("%-10s %5s %9s %12s %10s %8s %8s %8s %8s %9s %9s %8s %7s %7s %7s %6s\n", "mode",
	       "qd", "size", "req/s", "MB/s", "min_ns", "p50_ns", "p90_ns", "p99_ns", "p99.9_ns",
	       "max_ns", "cpu_ns", "sig/req", "irq/req", "sys/req", "alloc");
	for (unsigned i = 0; i < n; i++) {
		const struct hist *h = &r[i].h;

		if (r[i].counter)
			continue; /* print_cost_table() */
		printf(
		    "%-10s %5u %9u %12.0f %10.1f %8llu %8llu %8llu %8llu %9llu %9llu %8.0f %7.3f "
		    "%7.3f %7.3f %6.3f\n",
		    r[i].mode, r[i].qd, r[i].size, r[i].rps, r[i].bps / 1e6,
		    (unsigned long long)hist_min(h), (unsigned long long)hist_pct(h, 50),
		    (unsigned long long)hist_pct(h, 90), (unsigned long long)hist_pct(h, 99),
		    (unsigned long long)hist_pct(h, 99.9), (unsigned long long)hist_max(h),
		    r[i].cpu_ns, r[i].signals_per_req, r[i].interrupts_per_req,
		    r[i].syscalls_per_req, r[i].allocs_per_req);
	}
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
 * result per queue depth and size (0 and 64 KiB). */
static int run_cost(const struct cfg *cfg, struct result *res, unsigned *nres, unsigned cap)
{
	static struct cost_point pts[64];
	char self[4096];
	unsigned n;
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (k <= 0)
		return -1;
	self[k] = 0;
	if (cost_measure(self, cfg->host, cfg->qd, cfg->nqd,
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
		r->ins_submit = pts[i].ins[COST_SUBMIT];
		r->ins_flush = pts[i].ins[COST_FLUSH];
		r->ins_poll = pts[i].ins[COST_POLL];
		r->ins_total = r->ins_submit + r->ins_flush + r->ins_poll;
		r->ins_host = pts[i].ins[COST_HOST];
		if (!cfg->json)
			fprintf(stderr,
				"azblob-bench: cost qd %u size %u: %.0f instructions/req (host %s: "
				"%.0f)\n",
				r->qd, r->size, r->ins_total, cfg->host, r->ins_host);
	}
	return 0;
}

static void print_cost_table(const struct result *r, unsigned n, const char *host)
{
	bool first = true;

	for (unsigned i = 0; i < n; i++) {
		if (!r[i].counter)
			continue;
		if (first)
			printf("instructions per request (%s, stepped %s host; total: the "
			       "client's):\n%-6s %5s %9s %9s %9s %9s %9s %9s\n",
			       r[i].counter, host, "mode", "qd", "size", "submit", "flush", "poll",
			       "total", "host");
		first = false;
		printf("%-6s %5u %9u %9.1f %9.1f %9.1f %9.1f %9.1f\n", r[i].mode, r[i].qd,
		       r[i].size, r[i].ins_submit, r[i].ins_flush, r[i].ins_poll, r[i].ins_total,
		       r[i].ins_host);
	}
}

/* A JSON number, or null where the figure does not exist (a point that
 * completed nothing divides by zero: NaN is not JSON). */
static const char *jnum(char b[40], double v, int prec)
{
	if (!isfinite(v))
		return "null";
	snprintf(b, 40, "%.*f", prec, v);
	return b;
}

static void print_json(const struct result *r, unsigned n, const char *cpu, const char *host)
{
	printf("{\"cpu\":\"%s\",\"host\":\"%s\",\"clock\":\"%s\",\"results\":[", cpu, host,
	       bench_clock_name());
	for (unsigned i = 0; i < n; i++) {
		const struct hist *h = &r[i].h;
		char b[13][40];

		printf("%s{\"mode\":\"%s\",\"qd\":%u,\"size\":%u,\"requests\":%llu,\"rps\":%s,"
		       "\"bytes_per_s\":%s,\"min_ns\":%llu,\"p50_ns\":%llu,\"p90_ns\":%llu,"
		       "\"p99_ns\":%llu,\"p999_ns\":%llu,\"max_ns\":%llu,\"cpu_ns_per_req\":%s,"
		       "\"signals_per_req\":%s,\"interrupts_per_req\":%s,"
		       "\"syscalls_per_req\":%s,\"allocs_per_req\":%s,\"ring_full\":%llu,"
		       "\"memcpy_bytes_per_s\":%s",
		       i ? "," : "", r[i].mode, r[i].qd, r[i].size,
		       (unsigned long long)r[i].requests, jnum(b[0], r[i].rps, 0),
		       jnum(b[1], r[i].bps, 0), (unsigned long long)hist_min(h),
		       (unsigned long long)hist_pct(h, 50), (unsigned long long)hist_pct(h, 90),
		       (unsigned long long)hist_pct(h, 99), (unsigned long long)hist_pct(h, 99.9),
		       (unsigned long long)hist_max(h), jnum(b[2], r[i].cpu_ns, 1),
		       jnum(b[3], r[i].signals_per_req, 4), jnum(b[4], r[i].interrupts_per_req, 4),
		       jnum(b[5], r[i].syscalls_per_req, 4), jnum(b[6], r[i].allocs_per_req, 4),
		       (unsigned long long)r[i].ring_full, jnum(b[7], r[i].memcpy_bps, 0));
		if (r[i].counter)
			printf(",\"counter\":\"%s\",\"instructions_per_req\":%s,"
			       "\"submit_instructions_per_req\":%s,"
			       "\"flush_instructions_per_req\":%s,"
			       "\"poll_instructions_per_req\":%s,"
			       "\"host_instructions_per_req\":%s",
			       r[i].counter, jnum(b[8], r[i].ins_total, 1),
			       jnum(b[9], r[i].ins_submit, 1), jnum(b[10], r[i].ins_flush, 1),
			       jnum(b[11], r[i].ins_poll, 1), jnum(b[12], r[i].ins_host, 1));
		printf("}");
	}
	printf("]}\n");
}

/* The programs azblob-bench starts, relative to its own directory: next to
 * it (installed in bin/, or all in one folder as in the QEMU guest), then
 * sbin/ (azblobd installed), then the build tree's folders. The first that
 * exists, else the first candidate (its exec fails with a message). */
static const char *const VSPD_PATHS[] = {"azblob-vspd", "../sim/vspd/azblob-vspd", NULL};
static const char *const AZBLOBD_PATHS[] = {"azblobd", "../sbin/azblobd", "../broker/azblobd",
					    NULL};
static const char *const CUSE_PATHS[] = {"azblob-cuse", "../cuse/azblob-cuse", NULL};

static const char *helper_path(char *out, size_t cap, const char *const *rel)
{
	ssize_t k = readlink("/proc/self/exe", out, cap - 1);
	size_t dir;

	if (k <= 0)
		return rel[0];
	out[k] = 0;
	dir = (size_t)(strrchr(out, '/') + 1 - out);
	for (const char *const *r = rel; *r; r++) {
		if (dir + strlen(*r) >= cap)
			continue;
		strcpy(out + dir, *r);
		if (!access(out, X_OK))
			return out;
	}
	if (dir + strlen(rel[0]) < cap)
		strcpy(out + dir, rel[0]);
	return out;
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
	if (!cfg->json)
		fprintf(stderr, "azblob-bench: %s qd %u size %u: %.0f req/s\n", r->mode, r->qd,
			r->size, r->rps);
	return 0;
}

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

int main(int argc, char **argv)
{
	az_clock_init(&bench_clock, true);
	static struct cfg cfg = {.modes = "floor,poll,interrupt,sync",
				 .duration = 2,
				 .warmup = 0.5,
				 .batch = UINT32_MAX,
				 .op = "noop",
				 .client_cpu = 0,
				 .host_cpu = 1,
				 .host = "sim"};
	static const struct option lo[] = {
	    {"modes", 1, 0, 'm'},   {"qd", 1, 0, 'q'},	     {"size", 1, 0, 's'},
	    {"op", 1, 0, 'o'},	    {"duration", 1, 0, 'd'}, {"requests", 1, 0, 'n'},
	    {"warmup", 1, 0, 'w'},  {"batch", 1, 0, 'b'},    {"json", 0, 0, 'j'},
	    {"plot", 1, 0, 'p'},    {"vspd", 1, 0, 'v'},     {"cpus", 1, 0, 'c'},
	    {"help", 0, 0, 'h'},    {"host", 1, 0, 'H'},     {"via", 1, 0, 'V'},
	    {"azblobd", 1, 0, 'A'}, {"threads", 1, 0, 'T'},  {0, 0, 0, 0}};
	static char vspd[4096];
	static char cuse[4096];
	bool via_cuse = false, modes_given = false;
	static struct result res[256];
	unsigned nres = 0;
	int opt;

	if (argc == 5 && !strcmp(argv[1], "--cost-child"))
		return cost_child_main(argc, argv);
	cfg.qd[0] = 1;
	cfg.qd[1] = 32;
	cfg.nqd = 2;
	cfg.nsize = 1;
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		int k;

		switch (opt) {
		case 'm':
			snprintf(cfg.modes, sizeof(cfg.modes), "%s", optarg);
			modes_given = true;
			break;
		case 'q':
			k = parse_list(optarg, cfg.qd, 32);
			if (k <= 0)
				goto bad;
			cfg.nqd = (unsigned)k;
			break;
		case 's':
			k = parse_list(optarg, cfg.size, 16);
			if (k <= 0)
				goto bad;
			cfg.nsize = (unsigned)k;
			break;
		case 'o':
			cfg.op = optarg;
			break;
		case 'd':
			cfg.duration = atof(optarg);
			break;
		case 'n':
			cfg.requests = atol(optarg);
			break;
		case 'w':
			cfg.warmup = atof(optarg);
			break;
		case 'b':
			cfg.batch = (unsigned)atoi(optarg);
			break;
		case 'j':
			cfg.json = true;
			break;
		case 'p':
			cfg.plot_dir = optarg;
			break;
		case 'v':
			cfg.vspd = optarg;
			break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &cfg.client_cpu, &cfg.host_cpu) != 2)
				goto bad;
			break;
		case 'H':
			cfg.host = optarg;
			break;
		case 'T':
			cfg.threads = (unsigned)atoi(optarg);
			if (!cfg.threads || cfg.threads > 64)
				goto bad;
			break;
		case 'V':
			if (!strcmp(optarg, "cuse")) {
				via_cuse = true;
				break;
			}
			if (strcmp(optarg, "broker") && strcmp(optarg, "direct"))
				goto bad;
			cfg.via_broker = !strcmp(optarg, "broker");
			break;
		case 'A':
			cfg.azblobd = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind < argc || cfg.duration <= 0 || !cfg.batch ||
	    (strcmp(cfg.host, "sim") && strcmp(cfg.host, "null")) ||
	    (strcmp(cfg.op, "noop") && strcmp(cfg.op, "put") && strcmp(cfg.op, "get")))
		goto bad;
	for (unsigned i = 0; i < cfg.nqd; i++)
		if (!cfg.qd[i] || cfg.qd[i] > 1024)
			goto bad;
	for (unsigned i = 0; i < cfg.nsize; i++)
		if (cfg.size[i] > (32u << 20))
			goto bad;
	static char azblobd[4096];

	if (!cfg.vspd)
		cfg.vspd = helper_path(vspd, sizeof(vspd), VSPD_PATHS);
	if (!cfg.azblobd)
		cfg.azblobd = helper_path(azblobd, sizeof(azblobd), AZBLOBD_PATHS);

	if (cfg.threads)
		return run_threads(&cfg);
	if (via_cuse) { /* the device next to the fast path and the interrupt model */
		cfg.cuse = helper_path(cuse, sizeof(cuse), CUSE_PATHS);
		if (!modes_given)
			snprintf(cfg.modes, sizeof(cfg.modes), "poll,interrupt,cuse");
		else if (!strstr(cfg.modes, "cuse"))
			strncat(cfg.modes, ",cuse", sizeof(cfg.modes) - strlen(cfg.modes) - 1);
	}

	char modes[128];

	snprintf(modes, sizeof(modes), "%s", cfg.modes);
	for (char *save = NULL, *m = strtok_r(modes, ",", &save); m;
	     m = strtok_r(NULL, ",", &save)) {
		if (strcmp(m, "floor") && strcmp(m, "poll") && strcmp(m, "interrupt") &&
		    strcmp(m, "sync") && strcmp(m, "cost") && strcmp(m, "cuse")) {
			fprintf(stderr, "azblob-bench: unknown mode '%s'\n", m);
			return 2;
		}
		if (!strcmp(m, "cost")) {
			if (run_cost(&cfg, res, &nres, 256))
				return 1;
			continue;
		}
		for (unsigned si = 0; si < cfg.nsize; si++) {
			for (unsigned qi = 0; qi < cfg.nqd; qi++) {
				struct result *r = &res[nres];
				unsigned qd = cfg.qd[qi];

				if ((!strcmp(m, "floor") || !strcmp(m, "sync") ||
				     !strcmp(m, "cuse")) &&
				    qi > 0)
					break; /* one request at a time by nature */
				memset(r, 0, sizeof(*r));
				r->mode = !strcmp(m, "floor")  ? "floor"
					  : !strcmp(m, "poll") ? "poll"
					  : !strcmp(m, "sync") ? "sync"
					  : !strcmp(m, "cuse") ? "cuse"
							       : "interrupt";
				r->qd =
				    !strcmp(m, "floor") || !strcmp(m, "sync") || !strcmp(m, "cuse")
					? 1
					: qd;
				r->size = !strcmp(m, "floor") ? 0 : cfg.size[si];
				hist_init(&r->h);
				if (!strcmp(m, "floor")) {
					if (si > 0)
						break;
					run_floor(&cfg, r);
				} else if (run_azblob(&cfg, m, r->qd, r->size, r, false)) {
					return 1;
				}
				nres++;
				if (!cfg.json)
					fprintf(stderr,
						"azblob-bench: %s qd %u size %u: %.0f req/s\n",
						r->mode, r->qd, r->size, r->rps);
				if (cfg.via_broker && strcmp(m, "floor") && strcmp(m, "cuse") &&
				    broker_point(&cfg, m, res, &nres))
					return 1;
			}
		}
	}
	char cpu[128];

	cpu_model(cpu, sizeof(cpu));
	if (cfg.json) {
		print_json(res, nres, cpu, cfg.host);
	} else {
		printf("azblob-bench: %s, client CPU %d, host CPU %d (azblob-vspd, host %s), op "
		       "%s, clock %s\n",
		       cpu, cfg.client_cpu, cfg.host_cpu, cfg.host, cfg.op, bench_clock_name());
		bool timed = false;

		for (unsigned i = 0; i < nres; i++)
			timed |= !res[i].counter;
		if (timed)
			print_table(res, nres);
		print_cost_table(res, nres, cfg.host);
		for (unsigned i = 0; i < nres; i++)
			if (res[i].memcpy_bps > 0)
				printf("%s %s qd %u size %u: %.2f GiB/s; memcpy of the same bytes "
				       "%.2f GiB/s (%.1fx)\n",
				       cfg.op, res[i].mode, res[i].qd, res[i].size,
				       res[i].bps / (1 << 30), res[i].memcpy_bps / (1 << 30),
				       res[i].memcpy_bps / res[i].bps);
		/* the headline ratios, when both sides were measured */
		const struct result *fl = NULL, *po = NULL, *ir = NULL, *sy = NULL, *pb = NULL,
				    *cu = NULL;

		for (unsigned i = 0; i < nres; i++) {
			if (res[i].qd != 1 || res[i].size)
				continue;
			if (!strcmp(res[i].mode, "floor"))
				fl = &res[i];
			else if (!strcmp(res[i].mode, "poll"))
				po = &res[i];
			else if (!strcmp(res[i].mode, "interrupt"))
				ir = &res[i];
			else if (!strcmp(res[i].mode, "poll+brk"))
				pb = &res[i];
			else if (!strcmp(res[i].mode, "cuse"))
				cu = &res[i];
			else if (!strcmp(res[i].mode, "sync"))
				sy = &res[i];
		}
		if (fl && po)
			printf("QD1 poll / floor: p50 %.2fx, p99 %.2fx\n",
			       (double)hist_pct(&po->h, 50) / (double)hist_pct(&fl->h, 50),
			       (double)hist_pct(&po->h, 99) / (double)hist_pct(&fl->h, 99));
		if (po && ir)
			printf("QD1 interrupt / poll: p50 %.1fx\n",
			       (double)hist_pct(&ir->h, 50) / (double)hist_pct(&po->h, 50));
		if (po && cu && ir)
			printf("QD1 cuse / poll: p50 %.1fx; cuse / interrupt: p50 %.2fx\n",
			       (double)hist_pct(&cu->h, 50) / (double)hist_pct(&po->h, 50),
			       (double)hist_pct(&cu->h, 50) / (double)hist_pct(&ir->h, 50));
		if (po && pb)
			printf("QD1 poll through azblobd - direct: p50 %+.0f ns, p99 %+.0f ns\n",
			       (double)hist_pct(&pb->h, 50) - (double)hist_pct(&po->h, 50),
			       (double)hist_pct(&pb->h, 99) - (double)hist_pct(&po->h, 99));
		if (po && sy)
			printf("QD1 sync / poll: p50 %.1fx\n",
			       (double)hist_pct(&sy->h, 50) / (double)hist_pct(&po->h, 50));
	}
	if (cfg.plot_dir && plot(cfg.plot_dir, res, nres))
		return 1;
	return 0;
bad:
	usage(stderr);
	return 2;
}
