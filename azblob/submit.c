// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Submit: validate, take a slot, resolve the buffers to regions (or copy
 * plain memory through a pool buffer), and write one GPA-direct packet
 * straight into the TX ring: header, pfns generated from the regions'
 * base tables, the 56-byte VSP request. Staged, not published: flush
 * publishes the batch. No allocation, lock or system call.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "vsp.h"

#define res az_res

/* Whether [a, a + len) lies in [b, b + blen), without overflow. */
static inline bool within(const uint8_t *a, size_t len, const uint8_t *b, size_t blen)
{
	return a >= b && (size_t)(a - b) <= blen && len <= blen - (size_t)(a - b);
}

/* The region holding [p, p + len): registered memory, then the pool; the
 * pool first (one range test: the usual case) unless a registration
 * overlaps it. */
static inline struct uvmbus_region *lookup(struct azblob_client *c, const void *p, size_t len,
					   size_t *off)
{
	const uint8_t *a = p;

	if (__builtin_expect(!c->pool_regs, 1) && within(a, len, c->pool_base, c->pool_len)) {
		*off = (size_t)(a - c->pool_base);
		return c->pool_region;
	}
	for (unsigned i = 0; i < c->nreg; i++) {
		const uint8_t *b = uvmbus_region_addr(c->reg[i]);

		if (within(a, len, b, uvmbus_region_len(c->reg[i]))) {
			*off = (size_t)(a - b);
			return c->reg[i];
		}
	}
	if (within(a, len, c->pool_base, c->pool_len)) {
		*off = (size_t)(a - c->pool_base);
		return c->pool_region;
	}
	return NULL;
}

struct uvmbus_region *az_lookup(struct azblob_client *c, const void *p, size_t len, size_t *off)
{
	return lookup(c, p, len, off);
}

/* Pages [addr, addr + len) spans: pfns are 4 KiB pages of the address, so
 * the count is arithmetic (the region's own check was lookup's). */
static inline uint32_t pages_of(const void *addr, uint32_t len)
{
	uintptr_t a = (uintptr_t)addr;

	return len ? (uint32_t)(((a + len - 1) >> 12) - (a >> 12) + 1) : 0;
}

/* Pages a buffer spans: exact once resolved to a region; for plain memory
 * (not copied yet) the fewest it can take, so the limit check before the
 * copy never refuses a request that fits. */
static inline uint32_t npfn_of(const struct res *x)
{
	if (!x->len)
		return 0;
	return x->region ? pages_of(x->addr, x->len)
			 : (x->len + VMBUS_PAGE_SIZE - 1) / VMBUS_PAGE_SIZE;
}

static int over_limit(struct azblob_client *c, uint32_t n)
{
	if (n <= c->max_pages)
		return 0;
	az_log(c, UVMBUS_LOG_ERR, "azblob: submit: %u pages, over the %u-page limit", n,
	       c->max_pages);
	return -EINVAL;
}

int az_over_limit(struct azblob_client *c, uint32_t n)
{
	return over_limit(c, n);
}

/* off / pool_stride without a division: Lemire's multiply by
 * ceil(2^64 / stride), exact for every 32-bit offset. */
static inline size_t pool_div(const struct azblob_client *c, size_t off)
{
	if (__builtin_expect(off >> 32, 0))
		return off / c->pool_stride;
	return (size_t)(((unsigned __int128)c->pool_magic * off) >> 64);
}

/* An azblob_alloc() buffer a request uses (even through a registration
 * covering it): azblob_free() defers until the request is over. A bounce
 * buffer is from the pool but not in alloc_map. */
static inline int32_t pool_index(struct azblob_client *c, const void *p)
{
	const uint8_t *a = p;
	size_t i;

	if (!a || a < c->pool_base || a >= c->pool_base + c->pool_len)
		return -1;
	i = pool_div(c, (size_t)(a - c->pool_base));
	/* (the region may be longer than the buffers: a hugepage's tail) */
	return i < c->opts.pool_bufs && c->alloc_map[i] ? (int32_t)i : -1;
}

