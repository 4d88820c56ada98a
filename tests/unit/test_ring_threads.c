/*
 * Producer and consumer threads on the same ring: N packets of varying
 * sizes with checksummed contents; nothing lost, duplicated or reordered.
 * Both sides also sleep on "doorbells" exactly as the signal decisions
 * say (consumer unmasks and waits when empty; producer sets
 * pending_send_sz and waits when full), so a wrong decision hangs the test
 * instead of passing. RING_THREADS_PACKETS sets N (default 10 million).
 * Every other packet is written and read through the inline fast paths
 * (<uvmbus/ring.h>: reserve, span write, stage; the read that reloads an
 * empty cache).
 *
 * A plain program, not a Criterion test: Criterion cannot start under
 * ThreadSanitizer (its arena mapping collides with TSan's shadow memory,
 * Criterion issue #274), and this is the test TSan must run.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uvmbus/packet.h>

#include "ring_fixture.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);   \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define MAX_PAYLOAD 1000u

struct shared {
	struct ring_fix f;
	uint64_t n;
	_Atomic uint64_t bell_to_consumer; /* "interrupt" for the consumer */
	_Atomic uint64_t bell_to_producer; /* "room available" for the producer */
	uint64_t producer_waits, consumer_waits;
	uint64_t bad;
};

static uint32_t payload_len(uint64_t seq)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ull;

	return (uint32_t)((x >> 40) % (MAX_PAYLOAD + 1));
}

static uint8_t payload_byte(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + (i >> 8));
}

static void wait_change(_Atomic uint64_t *bell, uint64_t seen)
{
	for (unsigned spins = 0; atomic_load_explicit(bell, memory_order_acquire) == seen; spins++)
		if (spins > 64)
			sched_yield();
}

/* uvmbus_pkt_write_inband()'s packet, through the inline fast paths */
static int write_inline(struct uvmbus_ring *r, uint64_t seq, const void *pl, uint32_t n, bool *sig)
{
	struct vmbus_pkt_desc d = {.type = VMBUS_PKT_DATA_INBAND,
				   .offset8 = 2,
				   .len8 = (uint16_t)((16 + n + 7) / 8),
				   .trans_id = seq};
	struct uvmbus_ring_span sp;
	int rc = uvmbus_ring_reserve_inline(r, sizeof(d) + n, &sp);

	if (rc)
		return rc;
	uvmbus_ring_span_write_inline(&sp, 0, &d, sizeof(d));
	uvmbus_ring_span_write_inline(&sp, sizeof(d), pl, n);
	uvmbus_ring_stage_inline(r, &sp);
	uvmbus_ring_publish(r, sig);
	return 0;
}

/* One packet as uvmbus_ring_read() gives it (descriptor, then payload),
 * odd sequence numbers through the inline read. */
static int read_one(struct uvmbus_ring *r, uint64_t seq, uint8_t *buf, size_t cap, size_t *len)
{
	struct vmbus_pkt_desc d;
	size_t plen;
	int rc;

	if (!(seq & 1))
		return uvmbus_ring_read(r, buf, cap, len);
	rc = uvmbus_ring_read_payload_inline(r, &d, buf + sizeof(d), cap - sizeof(d), &plen);
	if (rc)
		return rc;
	memcpy(buf, &d, sizeof(d));
	*len = d.offset8 == 2 ? sizeof(d) + plen : 0;
	return 0;
}

