/*
 * azblob-queue-mech: the two ways for threads to share one TX ring,
 * measured on their own (docs/PERFORMANCE.md, "Queues: lock or rings").
 *   lock   each thread takes a mutex around reserve + write + stage +
 *          publish of its packet (what libazblob's queues do)
 *   rings  each thread pushes a 64-byte descriptor into its own
 *          single-producer ring; whoever wins a try-lock drains every
 *          thread's ring into the TX ring and publishes once
 * A consumer thread (the host) reads the TX ring. Packets are the size of
 * an azblob request with 3 pages (a GPA-direct packet). Prints packets/s for each
 * mechanism and thread count. usage: azblob-queue-mech [PACKETS] [CPUS]
 * (CPUS "pin": producers on CPU 0, consumer on CPU 1; else unpinned).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uvmbus.h>

#define HDR   4096u
#define DSIZE (256u * 1024u)
#define SQ    64u /* per-thread ring entries */

/* What a submit hands over: 3 pfns and the 56-byte VSP request. */
struct desc {
	uint8_t b[3 * 8 + 56];
};

struct sq {
	_Alignas(64) atomic_uint head;
	_Alignas(64) atomic_uint tail;
	struct desc e[SQ];
};

static struct uvmbus_ring *prod, *cons;
static struct vmbus_gpa_direct_hdr hdr;
static pthread_mutex_t lk;
static struct sq *sqs;
static unsigned nthreads;
static long per_thread;
static bool pin;
static atomic_long consumed;
static atomic_bool stop;

static void pin_to(int cpu)
{
	cpu_set_t s;

	if (!pin)
		return;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

/* One packet into TX (lock held): reserve, write, stage. */
static bool put(const void *payload)
{
	struct uvmbus_ring_span sp;

	if (uvmbus_ring_reserve(prod, uvmbus_gpa_pkt_len(3, 56), &sp))
		return false;
	uvmbus_ring_span_write(&sp, 0, &hdr, sizeof(hdr));
	uvmbus_ring_span_write(&sp, sizeof(hdr), payload, sizeof(struct desc));
	uvmbus_ring_stage(prod, &sp);
	return true;
}

static void drain_all(void)
{
	bool any = false, sig;

	for (unsigned t = 0; t < nthreads; t++) {
		struct sq *q = &sqs[t];
		unsigned h = atomic_load_explicit(&q->head, memory_order_relaxed);
		unsigned tl = atomic_load_explicit(&q->tail, memory_order_acquire);

		while (h != tl && put(&q->e[h % SQ])) {
			h++;
			any = true;
		}
		atomic_store_explicit(&q->head, h, memory_order_release);
	}
	if (any)
		uvmbus_ring_publish(prod, &sig);
}

static void *producer_lock(void *arg)
{
	struct desc d = {{0}};
	bool sig;

	(void)arg;
	pin_to(0);
	for (long i = 0; i < per_thread;) {
		pthread_mutex_lock(&lk);
		if (put(&d)) {
			uvmbus_ring_publish(prod, &sig);
			i++;
		}
		pthread_mutex_unlock(&lk);
	}
	return NULL;
}

static void *producer_rings(void *arg)
{
	struct sq *q = &sqs[(uintptr_t)arg];
	struct desc d = {{0}};

	pin_to(0);
	for (long i = 0; i < per_thread;) {
		unsigned tl = atomic_load_explicit(&q->tail, memory_order_relaxed);

		if (tl - atomic_load_explicit(&q->head, memory_order_acquire) < SQ) {
			q->e[tl % SQ] = d;
			atomic_store_explicit(&q->tail, tl + 1, memory_order_release);
			i++;
		}
		if (pthread_mutex_trylock(&lk) == 0) {
			drain_all();
			pthread_mutex_unlock(&lk);
		}
	}
	/* What is left in our ring goes out through whoever drains next. */
	while (atomic_load(&q->head) != atomic_load(&q->tail)) {
		pthread_mutex_lock(&lk);
		drain_all();
		pthread_mutex_unlock(&lk);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	uint8_t buf[256];
	struct vmbus_pkt_desc d;
	size_t len;
	bool sig;

	(void)arg;
	pin_to(1);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		long n = 0;

		int rc;

		while ((rc = uvmbus_ring_read_payload(cons, &d, buf, sizeof(buf), &len)) == 0)
			n++;
		if (rc != -EAGAIN) {
			fprintf(stderr, "azblob-queue-mech: read: %s\n", strerror(-rc));
			exit(1);
		}
		if (n) {
			uvmbus_ring_read_commit(cons, &sig);
			atomic_fetch_add(&consumed, n);
		}
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run(bool rings, unsigned threads, long total)
{
	uint8_t *mem = aligned_alloc(4096, HDR + DSIZE);
	pthread_t t[64], c;
	double t0, t1;

	memset(mem, 0, HDR + DSIZE);
	if (uvmbus_ring_attach(&prod, mem, HDR + DSIZE, HDR, UVMBUS_RING_PRODUCER) ||
	    uvmbus_ring_attach(&cons, mem, HDR + DSIZE, HDR, UVMBUS_RING_CONSUMER)) {
		fprintf(stderr, "ring attach failed\n");
		exit(1);
	}
	nthreads = threads;
	per_thread = total / threads;
	sqs = aligned_alloc(64, sizeof(*sqs) * threads);
	memset(sqs, 0, sizeof(*sqs) * threads);
	atomic_store(&consumed, 0);
	atomic_store(&stop, false);
	pthread_create(&c, NULL, consumer, NULL);
	t0 = now_s();
	for (unsigned i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, rings ? producer_rings : producer_lock,
			       (void *)(uintptr_t)i);
	for (unsigned i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	while (atomic_load(&consumed) < per_thread * (long)threads)
		sched_yield();
	t1 = now_s();
	atomic_store(&stop, true);
	pthread_join(c, NULL);
	uvmbus_ring_detach(prod);
	uvmbus_ring_detach(cons);
	free(mem);
	free(sqs);
	return (double)(per_thread * (long)threads) / (t1 - t0);
}

int main(int argc, char **argv)
{
	long total = argc > 1 ? atol(argv[1]) : 4000000;
	static const unsigned counts[] = {1, 2, 4};

	setvbuf(stdout, NULL, _IOLBF, 0);
	pin = argc > 2 && !strcmp(argv[2], "pin");
	pthread_mutex_init(&lk, NULL);
	uvmbus_pkt_gpa_hdr(&hdr, 1, 0, 3 * VMBUS_PAGE_SIZE, 3, 56);
	printf("azblob-queue-mech: %ld packets of %zu bytes, producers %s\n", total,
	       uvmbus_gpa_pkt_len(3, 56),
	       pin ? "on CPU 0, consumer on CPU 1" : "and consumer not pinned");
	printf("%-6s %8s %14s\n", "mech", "threads", "packets/s");
	for (unsigned k = 0; k < sizeof(counts) / sizeof(counts[0]); k++)
		for (int rings = 0; rings < 2; rings++)
			printf("%-6s %8u %14.0f\n", rings ? "rings" : "lock", counts[k],
			       run(rings, counts[k], total));
	return 0;
}
