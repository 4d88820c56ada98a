// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Prepared requests (azblob_prep_*): a request's buffers resolved, checked
 * and held once, and its packet (GPA header, pfns, VSP request) built once
 * into an image. A submit copies the image into the TX ring and patches
 * trans_id, the GUID and, where they change, the request length and
 * data_valid. The template holds its buffers for its life: registered
 * regions are referenced (azblob_unregister() says -EBUSY), azblob_alloc()
 * buffers are marked busy (an azblob_free() of one is deferred and the
 * template refuses to submit from then on). A template is one request's
 * buffers: one request of it is out at a time (the host writes them).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vsp.h"

static int bad(struct azblob_client *c, const char *why)
{
	az_log(c, UVMBUS_LOG_ERR, "azblob: prepared request: %s", why);
	return -EINVAL;
}

static inline uint32_t pages_of(const void *addr, uint32_t len)
{
	uintptr_t a = (uintptr_t)addr;

	return len ? (uint32_t)(((a + len - 1) >> 12) - (a >> 12) + 1) : 0;
}

/* One buffer of the template: registered memory, or one azblob_alloc()
 * buffer (not freed); never plain memory (a copy per request is what a
 * template is for avoiding). */
static int resolve(struct azblob_client *c, struct azblob_prep *p, int k, const void *addr,
		   uint32_t len)
{
	struct az_res *x = &p->b[k];

	p->pool_idx[k] = -1;
	if (!len)
		return 0;
	x->addr = addr;
	x->len = len;
	x->region = az_lookup(c, addr, len, &x->off);
	if (!x->region)
		return bad(c, "a buffer is neither from azblob_alloc() nor registered");
	if (x->region == c->pool_region) {
		p->pool_idx[k] = az_pool_index(c, addr, len);
		if (p->pool_idx[k] < 0)
			return bad(c, "pool memory that is not inside one azblob_alloc() buffer");
		if (c->pool_free_pending[p->pool_idx[k]])
			return bad(c, "a buffer was freed");
	}
	x->npfn = pages_of(addr, len);
	return 0;
}

/* Take (hold) or drop the template's buffers. */
static void hold(struct azblob_client *c, struct azblob_prep *p, bool take)
{
	for (int k = 0; k < 3; k++) {
		struct uvmbus_region *g = p->b[k].len ? p->b[k].region : NULL;

		if (g && g != c->pool_region) {
			if (take)
				uvmbus_region_get(g);
			else
				uvmbus_region_put(g);
		}
		if (p->pool_idx[k] >= 0) {
			if (take)
				c->pool_busy[p->pool_idx[k]]++;
			else
				az_pool_unmark(c, p->pool_idx[k]);
		}
	}
}

static int build(struct azblob_client *c, const struct azblob_request *r, struct azblob_prep **out)
{
	static const uint8_t zero_guid[16];
	struct azblob_prep tmp = {.c = c}, *p;
	struct uvmbus_ring_span span;
	struct azblob_vsp_request v;
	size_t len;
	int rc;

	rc = resolve(c, &tmp, 0, r->request, r->request_len);
	if (!rc)
		rc = resolve(c, &tmp, 1, r->response, r->response_len);
	if (!rc)
		rc = resolve(c, &tmp, 2, r->data, r->data_len);
	if (!rc)
		rc = az_over_limit(c, tmp.npfn = tmp.b[0].npfn + tmp.b[1].npfn + tmp.b[2].npfn);
	if (rc)
		return rc;
	len = (uvmbus_gpa_pkt_len(tmp.npfn, sizeof(v)) + 7) & ~(size_t)7;
	p = calloc(1, sizeof(*p) + len);
	if (!p)
		return -ENOMEM;
	*p = tmp;
	p->done = r->done;
	p->request_len = r->request_len;
	p->response_len = r->response_len;
	p->data_len = r->data_len;
	p->data_valid = r->data_valid;
	p->timeout_ms = r->timeout_ms ? r->timeout_ms : c->opts.default_timeout_ms;
	p->tmo_ns = ((uint64_t)p->timeout_ms + AZBLOB_GRACE_MS(p->timeout_ms)) * 1000000u;
	p->fixed_guid = r->guid != NULL;
	if (r->guid)
		memcpy(p->guid, r->guid, 16);
	p->img_len = (uint32_t)len;
	p->vsp_off = (uint32_t)(uvmbus_gpa_pkt_len(p->npfn, 0));
	span = (struct uvmbus_ring_span){
	    .p = {p->img, NULL}, .n = {(uint32_t)len, 0}, .len = (uint32_t)len};
	/* trans_id and GUID are patched per submit */
	az_packet_build(c, r->data_valid, p->timeout_ms, zero_guid, p->b, p->npfn, 0, &span, &v);
	*out = p;
	return 0;
}

