/* Ring: every payload size 0..N at every start offset near the end of a
 * small ring; contents, padding, trailer and indices checked raw. */
#include <criterion/criterion.h>
#include <errno.h>

#include <uvmbus/packet.h>

#include "ring_fixture.h"

#define DSIZE	    512u
#define MAX_PAYLOAD 200u

static uint8_t raw_at(const struct ring_fix *f, uint32_t off)
{
	return f->data[off % DSIZE];
}

Test(ring_sizes, every_size_every_offset_near_end)
{
	uint8_t payload[MAX_PAYLOAD], out[256];
	unsigned checked = 0;

	for (uint32_t start = DSIZE - 256; start < DSIZE; start += 8) {
		for (uint32_t n = 0; n <= MAX_PAYLOAD; n++) {
			struct ring_fix f;
			uint32_t total = 16 + n, padded = (total + 7) & ~7u;
			uint64_t trailer = 0;
			size_t len = 0;

			cr_assert_eq(ring_fix_init(&f, DSIZE, start), 0);
			for (uint32_t i = 0; i < n; i++)
				payload[i] = (uint8_t)(start * 7 + n * 13 + i);
			cr_assert_eq(uvmbus_pkt_write_inband(f.prod, 1 + n, 0, payload, n, NULL), 0,
				     "start %u size %u", start, n);

			/* Raw view: payload, zero padding, trailer, indices. */
			for (uint32_t i = 0; i < n; i++)
				cr_assert_eq(raw_at(&f, start + 16 + i), payload[i]);
			for (uint32_t i = total; i < padded; i++)
				cr_assert_eq(raw_at(&f, start + i), 0, "padding at %u", i);
			for (uint32_t i = 0; i < 8; i++)
				trailer |= (uint64_t)raw_at(&f, start + padded + i) << (8 * i);
			cr_assert_eq(trailer, (uint64_t)start << 32);
			cr_assert_eq(f.hdr->write_index, (start + padded + 8) % DSIZE);
			cr_assert_eq(uvmbus_ring_readable(f.cons), padded + 8);

			/* Consumer view. */
			cr_assert_eq(uvmbus_ring_read(f.cons, out, sizeof(out), &len), 0);
			cr_assert_eq(len, padded);
			cr_assert_arr_eq(out + 16, payload, n);
			cr_assert_eq(uvmbus_ring_read_commit(f.cons, NULL), padded + 8);
			cr_assert_eq(f.hdr->read_index, f.hdr->write_index);
			cr_assert_eq(uvmbus_ring_read(f.cons, out, sizeof(out), &len), -EAGAIN);
			ring_fix_fini(&f);
			checked++;
		}
	}
	cr_expect_eq(checked, 32u * (MAX_PAYLOAD + 1));
}

/* Fill to the brim and drain, many laps, with sizes that walk every
 * alignment: indices wrap many times, nothing is lost or reordered. */
Test(ring_sizes, laps_with_mixed_sizes)
{
	struct ring_fix f;
	uint8_t payload[300], out[512];
	uint64_t next_w = 1, next_r = 1;

	cr_assert_eq(ring_fix_init(&f, DSIZE, 0), 0);
	while (next_r < 5000) {
		for (;;) {
			uint32_t n = (uint32_t)(next_w * 37 % 300);

			memset(payload, (int)(next_w & 0xff), n);
			int rc = uvmbus_pkt_write_inband(f.prod, next_w, 0, payload, n, NULL);

			if (rc == -EAGAIN)
				break;
			cr_assert_eq(rc, 0);
			next_w++;
		}
		cr_assert_gt(uvmbus_ring_readable(f.cons), 0u);
		for (;;) {
			size_t len;
			int rc = uvmbus_ring_read(f.cons, out, sizeof(out), &len);

			if (rc == -EAGAIN)
				break;
			cr_assert_eq(rc, 0);
			struct vmbus_pkt_desc *d = (void *)out;
			uint32_t n = (uint32_t)(next_r * 37 % 300);

			cr_assert_eq(d->trans_id, next_r);
			cr_assert_eq(len, (16 + n + 7) & ~7u);
			for (uint32_t i = 0; i < n; i++)
				cr_assert_eq(out[16 + i], next_r & 0xff);
			next_r++;
		}
		uvmbus_ring_read_commit(f.cons, NULL);
	}
	cr_expect_eq(next_r, next_w);
	ring_fix_fini(&f);
}
