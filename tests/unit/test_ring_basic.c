/* Ring: attach geometry, round trips, never-full rule, full/empty edges. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <uvmbus/packet.h>

#include "ring_fixture.h"

Test(ring_attach, rejects_bad_geometry)
{
	static uint8_t mem[8192] __attribute__((aligned(4096)));
	struct uvmbus_ring *r;

	cr_expect_eq(uvmbus_ring_attach(&r, NULL, 8192, 4096, UVMBUS_RING_CONSUMER), -EINVAL);
	cr_expect_eq(uvmbus_ring_attach(&r, mem + 4, 8188, 4096, UVMBUS_RING_CONSUMER), -EINVAL);
	cr_expect_eq(uvmbus_ring_attach(&r, mem, 4096, 4096, UVMBUS_RING_CONSUMER), -EINVAL);
	cr_expect_eq(uvmbus_ring_attach(&r, mem, 4096 + 44, 4096, UVMBUS_RING_CONSUMER), -EINVAL,
		     "data area not a multiple of 8");
	cr_expect_eq(uvmbus_ring_attach(&r, mem, 4096 + 40, 4096, UVMBUS_RING_CONSUMER), -EINVAL,
		     "data area too small for a packet");
	cr_expect_eq(uvmbus_ring_attach(&r, mem, 8192, 32, UVMBUS_RING_CONSUMER), -EINVAL,
		     "header smaller than the header fields");
	cr_expect_eq(uvmbus_ring_attach(&r, mem, 8192, 4096, 0), -EINVAL);
	cr_expect_eq(uvmbus_ring_attach(&r, mem, 8192, 4096, UVMBUS_RING_PRODUCER), 0);
	cr_expect_eq(uvmbus_ring_data_size(r), 4096u);
	cr_expect_eq(uvmbus_ring_max_packet(r), 4096u - 16u);
	uvmbus_ring_detach(r);
}

Test(ring_attach, rejects_corrupt_indices)
{
	static uint8_t mem[8192] __attribute__((aligned(4096)));
	struct vmbus_ring_hdr *h = (void *)mem;
	struct uvmbus_ring *r = (void *)1;

	h->write_index = 4096; /* == dsize: out of range */
	cr_expect_eq(uvmbus_ring_attach(&r, mem, 8192, 4096, UVMBUS_RING_CONSUMER), -EIO);
	cr_expect_null(r);
	h->write_index = 12; /* misaligned */
	cr_expect_eq(uvmbus_ring_attach(&r, mem, 8192, 4096, UVMBUS_RING_PRODUCER), -EIO);
	h->write_index = 8;
	h->read_index = 4100;
	cr_expect_eq(uvmbus_ring_attach(&r, mem, 8192, 4096, UVMBUS_RING_PRODUCER), -EIO);
}

Test(ring_attach, max_packet_capped_by_len8)
{
	size_t sz = 4096 + 1024 * 1024;
	uint8_t *mem = aligned_alloc(4096, sz);
	struct uvmbus_ring *r;

	memset(mem, 0, 4096);
	cr_assert_eq(uvmbus_ring_attach(&r, mem, sz, 4096, UVMBUS_RING_PRODUCER), 0);
	cr_expect_eq(uvmbus_ring_max_packet(r), VMBUS_PKT_MAX_LEN);
	uvmbus_ring_detach(r);
	free(mem);
}