int azblob_prep_create(struct azblob_client *c, const struct azblob_request *r,
		       struct azblob_prep **out)
{
	struct azblob_prep *p = NULL;
	int rc;

	if (!c || !out)
		return -EINVAL;
	*out = NULL;
	rc = az_check_request(c, r);
	if (rc)
		return rc;
	az_mem_lock(c);
	rc = build(c, r, &p);
	if (!rc) {
		hold(c, p, true);
		p->next = c->preps;
		p->pprev = &c->preps;
		if (c->preps)
			c->preps->pprev = &p->next;
		c->preps = p;
	}
	az_mem_unlock(c);
	*out = p;
	return rc;
}

int azblob_prep_destroy(struct azblob_prep *p)
{
	struct azblob_client *c;

	if (!p)
		return 0;
	c = p->c;
	az_mem_lock(c);
	if (p->inflight) {
		az_log(c, UVMBUS_LOG_ERR,
		       "azblob: prepared request: destroy with %u request(s) the host has not "
		       "answered: poll first",
		       p->inflight);
		az_mem_unlock(c);
		return -EBUSY;
	}
	hold(c, p, false);
	*p->pprev = p->next;
	if (p->next)
		p->next->pprev = p->pprev;
	az_mem_unlock(c);
	free(p);
	return 0;
}

void az_prep_close(struct azblob_client *c)
{
	while (c->preps) {
		struct azblob_prep *p = c->preps;

		c->preps = p->next;
		/* Held by an unanswered request: its memory is abandoned with
		 * the client's (the references stay). */
		if (!p->inflight)
			hold(c, p, false);
		free(p);
	}
}

/* n bytes at offset off of a reserved span: in place unless they wrap. */
static inline void put(struct uvmbus_ring_span *s, size_t off, const void *src, size_t n)
{
	if (__builtin_expect(off + n <= s->n[0], 1))
		memcpy(s->p[0] + off, src, n);
	else
		uvmbus_ring_span_write(s, off, src, n);
}

/* The packet of a submit that patches the request length past the image's
 * pages: built from the resolved buffers, as azblob_submit() does. */
static int write_rebuilt(struct azblob_client *c, struct azblob_prep *p, struct slot *s,
			 uint32_t request_len, uint32_t data_valid, uint64_t tid)
{
	struct az_res b[3] = {p->b[0], p->b[1], p->b[2]};
	struct uvmbus_ring_span span;
	struct azblob_vsp_request v;
	uint32_t lens[3] = {request_len, p->response_len, p->data_len};
	uint32_t n;
	int rc;

	b[0].len = request_len;
	b[0].npfn = pages_of(b[0].addr, request_len);
	n = b[0].npfn + b[1].npfn + b[2].npfn;
	rc = az_reserve(c, uvmbus_gpa_pkt_len(n, sizeof(v)), &span, lens);
	if (rc)
		return rc;
	az_packet_build(c, data_valid, p->timeout_ms, p->fixed_guid ? p->guid : NULL, b, n, tid,
			&span, &v);
	memcpy(s->guid, v.transaction_id, 16);
	uvmbus_ring_stage_inline(c->tx, &span);
	return 0;
}

