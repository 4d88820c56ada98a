/* Packet parsers and builder argument checks. */
#include <criterion/criterion.h>
#include <errno.h>

#include <azblob/vsp_wire.h>
#include <uvmbus/packet.h>

#include "ring_fixture.h"

static size_t read_one(struct ring_fix *f, uint8_t *buf, size_t cap)
{
	size_t len = 0;

	cr_assert_eq(uvmbus_ring_read(f->cons, buf, cap, &len), 0);
	return len;
}

Test(packet_parse, gpa_round_trip)
{
	struct ring_fix f;
	uint64_t pfn[5] = {10, 11, 0xfffffffffull, 13, 14};
	uint8_t buf[256];
	struct uvmbus_pkt p;

	cr_assert_eq(ring_fix_init(&f, 1024, 0), 0);
	/* 4 pages from offset 100: 100 + 16000 bytes -> 4 pages */
	cr_assert_eq(uvmbus_pkt_write_gpa(f.prod, 77, 100, 16000, pfn, 4, "req", 3, NULL), 0);
	size_t len = read_one(&f, buf, sizeof(buf));

	cr_assert_eq(uvmbus_pkt_parse(buf, len, &p), 0);
	cr_expect_eq(p.type, VMBUS_PKT_DATA_GPA_DIRECT);
	cr_expect_eq(p.flags, VMBUS_PKT_FLAG_COMPLETION_REQUESTED);
	cr_expect_eq(p.trans_id, 77u);
	cr_expect_eq(p.rangecount, 1u);
	cr_expect_eq(p.range_offset, 100u);
	cr_expect_eq(p.range_len, 16000u);
	cr_expect_eq(p.npfn, 4u);
	for (uint32_t i = 0; i < 4; i++)
		cr_expect_eq(uvmbus_pkt_pfn(&p, i), pfn[i]);
	cr_expect_eq(uvmbus_pkt_pfn(&p, 4), 0u, "out of range index reads 0");
	cr_expect_eq(p.payload_len, 8u);
	cr_expect_arr_eq(p.payload, "req", 3);
	ring_fix_fini(&f);
}

Test(packet_parse, max_request_8192_pages)
{
	size_t dsize = 128 * 1024;
	struct ring_fix f;
	static uint64_t pfn[AZBLOB_MAX_PAGES];
	static uint8_t buf[70000];
	struct azblob_vsp_request rq = {.operation_type = AZBLOB_VSP_OP_USER_REQUEST};
	struct uvmbus_pkt p;

	for (uint32_t i = 0; i < AZBLOB_MAX_PAGES; i++)
		pfn[i] = 0x100000 + i * 3;
	cr_assert_eq(ring_fix_init(&f, dsize, 0), 0);
	cr_assert_eq(uvmbus_pkt_write_gpa(f.prod, 1, 0, AZBLOB_MAX_PAGES * 4096u, pfn,
					  AZBLOB_MAX_PAGES, &rq, sizeof(rq), NULL),
		     0);
	size_t len = read_one(&f, buf, sizeof(buf));

	cr_expect_eq(len, 65624u, "the original driver's largest packet");
	cr_assert_eq(uvmbus_pkt_parse(buf, len, &p), 0);
	cr_expect_eq(p.npfn, AZBLOB_MAX_PAGES);
	cr_expect_eq(uvmbus_pkt_pfn(&p, 8191), 0x100000u + 8191u * 3u);
	cr_expect_eq(p.payload_len, 56u);
	ring_fix_fini(&f);
}

Test(packet_parse, too_big_for_small_ring)
{
	struct ring_fix f;
	static uint64_t pfn[1024];

	cr_assert_eq(ring_fix_init(&f, 4096, 0), 0);
	cr_expect_eq(uvmbus_pkt_write_gpa(f.prod, 1, 0, 1024 * 4096u, pfn, 1024, "r", 1, NULL),
		     -EMSGSIZE);
	ring_fix_fini(&f);
}

