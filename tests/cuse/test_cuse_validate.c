/* cuse_validate: the ioctl handler's checks and errno values, in the
 * driver's order, and the staging layout (same in-page offsets, same page
 * count as the driver pinned). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "cuse_abi.h"

static struct azblob_request_sync_abi ok(void)
{
	struct azblob_request_sync_abi a;

	memset(&a, 0, sizeof(a));
	a.request_len = 100;
	a.response_len = 4096;
	a.request_buffer = 0x10000;
	a.response_buffer = 0x20000;
	return a;
}

Test(cuse_validate, commands)
{
	cr_expect_eq(azcuse_check_cmd(AZCUSE_IOCTL_LKML, 0), 0);
	cr_expect_eq(azcuse_check_cmd(AZCUSE_IOCTL_UBUNTU, 0), 0);
	cr_expect_eq(azcuse_check_cmd(AZCUSE_IOCTL_LKML, 1), -ENOTTY, "no compat_ioctl");
	cr_expect_eq(azcuse_check_cmd(_IOWR('R', 0xf1, struct azblob_request_sync_abi), 0),
		     -EINVAL);
	cr_expect_eq(azcuse_check_cmd(_IOR('R', 0xf0, struct azblob_request_sync_abi), 0), -EINVAL);
	cr_expect_eq(azcuse_check_cmd(_IOWR('R', 0xf0, uint64_t), 0), -EINVAL);
	cr_expect_eq(azcuse_check_cmd(0, 0), -EINVAL);
}

Test(cuse_validate, lengths)
{
	struct azblob_request_sync_abi a = ok();

	cr_expect_eq(azcuse_check_lengths(&a), 0);
	a.request_len = 0;
	cr_expect_eq(azcuse_check_lengths(&a), -EINVAL);
	a = ok();
	a.response_len = 0;
	cr_expect_eq(azcuse_check_lengths(&a), -EINVAL);
	a = ok();
	a.data_len = 10;
	a.data_valid = 11;
	cr_expect_eq(azcuse_check_lengths(&a), -EINVAL);
	a.data_valid = 10;
	cr_expect_eq(azcuse_check_lengths(&a), 0);
	a.data_len = 0; /* the driver looked at data_valid only with data */
	a.data_valid = 0xffffffff;
	cr_expect_eq(azcuse_check_lengths(&a), 0);
	a = ok();
	a.data_len = a.data_valid = AZCUSE_MAX_BYTES;
	cr_expect_eq(azcuse_check_lengths(&a), 0);
	a.data_len = AZCUSE_MAX_BYTES + 1;
	cr_expect_eq(azcuse_check_lengths(&a), -EINVAL);
	a = ok();
	a.request_len = AZCUSE_MAX_BYTES + 1;
	cr_expect_eq(azcuse_check_lengths(&a), -EINVAL);
	a = ok();
	a.response_len = 0xffffffff;
	cr_expect_eq(azcuse_check_lengths(&a), -EINVAL);
	a = ok();
	a.timeout = 0xffffffff;	 /* any timeout: the driver passed it on */
	a.reserved = 0xdeadbeef; /* the padding: never looked at */
	cr_expect_eq(azcuse_check_lengths(&a), 0);
}

Test(cuse_validate, page_limit)
{
	struct azblob_request_sync_abi a = ok();
	struct azcuse_plan p;

	/* 1 + 1 + 8190 pages, all aligned: exactly the limit. */
	a.data_buffer = 0x100000;
	a.data_len = 8190 * 4096;
	cr_expect_eq(azcuse_plan(&a, &p), 0);
	cr_expect_eq(p.pages, 8192);
	/* One byte in: the data spans one more page. */
	a.data_buffer = 0x100001;
	cr_expect_eq(azcuse_plan(&a, &p), -EINVAL);
	/* The request crossing a page boundary counts 2. */
	a = ok();
	a.request_buffer = 0x10fff;
	a.request_len = 2;
	cr_expect_eq(azcuse_plan(&a, &p), 0);
	cr_expect_eq(p.req_pages, 2);
	/* Without data, its pointer is not counted. */
	a = ok();
	a.data_buffer = 0x123;
	cr_expect_eq(azcuse_plan(&a, &p), 0);
	cr_expect_eq(p.data_pages, 0);
	cr_expect_eq(p.pages, 2);
	/* Each buffer alone at the 32 MiB maximum, unaligned: 8193 pages. */
	a = ok();
	a.response_buffer = 0x20010;
	a.response_len = AZCUSE_MAX_BYTES;
	cr_expect_eq(azcuse_plan(&a, &p), -EINVAL);
}

Test(cuse_validate, layout_keeps_offsets)
{
	struct azblob_request_sync_abi a = ok();
	struct azcuse_plan p;

	a.data_buffer = 0x300123;
	a.data_len = 5000; /* 2 pages */
	a.request_buffer = 0x10ff0;
	a.request_len = 100; /* 2 pages */
	a.response_buffer = 0x20400;
	a.response_len = 4096; /* 2 pages */
	cr_assert_eq(azcuse_plan(&a, &p), 0);
	cr_expect_eq(p.data_off, 0x123);
	cr_expect_eq(p.req_off, 2 * 4096 + 0xff0);
	cr_expect_eq(p.resp_off, 4 * 4096 + 0x400);
	cr_expect_eq(p.pages, 6);
	cr_expect_leq(p.resp_off + a.response_len, p.pages * 4096, "inside the arena");
}

Test(cuse_validate, worst_case_fits_one_arena)
{
	/* Any request within the page limit ends within 32 MiB. */
	for (uint32_t off = 0; off < 4096; off += 511) {
		struct azblob_request_sync_abi a = ok();
		struct azcuse_plan p;

		a.request_buffer = 0x10000 + off;
		a.response_buffer = 0x20000 + 4095 - off;
		a.data_buffer = 0x300000 + off;
		a.data_len = 8190 * 4096 - off - 4096;
		a.request_len = 1;
		a.response_len = 1;
		if (azcuse_plan(&a, &p))
			continue;
		cr_expect_leq(p.resp_off + a.response_len, AZCUSE_MAX_BYTES);
		cr_expect_leq(p.data_off + a.data_len, p.req_off);
		cr_expect_leq(p.req_off + a.request_len, p.resp_off);
	}
}
