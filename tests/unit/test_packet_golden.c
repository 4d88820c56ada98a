/* Golden packets: builders' output at known ring indices compared with
 * byte arrays derived by hand from docs/WIRE.md (header, payload, padding,
 * trailer), including packets that wrap around the end of the ring. */
#include <criterion/criterion.h>
#include <errno.h>

#include <azblob/vsp_wire.h>
#include <uvmbus/packet.h>

#include "ring_fixture.h"

/* Copy `n` ring bytes from `at` (wrapping) for comparison. */
static void ring_bytes(const struct ring_fix *f, uint32_t at, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = f->data[(at + i) % f->dsize];
}

Test(packet_golden, inband_at_index_64)
{
	static const uint8_t want[] = {
	    0x06, 0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x00, /* type 6, off8 2, len8 4, flags 1 */
	    0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* trans_id */
	    'A',  'B',	'C',  'D',  'E',  'F',	'G',  'H',  /* payload */
	    'I',  'J',	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 2 bytes + 6 padding */
	    0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, /* trailer: 64 << 32 */
	};
	struct ring_fix f;
	uint8_t got[sizeof(want)];

	cr_assert_eq(ring_fix_init(&f, 256, 64), 0);
	cr_assert_eq(
	    uvmbus_pkt_write_inband(f.prod, 0x1122334455667788ull, 1, "ABCDEFGHIJ", 10, NULL), 0);
	ring_bytes(&f, 64, got, sizeof(got));
	cr_expect_arr_eq(got, want, sizeof(want));
	cr_expect_eq(f.hdr->write_index, 104u);
	ring_fix_fini(&f);
}

Test(packet_golden, completion_wrapping)
{
	static const uint8_t want[] = {
	    0x0b, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, /* type 11, off8 2, len8 4 */
	    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* trans_id: end of data area */
	    0x0c, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, /* length 12, error 42: wrapped */
	    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* response_len 256, padding */
	    0x00, 0x00, 0x00, 0x00, 0xf0, 0x00, 0x00, 0x00, /* trailer: 240 << 32 */
	};
	struct azblob_vsp_response rsp = {.length = 12, .error = 42, .response_len = 256};
	struct ring_fix f;
	uint8_t got[sizeof(want)];

	cr_assert_eq(ring_fix_init(&f, 256, 240), 0);
	cr_assert_eq(
	    uvmbus_pkt_write_completion(f.prod, 0x0102030405060708ull, &rsp, sizeof(rsp), NULL), 0);
	ring_bytes(&f, 240, got, sizeof(got));
	cr_expect_arr_eq(got, want, sizeof(want));
	cr_expect_arr_eq(f.data + 240, want, 16, "first half at the end of the data area");
	cr_expect_arr_eq(f.data, want + 16, 24, "rest and trailer at the start");
	cr_expect_eq(f.hdr->write_index, 24u);
	ring_fix_fini(&f);
}

Test(packet_golden, azblob_request_three_pages)
{
	static const uint8_t want[] = {
	    0x09, 0x00, 0x07, 0x00, 0x0e, 0x00, 0x01, 0x00, /* type 9, off8 7, len8 14, flags 1 */
	    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, /* trans_id */
	    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* reserved, rangecount 1 */
	    0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* range len 12288, offset 0 */
	    0x45, 0x23, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, /* pfn: data page */
	    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* pfn: request page */
	    0x23, 0x01, 0xef, 0xcd, 0xab, 0x00, 0x00, 0x00, /* pfn: response page */
	    0x00, 0x00, 0x00, 0x00, 0x30, 0x75, 0x00, 0x00, /* version 0, timeout 30000 */
	    0x10, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, /* data off 16, len 32 */
	    0x18, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, /* data valid 24, op 0x100 */
	    0x08, 0x10, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, /* request off 4096+8, len 100 */
	    0x00, 0x20, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, /* response off 8192, len 512 */
	    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, /* transaction GUID */
	    0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	    0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, /* trailer: 8 << 32 */
	};
	struct azblob_vsp_request rq = {
	    .version = 0,
	    .timeout_ms = 30000,
	    .data_buffer_offset = 16,
	    .data_buffer_length = 32,
	    .data_buffer_valid = 24,
	    .operation_type = AZBLOB_VSP_OP_USER_REQUEST,
	    .request_buffer_offset = 4096 + 8,
	    .request_buffer_length = 100,
	    .response_buffer_offset = 8192,
	    .response_buffer_length = 512,
	};
	const uint64_t pfn[3] = {0x12345, 0x200, 0xabcdef0123ull};
	struct ring_fix f;
	uint8_t got[sizeof(want)];

	for (int i = 0; i < 16; i++)
		rq.transaction_id[i] = (uint8_t)(0xa0 + i);
	cr_assert_eq(sizeof(want), AZBLOB_VSP_PKT_LEN(3) + 8, "88 + 8N bytes plus trailer");
	cr_assert_eq(ring_fix_init(&f, 4096, 8), 0);
	cr_assert_eq(uvmbus_pkt_write_gpa(f.prod, 0x8000000000000001ull, 0, 3 * 4096, pfn, 3, &rq,
					  sizeof(rq), NULL),
		     0);
	ring_bytes(&f, 8, got, sizeof(got));
	cr_expect_arr_eq(got, want, sizeof(want));
	ring_fix_fini(&f);
}

Test(packet_golden, gpa_unaligned_wrapping_in_pfn_array)
{
	static const uint8_t want[] = {
	    0x09, 0x00, 0x06, 0x00, 0x07, 0x00, 0x01, 0x00, /* type 9, off8 6, len8 7 */
	    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* trans_id 2 */
	    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* reserved, rangecount */
	    0x00, 0x10, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, /* len 4096, offset 128 */
	    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* pfn 1 (after the wrap) */
	    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* pfn 2 */
	    'x',  'y',	'z',  0x00, 0x00, 0x00, 0x00, 0x00, /* payload + padding */
	    0x00, 0x00, 0x00, 0x00, 0xe0, 0x00, 0x00, 0x00, /* trailer: 224 << 32 */
	};
	const uint64_t pfn[2] = {1, 2};
	struct ring_fix f;
	uint8_t got[sizeof(want)];

	cr_assert_eq(ring_fix_init(&f, 256, 224), 0);
	cr_assert_eq(uvmbus_pkt_write_gpa(f.prod, 2, 128, 4096, pfn, 2, "xyz", 3, NULL), 0);
	ring_bytes(&f, 224, got, sizeof(got));
	cr_expect_arr_eq(got, want, sizeof(want));
	cr_expect_eq(f.hdr->write_index, 32u);
	ring_fix_fini(&f);
}