static void *producer(void *arg)
{
	struct shared *s = arg;
	uint8_t pl[MAX_PAYLOAD];

	for (uint64_t seq = 1; seq <= s->n; seq++) {
		uint32_t n = payload_len(seq);
		bool sig;

		for (uint32_t i = 0; i < n; i++)
			pl[i] = payload_byte(seq, i);
		for (;;) {
			int rc = seq & 1 ? write_inline(s->f.prod, seq, pl, n, &sig)
					 : uvmbus_pkt_write_inband(s->f.prod, seq, 0, pl, n, &sig);

			if (rc == 0)
				break;
			if (rc != -EAGAIN) {
				s->bad++;
				return NULL;
			}
			/* Full: ask for a signal at the room we need, re-check
			 * after publishing the request, then sleep. */
			uint32_t need = ((16 + n + 7) & ~7u) + 8;
			uint64_t seen =
			    atomic_load_explicit(&s->bell_to_producer, memory_order_acquire);

			uvmbus_ring_set_pending_send(s->f.prod, need);
			if (uvmbus_ring_writable(s->f.prod) <= need) {
				s->producer_waits++;
				wait_change(&s->bell_to_producer, seen);
			}
			uvmbus_ring_set_pending_send(s->f.prod, 0);
		}
		if (sig)
			atomic_fetch_add_explicit(&s->bell_to_consumer, 1, memory_order_release);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct shared *s = arg;
	static _Thread_local uint8_t buf[MAX_PAYLOAD + 64];
	uint64_t expect = 1;

	uvmbus_ring_set_interrupt_mask(s->f.cons, true); /* polling */
	while (expect <= s->n) {
		unsigned batch = 0;
		bool sig;

		while (batch < 32) {
			size_t len;
			int rc = read_one(s->f.cons, expect, buf, sizeof(buf), &len);

			if (rc == -EAGAIN)
				break;
			struct vmbus_pkt_desc *d = (void *)buf;
			uint32_t n = payload_len(expect);

			if (rc || d->trans_id != expect || len != ((16 + n + 7) & ~7u)) {
				s->bad++;
				return NULL;
			}
			for (uint32_t i = 0; i < n; i++)
				if (buf[16 + i] != payload_byte(expect, i)) {
					s->bad++;
					return NULL;
				}
			expect++;
			batch++;
		}
		uvmbus_ring_read_commit(s->f.cons, &sig);
		if (sig)
			atomic_fetch_add_explicit(&s->bell_to_producer, 1, memory_order_release);
		if (batch == 0) {
			/* Empty: unmask, re-check, then sleep on the doorbell. */
			uint64_t seen =
			    atomic_load_explicit(&s->bell_to_consumer, memory_order_acquire);

			if (!uvmbus_ring_set_interrupt_mask(s->f.cons, false)) {
				s->consumer_waits++;
				wait_change(&s->bell_to_consumer, seen);
			}
			uvmbus_ring_set_interrupt_mask(s->f.cons, true);
		}
	}
	return NULL;
}

int main(void)
{
	struct shared *s = calloc(1, sizeof(*s));
	const char *env = getenv("RING_THREADS_PACKETS");
	pthread_t tp, tc;

	s->n = env ? strtoull(env, NULL, 10) : 10000000ull;
	if (!s->n || ring_fix_init(&s->f, 16384, 0)) {
		fprintf(stderr, "ring_threads: bad RING_THREADS_PACKETS or ring setup failed\n");
		return 1;
	}
	pthread_create(&tc, NULL, consumer, s);
	pthread_create(&tp, NULL, producer, s);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	CHECK(s->bad == 0, "%llu bad packets (lost, reordered or corrupted)",
	      (unsigned long long)s->bad);

	struct uvmbus_ring_state ps, cs;

	uvmbus_ring_get_state(s->f.prod, &ps);
	uvmbus_ring_get_state(s->f.cons, &cs);
	CHECK(ps.packets == s->n, "producer wrote %llu", (unsigned long long)ps.packets);
	CHECK(cs.packets == s->n, "consumer read %llu", (unsigned long long)cs.packets);
	CHECK(ps.bytes == cs.bytes, "bytes %llu vs %llu", (unsigned long long)ps.bytes,
	      (unsigned long long)cs.bytes);
	CHECK(cs.corrupt + ps.corrupt == 0, "corruption seen");
	CHECK(cs.readable == 0, "left unread: %u", cs.readable);
	printf("ring_threads: %llu packets, %llu bytes, producer waited %llu times (%llu full), "
	       "consumer waited %llu times, %llu + %llu signals\n",
	       (unsigned long long)s->n, (unsigned long long)ps.bytes,
	       (unsigned long long)s->producer_waits, (unsigned long long)ps.full,
	       (unsigned long long)s->consumer_waits, (unsigned long long)ps.signals,
	       (unsigned long long)cs.signals);
	ring_fix_fini(&s->f);
	free(s);
	printf("ring_threads: %d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
	return failures ? 1 : 0;
}