int32_t az_pool_index(struct azblob_client *c, const void *p, size_t len)
{
	int32_t i = pool_index(c, p);
	size_t in = (size_t)((const uint8_t *)p - c->pool_base) - (size_t)i * c->pool_stride;

	return i >= 0 && len <= c->opts.pool_buf_size && in <= c->opts.pool_buf_size - len ? i : -1;
}

void az_pool_put_freed(struct azblob_client *c, int32_t p)
{
	c->pool_free_pending[p] = 0;
	c->pending_frees--;
	uvmbus_pool_put(c->pool, c->alloc_map[p]);
	c->alloc_map[p] = NULL;
}

static inline bool mark_pool(struct azblob_client *c, struct slot *s, int k, const void *p)
{
	int32_t i = pool_index(c, p);

	s->pool_idx[k] = i;
	if (i < 0)
		return false;
	c->pool_busy[i]++;
	return true;
}

/* mark_pool() for buffer k at p, resolved to x, without its range test:
 * resolved to the pool region, its offset gives the index (a bounce
 * buffer's copy is not in alloc_map: -1, as the caller's plain memory
 * is); resolved elsewhere, only a registration overlapping the pool can
 * hold an azblob_alloc() buffer (lookup() tests the pool first). */
static inline bool mark_res(struct azblob_client *c, struct slot *s, int k, const struct res *x,
			    const void *p)
{
	int32_t i = -1;

	if (x->len && x->region == c->pool_region) {
		size_t j = pool_div(c, x->off);

		i = j < c->opts.pool_bufs && c->alloc_map[j] ? (int32_t)j : -1;
	} else if (__builtin_expect(c->pool_regs != 0, 0) && x->len) {
		return mark_pool(c, s, k, p);
	}
	s->pool_idx[k] = i;
	if (i < 0)
		return false;
	c->pool_busy[i]++;
	return true;
}

static int bad(struct azblob_client *c, const char *why)
{
	az_log(c, UVMBUS_LOG_ERR, "azblob: submit: %s", why);
	return -EINVAL;
}

static inline int check(struct azblob_client *c, const struct azblob_request *r)
{
	if (!r || !r->done)
		return bad(c, "no request or no callback");
	if (!r->request || !r->request_len)
		return bad(c, "request buffer and length must be non-zero");
	if (!r->response || !r->response_len)
		return bad(c, "response buffer and length must be non-zero");
	if (r->data_len && !r->data)
		return bad(c, "data_len without a data buffer");
	if (r->data_valid > r->data_len)
		return bad(c, "data_valid is larger than data_len");
	if (r->timeout_ms > AZBLOB_MAX_TIMEOUT_MS)
		return bad(c, "timeout_ms above AZBLOB_MAX_TIMEOUT_MS");
	return 0;
}

int az_check_request(struct azblob_client *c, const struct azblob_request *r)
{
	return check(c, r);
}

/* Where the copy of a buffer at p goes in a bounce buffer at region
 * offset base, at or after at: with p's in-page offset, so that it spans
 * as many pages as the caller's (a request within the page limit in the
 * caller's memory stays within it). */
static size_t place(size_t base, size_t at, const void *p)
{
	size_t want = (uintptr_t)p & (VMBUS_PAGE_SIZE - 1);

	return at + ((want - (base + at)) & (VMBUS_PAGE_SIZE - 1));
}

/* The copies' offsets in a bounce buffer: page offsets kept when that
 * fits (keep), else packed. Returns the bytes used. */
static size_t layout(const struct azblob_request *r, const struct res *rq, const struct res *rs,
		     const struct res *d, size_t base, bool keep, size_t off[3])
{
	const void *p[3] = {r->request, r->data, r->response};
	size_t len[3] = {rq->region ? 0 : r->request_len, d->region ? 0 : r->data_len,
			 rs->region ? 0 : r->response_len};
	size_t at = 0;

	for (int k = 0; k < 3; k++) {
		if (!len[k])
			continue;
		off[k] = keep ? place(base, at, p[k]) : at;
		at = off[k] + len[k];
	}
	return at;
}

/* Plain memory: one pool buffer holds request, data and response copies,
 * each at its own page offset when the buffer has room for that. */
