/*
 * uvmbus-ring-bench: cost of the ring itself.
 *  - single: one thread writes a batch of 32 in-band packets, reads them
 *    back and publishes once; packets/s and ns/packet;
 *  - two-core: producer pinned on CPU 0, consumer on CPU 1, polling;
 *    publishing every packet, and (two-batch) staging 32 and publishing once;
 *  - floor: bare shared-memory ping-pong between the two CPUs (the
 *    physical limit of a cross-core round trip), and the same round trip
 *    through a pair of rings (request ring + response ring), measured in
 *    the same run so the two can be compared.
 * Prints a table; --json prints one object instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uvmbus.h>

#include "bench_util.h"
#include "cpu_relax.h"

#define HDR   4096u
#define DSIZE (256u * 1024u)
#define BATCH 32

struct ring_pair {
	uint8_t *mem;
	struct uvmbus_ring *prod, *cons;
};

static void ring_pair_init(struct ring_pair *rp)
{
	rp->mem = aligned_alloc(4096, HDR + DSIZE);
	if (!rp->mem) {
		perror("aligned_alloc");
		exit(1);
	}
	memset(rp->mem, 0, HDR + DSIZE);
	if (uvmbus_ring_attach(&rp->prod, rp->mem, HDR + DSIZE, HDR, UVMBUS_RING_PRODUCER) ||
	    uvmbus_ring_attach(&rp->cons, rp->mem, HDR + DSIZE, HDR, UVMBUS_RING_CONSUMER)) {
		fprintf(stderr, "ring attach failed\n");
		exit(1);
	}
}

static void ring_pair_fini(struct ring_pair *rp)
{
	uvmbus_ring_detach(rp->prod);
	uvmbus_ring_detach(rp->cons);
	free(rp->mem);
}

static void must(int rc, const char *what)
{
	if (rc) {
		fprintf(stderr, "%s: %s\n", what, strerror(-rc));
		exit(1);
	}
}

/* ---- single thread ---- */

static double bench_single(size_t pkt, uint64_t n)
{
	struct ring_pair rp;
	static uint8_t payload[4096], buf[4096];
	uint64_t t0, done = 0;

	ring_pair_init(&rp);
	t0 = now_ns();
	while (done < n) {
		size_t len;

		for (int i = 0; i < BATCH; i++)
			must(uvmbus_pkt_write_inband(rp.prod, 1 + done + i, 0, payload, pkt - 16,
						     NULL),
			     "write");
		for (int i = 0; i < BATCH; i++)
			must(uvmbus_ring_read(rp.cons, buf, sizeof(buf), &len), "read");
		uvmbus_ring_read_commit(rp.cons, NULL);
		done += BATCH;
	}
	double ns = (double)(now_ns() - t0) / (double)done;

	ring_pair_fini(&rp);
	return ns;
}

/* ---- single-packet cycles (for instruction counts) ---- */

/* n times: write one 64-byte packet (reserve, commit: the publish and its
 * fence), read it, give the room back (read_commit and its fence). Not
 * inlined, so that callgrind can count exactly this:
 *   valgrind --tool=callgrind --toggle-collect=cycles_run \
 *            uvmbus-ring-bench --cycles 100000            (Ir / 100000) */
__attribute__((noinline)) static void cycles_run(struct ring_pair *rp, uint64_t n)
{
	static uint8_t payload[48], buf[256];
	bool sig;

	for (uint64_t i = 0; i < n; i++) {
		size_t len;

		must(uvmbus_pkt_write_inband(rp->prod, 1 + i, 0, payload, sizeof(payload), &sig),
		     "write");
		must(uvmbus_ring_read(rp->cons, buf, sizeof(buf), &len), "read");
		uvmbus_ring_read_commit(rp->cons, &sig);
	}
}

/* The same cycle through the inline fast paths (<uvmbus/ring.h>), as
 * libazblob's submit and poll use them: reserve, write the packet in
 * place, stage and publish; read the descriptor and the payload. The
 * ring's bytes and signal decisions are those of cycles_run(). */