Test(packet_parse, builder_argument_checks)
{
	struct ring_fix f;
	struct vmbus_gpa_direct_hdr h;
	uint64_t pfn[2] = {1, 2};

	cr_assert_eq(ring_fix_init(&f, 1024, 0), 0);
	cr_expect_eq(uvmbus_pkt_write_inband(f.prod, 0, 0, "x", 1, NULL), -EINVAL, "trans_id 0");
	cr_expect_eq(uvmbus_pkt_write_completion(f.prod, 0, "x", 1, NULL), -EINVAL);
	cr_expect_eq(uvmbus_pkt_write_inband(f.prod, 1, 2, "x", 1, NULL), -EINVAL, "unknown flag");
	cr_expect_eq(uvmbus_pkt_write_inband(f.prod, 1, 0, NULL, 1, NULL), -EINVAL);
	cr_expect_eq(uvmbus_pkt_write_gpa(f.prod, 0, 0, 4096, pfn, 1, NULL, 0, NULL), -EINVAL);
	cr_expect_eq(uvmbus_pkt_gpa_hdr(&h, 1, 4096, 10, 1, 0), -EINVAL, "offset >= page");
	cr_expect_eq(uvmbus_pkt_gpa_hdr(&h, 1, 0, 0, 0, 0), -EINVAL, "empty range");
	cr_expect_eq(uvmbus_pkt_gpa_hdr(&h, 1, 4000, 200, 1, 0), -EINVAL, "straddles: 2 pages");
	cr_expect_eq(uvmbus_pkt_gpa_hdr(&h, 1, 4000, 200, 2, 0), 0);
	cr_expect_eq(uvmbus_pkt_gpa_hdr(&h, 1, 0, 0xffffffffu, 1048576, 0), -EINVAL,
		     "longer than len8 allows");
	cr_expect_eq(uvmbus_pkt_gpa_hdr(&h, 1, 0, 4096, 1, VMBUS_PKT_MAX_LEN), -EINVAL);
	cr_expect_eq(uvmbus_ring_readable(f.cons), 0u, "nothing written by refused calls");
	ring_fix_fini(&f);
}

Test(packet_parse, rejects_malformed)
{
	uint8_t b[64] __attribute__((aligned(8))) = {0};
	struct vmbus_pkt_desc d = {.type = 6, .offset8 = 2, .len8 = 8, .trans_id = 1};
	struct vmbus_gpa_direct_hdr g = {0};
	struct uvmbus_pkt p;

	memcpy(b, &d, sizeof(d));
	cr_expect_eq(uvmbus_pkt_parse(b, 64, &p), 0);
	cr_expect_eq(uvmbus_pkt_parse(b, 60, &p), -EIO, "not a multiple of 8");
	cr_expect_eq(uvmbus_pkt_parse(b, 56, &p), -EIO, "len8 disagrees with the length");
	cr_expect_eq(uvmbus_pkt_parse(b, 8, &p), -EIO, "shorter than a descriptor");
	cr_expect_eq(uvmbus_pkt_parse(NULL, 64, &p), -EIO);
	d.offset8 = 1;
	memcpy(b, &d, sizeof(d));
	cr_expect_eq(uvmbus_pkt_parse(b, 64, &p), -EIO);
	d.offset8 = 9;
	memcpy(b, &d, sizeof(d));
	cr_expect_eq(uvmbus_pkt_parse(b, 64, &p), -EIO);

	/* GPA direct: header too short for the range header */
	g.desc = (struct vmbus_pkt_desc){.type = 9, .offset8 = 3, .len8 = 8, .trans_id = 1};
	g.rangecount = 1;
	g.range.len = 4096;
	memcpy(b, &g, sizeof(g));
	cr_expect_eq(uvmbus_pkt_parse(b, 64, &p), -EPROTO);
	/* room for the range header but not for its one pfn */
	g.desc.offset8 = 4;
	memcpy(b, &g, sizeof(g));
	cr_expect_eq(uvmbus_pkt_parse(b, 64, &p), -EPROTO);
	g.desc.offset8 = 5;
	memcpy(b, &g, sizeof(g));
	cr_expect_eq(uvmbus_pkt_parse(b, 64, &p), 0);
	cr_expect_eq(p.npfn, 1u);
	/* a range claiming 2 pages needs 2 pfns */
	g.range.offset = 1;
	memcpy(b, &g, sizeof(g));
	cr_expect_eq(uvmbus_pkt_parse(b, 64, &p), -EPROTO);
	g.range.offset = 4096;
	memcpy(b, &g, sizeof(g));
	cr_expect_eq(uvmbus_pkt_parse(b, 64, &p), -EPROTO, "offset beyond the first page");
	g.range.offset = 0;
	g.range.len = 0;
	memcpy(b, &g, sizeof(g));
	cr_expect_eq(uvmbus_pkt_parse(b, 64, &p), -EPROTO, "empty range");
	g.range.len = 4096;
	g.rangecount = 2;
	memcpy(b, &g, sizeof(g));
	cr_expect_eq(uvmbus_pkt_parse(b, 64, &p), -EOPNOTSUPP);
	g.rangecount = 0;
	memcpy(b, &g, sizeof(g));
	cr_expect_eq(uvmbus_pkt_parse(b, 64, &p), -EOPNOTSUPP);
}

Test(packet_parse, helpers)
{
	cr_expect_eq(uvmbus_gpa_npages(0, 1), 1u);
	cr_expect_eq(uvmbus_gpa_npages(0, 4096), 1u);
	cr_expect_eq(uvmbus_gpa_npages(1, 4096), 2u);
	cr_expect_eq(uvmbus_gpa_npages(4095, 2), 2u);
	cr_expect_eq(uvmbus_gpa_npages(4095, 0xffffffffu), 1048577u, "no 32-bit overflow");
	cr_expect_eq(uvmbus_gpa_pkt_len(3, 56), 112u);
}