static int bounce(struct azblob_client *c, struct slot *s, const struct azblob_request *r,
		  struct res *rq, struct res *rs, struct res *d)
{
	size_t off[3] = {0}, need;
	uint8_t *b;

	need = layout(r, rq, rs, d, 0, false, off);
	if (need > c->opts.pool_buf_size) {
		az_log(c, UVMBUS_LOG_ERR,
		       "azblob: submit: %zu bytes of plain memory do not fit a %u-byte pool "
		       "buffer: use azblob_alloc() or azblob_register()",
		       need, c->opts.pool_buf_size);
		return -EINVAL;
	}
	s->bounce = uvmbus_pool_get(c->pool);
	if (!s->bounce)
		return -ENOMEM;
	if (layout(r, rq, rs, d, s->bounce->region_off, true, off) > c->opts.pool_buf_size)
		layout(r, rq, rs, d, 0, false, off);
	b = s->bounce->addr;
	if (!rq->region) {
		memcpy(b + off[0], r->request, r->request_len);
		rq->region = c->pool_region;
		rq->addr = b + off[0];
		rq->off = s->bounce->region_off + off[0];
		rq->npfn = npfn_of(rq);
	}
	if (r->data_len && !d->region) {
		/* All of it, not only data_valid: the bytes the host does
		 * not write come back as the caller's own (as with its own
		 * memory), never as an earlier request's. */
		memcpy(b + off[1], r->data, r->data_len);
		s->user_data = r->data;
		s->bounce_data = (uint32_t)off[1];
		d->region = c->pool_region;
		d->addr = b + off[1];
		d->off = s->bounce->region_off + off[1];
		d->npfn = npfn_of(d);
	}
	if (!rs->region) {
		memset(b + off[2], 0, r->response_len);
		s->user_resp = r->response;
		s->bounce_resp = (uint32_t)off[2];
		rs->region = c->pool_region;
		rs->addr = b + off[2];
		rs->off = s->bounce->region_off + off[2];
		rs->npfn = npfn_of(rs);
	}
	c->st.copied++;
	return 0;
}

/* No free slot: the caller polls and retries. */
static int queue_full(struct azblob_client *c)
{
	c->st.queue_full++;
	AZ_PROBE1(queue_full, c->inflight);
	return -EAGAIN;
}

/* The regions of r's buffers (b[0] request, b[1] response, b[2] data),
 * plain memory copied through a pool buffer (s->bounce), and their page
 * count in *n, within the limit. */
static inline int resolve(struct azblob_client *c, struct slot *s, const struct azblob_request *r,
			  struct res b[3], uint32_t *n)
{
	struct res *rq = &b[0], *rs = &b[1], *d = &b[2];
	int rc;

	rq->len = r->request_len;
	rs->len = r->response_len;
	d->len = r->data_len;
	rq->addr = r->request;
	rs->addr = r->response;
	d->addr = r->data;
	rq->region = lookup(c, r->request, rq->len, &rq->off);
	rs->region = lookup(c, r->response, rs->len, &rs->off);
	if (d->len)
		d->region = lookup(c, r->data, d->len, &d->off);
	s->bounce = NULL;
	s->user_resp = s->user_data = NULL;
	rq->npfn = npfn_of(rq);
	rs->npfn = npfn_of(rs);
	d->npfn = npfn_of(d);
	*n = rq->npfn + rs->npfn + d->npfn;
	rc = over_limit(c, *n); /* before any copy */
	if (rc || (rq->region && rs->region && (!d->len || d->region)))
		return rc;
	/* Copied buffers get their exact page count in the pool. */
	rc = bounce(c, s, r, rq, rs, d);
	if (!rc)
		rc = over_limit(c, *n = rq->npfn + rs->npfn + d->npfn);
	if (rc && s->bounce)
		uvmbus_pool_put(c->pool, s->bounce);
	return rc;
}

/* A buffer's pfns at dst (flat, no wrap): from the pool's pfn table, or
 * the region's. */
static inline void pfns_flat(const struct azblob_client *c, const struct res *x, uint8_t *dst)
{
	if (x->region == c->pool_region) {
		const uint64_t *src = c->pool_pfns + (x->off >> 12);

		if (x->npfn == 1) /* the usual head or answer: one page, no call */
			memcpy(dst, src, 8);
		else
			memcpy(dst, src, 8u * x->npfn);
		return;
	}
	uvmbus_region_pfns(x->region, x->off, x->len, (uint64_t *)(void *)dst, NULL);
}

