/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Encoding the VSP request (<azblob/vsp_wire.h>, docs/WIRE.md section 4):
 * the 56-byte in-band payload of a request packet, as uvmbus/packet.c
 * builds the packet header. Static inline: it is on submit's hot path.
 */
#ifndef AZBLOB_VSP_H
#define AZBLOB_VSP_H

#include <stdint.h>
#include <string.h>

#include <azblob/vsp_wire.h>

/* One buffer of a request as the VSP sees it: its offset within its
 * first page, its length and the pages it spans (0: absent). */
struct az_vsp_buf {
	uint32_t in_page, len, npfn;
};

/* A v4-style GUID from a per-client random salt and a counter. */
static inline void az_vsp_guid_v4(uint8_t id[16], uint64_t salt, uint64_t seq)
{
	memcpy(id, &salt, 8);
	memcpy(id + 8, &seq, 8);
	id[7] = (uint8_t)((id[7] & 0x0f) | 0x40);
	id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
}

/* The request payload: the pfn list is data's pages, then the request's,
 * then the response's, so each buffer's offset counts the pages before
 * it. The transaction id is left to the caller (v->transaction_id). */
static inline void az_vsp_request_encode(struct azblob_vsp_request *v,
					 const struct az_vsp_buf *data, uint32_t data_valid,
					 const struct az_vsp_buf *rq, const struct az_vsp_buf *rs,
					 uint32_t timeout_ms)
{
	uint32_t page_base = data->npfn;

	memset(v, 0, sizeof(*v));
	if (data->npfn) {
		v->data_buffer_offset = data->in_page;
		v->data_buffer_length = data->len;
		v->data_buffer_valid = data_valid;
	}
	v->request_buffer_offset = page_base * VMBUS_PAGE_SIZE + rq->in_page;
	v->request_buffer_length = rq->len;
	page_base += rq->npfn;
	v->response_buffer_offset = page_base * VMBUS_PAGE_SIZE + rs->in_page;
	v->response_buffer_length = rs->len;
	v->version = 0;
	v->timeout_ms = timeout_ms;
	v->operation_type = AZBLOB_VSP_OP_USER_REQUEST;
}

#endif