Test(ring_rw, inband_round_trip)
{
	struct ring_fix f;
	uint8_t buf[256];
	struct uvmbus_pkt p;
	size_t len = 0;
	bool sig;

	cr_assert_eq(ring_fix_init(&f, 1024, 0), 0);
	cr_expect_eq(uvmbus_ring_readable(f.cons), 0u);
	cr_expect_eq(uvmbus_ring_read(f.cons, buf, sizeof(buf), &len), -EAGAIN);
	cr_assert_eq(uvmbus_pkt_write_inband(f.prod, 7, 1, "hello", 5, &sig), 0);
	cr_expect(sig, "first packet into an empty, unmasked ring signals");
	cr_expect_eq(uvmbus_ring_readable(f.cons), 32u);
	cr_expect_eq(uvmbus_ring_writable(f.prod), 1024u - 32u);

	cr_expect_eq(uvmbus_ring_read(f.cons, buf, 8, &len), -EMSGSIZE);
	cr_expect_eq(len, 24u, "needed length reported, nothing consumed");
	cr_assert_eq(uvmbus_ring_read(f.cons, buf, sizeof(buf), &len), 0);
	cr_expect_eq(len, 24u);
	cr_assert_eq(uvmbus_pkt_parse(buf, len, &p), 0);
	cr_expect_eq(p.type, VMBUS_PKT_DATA_INBAND);
	cr_expect_eq(p.trans_id, 7u);
	cr_expect_eq(p.flags, 1u);
	cr_expect_eq(p.payload_len, 8u);
	cr_expect_arr_eq(p.payload, "hello\0\0\0", 8);

	/* Not published until commit: the producer still sees the bytes used. */
	cr_expect_eq(uvmbus_ring_writable(f.prod), 1024u - 32u);
	cr_expect_eq(uvmbus_ring_read(f.cons, buf, sizeof(buf), &len), -EAGAIN);
	cr_expect_eq(uvmbus_ring_read_commit(f.cons, NULL), 32u);
	cr_expect_eq(uvmbus_ring_writable(f.prod), 1024u);
	cr_expect_eq(uvmbus_ring_read_commit(f.cons, NULL), 0u, "nothing new to publish");
	ring_fix_fini(&f);
}

Test(ring_rw, peek_and_skip)
{
	struct ring_fix f;
	struct vmbus_pkt_desc d;
	uint8_t buf[64];
	size_t len;

	cr_assert_eq(ring_fix_init(&f, 512, 0), 0);
	cr_assert_eq(uvmbus_pkt_write_inband(f.prod, 1, 0, "a", 1, NULL), 0);
	cr_assert_eq(uvmbus_pkt_write_completion(f.prod, 2, "bb", 2, NULL), 0);
	cr_assert_eq(uvmbus_ring_peek(f.cons, &d), 0);
	cr_expect_eq(d.trans_id, 1u);
	cr_assert_eq(uvmbus_ring_peek(f.cons, &d), 0, "peek does not move");
	cr_expect_eq(d.trans_id, 1u);
	cr_assert_eq(uvmbus_ring_skip(f.cons), 0);
	cr_assert_eq(uvmbus_ring_read(f.cons, buf, sizeof(buf), &len), 0);
	cr_expect_eq(((struct vmbus_pkt_desc *)buf)->type, VMBUS_PKT_COMPLETION);
	cr_expect_eq(uvmbus_ring_skip(f.cons), -EAGAIN);
	ring_fix_fini(&f);
}

Test(ring_rw, never_full_rule)
{
	struct ring_fix f;
	struct uvmbus_ring_span s;
	uint8_t pl[24] = {0};
	int n = 0;

	/* dsize 256: packets of 32 bytes + 8 trailer = 40 each. */
	cr_assert_eq(ring_fix_init(&f, 256, 0), 0);
	while (uvmbus_pkt_write_inband(f.prod, 1, 0, pl, 16, NULL) == 0)
		n++;
	cr_expect_eq(n, 6, "6 x 40 = 240 bytes; a 7th would leave 0 free");
	cr_expect_eq(uvmbus_ring_writable(f.prod), 16u);
	/* The smallest packet (16 + 8 trailer) needs more than the 16 free. */
	cr_expect_eq(uvmbus_ring_reserve(f.prod, 16, &s), -EAGAIN);
	cr_expect_eq(uvmbus_ring_readable(f.cons), 240u);

	struct uvmbus_ring_state st;

	uvmbus_ring_get_state(f.prod, &st);
	cr_expect_geq(st.full, 2u);
	cr_expect_eq(st.packets, 6u);
	ring_fix_fini(&f);
}

