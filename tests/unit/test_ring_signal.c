/* Signal decisions, docs/WIRE.md section 1, as tables. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>

#include <uvmbus/packet.h>

#include "ring_fixture.h"

/* ---- after write: signal iff consumer unmasked and ring was empty ---- */

struct write_row {
	uint32_t mask;
	int already_queued; /* packets in the ring before the one under test */
	bool expect;
};

ParameterizedTestParameters(ring_signal, after_write)
{
	static struct write_row rows[] = {
	    {0, 0, true},  /* empty -> non-empty, host listening: signal */
	    {1, 0, false}, /* host masked (draining/polling): no signal */
	    {0, 1, false}, /* host has work queued: it is awake */
	    {1, 1, false}, {0, 3, false},
	};
	return cr_make_param_array(struct write_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct write_row *row, ring_signal, after_write)
{
	struct ring_fix f;
	bool sig = true;

	cr_assert_eq(ring_fix_init(&f, 1024, 504), 0);
	for (int i = 0; i < row->already_queued; i++)
		cr_assert_eq(uvmbus_pkt_write_inband(f.prod, 1, 0, "q", 1, NULL), 0);
	f.hdr->interrupt_mask = row->mask;
	cr_assert_eq(uvmbus_pkt_write_inband(f.prod, 2, 0, "x", 1, &sig), 0);
	cr_expect_eq(sig, row->expect, "mask=%u queued=%d", row->mask, row->already_queued);
	ring_fix_fini(&f);
}

Test(ring_signal, once_per_batch_of_writes)
{
	struct ring_fix f;
	int signals = 0;

	cr_assert_eq(ring_fix_init(&f, 4096, 0), 0);
	for (int i = 0; i < 10; i++) {
		bool sig;

		cr_assert_eq(uvmbus_pkt_write_inband(f.prod, 1 + i, 0, "abc", 3, &sig), 0);
		signals += sig;
	}
	cr_expect_eq(signals, 1);
	/* The consumer drains and publishes; the next write signals again. */
	while (uvmbus_ring_skip(f.cons) == 0)
		;
	uvmbus_ring_read_commit(f.cons, NULL);
	bool sig;

	cr_assert_eq(uvmbus_pkt_write_inband(f.prod, 99, 0, "abc", 3, &sig), 0);
	cr_expect(sig);
	/* Read but not yet published: from the producer's view the consumer
	 * has not caught up, so it is awake and no signal is needed. */
	cr_assert_eq(uvmbus_ring_skip(f.cons), 0);
	cr_assert_eq(uvmbus_pkt_write_inband(f.prod, 100, 0, "abc", 3, &sig), 0);
	cr_expect_not(sig);
	ring_fix_fini(&f);
}

/* ---- after read: pending_send_sz rule ---- */

struct read_row {
	uint32_t queued;  /* 40-byte packets in a 400-byte ring before the batch */
	uint32_t read;	  /* packets consumed in this batch */
	uint32_t pending; /* producer's pending_send_sz */
	bool expect;
	const char *why;
};

/* Hand-derived. 400-byte ring, 40-byte packets (32 + trailer):
 * free before = 400 - 40 * queued; free now = free before + 40 * read.
 * Signal iff pending != 0 && free now > pending && free before <= pending
 * (and the ring advertises feat_pending_send_sz: see after_read_no_feature). */
static struct read_row read_rows[] = {
    {9, 1, 0, false, "pending 0: producer not waiting"},
    {9, 1, 60, true, "40 -> 80 crosses 60"},
    {9, 2, 60, true, "40 -> 120 crosses 60"},
    {5, 1, 100, false, "free before 200 > 100: producer was not blocked"},
    {9, 1, 100, false, "free now 80 <= 100: still not enough room"},
    {9, 3, 100, true, "40 -> 160 crosses 100"},
    {9, 1, 79, true, "40 -> 80 > 79"},
    {9, 1, 80, false, "free now 80 is not > 80"},
    {9, 1, 40, true, "free before 40 <= 40, now 80 > 40"},
    {5, 2, 199, false, "free before 200 > 199"},
    {5, 2, 200, true, "200 -> 280 crosses 200"},
};

ParameterizedTestParameters(ring_signal, after_read)
{
	return cr_make_param_array(struct read_row, read_rows,
				   sizeof(read_rows) / sizeof(read_rows[0]));
}

/* One batch of row's shape on a ring whose RX feature_bits are `feat`:
 * the signal decision of read_commit. */
static bool read_batch(const struct read_row *row, uint32_t feat)
{
	struct ring_fix f;
	bool sig = true;
	uint32_t bytes;

	cr_assert_eq(ring_fix_init(&f, 400, 0), 0);
	f.hdr->feature_bits = feat;
	for (uint32_t i = 0; i < row->queued; i++)
		cr_assert_eq(
		    uvmbus_pkt_write_inband(f.prod, 1 + i, 0, "0123456789abcdef", 16, NULL), 0);
	cr_assert_eq(uvmbus_ring_writable(f.prod), 400 - 40 * row->queued);
	uvmbus_ring_set_pending_send(f.prod, row->pending);
	for (uint32_t i = 0; i < row->read; i++)
		cr_assert_eq(uvmbus_ring_skip(f.cons), 0);
	bytes = uvmbus_ring_read_commit(f.cons, &sig);
	cr_expect_eq(bytes, 40 * row->read, "the batch is published either way");
	cr_expect_eq(f.hdr->read_index, 40 * row->read);
	ring_fix_fini(&f);
	return sig;
}

ParameterizedTest(struct read_row *row, ring_signal, after_read)
{
	bool sig = read_batch(row, VMBUS_RING_FEAT_PENDING_SEND_SZ);

	cr_expect_eq(sig, row->expect, "queued %u read %u pending %u: %s", row->queued, row->read,
		     row->pending, row->why);
}

ParameterizedTestParameters(ring_signal, after_read_no_feature)
{
	return cr_make_param_array(struct read_row, read_rows,
				   sizeof(read_rows) / sizeof(read_rows[0]));
}

/* Bit 0 of the RX feature_bits clear (a host without feat_pending_send_sz,
 * as Linux hv_pkt_iter_close and DPDK read it): pending_send_sz means
 * nothing, never a signal after reading. Other bits do not stand in for it. */
ParameterizedTest(struct read_row *row, ring_signal, after_read_no_feature)
{
	bool sig = read_batch(row, 0);

	cr_expect_not(sig, "feature_bits 0, queued %u read %u pending %u: signalled", row->queued,
		      row->read, row->pending);
	sig = read_batch(row, ~VMBUS_RING_FEAT_PENDING_SEND_SZ);
	cr_expect_not(sig, "feature_bits %#x, queued %u read %u pending %u: signalled",
		      ~VMBUS_RING_FEAT_PENDING_SEND_SZ, row->queued, row->read, row->pending);
}

Test(ring_signal, once_per_read_batch)
{
	struct ring_fix f;
	bool sig;

	/* Producer blocked needing 100; 9 queued (40 free). Reading one at a
	 * time with a commit each signals exactly once, at the crossing. */
	cr_assert_eq(ring_fix_init(&f, 400, 0), 0);
	for (int i = 0; i < 9; i++)
		cr_assert_eq(
		    uvmbus_pkt_write_inband(f.prod, 1 + i, 0, "0123456789abcdef", 16, NULL), 0);
	uvmbus_ring_set_pending_send(f.prod, 100);
	int signals = 0;

	for (int i = 0; i < 9; i++) {
		cr_assert_eq(uvmbus_ring_skip(f.cons), 0);
		uvmbus_ring_read_commit(f.cons, &sig);
		signals += sig;
	}
	cr_expect_eq(signals, 1);
	ring_fix_fini(&f);
}

Test(ring_signal, unmask_reports_pending_data)
{
	struct ring_fix f;

	cr_assert_eq(ring_fix_init(&f, 400, 0), 0);
	cr_expect_not(uvmbus_ring_set_interrupt_mask(f.cons, false), "empty: safe to sleep");
	cr_expect_eq(f.hdr->interrupt_mask, 0u);
	cr_expect_not(uvmbus_ring_set_interrupt_mask(f.cons, true));
	cr_expect_eq(f.hdr->interrupt_mask, 1u);
	/* Masked: the producer writes without signalling... */
	bool sig = true;

	cr_assert_eq(uvmbus_pkt_write_inband(f.prod, 1, 0, "x", 1, &sig), 0);
	cr_expect_not(sig);
	/* ...so unmasking must report the data instead of letting us sleep. */
	cr_expect(uvmbus_ring_set_interrupt_mask(f.cons, false));
	ring_fix_fini(&f);
}

Test(ring_signal, staged_batch_publishes_once)
{
	struct ring_fix f;
	struct uvmbus_ring_span s;
	bool sig = true;

	cr_assert_eq(ring_fix_init(&f, 4096, 0), 0);
	uvmbus_ring_publish(f.prod, &sig);
	cr_expect_not(sig, "nothing staged: nothing to publish");
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(uvmbus_ring_reserve(f.prod, 24, &s), 0);
		uvmbus_ring_span_write(
		    &s, 0,
		    &(struct vmbus_pkt_desc){.type = 6, .offset8 = 2, .len8 = 3, .trans_id = 1 + i},
		    16);
		uvmbus_ring_stage(f.prod, &s);
	}
	cr_expect_eq(f.hdr->write_index, 0u, "staged packets are invisible");
	cr_expect_eq(uvmbus_ring_readable(f.cons), 0u);
	cr_expect_eq(uvmbus_ring_writable(f.prod), 4096u - 5 * 32, "but they use room");
	uvmbus_ring_publish(f.prod, &sig);
	cr_expect(sig, "one signal for the batch into an empty ring");
	cr_expect_eq(f.hdr->write_index, 160u);
	cr_expect_eq(uvmbus_ring_readable(f.cons), 160u);

	/* Second batch while the first is unread: no signal. */
	cr_assert_eq(uvmbus_ring_reserve(f.prod, 24, &s), 0);
	uvmbus_ring_span_write(
	    &s, 0, &(struct vmbus_pkt_desc){.type = 6, .offset8 = 2, .len8 = 3, .trans_id = 9}, 16);
	uvmbus_ring_stage(f.prod, &s);
	uvmbus_ring_publish(f.prod, &sig);
	cr_expect_not(sig);
	int n = 0;

	while (uvmbus_ring_skip(f.cons) == 0)
		n++;
	cr_expect_eq(n, 6);
	ring_fix_fini(&f);
}
