/*
 * azblob-bench --op get --modes cost: the blob helpers' ranged Get,
 * client instructions per request (cost.c runs this child under callgrind
 * and reads its dumps).
 *
 * A blocking helper cannot share its thread with a stepped host, so here
 * the normal host (memory backend, polling) serves from its own thread and
 * only the client thread is counted: callgrind's collection state is per
 * thread, switched on (CALLGRIND_TOGGLE_COLLECT) in the client thread
 * around azblob_blob_get() alone. What the host's speed would add is
 * left out: libazblob's calls to azblob_poll() are wrapped (the link's
 * --wrap=azblob_poll, this program only) so that while counting, the
 * client thread waits uncounted until the host has written a completion
 * the client has not taken (the host's completions against the client's
 * completed count), then polls counted. No empty poll, no azblob_wait()
 * is counted; every poll that takes an answer is, with its callbacks.
 *
 * The data: the destination is caller memory registered with the client
 * (azblob_register), so the host writes the bytes in place and the client
 * thread touches none of them (no copy, no zeroing: nothing to subtract).
 *
 * Per request, not per download: a download also costs a Get Blob
 * Properties and the engine's set-up, so two downloads of the same blob
 * are counted, of N1 and N2 = N1 + 8 chunks (N1 = max(4, queue depth)); the parent reports (I2 -
 * I1) / (N2 - N1), the cost of one more ranged Get, and I1 - N1 x that as the per-download
 * overhead.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef HAVE_CALLGRIND_H
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT      ((void)0)
#define CALLGRIND_ZERO_STATS	      ((void)0)
#define CALLGRIND_DUMP_STATS_AT(name) ((void)(name))
#endif

#include <azblob.h>
#include <azblob/blob.h>
#include <azblob/sim.h>

#include "cost.h"

int __real_azblob_poll(struct azblob_client *c, unsigned max);
int __wrap_azblob_poll(struct azblob_client *c, unsigned max);

/* Set while a counted download runs (the client thread only). */
static struct azblob_sim *counting;
static uint64_t host_base; /* host completions - client completions, at rest */

static uint64_t host_done(void)
{
	struct azblob_sim_stats st;

	azblob_sim_get_stats(counting, &st);
	return st.completions;
}

int __wrap_azblob_poll(struct azblob_client *c, unsigned max)
{
	struct azblob_stats cs;
	int rc;

	if (!counting)
		return __real_azblob_poll(c, max);
	CALLGRIND_TOGGLE_COLLECT; /* off: waiting for the host is not the client's */
	for (unsigned long spins = 0;; spins++) {
		azblob_get_stats(c, &cs);
		/* A completion not taken yet; or, after a long while (a host
		 * that dropped a request), let the client see for itself. */
		if (host_done() - host_base > cs.completed || spins > 2000000)
			break;
		sched_yield();
	}
	CALLGRIND_TOGGLE_COLLECT;
	rc = __real_azblob_poll(c, max);
	return rc;
}

/* The chunk counts of the two downloads: N1 at least the queue depth, so
 * that both run as many ops (the engine's set-up, one zeroed pool buffer
 * per op, is then the same in both and cancels out); N2 = N1 + GET_MORE.
 * Queue depths above GET_MAXQD are counted at GET_MAXQD (the blob, the
 * registered destination and the pool grow with it). */
#define GET_MORE  8u
#define GET_MAXQD 8u

static int one_get(struct azblob_client *c, struct azblob_sim *sim, uint8_t *mem, uint32_t size,
		   unsigned qd, unsigned n, bool counted)
{
	struct azblob_blob_xfer x = {.chunk_size = size, .queue_depth = qd};
	struct azblob_blob_status st;
	struct azblob_sim_stats ss;
	struct azblob_stats cs;
	size_t got = 0;
	int rc;

	/* at rest (nothing in flight): the host's count against the client's */
	azblob_get_stats(c, &cs);
	azblob_sim_get_stats(sim, &ss);
	host_base = ss.completions - cs.completed;
	if (counted) {
		counting = sim;
		CALLGRIND_TOGGLE_COLLECT;
	}
	rc = azblob_blob_get(c, "cost", "blob", 0, mem, (size_t)n * size, &got, &x, &st);
	if (counted) {
		CALLGRIND_TOGGLE_COLLECT;
		counting = NULL;
	}
	if (rc || got != (size_t)n * size) {
		fprintf(stderr, "azblob-bench: cost get: %s (http %d, %zu bytes)\n",
			strerror(rc ? -rc : EIO), st.http_status, got);
		return -1;
	}
	return 0;
}