__attribute__((noinline)) static void cycles_inline_run(struct ring_pair *rp, uint64_t n)
{
	static uint8_t payload[48], buf[48];
	struct vmbus_pkt_desc d = {.type = VMBUS_PKT_DATA_INBAND, .offset8 = 2, .len8 = 8};
	bool sig;

	for (uint64_t i = 0; i < n; i++) {
		struct uvmbus_ring_span s;
		size_t plen;

		must(uvmbus_ring_reserve_inline(rp->prod, sizeof(d) + sizeof(payload), &s),
		     "reserve");
		d.trans_id = 1 + i;
		uvmbus_ring_span_write_inline(&s, 0, &d, sizeof(d));
		uvmbus_ring_span_write_inline(&s, sizeof(d), payload, sizeof(payload));
		uvmbus_ring_stage_inline(rp->prod, &s);
		uvmbus_ring_publish(rp->prod, &sig);
		must(uvmbus_ring_read_payload_inline(rp->cons, &d, buf, sizeof(buf), &plen),
		     "read");
		uvmbus_ring_read_commit(rp->cons, &sig);
	}
}

static double bench_cycles(uint64_t n, bool inl)
{
	struct ring_pair rp;
	uint64_t t0;

	ring_pair_init(&rp);
	t0 = now_ns();
	if (inl)
		cycles_inline_run(&rp, n);
	else
		cycles_run(&rp, n);
	double ns = (double)(now_ns() - t0) / (double)n;

	ring_pair_fini(&rp);
	return ns;
}

/* ---- two cores ---- */

struct two_core {
	struct ring_pair rp;
	size_t pkt;
	uint64_t n;
	uint64_t full;
	bool batch; /* stage 32 packets, publish once */
};

static void *two_core_producer(void *arg)
{
	struct two_core *t = arg;
	static uint8_t payload[4096];

	pin_cpu(0);
	for (uint64_t i = 1; i <= t->n; i++) {
		struct uvmbus_ring_span s;
		struct vmbus_pkt_desc d = {.type = VMBUS_PKT_DATA_INBAND,
					   .offset8 = 2,
					   .len8 = (uint16_t)(t->pkt / 8),
					   .trans_id = i};
		int rc;

		while ((rc = uvmbus_ring_reserve(t->rp.prod, t->pkt, &s)) == -EAGAIN) {
			t->full++;
			uvmbus_ring_publish(t->rp.prod, NULL); /* let the consumer drain */
			az_cpu_relax();
		}
		must(rc, "reserve");
		uvmbus_ring_span_write(&s, 0, &d, sizeof(d));
		uvmbus_ring_span_write(&s, sizeof(d), payload, t->pkt - sizeof(d));
		uvmbus_ring_stage(t->rp.prod, &s);
		if (!t->batch || i % BATCH == 0)
			uvmbus_ring_publish(t->rp.prod, NULL);
	}
	uvmbus_ring_publish(t->rp.prod, NULL);
	return NULL;
}

static double bench_two_core(size_t pkt, uint64_t n, bool batch, uint64_t *full)
{
	struct two_core t = {.pkt = pkt, .n = n, .batch = batch};
	static uint8_t buf[4096];
	pthread_t th;
	uint64_t got = 0, t0;

	ring_pair_init(&t.rp);
	uvmbus_ring_set_interrupt_mask(t.rp.cons, true); /* polling consumer */
	pin_cpu(1);
	t0 = now_ns();
	pthread_create(&th, NULL, two_core_producer, &t);
	while (got < n) {
		size_t len;
		int k = 0;

		while (k < BATCH && uvmbus_ring_read(t.rp.cons, buf, sizeof(buf), &len) == 0)
			k++;
		if (k)
			uvmbus_ring_read_commit(t.rp.cons, NULL);
		else
			az_cpu_relax();
		got += (uint64_t)k;
	}
	double ns = (double)(now_ns() - t0) / (double)n;

	pthread_join(th, NULL);
	*full = t.full;
	ring_pair_fini(&t.rp);
	return ns;
}

/* ---- round trips: floor vs rings ---- */

struct pingpong {
	_Alignas(64) _Atomic uint64_t ping;
	_Alignas(64) _Atomic uint64_t pong;
	_Alignas(64) struct ring_pair req, rsp;
	uint64_t n;
};

