// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The original ioctl handler's argument checks (docs/CUSE.md). */
#include <errno.h>

#include "cuse_abi.h"

_Static_assert(AZCUSE_IOCTL_LKML == 0xc04852f0u, "the posted driver's ioctl number");
_Static_assert(AZCUSE_IOCTL_UBUNTU == 0xc048520au, "the shipped hv_azure_blob's ioctl number");

int azcuse_check_cmd(unsigned cmd, int compat)
{
	if (compat)
		return -ENOTTY;
	return cmd == AZCUSE_IOCTL_LKML || cmd == AZCUSE_IOCTL_UBUNTU ? 0 : -EINVAL;
}

int azcuse_check_lengths(const struct azblob_request_sync_abi *a)
{
	if (!a->request_len || !a->response_len)
		return -EINVAL;
	if (a->data_len && a->data_len < a->data_valid)
		return -EINVAL;
	if (a->data_len > AZCUSE_MAX_BYTES || a->request_len > AZCUSE_MAX_BYTES ||
	    a->response_len > AZCUSE_MAX_BYTES)
		return -EINVAL;
	return 0;
}

int azcuse_plan(const struct azblob_request_sync_abi *a, struct azcuse_plan *p)
{
	uint32_t at;

	p->data_pages = azcuse_pages(a->data_buffer, a->data_len);
	p->req_pages = azcuse_pages(a->request_buffer, a->request_len);
	p->resp_pages = azcuse_pages(a->response_buffer, a->response_len);
	/* Each is at most 8193 pages: no overflow in 32 bits. */
	p->pages = p->data_pages + p->req_pages + p->resp_pages;
	if (p->pages > AZBLOB_MAX_PAGES)
		return -EINVAL;
	p->data_off = (uint32_t)(a->data_buffer & (AZCUSE_PAGE - 1));
	at = p->data_pages * AZCUSE_PAGE;
	p->req_off = at + (uint32_t)(a->request_buffer & (AZCUSE_PAGE - 1));
	at += p->req_pages * AZCUSE_PAGE;
	p->resp_off = at + (uint32_t)(a->response_buffer & (AZCUSE_PAGE - 1));
	return 0;
}