static int get_point(struct azblob_client *c, struct azblob_sim *sim, uint8_t *mem, uint32_t size,
		     unsigned qd)
{
	const unsigned n[2] = {qd < 4 ? 4 : qd, (qd < 4 ? 4 : qd) + GET_MORE};
	char name[96];

	for (int i = 0; i < 2; i++) {
		/* warm-up: the engine's buffers, the caches, the registration */
		if (one_get(c, sim, mem, size, qd, n[i], false))
			return -1;
		CALLGRIND_ZERO_STATS;
		if (one_get(c, sim, mem, size, qd, n[i], true))
			return -1;
		snprintf(name, sizeof(name), "cost:%u:%u:get%u:%u", qd, size, i + 1, n[i]);
		CALLGRIND_DUMP_STATS_AT(name);
	}
	return 0;
}

int cost_get_child(const unsigned *qds, unsigned nqd, uint32_t size)
{
	struct azblob_sim_opts so;
	struct azblob_sim *sim;
	struct azblob_opts o;
	struct azblob_client *c = NULL;
	char root[96];
	unsigned maxqd = 1;
	size_t len;
	uint8_t *mem;
	int rc;

	for (unsigned i = 0; i < nqd; i++)
		maxqd = qds[i] > maxqd ? qds[i] : maxqd;
	if (maxqd > GET_MAXQD)
		maxqd = GET_MAXQD;
	len = (size_t)((maxqd < 4 ? 4 : maxqd) + GET_MORE) * size;
	snprintf(root, sizeof(root), "/dev/shm/azblob-bench-%d-costget", (int)getpid());
	azblob_sim_opts_init(&so);
	so.root = root;
	so.poll = true;
	so.no_hugetlb = true;
	so.ram_bytes =
	    ((64ull << 20) + (uint64_t)(size + 16384 + 4096) * (maxqd + 2) + (2u << 20) - 1) &
	    ~((2ull << 20) - 1);
	rc = azblob_sim_create(&sim, &so);
	if (rc || (rc = azblob_sim_start(sim))) {
		fprintf(stderr, "azblob-bench: cost get: no simulator: %s\n", strerror(-rc));
		return 1;
	}
	azblob_opts_init(&o);
	o.sim_root = root;
	o.queue_depth = maxqd + 1;
	o.pool_buf_size = size + 16384;
	o.pool_bufs = maxqd + 2;
	rc = azblob_open(&c, &o);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rc || mem == MAP_FAILED || azblob_register(c, mem, len)) {
		fprintf(stderr, "azblob-bench: cost get: open or register: %s\n", strerror(-rc));
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < len; i++)
		mem[i] = (uint8_t)(i * 131 + 7);
	struct azblob_blob_xfer x = {.chunk_size = size, .body_check = AZBLOB_BLOB_CHECK_NONE};

	rc = azblob_container_create(c, "cost", NULL);
	if (!rc)
		rc = azblob_blob_put(c, "cost", "blob", mem, len, &x, NULL);
	if (rc) {
		fprintf(stderr, "azblob-bench: cost get: upload: %s\n", strerror(-rc));
		rc = 1;
		goto out;
	}
	memset(mem, 0, len);
	for (unsigned i = 0; !rc && i < nqd; i++)
		rc = get_point(c, sim, mem, size, qds[i] < maxqd ? qds[i] : maxqd) ? 1 : 0;
out:
	if (c && mem != MAP_FAILED)
		azblob_unregister(c, mem);
	azblob_close(c);
	if (mem != MAP_FAILED)
		munmap(mem, len);
	azblob_sim_destroy(sim);
	return rc;
}