Test(ring_rw, exact_fit_then_refuse)
{
	struct ring_fix f;
	struct uvmbus_ring_span s;

	/* The largest packet fits an empty ring; one byte more can't ever. */
	cr_assert_eq(ring_fix_init(&f, 256, 128), 0);
	cr_expect_eq(uvmbus_ring_reserve(f.prod, 241, &s), -EMSGSIZE);
	cr_assert_eq(uvmbus_ring_reserve(f.prod, 240, &s), 0);
	cr_expect_eq(s.len, 240u);
	cr_expect_eq(s.n[0] + s.n[1], 240u);
	cr_expect_eq(s.n[0], 128u, "wraps at the end of the data area");
	uvmbus_ring_commit(f.prod, &s, NULL);
	cr_expect_eq(uvmbus_ring_writable(f.prod), 8u);
	cr_expect_eq(f.hdr->write_index, 120u);
	ring_fix_fini(&f);
}

Test(ring_rw, argument_checks)
{
	struct ring_fix f;
	struct uvmbus_ring_span s;
	struct vmbus_pkt_desc d;
	uint8_t b[24] = {0};

	cr_assert_eq(ring_fix_init(&f, 256, 0), 0);
	cr_expect_eq(uvmbus_ring_reserve(f.prod, 15, &s), -EINVAL, "shorter than a descriptor");
	cr_expect_eq(uvmbus_ring_reserve(f.cons, 64, &s), -EINVAL, "consumer cannot write");
	cr_expect_eq(uvmbus_ring_peek(f.prod, &d), -EINVAL, "producer cannot read");
	cr_assert_eq(uvmbus_ring_reserve(f.prod, 20, &s), 0);
	cr_expect_eq(uvmbus_ring_span_write(&s, 20, b, 5), -EINVAL, "past the span");
	cr_expect_eq(uvmbus_ring_span_write(&s, 0, b, 24), 0, "padding belongs to the span");
	cr_expect_eq(uvmbus_ring_span_write(&s, SIZE_MAX, b, 2), -EINVAL, "no overflow");
	ring_fix_fini(&f);
}

Test(ring_rw, writev_gathers_pieces)
{
	struct ring_fix f;
	struct vmbus_pkt_desc d = {.type = 6, .offset8 = 2, .len8 = 4, .trans_id = 9};
	struct iovec iov[3] = {{&d, 16}, {"abc", 3}, {"defghij", 7}};
	uint8_t buf[64];
	size_t len;

	cr_assert_eq(ring_fix_init(&f, 256, 200), 0);
	cr_assert_eq(uvmbus_ring_writev(f.prod, iov, 3, NULL), 0);
	cr_assert_eq(uvmbus_ring_read(f.cons, buf, sizeof(buf), &len), 0);
	cr_expect_eq(len, 32u);
	cr_expect_arr_eq(buf + 16, "abcdefghij\0\0\0\0\0\0", 16);
	ring_fix_fini(&f);
}

Test(ring_dump, prints_state)
{
	struct ring_fix f;
	char line[512];
	int n;

	cr_assert_eq(ring_fix_init(&f, 256, 0), 0);
	cr_assert_eq(uvmbus_pkt_write_inband(f.prod, 3, 0, "x", 1, NULL), 0);
	n = uvmbus_ring_dump(f.cons, line, sizeof(line));
	cr_expect_gt(n, 0);
	cr_expect_neq(strstr(line, "consumer dsize=256 w=32 r=0 priv=0 readable=32"), NULL, "%s",
		      line);
	n = uvmbus_ring_dump(f.prod, line, 8);
	cr_expect_gt(n, 8, "returns the full length like snprintf");
	cr_expect_eq(strlen(line), 7u);
	ring_fix_fini(&f);
}

Test(ring_pending, producer_sets_pending_send)
{
	struct ring_fix f;

	cr_assert_eq(ring_fix_init(&f, 256, 0), 0);
	uvmbus_ring_set_pending_send(f.prod, 96);
	cr_expect_eq(f.hdr->pending_send_sz, 96u);
	uvmbus_ring_set_pending_send(f.prod, 0);
	cr_expect_eq(f.hdr->pending_send_sz, 0u);
	ring_fix_fini(&f);
}
