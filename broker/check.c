// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Checking a client's request packet (check.h). */
#include <errno.h>
#include <string.h>

#include <azblob.h>
#include <uvmbus/packet.h>

#include "check.h"

#define PG VMBUS_PAGE_SIZE

static const char *const names[AZD_V_COUNT] = {
    [AZD_OK] = "ok",
    [AZD_V_DESCRIPTOR] = "descriptor",
    [AZD_V_NO_COMPLETION] = "no_completion",
    [AZD_V_ZERO_TRANS_ID] = "zero_trans_id",
    [AZD_V_NOT_GPA_DIRECT] = "not_gpa_direct",
    [AZD_V_RANGE] = "range",
    [AZD_V_SHORT_PAYLOAD] = "short_payload",
    [AZD_V_OPERATION] = "operation",
    [AZD_V_LENGTHS] = "lengths",
    [AZD_V_LAYOUT] = "layout",
    [AZD_V_OUTSIDE_ARENA] = "outside_arena",
    [AZD_V_SCATTERED] = "scattered",
};

const char *azd_violation_name(enum azd_violation v)
{
	return (unsigned)v < AZD_V_COUNT ? names[v] : "?";
}

/* One buffer: `len` bytes starting `in_page` into page `first` of the
 * packet's pfn list; its pfns must be consecutive and inside the arena.
 * *pages gets the pages it spans. */
static enum azd_violation span(const struct uvmbus_pkt *p, uint32_t first, uint32_t in_page,
			       uint32_t len, uint64_t arena_pages, uint32_t *pages, uint64_t *off)
{
	uint64_t n = ((uint64_t)in_page + len + PG - 1) / PG, p0;

	if (in_page >= PG || first > p->npfn || n > p->npfn - first)
		return AZD_V_LAYOUT;
	p0 = uvmbus_pkt_pfn(p, first);
	if (p0 >= arena_pages || n > arena_pages - p0)
		return AZD_V_OUTSIDE_ARENA;
	for (uint32_t i = 1; i < n; i++)
		if (uvmbus_pkt_pfn(p, first + i) != p0 + i)
			return AZD_V_SCATTERED;
	*pages = (uint32_t)n;
	*off = p0 * PG + in_page;
	return AZD_OK;
}

enum azd_violation azd_check(const void *pkt, size_t len, uint64_t arena_pages, uint32_t max_pages,
			     struct azd_req *out)
{
	const struct azblob_vsp_request *q = &out->q;
	struct uvmbus_pkt p;
	enum azd_violation v;
	uint32_t at = 0, n = 0;

	memset(out, 0, sizeof(*out));
	if (len >= sizeof(struct vmbus_pkt_desc))
		memcpy(&out->trans_id, (const uint8_t *)pkt + 8, 8);
	if (uvmbus_pkt_parse(pkt, len, &p))
		return AZD_V_DESCRIPTOR;
	if (!(p.flags & VMBUS_PKT_FLAG_COMPLETION_REQUESTED))
		return AZD_V_NO_COMPLETION;
	if (!p.trans_id)
		return AZD_V_ZERO_TRANS_ID;
	if (p.type != VMBUS_PKT_DATA_GPA_DIRECT)
		return AZD_V_NOT_GPA_DIRECT;
	if (p.rangecount != 1 || p.range_offset || !p.npfn || p.npfn > max_pages ||
	    (uint64_t)p.npfn * PG != p.range_len)
		return AZD_V_RANGE;
	if (p.payload_len < sizeof(out->q))
		return AZD_V_SHORT_PAYLOAD;
	memcpy(&out->q, p.payload, sizeof(out->q));
	if (q->version || q->operation_type != AZBLOB_VSP_OP_USER_REQUEST)
		return AZD_V_OPERATION;
	if (!q->request_buffer_length || !q->response_buffer_length ||
	    q->data_buffer_valid > q->data_buffer_length || q->timeout_ms > AZBLOB_MAX_TIMEOUT_MS)
		return AZD_V_LENGTHS;
	/* data (optional), request, response: each starts in the page after
	 * the previous one's last, and together they are the whole range. */
	if (q->data_buffer_length) {
		v = span(&p, 0, q->data_buffer_offset, q->data_buffer_length, arena_pages, &n,
			 &out->data_off);
		if (v)
			return v;
		at = n;
	}
	if (q->request_buffer_offset / PG != at)
		return AZD_V_LAYOUT;
	v = span(&p, at, q->request_buffer_offset % PG, q->request_buffer_length, arena_pages, &n,
		 &out->request_off);
	if (v)
		return v;
	at += n;
	if (q->response_buffer_offset / PG != at)
		return AZD_V_LAYOUT;
	v = span(&p, at, q->response_buffer_offset % PG, q->response_buffer_length, arena_pages, &n,
		 &out->response_off);
	if (v)
		return v;
	if (at + n != p.npfn)
		return AZD_V_LAYOUT;
	out->trans_id = p.trans_id;
	return AZD_OK;
}

int azd_next_packet(struct uvmbus_ring *tx, uint32_t *seen, void *pkt, size_t cap, size_t *len)
{
	/* The read below takes the first packet, which a non-zero snapshot
	 * holds whole (the producer publishes whole packets). */
	uint32_t readable = uvmbus_ring_readable(tx);
	int rc;

	if (readable < *seen)
		return -ERANGE;
	*seen = readable;
	if (!readable) {
		/* Empty, or a write index out of range (which reads as
		 * empty): the index itself tells them apart. */
		struct uvmbus_ring_state st;

		uvmbus_ring_get_state(tx, &st);
		return st.write_index >= st.data_size || (st.write_index & 7) ? -EIO : 0;
	}
	rc = uvmbus_ring_read(tx, pkt, cap, len);
	if (rc == -EAGAIN)
		return 0;
	if (rc || *len + VMBUS_PKT_TRAILER_SIZE > readable)
		return -EIO;
	*seen -= (uint32_t)*len + VMBUS_PKT_TRAILER_SIZE;
	return 1;
}
