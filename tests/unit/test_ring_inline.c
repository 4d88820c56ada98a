/* Ring: the inline fast paths (<uvmbus/ring.h>) against the out-of-line
 * functions. Two rings run the same random stream (lengths across the
 * wrap, batches that fill the ring, reads with random caps), one through
 * each: after every step the shared memory (header and data area), the
 * returns, the copies and the signal decisions are identical; a corrupt
 * descriptor is refused and counted by both. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uvmbus/ring.h>

#define HDR   4096u
#define DSIZE 4096u

struct pair {
	uint8_t *mem;
	struct uvmbus_ring *prod, *cons;
};

static void pair_init(struct pair *p)
{
	p->mem = aligned_alloc(4096, HDR + DSIZE);
	cr_assert_not_null(p->mem);
	memset(p->mem, 0xa5, HDR + DSIZE); /* stale bytes: padding must be zeroed */
	memset(p->mem, 0, 64);
	cr_assert_eq(uvmbus_ring_attach(&p->prod, p->mem, HDR + DSIZE, HDR, UVMBUS_RING_PRODUCER),
		     0);
	cr_assert_eq(uvmbus_ring_attach(&p->cons, p->mem, HDR + DSIZE, HDR, UVMBUS_RING_CONSUMER),
		     0);
}

static void pair_fini(struct pair *p)
{
	uvmbus_ring_detach(p->prod);
	uvmbus_ring_detach(p->cons);
	free(p->mem);
}

/* One packet of len bytes (>= 16): a descriptor, then bytes from seed. */
static int put(struct uvmbus_ring *r, size_t len, uint32_t seed, bool inl)
{
	struct vmbus_pkt_desc d = {.type = 6, .offset8 = 2, .flags = 0, .trans_id = seed};
	struct uvmbus_ring_span s;
	uint8_t body[1024];
	int rc;

	d.len8 = (uint16_t)((len + 7) / 8);
	for (size_t i = 0; i < len - sizeof(d); i++)
		body[i] = (uint8_t)(seed + i * 7);
	rc = inl ? uvmbus_ring_reserve_inline(r, len, &s) : uvmbus_ring_reserve(r, len, &s);
	if (rc)
		return rc;
	if (inl) {
		/* the body in two pieces: one write may straddle the wrap */
		size_t half = (len - sizeof(d)) / 2;

		cr_assert_eq(uvmbus_ring_span_write_inline(&s, 0, &d, sizeof(d)), 0);
		cr_assert_eq(uvmbus_ring_span_write_inline(&s, sizeof(d), body, half), 0);
		cr_assert_eq(uvmbus_ring_span_write_inline(&s, sizeof(d) + half, body + half,
							   len - sizeof(d) - half),
			     0);
		uvmbus_ring_stage_inline(r, &s);
	} else {
		uvmbus_ring_span_write(&s, 0, &d, sizeof(d));
		uvmbus_ring_span_write(&s, sizeof(d), body, len - sizeof(d));
		uvmbus_ring_stage(r, &s);
	}
	return 0;
}

static void same_memory(const struct pair *a, const struct pair *b, int step)
{
	cr_assert_arr_eq(a->mem, b->mem, HDR + DSIZE, "step %d: the rings' bytes differ", step);
}

static void same_state(struct uvmbus_ring *x, struct uvmbus_ring *y, int step)
{
	struct uvmbus_ring_state sx, sy;

	uvmbus_ring_get_state(x, &sx);
	uvmbus_ring_get_state(y, &sy);
	cr_assert_eq(sx.priv_index, sy.priv_index, "step %d", step);
	cr_assert_eq(sx.packets, sy.packets, "step %d", step);
	cr_assert_eq(sx.bytes, sy.bytes, "step %d", step);
	cr_assert_eq(sx.corrupt, sy.corrupt, "step %d", step);
	cr_assert_eq(sx.full, sy.full, "step %d", step);
}

Test(ring_inline, same_bytes_and_decisions_as_out_of_line)
{
	struct pair a, b;
	unsigned seed = 26;

	pair_init(&a);
	pair_init(&b);
	for (int step = 0; step < 20000; step++) {
		/* a batch: until full or 1..12 packets */
		int k = 1 + rand_r(&seed) % 12;

		for (int i = 0; i < k; i++) {
			size_t len = 16 + (size_t)(rand_r(&seed) % 600);
			uint32_t v = (uint32_t)rand_r(&seed);
			int ra = put(a.prod, len, v, false), rb = put(b.prod, len, v, true);

			cr_assert_eq(ra, rb, "step %d: reserve %zu", step, len);
			if (ra)
				break;
		}
		bool sa, sb;

		uvmbus_ring_publish(a.prod, &sa);
		uvmbus_ring_publish(b.prod, &sb);
		cr_assert_eq(sa, sb, "step %d: signal decision", step);
		same_memory(&a, &b, step);
		same_state(a.prod, b.prod, step);
		/* read some of it back, random caps */
		int m = rand_r(&seed) % 14;

		for (int i = 0; i < m; i++) {
			uint8_t ba[1024], bb[1024];
			struct vmbus_pkt_desc da, db;
			size_t cap = (size_t)(rand_r(&seed) % 700), pa = 0, pb = 0;
			int ra = uvmbus_ring_read_payload(a.cons, &da, ba, cap, &pa);
			int rb = uvmbus_ring_read_payload_inline(b.cons, &db, bb, cap, &pb);

			cr_assert_eq(ra, rb, "step %d: read", step);
			if (ra)
				break;
			cr_assert_arr_eq(&da, &db, sizeof(da));
			cr_assert_eq(pa, pb);
			cr_assert_arr_eq(ba, bb, cap < pa ? cap : pa, "step %d: payload", step);
		}
		same_state(a.cons, b.cons, step);
		uvmbus_ring_read_commit(a.cons, &sa);
		uvmbus_ring_read_commit(b.cons, &sb);
		cr_assert_eq(sa, sb, "step %d: read_commit decision", step);
		same_memory(&a, &b, step);
	}
	pair_fini(&a);
	pair_fini(&b);
}

