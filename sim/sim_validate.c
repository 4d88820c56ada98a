// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Strict validation of a guest request (docs/WIRE.md sections 3-4), written from
 * the wire description, not from the guest's builders. Guest memory is
 * reached only through pfns checked against guest RAM and the memory
 * table (sim_memtable.c).
 */
#include <stdlib.h>
#include <string.h>

#include <azblob/vsp_wire.h>

#include "sim_internal.h"

static uint32_t pages_of(uint32_t in_page, uint32_t len)
{
	return (uint32_t)(((uint64_t)in_page + len + SIM_PAGE - 1) / SIM_PAGE);
}

static uint64_t pfn_at(const uint8_t *pkt, uint32_t i)
{
	uint64_t v;

	memcpy(&v, pkt + 32 + 8 * (size_t)i, 8);
	return v;
}

/* Host pointer to a span when its pages are consecutive in guest RAM or
 * in one mapped region. */
static uint8_t *direct(struct azblob_sim *s, const uint8_t *pkt, const struct sim_span *sp)
{
	uint64_t p0 = pfn_at(pkt, sp->first_page);

	for (uint32_t i = 1; i < sp->pages; i++)
		if (pfn_at(pkt, sp->first_page + i) != p0 + i)
			return NULL;
	if (p0 < s->ram_pages && p0 + sp->pages <= s->ram_pages)
		return s->ram + p0 * SIM_PAGE + sp->in_page;
	return sim_mem_ptr(s, p0 * SIM_PAGE + sp->in_page, sp->len ? sp->len : 1);
}

/* Copy between a span of guest pages and a flat buffer. */
static void gather(struct azblob_sim *s, const uint8_t *pkt, const struct sim_span *sp,
		   uint8_t *dst, uint32_t n)
{
	for (uint32_t done = 0; done < n;) {
		uint32_t x = sp->in_page + done, page = x / SIM_PAGE, off = x % SIM_PAGE;
		uint32_t k = SIM_PAGE - off < n - done ? SIM_PAGE - off : n - done;

		(void)sim_mem_rw(s, pfn_at(pkt, sp->first_page + page) * SIM_PAGE + off, dst + done,
				 k, false);
		done += k;
	}
}

static void scatter(struct azblob_sim *s, const uint8_t *pkt, const struct sim_span *sp,
		    const uint8_t *src, uint32_t n)
{
	for (uint32_t done = 0; done < n;) {
		uint32_t x = sp->in_page + done, page = x / SIM_PAGE, off = x % SIM_PAGE;
		uint32_t k = SIM_PAGE - off < n - done ? SIM_PAGE - off : n - done;

		(void)sim_mem_rw(s, pfn_at(pkt, sp->first_page + page) * SIM_PAGE + off,
				 (void *)(src + done), k, true);
		done += k;
	}
}

/* Buffers in the order data, request, response, each starting in its
 * first page, together exactly the range: true, with where each lies in
 * the pfn array. */
static bool layout(const struct azblob_vsp_request *q, uint32_t npfn, struct sim_span sp[3])
{
	uint32_t dpages = 0, rqpages, rspages, rq_in, rs_in;

	if (q->data_buffer_length) {
		if (q->data_buffer_offset >= SIM_PAGE)
			return false;
		dpages = pages_of(q->data_buffer_offset, q->data_buffer_length);
	}
	if (q->request_buffer_offset < dpages * SIM_PAGE ||
	    q->request_buffer_offset - dpages * SIM_PAGE >= SIM_PAGE)
		return false;
	rq_in = q->request_buffer_offset - dpages * SIM_PAGE;
	rqpages = pages_of(rq_in, q->request_buffer_length);
	if (q->response_buffer_offset < (uint64_t)(dpages + rqpages) * SIM_PAGE ||
	    q->response_buffer_offset - (dpages + rqpages) * SIM_PAGE >= SIM_PAGE)
		return false;
	rs_in = q->response_buffer_offset - (dpages + rqpages) * SIM_PAGE;
	rspages = pages_of(rs_in, q->response_buffer_length);
	if ((uint64_t)dpages + rqpages + rspages != npfn)
		return false;
	sp[0] = (struct sim_span){0, dpages, q->data_buffer_offset, q->data_buffer_length};
	sp[1] = (struct sim_span){dpages, rqpages, rq_in, q->request_buffer_length};
	sp[2] = (struct sim_span){dpages + rqpages, rspages, rs_in, q->response_buffer_length};
	return true;
}

