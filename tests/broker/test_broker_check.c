// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_parse: the daemon's check of a client's request packet. A good
 * packet (built by libuvmbus's builder, as libazblob writes it) is
 * accepted with its buffers' arena offsets; each bad field a hostile
 * client can set is refused under its own reason, and nothing outside
 * the client's arena is ever accepted.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <uvmbus/packet.h>

#include "check.h"

#define ARENA_PAGES 1024u

struct pk {
	uint8_t b[4096];
	size_t len;
};

/* data (2 pages from pfn 100, offset 16), request (1 page, pfn 200,
 * offset 8), response (1 page, pfn 300): 4 pfns. */
static void build(struct pk *p, uint64_t tid, const uint64_t *pfn, struct azblob_vsp_request *q)
{
	struct vmbus_gpa_direct_hdr h;
	uint32_t n = 4;

	cr_assert_eq(uvmbus_pkt_gpa_hdr(&h, tid ? tid : 1, 0, n * 4096, n, sizeof(*q)), 0);
	memcpy(&h.desc.trans_id, &tid, 8);
	memset(p->b, 0, sizeof(p->b));
	memcpy(p->b, &h, sizeof(h));
	memcpy(p->b + sizeof(h), pfn, 8 * n);
	memcpy(p->b + sizeof(h) + 8 * n, q, sizeof(*q));
	p->len = (sizeof(h) + 8 * n + sizeof(*q) + 7) & ~7u;
}

static struct azblob_vsp_request good_q(void)
{
	struct azblob_vsp_request q = {0};

	q.timeout_ms = 1000;
	q.data_buffer_offset = 16;
	q.data_buffer_length = 5000; /* 16 + 5000 -> 2 pages */
	q.data_buffer_valid = 5000;
	q.operation_type = AZBLOB_VSP_OP_USER_REQUEST;
	q.request_buffer_offset = 2 * 4096 + 8;
	q.request_buffer_length = 100;
	q.response_buffer_offset = 3 * 4096;
	q.response_buffer_length = 4096;
	return q;
}

static const uint64_t good_pfn[4] = {100, 101, 200, 300};

static enum azd_violation check(const struct pk *p, struct azd_req *r)
{
	return azd_check(p->b, p->len, ARENA_PAGES, 8192, r);
}

Test(broker_parse, good_request_gives_arena_offsets)
{
	struct azblob_vsp_request q = good_q();
	struct azd_req r;
	struct pk p;

	build(&p, 0x1234, good_pfn, &q);
	cr_assert_eq(check(&p, &r), AZD_OK);
	cr_assert_eq(r.trans_id, 0x1234);
	cr_assert_eq(r.data_off, 100 * 4096 + 16);
	cr_assert_eq(r.request_off, 200 * 4096 + 8);
	cr_assert_eq(r.response_off, 300 * 4096);
}

Test(broker_parse, pfn_outside_the_arena)
{
	struct azblob_vsp_request q = good_q();
	uint64_t pfn[4] = {100, 101, 200, ARENA_PAGES};
	struct azd_req r;
	struct pk p;

	build(&p, 7, pfn, &q);
	cr_assert_eq(check(&p, &r), AZD_V_OUTSIDE_ARENA);
	pfn[3] = UINT64_MAX; /* p0 * 4096 would wrap */
	build(&p, 7, pfn, &q);
	cr_assert_eq(check(&p, &r), AZD_V_OUTSIDE_ARENA);
	/* the data's second page beyond the end */
	uint64_t edge[4] = {ARENA_PAGES - 1, ARENA_PAGES, 200, 300};

	build(&p, 7, edge, &q);
	cr_assert_eq(check(&p, &r), AZD_V_OUTSIDE_ARENA);
}

Test(broker_parse, scattered_pages_refused)
{
	struct azblob_vsp_request q = good_q();
	uint64_t pfn[4] = {100, 500, 200, 300};
	struct azd_req r;
	struct pk p;

	build(&p, 7, pfn, &q);
	cr_assert_eq(check(&p, &r), AZD_V_SCATTERED);
}

Test(broker_parse, layout_lengths_and_operation)
{
	struct azblob_vsp_request q;
	struct azd_req r;
	struct pk p;

	q = good_q();
	q.request_buffer_offset = 4096 + 8; /* inside the data's pages */
	build(&p, 7, good_pfn, &q);
	cr_assert_eq(check(&p, &r), AZD_V_LAYOUT);
	q = good_q();
	q.response_buffer_length = 8192; /* one page more than the range */
	build(&p, 7, good_pfn, &q);
	cr_assert_eq(check(&p, &r), AZD_V_LAYOUT);
	q = good_q();
	q.data_buffer_offset = 4096;
	build(&p, 7, good_pfn, &q);
	cr_assert_eq(check(&p, &r), AZD_V_LAYOUT);
	q = good_q();
	q.data_buffer_valid = 5001;
	build(&p, 7, good_pfn, &q);
	cr_assert_eq(check(&p, &r), AZD_V_LENGTHS);
	q = good_q();
	q.request_buffer_length = 0;
	build(&p, 7, good_pfn, &q);
	cr_assert_eq(check(&p, &r), AZD_V_LENGTHS);
	q = good_q();
	q.timeout_ms = 0xffffffffu;
	build(&p, 7, good_pfn, &q);
	cr_assert_eq(check(&p, &r), AZD_V_LENGTHS);
	q = good_q();
	q.operation_type = AZBLOB_VSP_OP_REGISTER_BUFFER;
	build(&p, 7, good_pfn, &q);
	cr_assert_eq(check(&p, &r), AZD_V_OPERATION);
	q = good_q();
	q.version = 1;
	build(&p, 7, good_pfn, &q);
	cr_assert_eq(check(&p, &r), AZD_V_OPERATION);
}

Test(broker_parse, descriptor_fields)
{
	struct azblob_vsp_request q = good_q();
	struct azd_req r;
	struct pk p;
	uint16_t v;

	build(&p, 0, good_pfn, &q);
	cr_assert_eq(check(&p, &r), AZD_V_ZERO_TRANS_ID);
	cr_assert_not(azd_violation_answered(AZD_V_ZERO_TRANS_ID));
	build(&p, 7, good_pfn, &q);
	v = 0; /* no completion requested */
	memcpy(p.b + 6, &v, 2);
	cr_assert_eq(check(&p, &r), AZD_V_NO_COMPLETION);
	build(&p, 7, good_pfn, &q);
	v = 6; /* in-band */
	memcpy(p.b, &v, 2);
	cr_assert_eq(check(&p, &r), AZD_V_NOT_GPA_DIRECT);
	build(&p, 7, good_pfn, &q);
	v = 1; /* offset8 below the descriptor */
	memcpy(p.b + 2, &v, 2);
	cr_assert_eq(check(&p, &r), AZD_V_DESCRIPTOR);
	build(&p, 7, good_pfn, &q);
	cr_assert_eq(azd_check(p.b, 8, ARENA_PAGES, 8192, &r), AZD_V_DESCRIPTOR);
	cr_assert_eq(azd_check(p.b, p.len - 8, ARENA_PAGES, 8192, &r), AZD_V_DESCRIPTOR);
	/* range: an offset, a length that is not the pages, too many pages */
	build(&p, 7, good_pfn, &q);
	uint32_t x = 4 * 4096 - 1;

	memcpy(p.b + 24, &x, 4);
	cr_assert_neq(check(&p, &r), AZD_OK);
	build(&p, 7, good_pfn, &q);
	cr_assert_eq(azd_check(p.b, p.len, ARENA_PAGES, 3, &r), AZD_V_RANGE);
}

Test(broker_parse, garbage_never_accepted_outside)
{
	struct azd_req r;
	uint8_t b[512];
	uint32_t x = 1;

	for (int i = 0; i < 200000; i++) {
		for (size_t k = 0; k < sizeof(b); k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			b[k] = (uint8_t)x;
		}
		/* a plausible descriptor head half of the time */
		if (i & 1) {
			uint16_t h[4] = {9, (uint16_t)(4 + (x % 8)), 64, 1};

			memcpy(b, h, sizeof(h));
		}
		if (azd_check(b, sizeof(b), 64, 8192, &r) == AZD_OK) {
			cr_assert_leq(r.data_off + r.q.data_buffer_length, 64 * 4096);
			cr_assert_leq(r.request_off + r.q.request_buffer_length, 64 * 4096);
			cr_assert_leq(r.response_off + r.q.response_buffer_length, 64 * 4096);
		}
	}
}

/* The TX reader: packets in order, then a write index moved backwards
 * (-ERANGE) and one out of range (-EIO). */
Test(broker_parse, tx_reader_sees_an_index_moved_backwards)
{
	static uint8_t mem[4096 + 4096] __attribute__((aligned(4096)));
	struct vmbus_ring_hdr *h = (void *)mem;
	struct uvmbus_ring *prod, *cons;
	struct azblob_vsp_request q = good_q();
	uint8_t buf[4096];
	uint32_t seen = 0, w;
	size_t len;

	h->feature_bits = 1;
	cr_assert_eq(uvmbus_ring_attach(&prod, mem, sizeof(mem), 4096, UVMBUS_RING_PRODUCER), 0);
	cr_assert_eq(uvmbus_ring_attach(&cons, mem, sizeof(mem), 4096, UVMBUS_RING_CONSUMER), 0);
	cr_assert_eq(azd_next_packet(cons, &seen, buf, sizeof(buf), &len), 0, "empty");
	for (uint64_t tid = 1; tid <= 3; tid++)
		cr_assert_eq(
		    uvmbus_pkt_write_gpa(prod, tid, 0, 4 * 4096, good_pfn, 4, &q, sizeof(q), NULL),
		    0);
	cr_assert_eq(azd_next_packet(cons, &seen, buf, sizeof(buf), &len), 1);
	struct azd_req r;

	cr_assert_eq(azd_check(buf, len, ARENA_PAGES, 8192, &r), AZD_OK);
	cr_assert_eq(r.trans_id, 1);
	/* the client takes back its third packet: fewer bytes than seen */
	w = h->write_index;
	h->write_index = w - (uint32_t)(len + 8);
	cr_assert_eq(azd_next_packet(cons, &seen, buf, sizeof(buf), &len), -ERANGE);
	/* an index beyond the data area */
	seen = 0;
	h->write_index = 4096 + 8;
	cr_assert_eq(azd_next_packet(cons, &seen, buf, sizeof(buf), &len), -EIO);
	uvmbus_ring_detach(prod);
	uvmbus_ring_detach(cons);
}