static void *floor_echo(void *arg)
{
	struct pingpong *pp = arg;

	pin_cpu(1);
	for (uint64_t i = 1; i <= pp->n; i++) {
		while (atomic_load_explicit(&pp->ping, memory_order_acquire) != i)
			;
		atomic_store_explicit(&pp->pong, i, memory_order_release);
	}
	return NULL;
}

static void *ring_echo(void *arg)
{
	struct pingpong *pp = arg;
	uint8_t buf[256];

	pin_cpu(1);
	for (uint64_t i = 1; i <= pp->n; i++) {
		size_t len;

		while (uvmbus_ring_read(pp->req.cons, buf, sizeof(buf), &len) == -EAGAIN)
			;
		uvmbus_ring_read_commit(pp->req.cons, NULL);
		must(uvmbus_pkt_write_completion(pp->rsp.prod, i, buf + 16, 12, NULL), "echo");
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct rtt {
	double mean, p50, p99;
};

static struct rtt summarize(uint64_t *s, uint64_t n, uint64_t total)
{
	struct rtt r;

	qsort(s, n, sizeof(*s), cmp_u64);
	r.mean = (double)total / (double)n;
	r.p50 = (double)s[n / 2];
	r.p99 = (double)s[n * 99 / 100];
	return r;
}

static struct rtt bench_rtt(uint64_t n, bool rings)
{
	struct pingpong *pp = aligned_alloc(64, sizeof(*pp));
	uint64_t *samples = malloc(n * sizeof(*samples));
	uint8_t buf[256], rq[12] = {0};
	pthread_t th;
	uint64_t t0;

	memset(pp, 0, sizeof(*pp));
	pp->n = n;
	ring_pair_init(&pp->req);
	ring_pair_init(&pp->rsp);
	pin_cpu(0);
	pthread_create(&th, NULL, rings ? ring_echo : floor_echo, pp);
	t0 = now_ns();
	for (uint64_t i = 1; i <= n; i++) {
		uint64_t s = now_ns();

		if (rings) {
			size_t len;

			must(uvmbus_pkt_write_inband(pp->req.prod, i, 1, rq, sizeof(rq), NULL),
			     "rq");
			while (uvmbus_ring_read(pp->rsp.cons, buf, sizeof(buf), &len) == -EAGAIN)
				;
			uvmbus_ring_read_commit(pp->rsp.cons, NULL);
		} else {
			atomic_store_explicit(&pp->ping, i, memory_order_release);
			while (atomic_load_explicit(&pp->pong, memory_order_acquire) != i)
				;
		}
		samples[i - 1] = now_ns() - s;
	}
	uint64_t total = now_ns() - t0;

	pthread_join(th, NULL);
	struct rtt r = summarize(samples, n, total);

	ring_pair_fini(&pp->req);
	ring_pair_fini(&pp->rsp);
	free(samples);
	free(pp);
	return r;
}

static void usage(void)
{
	printf("usage: uvmbus-ring-bench [--packets N] [--pingpong N] [--json] | --cycles N\n"
	       "  --packets N   packets per throughput point (default 5000000)\n"
	       "  --pingpong N  round trips per latency point (default 200000)\n"
	       "  --json        one JSON object on stdout instead of the table\n"
	       "  --cycles N    only N single-packet cycles (write, read, read_commit) in\n"
	       "                one thread: for callgrind --toggle-collect=cycles_run\n"
	       "                (and cycles_inline_run: the inline fast paths)\n");
}

int main(int argc, char **argv)
{
	uint64_t packets = 5000000, rtts = 200000;
	bool json = false;
	const size_t sizes[2] = {64, 1024};
	double single[2], two[2], twob[2];
	uint64_t full[2], fullb[2];
	char cpu[128];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--packets") && i + 1 < argc) {
			packets = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--pingpong") && i + 1 < argc) {
			rtts = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--cycles") && i + 1 < argc) {
			uint64_t n = strtoull(argv[++i], NULL, 10);

			printf("single-packet cycle (write, read, read_commit), 64 bytes: %.2f "
			       "ns\n",
			       bench_cycles(n ? n : 1, false));
			printf("the same through the inline fast paths: %.2f ns\n",
			       bench_cycles(n ? n : 1, true));
			return 0;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage();
			return 0;
		} else {
			fprintf(stderr, "uvmbus-ring-bench: unknown argument '%s'\n", argv[i]);
			usage();
			return 2;
		}
	}
	if (packets < BATCH || rtts < 100) {
		fprintf(stderr, "uvmbus-ring-bench: --packets >= %d and --pingpong >= 100\n",
			BATCH);
		return 2;
	}
	packets -= packets % BATCH;
	cpu_model(cpu, sizeof(cpu));

	for (int i = 0; i < 2; i++) {
		single[i] = bench_single(sizes[i], packets);
		two[i] = bench_two_core(sizes[i], packets, false, &full[i]);
		twob[i] = bench_two_core(sizes[i], packets, true, &fullb[i]);
	}
	struct rtt fl = bench_rtt(rtts, false);
	struct rtt rr = bench_rtt(rtts, true);

	if (json) {
		printf("{\"cpu\":\"%s\",\"cpus\":%ld,\"packets\":%llu,\"results\":[", cpu,
		       sysconf(_SC_NPROCESSORS_ONLN), (unsigned long long)packets);
		for (int i = 0; i < 2; i++)
			printf(
			    "%s{\"mode\":\"single\",\"size\":%zu,\"ns_per_pkt\":%.2f,\"pps\":%.0f},"
			    "{\"mode\":\"two-core\",\"size\":%zu,\"ns_per_pkt\":%.2f,\"pps\":%.0f,"
			    "\"ring_full\":%llu},"
			    "{\"mode\":\"two-core-batch\",\"size\":%zu,\"ns_per_pkt\":%.2f,"
			    "\"pps\":%.0f,\"ring_full\":%llu}",
			    i ? "," : "", sizes[i], single[i], 1e9 / single[i], sizes[i], two[i],
			    1e9 / two[i], (unsigned long long)full[i], sizes[i], twob[i],
			    1e9 / twob[i], (unsigned long long)fullb[i]);
		printf(",{\"mode\":\"floor\",\"rtt_mean_ns\":%.1f,\"p50_ns\":%.0f,\"p99_ns\":%.0f}"
		       ",{\"mode\":\"ring-rtt\",\"rtt_mean_ns\":%.1f,\"p50_ns\":%.0f,\"p99_ns\":%."
		       "0f}]}\n",
		       fl.mean, fl.p50, fl.p99, rr.mean, rr.p50, rr.p99);
		return 0;
	}
	printf("uvmbus %s ring benchmark: %s, %ld CPUs, %llu packets per point\n", uvmbus_version(),
	       cpu, sysconf(_SC_NPROCESSORS_ONLN), (unsigned long long)packets);
	printf("%-10s %6s %12s %10s %10s\n", "mode", "bytes", "packets/s", "ns/packet",
	       "ring-full");
	for (int i = 0; i < 2; i++) {
		printf("%-10s %6zu %12.0f %10.2f %10s\n", "single", sizes[i], 1e9 / single[i],
		       single[i], "-");
		printf("%-10s %6zu %12.0f %10.2f %10llu\n", "two-core", sizes[i], 1e9 / two[i],
		       two[i], (unsigned long long)full[i]);
		printf("%-10s %6zu %12.0f %10.2f %10llu\n", "two-batch", sizes[i], 1e9 / twob[i],
		       twob[i], (unsigned long long)fullb[i]);
	}
	printf("\nround trip between CPU 0 and CPU 1 (%llu samples, clock_gettime per sample):\n",
	       (unsigned long long)rtts);
	printf("%-10s %10s %10s %10s\n", "mode", "mean ns", "p50 ns", "p99 ns");
	printf("%-10s %10.1f %10.0f %10.0f\n", "floor", fl.mean, fl.p50, fl.p99);
	printf("%-10s %10.1f %10.0f %10.0f\n", "ring-rtt", rr.mean, rr.p50, rr.p99);
	printf("ring-rtt / floor: mean %.2fx, p50 %.2fx\n", rr.mean / fl.mean, rr.p50 / fl.p50);
	return 0;
}