int sim_validate(struct azblob_sim *s, const uint8_t *pkt, uint32_t len, struct azblob_sim_req *r,
		 uint32_t *status, uint64_t *trans_id)
{
	uint16_t type, off8, len8, flags;
	uint32_t rangecount, range_len, range_off, npfn;
	struct azblob_vsp_request q;
	struct sim_span *sp = s->spans;

	memcpy(&type, pkt, 2);
	memcpy(&off8, pkt + 2, 2);
	memcpy(&len8, pkt + 4, 2);
	memcpy(&flags, pkt + 6, 2);
	memcpy(trans_id, pkt + 8, 8);
	*status = AZBLOB_VSP_STATUS_INVALID_PARAMETER;
	(void)len8;
	if (!(flags & 1)) {
		*status = 0; /* nobody waits for an answer */
		return AZBLOB_SIM_V_NO_COMPLETION + 1;
	}
	if (!*trans_id) {
		*status = 0; /* an answer could not be matched anyway */
		return AZBLOB_SIM_V_ZERO_TRANS_ID + 1;
	}
	if (type != 9)
		return AZBLOB_SIM_V_NOT_GPA_DIRECT + 1;
	if ((uint32_t)off8 * 8 < 32)
		return AZBLOB_SIM_V_RANGE + 1;
	memcpy(&rangecount, pkt + 20, 4);
	memcpy(&range_len, pkt + 24, 4);
	memcpy(&range_off, pkt + 28, 4);
	if (rangecount != 1)
		return AZBLOB_SIM_V_RANGECOUNT + 1;
	npfn = range_len / SIM_PAGE;
	if (range_off != 0 || !range_len || range_len % SIM_PAGE || npfn > AZBLOB_MAX_PAGES ||
	    32 + 8 * npfn > (uint32_t)off8 * 8)
		return AZBLOB_SIM_V_RANGE + 1;
	for (uint32_t i = 0; i < npfn; i++)
		if (pfn_at(pkt, i) >= s->ram_pages && !sim_mem_valid(s, pfn_at(pkt, i)))
			return AZBLOB_SIM_V_PFN_OUTSIDE_RAM + 1;
	if (len - (uint32_t)off8 * 8 < sizeof(q))
		return AZBLOB_SIM_V_SHORT_PAYLOAD + 1;
	memcpy(&q, pkt + (uint32_t)off8 * 8, sizeof(q));
	if (q.version != 0)
		return AZBLOB_SIM_V_VERSION + 1;
	if (q.operation_type != AZBLOB_VSP_OP_USER_REQUEST) {
		if (q.operation_type == AZBLOB_VSP_OP_REGISTER_BUFFER ||
		    q.operation_type == AZBLOB_VSP_OP_DEREGISTER_BUFFER)
			*status = AZBLOB_VSP_STATUS_NOT_SUPPORTED;
		return AZBLOB_SIM_V_OPERATION + 1;
	}
	if (!q.request_buffer_length || !q.response_buffer_length ||
	    q.data_buffer_valid > q.data_buffer_length)
		return AZBLOB_SIM_V_LENGTHS + 1;
	if (!layout(&q, npfn, sp))
		return AZBLOB_SIM_V_LAYOUT + 1;

	r->trans_id = *trans_id; /* every field is set here or below */
	memcpy(r->guid, q.transaction_id, 16);
	r->timeout_ms = q.timeout_ms;
	r->request_len = q.request_buffer_length;
	r->response_cap = q.response_buffer_length;
	r->data_len = q.data_buffer_length;
	r->data_valid = q.data_buffer_valid;

	/* Point into guest RAM; bounce what is not contiguous there. */
	uint8_t *d = r->data_len ? direct(s, pkt, &sp[0]) : NULL;

	if (r->data_len && pfn_at(pkt, sp[0].first_page) >= s->ram_pages)
		SIM_STAT_ADD(s, region_data_bytes, r->data_len);
	uint8_t *rq = direct(s, pkt, &sp[1]);
	uint8_t *rs = direct(s, pkt, &sp[2]);
	size_t need = (size_t)(d || !r->data_len ? 0 : r->data_len) + (rq ? 0 : r->request_len) +
		      (rs ? 0 : r->response_cap);

	if (need > s->bounce_len) {
		uint8_t *b = realloc(s->bounce, need);

		if (!b) {
			*status = AZBLOB_VSP_STATUS_INTERNAL_ERROR;
			return AZBLOB_SIM_V_LENGTHS + 1;
		}
		s->bounce = b;
		s->bounce_len = need;
	}
	uint8_t *b = s->bounce;

	s->bounced[0] = r->data_len && !d;
	s->bounced[1] = !rq;
	s->bounced[2] = !rs;
	if (r->data_len && !d) {
		d = b;
		gather(s, pkt, &sp[0], d, r->data_valid);
		b += r->data_len;
	}
	if (!rq) {
		rq = b;
		gather(s, pkt, &sp[1], rq, r->request_len);
		b += r->request_len;
	}
	if (!rs)
		rs = b;
	r->data = d;
	r->request = rq;
	r->response = rs;
	*status = 0;
	return 0;
}

/* Append the guest-physical byte ranges of a span (merging runs of
 * consecutive pages). */
static int add_runs(const uint8_t *pkt, const struct sim_span *sp, struct sim_run *runs, int n)
{
	uint32_t left = sp->len;

	for (uint32_t i = 0; i < sp->pages && left; i++) {
		uint32_t off = i ? 0 : sp->in_page,
			 k = SIM_PAGE - off < left ? SIM_PAGE - off : left;
		uint64_t gpa = pfn_at(pkt, sp->first_page + i) * SIM_PAGE + off;

		left -= k;
		if (n && runs[n - 1].gpa + runs[n - 1].len == gpa) {
			runs[n - 1].len += k;
			continue;
		}
		if (n == SIM_RUNS)
			return -1;
		runs[n++] = (struct sim_run){gpa, k};
	}
	return n;
}

int sim_writable_runs(const struct azblob_sim *s, const uint8_t *pkt, struct sim_run *runs)
{
	const struct sim_span *sp = s->spans;
	int n = add_runs(pkt, &sp[2], runs, 0);

	if (n >= 0 && sp[0].len)
		n = add_runs(pkt, &sp[0], runs, n);
	return n;
}

void sim_unbounce(struct azblob_sim *s, const uint8_t *pkt, const struct azblob_sim_req *r)
{
	const struct sim_span *sp = s->spans;

	if (r->data_len && s->bounced[0])
		scatter(s, pkt, &sp[0], r->data, r->data_len);
	if (s->bounced[2])
		scatter(s, pkt, &sp[2], r->response, r->response_cap);
}