/* The image into the ring, trans_id, GUID and lengths patched. */
static inline int write_image(struct azblob_client *c, struct azblob_prep *p, struct slot *s,
			      uint32_t request_len, uint32_t data_valid, uint64_t tid)
{
	struct uvmbus_ring_span span;
	uint32_t lens[3] = {request_len, p->response_len, p->data_len};
	size_t v = p->vsp_off;
	int rc = az_reserve(c, p->img_len, &span, lens);

	if (__builtin_expect(rc != 0, 0))
		return rc;
	if (p->fixed_guid)
		memcpy(s->guid, p->guid, 16);
	else
		az_vsp_guid_v4(s->guid, c->guid_salt, ++c->guid_seq);
	if (__builtin_expect(!span.n[1], 1)) {
		/* No wrap (the inline reserve's case): every patch in place,
		 * inside the img_len bytes reserved, without a test each. */
		uint8_t *d = span.p[0];

		memcpy(d, p->img, p->img_len);
		memcpy(d + offsetof(struct vmbus_pkt_desc, trans_id), &tid, 8);
		memcpy(d + v + offsetof(struct azblob_vsp_request, transaction_id), s->guid, 16);
		if (request_len != p->request_len)
			memcpy(d + v + offsetof(struct azblob_vsp_request, request_buffer_length),
			       &request_len, 4);
		if (data_valid != p->data_valid)
			memcpy(d + v + offsetof(struct azblob_vsp_request, data_buffer_valid),
			       &data_valid, 4);
	} else {
		put(&span, 0, p->img, p->img_len);
		put(&span, offsetof(struct vmbus_pkt_desc, trans_id), &tid, 8);
		put(&span, v + offsetof(struct azblob_vsp_request, transaction_id), s->guid, 16);
		if (request_len != p->request_len)
			put(&span, v + offsetof(struct azblob_vsp_request, request_buffer_length),
			    &request_len, 4);
		if (data_valid != p->data_valid)
			put(&span, v + offsetof(struct azblob_vsp_request, data_buffer_valid),
			    &data_valid, 4);
	}
	uvmbus_ring_stage_inline(c->tx, &span);
	return 0;
}

__attribute__((noinline)) int az_prep_core(struct azblob_client *c, struct azblob_prep *p,
					   uint32_t request_len, uint32_t data_valid, void *user,
					   bool want_slot)
{
	struct slot *s;
	uint64_t tid;
	uint32_t i;
	int rc;

	if (!p || p->c != c)
		return bad(c, "no template, or another client's");
	if (request_len == AZBLOB_PREP_SAME)
		request_len = p->request_len;
	if (data_valid == AZBLOB_PREP_SAME)
		data_valid = p->data_valid;
	if (!request_len || request_len > p->request_len)
		return bad(c, "request_len beyond the template's request buffer (or 0)");
	if (data_valid > p->data_len)
		return bad(c, "data_valid beyond the template's data buffer");
	for (int k = 0; c->pending_frees && k < 3; k++)
		if (p->pool_idx[k] >= 0 && c->pool_free_pending[p->pool_idx[k]])
			return bad(c, "a buffer of the template was freed: destroy it");
	if (p->inflight)
		return -EBUSY;	/* one request's buffers: one request out at a time */
	if (az_submit_guard(c)) /* no clock read: see az_submit_core */
		return -ENODEV;
	if (!c->nfree) {
		c->st.queue_full++;
		AZ_PROBE1(queue_full, c->inflight);
		return -EAGAIN;
	}
	i = c->free_slots[c->nfree - 1];
	s = &c->slots[i];
	tid = (uint64_t)s->gen << 32 | (i + 1);
	if (__builtin_expect(request_len == p->request_len, 1) ||
	    pages_of(p->b[0].addr, request_len) == p->b[0].npfn)
		rc = write_image(c, p, s, request_len, data_valid, tid);
	else
		rc = write_rebuilt(c, p, s, request_len, data_valid, tid);
	if (rc)
		return rc;
	c->nfree--;
	s->state = SLOT_INFLIGHT;
	s->done = p->done;
	s->user = user;
	az_stage_slot(c, s, i, p->tmo_ns); /* its clock starts at the flush */
	s->req_len = request_len;
	s->resp_cap = p->response_len;
	s->data_len = p->data_len;
	s->prep = p; /* the template holds the buffers: nothing special to release */
	p->inflight++;
	c->inflight++;
	c->st.submitted++;
	AZ_PROBE4(submit, tid, request_len, p->response_len, p->data_len);
	if (want_slot)
		return (int)i;
	return c->opts.auto_flush ? az_flush_core(c) : 0;
}