/* A descriptor the host corrupted is refused by the inline path too
 * (-EIO, counted): it falls to the out-of-line check. */
Test(ring_inline, corrupt_descriptor_refused)
{
	struct pair a;
	struct uvmbus_ring_state st;
	struct vmbus_pkt_desc d;
	uint8_t buf[16];
	size_t plen;

	pair_init(&a);
	cr_assert_eq(put(a.prod, 64, 1, true), 0);
	uvmbus_ring_publish(a.prod, NULL);
	cr_assert_eq(uvmbus_ring_read_payload_inline(a.cons, &d, buf, sizeof(buf), &plen), 0);
	cr_assert_eq(put(a.prod, 64, 2, true), 0);
	uvmbus_ring_publish(a.prod, NULL);
	uint8_t *desc = a.mem + HDR + 72; /* the second packet: offset8 = 1 */

	desc[2] = 1;
	desc[3] = 0;
	cr_expect_eq(uvmbus_ring_read_payload_inline(a.cons, &d, buf, sizeof(buf), &plen), -EIO);
	desc[2] = 2;
	desc[4] = 200; /* len8 past what was written */
	cr_expect_eq(uvmbus_ring_read_payload_inline(a.cons, &d, buf, sizeof(buf), &plen), -EIO);
	uvmbus_ring_get_state(a.cons, &st);
	cr_expect_eq(st.corrupt, 2u);
	desc[4] = 8;
	cr_expect_eq(uvmbus_ring_read_payload_inline(a.cons, &d, buf, sizeof(buf), &plen), 0);
	cr_expect_eq(d.trans_id, 2u);
	cr_expect_eq(plen, 48u);
	/* a consumer handle refuses to reserve, a producer to read */
	struct uvmbus_ring_span s;

	cr_expect_eq(uvmbus_ring_reserve_inline(a.cons, 64, &s), -EINVAL);
	cr_expect_eq(uvmbus_ring_read_payload_inline(a.prod, &d, buf, sizeof(buf), &plen), -EINVAL);
	/* a span write outside the span is refused (out of line), nothing written */
	cr_assert_eq(uvmbus_ring_reserve_inline(a.prod, 24, &s), 0);
	cr_expect_eq(uvmbus_ring_span_write_inline(&s, 20, buf, 5), -EINVAL);
	cr_expect_eq(uvmbus_ring_span_write_inline(&s, SIZE_MAX, buf, 2), -EINVAL);
	pair_fini(&a);
}

/* The inline read reloads the write index itself when its cache says
 * empty (uvmbus_ring_reload): a packet published after the consumer
 * caught up is read inline, an empty ring is -EAGAIN, and a corrupt
 * write index is -EIO and counted once, as by the out-of-line read. */
Test(ring_inline, reload_when_the_cache_says_empty)
{
	struct pair a, b;
	struct uvmbus_ring_state st;
	struct vmbus_pkt_desc d;
	uint8_t buf[48];
	size_t plen;

	pair_init(&a);
	pair_init(&b);
	cr_expect_eq(uvmbus_ring_read_payload_inline(a.cons, &d, buf, sizeof(buf), &plen), -EAGAIN);
	for (uint32_t i = 1; i <= 3; i++) {
		cr_assert_eq(put(a.prod, 64, i, true), 0);
		uvmbus_ring_publish(a.prod, NULL);
		cr_assert_eq(uvmbus_ring_read_payload_inline(a.cons, &d, buf, sizeof(buf), &plen),
			     0, "packet %u", i);
		cr_expect_eq(d.trans_id, i);
		cr_expect_eq(uvmbus_ring_read_payload_inline(a.cons, &d, buf, sizeof(buf), &plen),
			     -EAGAIN);
	}
	uvmbus_ring_get_state(a.cons, &st);
	cr_expect_eq(st.packets, 3u);
	cr_expect_eq(st.corrupt, 0u);
	/* the host writes a bad index: inline and out of line alike */
	struct vmbus_ring_hdr *ha = (void *)a.mem, *hb = (void *)b.mem;

	ha->write_index = 4; /* not 8-aligned */
	hb->write_index = 4;
	cr_expect_eq(uvmbus_ring_read_payload_inline(a.cons, &d, buf, sizeof(buf), &plen), -EIO);
	cr_expect_eq(uvmbus_ring_read_payload(b.cons, &d, buf, sizeof(buf), &plen), -EIO);
	ha->write_index = DSIZE; /* out of range */
	cr_expect_eq(uvmbus_ring_reload(a.cons), -EIO);
	uvmbus_ring_get_state(a.cons, &st);
	cr_expect_eq(st.corrupt, 2u);
	uvmbus_ring_get_state(b.cons, &st);
	cr_expect_eq(st.corrupt, 1u);
	pair_fini(&a);
	pair_fini(&b);
}
