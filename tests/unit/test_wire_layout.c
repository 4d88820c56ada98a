/* Wire layouts at run time: bytes land at the offsets docs/WIRE.md gives
 * (the _Static_asserts in the headers check sizes; this checks encoding). */
#include <criterion/criterion.h>
#include <string.h>

#include <azblob/vsp_wire.h>
#include <uvmbus/wire.h>

Test(packet_wire, ring_header_offsets)
{
	uint8_t page[4096] = {0};
	struct vmbus_ring_hdr *h = (void *)page;

	h->write_index = 0x11111111;
	h->read_index = 0x22222222;
	h->interrupt_mask = 1;
	h->pending_send_sz = 0x33333333;
	h->feature_bits = VMBUS_RING_FEAT_PENDING_SEND_SZ;
	cr_expect_eq(page[0], 0x11);
	cr_expect_eq(page[4], 0x22);
	cr_expect_eq(page[8], 1);
	cr_expect_eq(page[12], 0x33);
	cr_expect_eq(page[64], 1);
}

Test(packet_wire, sync_abi_padding_is_explicit)
{
	struct azblob_request_sync_abi a;
	uint8_t *b = (uint8_t *)&a;

	memset(&a, 0, sizeof(a));
	a.data_valid = 0xdddddddd;
	a.reserved = 0x5a5a5a5a;
	a.request_buffer = 0x0102030405060708ull;
	a.response.status = 0xcafe;
	cr_expect_eq(b[32], 0xdd);
	cr_expect_eq(b[36], 0x5a, "padding is a named field at 36");
	cr_expect_eq(b[40], 0x08, "request_buffer at 40, little-endian");
	cr_expect_eq(b[64], 0xfe, "response.status at 64");
	cr_expect_eq(sizeof(a), 72u);
}

Test(packet_wire, vsp_request_is_packed)
{
	struct azblob_vsp_request r;
	uint8_t *b = (uint8_t *)&r;

	memset(&r, 0, sizeof(r));
	r.response_buffer_length = 0x44332211;
	r.transaction_id[0] = 0xee;
	cr_expect_eq(b[36], 0x11);
	cr_expect_eq(b[39], 0x44);
	cr_expect_eq(b[40], 0xee);
	cr_expect_eq(sizeof(struct azblob_vsp_response), 12u);
}