/* A buffer's pfns into the span at `at` (any span), and its VSP description. */
static inline size_t put_pfns(const struct azblob_client *c, const struct res *x,
			      struct uvmbus_ring_span *span, size_t at, struct az_vsp_buf *vb)
{
	if (at + 8u * x->npfn <= span->n[0])
		pfns_flat(c, x, span->p[0] + at);
	else
		uvmbus_region_pfns_to_span(x->region, x->off, x->len, span, at);
	vb->in_page = (uint32_t)((uintptr_t)x->addr & (VMBUS_PAGE_SIZE - 1));
	vb->len = x->len;
	vb->npfn = x->npfn;
	return at + 8u * x->npfn;
}

/* The GPA-direct header of n pages and the VSP request (uvmbus_pkt_gpa_hdr's
 * fields, without its checks: n is within the limit). */
static inline void gpa_hdr(struct vmbus_gpa_direct_hdr *h, uint64_t tid, uint32_t n)
{
	uint32_t hdr = (uint32_t)sizeof(*h) + 8u * n;

	h->desc.type = VMBUS_PKT_DATA_GPA_DIRECT;
	h->desc.offset8 = (uint16_t)(hdr / 8);
	h->desc.len8 = (uint16_t)((hdr + sizeof(struct azblob_vsp_request) + 7) / 8);
	h->desc.flags = VMBUS_PKT_FLAG_COMPLETION_REQUESTED;
	h->desc.trans_id = tid;
	h->reserved = 0;
	h->rangecount = 1;
	h->range.len = n * VMBUS_PAGE_SIZE;
	h->range.offset = 0;
}

/* The packet: header, pfns in the VSP's order (data, request, response),
 * the VSP request; written in place when the span does not wrap, else
 * through the span. Not staged. */
static inline __attribute__((always_inline)) void
write_packet(struct azblob_client *c, uint32_t data_valid, uint32_t timeout_ms, const uint8_t *guid,
	     const struct res b[3], uint32_t n, uint64_t tid, struct uvmbus_ring_span *span,
	     struct azblob_vsp_request *v)
{
	struct vmbus_gpa_direct_hdr h;
	struct az_vsp_buf vrq, vrs, vd = {.npfn = 0};
	size_t at = sizeof(h);
	bool flat = span->n[1] == 0;

	gpa_hdr(flat ? (struct vmbus_gpa_direct_hdr *)(void *)span->p[0] : &h, tid, n);
	if (!flat)
		uvmbus_ring_span_write(span, 0, &h, sizeof(h));
	if (b[2].npfn)
		at = put_pfns(c, &b[2], span, at, &vd);
	at = put_pfns(c, &b[0], span, at, &vrq);
	at = put_pfns(c, &b[1], span, at, &vrs);
	az_vsp_request_encode(v, &vd, data_valid, &vrq, &vrs,
			      timeout_ms ? timeout_ms : c->opts.default_timeout_ms);
	if (guid)
		memcpy(v->transaction_id, guid, 16);
	else
		az_vsp_guid_v4(v->transaction_id, c->guid_salt, ++c->guid_seq);
	if (flat)
		memcpy(span->p[0] + at, v, sizeof(*v));
	else
		uvmbus_ring_span_write(span, at, v, sizeof(*v));
}

void az_packet_build(struct azblob_client *c, uint32_t data_valid, uint32_t timeout_ms,
		     const uint8_t *guid, const struct res b[3], uint32_t n, uint64_t tid,
		     struct uvmbus_ring_span *span, struct azblob_vsp_request *v)
{
	write_packet(c, data_valid, timeout_ms, guid, b, n, tid, span, v);
}

/* The slot owns the buffers until the host answers: registered regions
 * are referenced, azblob_alloc() buffers marked busy; the pool region
 * itself is never referenced (close abandons the pool while anything is
 * unanswered). */
