/* cuse_abi: the original driver's ioctl ABI byte for byte: the struct as
 * the compiler laid out the driver's declaration (natural alignment, with
 * the 4 bytes of padding it put after data_valid), the same layout in our
 * header, and both ioctl numbers decoded. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "cuse_abi.h"

/* The driver's declaration, with __aligned_u64 spelled out. */
struct orig_sync {
	uint8_t guid[16];
	uint32_t timeout, request_len, response_len, data_len, data_valid;
	uint64_t request_buffer __attribute__((aligned(8)));
	uint64_t response_buffer __attribute__((aligned(8)));
	uint64_t data_buffer __attribute__((aligned(8)));
	struct {
		uint32_t status, response_len;
	} response;
};

#define SAME(f)                                                                                    \
	_Static_assert(                                                                            \
	    offsetof(struct orig_sync, f) == offsetof(struct azblob_request_sync_abi, f), #f)
SAME(guid);
SAME(timeout);
SAME(request_len);
SAME(response_len);
SAME(data_len);
SAME(data_valid);
SAME(request_buffer);
SAME(response_buffer);
SAME(data_buffer);
SAME(response);
_Static_assert(sizeof(struct orig_sync) == 72, "72 bytes");
_Static_assert(offsetof(struct orig_sync, request_buffer) == 40, "padding 36..39");
_Static_assert(offsetof(struct azblob_request_sync_abi, reserved) == 36, "padding named");

Test(cuse_abi, ioctl_numbers)
{
	cr_expect_eq(AZCUSE_IOCTL_LKML, 0xc04852f0u);
	cr_expect_eq(AZCUSE_IOCTL_UBUNTU, 0xc048520au);
	cr_expect_eq(_IOC_DIR(AZCUSE_IOCTL_LKML), _IOC_READ | _IOC_WRITE);
	cr_expect_eq(_IOC_TYPE(AZCUSE_IOCTL_LKML), 'R');
	cr_expect_eq(_IOC_NR(AZCUSE_IOCTL_LKML), 0xf0);
	cr_expect_eq(_IOC_NR(AZCUSE_IOCTL_UBUNTU), 10);
	cr_expect_eq(_IOC_SIZE(AZCUSE_IOCTL_LKML), 72);
	cr_expect_eq(_IOC_SIZE(AZCUSE_IOCTL_UBUNTU), 72);
}

Test(cuse_abi, bytes_at_their_offsets)
{
	struct orig_sync o;
	uint8_t *b = (uint8_t *)&o;

	memset(&o, 0, sizeof(o));
	o.timeout = 0x04030201;
	o.data_valid = 0x14131211;
	o.request_buffer = 0x2827262524232221ull;
	o.data_buffer = 0x4847464544434241ull;
	o.response.status = 0x54535251;
	o.response.response_len = 0x64636261;
	cr_expect_eq(b[16], 0x01);
	cr_expect_eq(b[32], 0x11);
	cr_expect_eq(b[36] | b[37] | b[38] | b[39], 0, "padding untouched");
	cr_expect_eq(b[40], 0x21);
	cr_expect_eq(b[56], 0x41);
	cr_expect_eq(b[64], 0x51);
	cr_expect_eq(b[68], 0x61);
	cr_expect_eq(b[71], 0x64);
}
