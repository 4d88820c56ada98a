/* Corrupt rings: every bad index or descriptor is -EIO, counted, and
 * never read out of bounds (this suite also runs under ASan). */
#include <criterion/criterion.h>
#include <errno.h>

#include <uvmbus/packet.h>

#include "ring_fixture.h"

static uint64_t corrupt_count(const struct uvmbus_ring *r)
{
	struct uvmbus_ring_state st;

	uvmbus_ring_get_state(r, &st);
	return st.corrupt;
}

static void put_desc(struct ring_fix *f, uint32_t at, uint16_t type, uint16_t off8, uint16_t len8)
{
	struct vmbus_pkt_desc d = {.type = type, .offset8 = off8, .len8 = len8, .trans_id = 5};

	memcpy(f->data + at, &d, sizeof(d));
}

Test(ring_corrupt, write_index_out_of_range)
{
	struct ring_fix f;
	uint8_t buf[64];
	size_t len;

	cr_assert_eq(ring_fix_init(&f, 256, 0), 0);
	f.hdr->write_index = 256;
	cr_expect_eq(uvmbus_ring_read(f.cons, buf, sizeof(buf), &len), -EIO);
	f.hdr->write_index = 0xfffffff8u;
	cr_expect_eq(uvmbus_ring_read(f.cons, buf, sizeof(buf), &len), -EIO);
	cr_expect_eq(corrupt_count(f.cons), 2u);
	cr_expect_eq(uvmbus_ring_readable(f.cons), 0u, "corrupt ring reads as empty");
	ring_fix_fini(&f);
}

Test(ring_corrupt, write_index_misaligned)
{
	struct ring_fix f;
	struct vmbus_pkt_desc d;

	cr_assert_eq(ring_fix_init(&f, 256, 0), 0);
	f.hdr->write_index = 36;
	cr_expect_eq(uvmbus_ring_peek(f.cons, &d), -EIO);
	ring_fix_fini(&f);
}

Test(ring_corrupt, read_index_bad_for_producer)
{
	struct ring_fix f;
	struct uvmbus_ring_span s;
	int ok = 0, rc;

	/* The producer trusts the last valid read index it saw (room only
	 * grows from there) and reloads it when that shows no room: the
	 * corrupt value is caught there, before anything is overwritten. */
	cr_assert_eq(ring_fix_init(&f, 256, 0), 0);
	f.hdr->read_index = 300;
	while ((rc = uvmbus_pkt_write_inband(f.prod, 1, 0, "0123456789abcdef", 16, NULL)) == 0)
		ok++;
	cr_expect_eq(rc, -EIO);
	cr_expect_eq(ok, 6, "6 x 40 bytes fit the room known before the corruption");
	f.hdr->read_index = 4;
	cr_expect_eq(uvmbus_ring_reserve(f.prod, 32, &s), -EIO, "misaligned");
	cr_expect_eq(corrupt_count(f.prod), 2u);
	cr_expect_eq(uvmbus_ring_writable(f.prod), 0u, "corrupt ring has no room");
	ring_fix_fini(&f);
}

Test(ring_corrupt, descriptor_checks)
{
	struct {
		uint16_t off8, len8;
		uint32_t w;
		const char *what;
	} cases[] = {
	    {1, 4, 40, "offset8 < 2"},
	    {0, 4, 40, "offset8 0"},
	    {5, 4, 40, "offset8 > len8"},
	    {2, 5, 40, "len8 * 8 + trailer > readable"},
	    {2, 0xffff, 40, "huge len8"},
	    {2, 2, 16, "fewer readable bytes than descriptor + trailer"},
	    {2, 2, 8, "8 readable bytes"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ring_fix f;
		uint8_t buf[1024];
		size_t len;

		cr_assert_eq(ring_fix_init(&f, 256, 0), 0);
		put_desc(&f, 0, 6, cases[i].off8, cases[i].len8);
		f.hdr->write_index = cases[i].w;
		cr_expect_eq(uvmbus_ring_read(f.cons, buf, sizeof(buf), &len), -EIO, "%s",
			     cases[i].what);
		cr_expect_eq(uvmbus_ring_skip(f.cons), -EIO, "%s", cases[i].what);
		ring_fix_fini(&f);
	}
}

Test(ring_corrupt, good_descriptor_control)
{
	struct ring_fix f;
	uint8_t buf[64];
	size_t len;

	/* The same layout with sane values reads fine (the checks above are
	 * not just failing everything). */
	cr_assert_eq(ring_fix_init(&f, 256, 0), 0);
	put_desc(&f, 0, 6, 2, 4);
	f.hdr->write_index = 40;
	cr_expect_eq(uvmbus_ring_read(f.cons, buf, sizeof(buf), &len), 0);
	cr_expect_eq(len, 32u);
	ring_fix_fini(&f);
}

Test(ring_corrupt, descriptor_straddling_end)
{
	struct ring_fix f;
	struct vmbus_pkt_desc d = {.type = 6, .offset8 = 2, .len8 = 0x40, .trans_id = 1};
	uint8_t raw[16], buf[1024];
	size_t len;

	/* Descriptor split across the wrap, claiming more than is readable. */
	cr_assert_eq(ring_fix_init(&f, 256, 248), 0);
	memcpy(raw, &d, 16);
	memcpy(f.data + 248, raw, 8);
	memcpy(f.data, raw + 8, 8);
	f.hdr->write_index = 32;
	cr_expect_eq(uvmbus_ring_read(f.cons, buf, sizeof(buf), &len), -EIO);
	/* Fix the length: now it is a valid wrapped packet. */
	d.len8 = 4;
	memcpy(raw, &d, 16);
	memcpy(f.data + 248, raw, 8);
	memcpy(f.data, raw + 8, 8);
	cr_expect_eq(uvmbus_ring_read(f.cons, buf, sizeof(buf), &len), 0);
	cr_expect_eq(len, 32u);
	cr_expect_eq(((struct vmbus_pkt_desc *)buf)->len8, 4);
	ring_fix_fini(&f);
}

Test(ring_corrupt, commit_with_corrupt_write_index_no_signal)
{
	struct ring_fix f;
	bool sig = true;

	cr_assert_eq(ring_fix_init(&f, 256, 0), 0);
	cr_assert_eq(uvmbus_pkt_write_inband(f.prod, 1, 0, "x", 1, NULL), 0);
	cr_assert_eq(uvmbus_ring_skip(f.cons), 0);
	f.hdr->pending_send_sz = 100;
	f.hdr->write_index = 1000;
	uvmbus_ring_read_commit(f.cons, &sig);
	cr_expect_not(sig);
	cr_expect_eq(corrupt_count(f.cons), 1u);
	ring_fix_fini(&f);
}