static inline void slot_fill(struct azblob_client *c, struct slot *s, uint32_t i,
			     const struct azblob_request *r, const struct res b[3],
			     const struct azblob_vsp_request *v)
{
	bool special = s->bounce != NULL;

	s->state = SLOT_INFLIGHT;
	s->done = r->done;
	s->user = r->user;
	/* The host's timeout answer normally comes first (azblob.h); the
	 * clock starts at the flush (az_stamp). */
	az_stage_slot(c, s, i,
		      ((uint64_t)v->timeout_ms + AZBLOB_GRACE_MS(v->timeout_ms)) * 1000000u);
	s->req_len = r->request_len;
	s->resp_cap = r->response_len;
	s->data_len = r->data_len;
	memcpy(s->guid, v->transaction_id, 16);
	if (__builtin_expect(b[0].region == c->pool_region && b[1].region == c->pool_region &&
				 (!b[2].npfn || b[2].region == c->pool_region),
			     1)) {
		/* all in the pool (or copied there): nothing to reference */
		s->region[0] = s->region[1] = s->region[2] = NULL;
	} else {
		for (int k = 0; k < 3; k++) {
			struct uvmbus_region *g = b[k].npfn ? b[k].region : NULL;

			s->region[k] = g == c->pool_region ? NULL : g;
			if (s->region[k]) {
				uvmbus_region_get(s->region[k]);
				special = true;
			}
		}
	}
	special |= mark_res(c, s, 0, &b[0], r->request);
	special |= mark_res(c, s, 1, &b[1], r->response);
	special |= mark_res(c, s, 2, &b[2], r->data);
	s->special = special;
}

/* One copy of the body (its helpers inlined into it); the callers add
 * their test of the gate. */
__attribute__((noinline)) int az_submit_core(struct azblob_client *c,
					     const struct azblob_request *r, bool want_slot)
{
	struct res b[3] = {0}; /* request, response, data */
	struct uvmbus_ring_span span;
	struct azblob_vsp_request v;
	struct slot *s;
	uint32_t n;
	uint64_t tid;
	uint32_t i;
	int rc;

	rc = check(c, r);
	if (rc)
		return rc;
	/* No clock read: the rescind guard is a counter compare, the slot's
	 * clock starts at the flush. */
	if (az_submit_guard(c))
		return -ENODEV;
	if (!c->nfree)
		return queue_full(c);
	i = c->free_slots[c->nfree - 1]; /* taken below, once the packet has room */
	s = &c->slots[i];
	rc = resolve(c, s, r, b, &n);
	if (!rc) {
		uint32_t lens[3] = {b[0].len, b[1].len, b[2].len};

		rc = az_reserve(c, uvmbus_gpa_pkt_len(n, sizeof(v)), &span, lens);
		if (rc && s->bounce)
			uvmbus_pool_put(c->pool, s->bounce);
	}
	if (rc)
		return rc;
	c->nfree--;
	tid = (uint64_t)s->gen << 32 | (i + 1);
	write_packet(c, r->data_valid, r->timeout_ms, r->guid, b, n, tid, &span, &v);
	uvmbus_ring_stage_inline(c->tx, &span);
	slot_fill(c, s, i, r, b, &v);
	c->inflight++;
	c->st.submitted++;
	AZ_PROBE4(submit, tid, r->request_len, r->response_len, r->data_len);
	if (want_slot)
		return (int)i;
	return c->opts.auto_flush ? az_flush_core(c) : 0;
}

int az_flush_body(struct azblob_client *c)
{
	bool sig = false;
	int rc;

	uint64_t now = az_now(c);

	/* One clock read per batch: it starts the clock of the requests
	 * staged since the last flush (before the host can see them), and a
	 * batch staged before a silent period is not published into rings a
	 * rescind may have freed. */
	az_stamp(c, now);
	if (az_silent_dead(c, now))
		return -ENODEV;
	uvmbus_ring_publish(c->tx, &sig);
	if (!sig)
		return 0;
	AZ_PROBE2(signal, 1, c->inflight);
	rc = uvmbus_chan_signal(c->ch);
	if (rc == -ENODEV)
		az_mark_dead(c);
	else if (!rc)
		c->st.signals++;
	return rc;
}
