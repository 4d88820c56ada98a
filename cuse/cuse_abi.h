/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The original driver's character-device ABI as the CUSE front end serves
 * it (docs/CUSE.md, "The ABI"): the ioctl numbers, and the pure checks of
 * its ioctl handler with their errno values, in the handler's order. No
 * system call here: unit-tested by cuse_abi and cuse_validate.
 */
#ifndef AZBLOBD_CUSE_ABI_H
#define AZBLOBD_CUSE_ABI_H

#include <stdint.h>
#include <sys/ioctl.h>

#include <azblob/vsp_wire.h>

/* 'R' (0x52), _IOWR, the 72-byte struct az_blob_request_sync. */
#define AZCUSE_MAGIC 'R'
/* The patches posted to LKML (v1..v5, azure_blob then hv_azure_blob). */
#define AZCUSE_NR_LKML 0xf0
/* The hv_azure_blob driver as later shipped in Ubuntu's 22.04 kernels. */
#define AZCUSE_NR_UBUNTU    10
#define AZCUSE_IOCTL_LKML   _IOWR(AZCUSE_MAGIC, AZCUSE_NR_LKML, struct azblob_request_sync_abi)
#define AZCUSE_IOCTL_UBUNTU _IOWR(AZCUSE_MAGIC, AZCUSE_NR_UBUNTU, struct azblob_request_sync_abi)

#define AZCUSE_PAGE	 4096u
#define AZCUSE_MAX_BYTES (AZCUSE_PAGE * AZBLOB_MAX_PAGES) /* 32 MiB per buffer */

/* Where the three buffers go in a staging arena: each at the caller's own
 * in-page offset, data then request then response (the packet's order),
 * so the host sees the offsets and page count the original driver sent. */
struct azcuse_plan {
	uint32_t data_off, req_off, resp_off; /* byte offsets in the arena */
	uint32_t data_pages, req_pages, resp_pages;
	uint32_t pages; /* the sum: at most AZBLOB_MAX_PAGES */
};

/* The command: 0 for either request number; -ENOTTY for a 32-bit caller
 * (the driver had no compat_ioctl); -EINVAL for anything else. */
int azcuse_check_cmd(unsigned cmd, int compat);

/* The length rules, checked before any buffer is touched: -EINVAL when
 * request_len or response_len is 0, when data_len is non-zero and below
 * data_valid, when any length is above 32 MiB. */
int azcuse_check_lengths(const struct azblob_request_sync_abi *a);

/* The page count rule (checked by the driver after pinning, so after the
 * buffers' -EFAULT): -EINVAL above 8192 pages, else 0 with the layout. */
int azcuse_plan(const struct azblob_request_sync_abi *a, struct azcuse_plan *p);

/* Pages of [addr, addr + len), as the driver counted them. */
static inline uint32_t azcuse_pages(uint64_t addr, uint32_t len)
{
	return len ? (uint32_t)(((addr & (AZCUSE_PAGE - 1)) + len + AZCUSE_PAGE - 1) / AZCUSE_PAGE)
		   : 0;
}

#endif /* AZBLOBD_CUSE_ABI_H */
