// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * VMbus ring, both roles (docs/WIRE.md section 1). Pure functions over memory:
 * no system call, no lock, no global state; one allocation at attach.
 *
 * Each handle keeps its own index privately (`priv`) and only ever
 * *writes* its index to shared memory: the other side cannot move our
 * position by scribbling on the header. The other side's index is loaded
 * (acquire) and validated whenever it is loaded. It is loaded only when
 * the cached copy (`other`) does not show enough room or data: the two
 * indices share a cache line, and reloading it per packet would bounce that
 * line between the CPUs (the cached value is always a safe underestimate
 * of room/data, because each side's index only moves forward).
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uvmbus/ring.h>

#include "atomics.h"

struct uvmbus_ring {
	struct vmbus_ring_hdr *hdr;
	uint8_t *data;
	uint32_t dsize;
	enum uvmbus_ring_role role;
	uint32_t priv;	    /* producer: staged write position; consumer: private read position */
	uint32_t published; /* our index as last stored to shared memory */
	uint32_t other;	    /* other side's index as last loaded (and validated) */
	uint64_t packets;
	uint64_t bytes;
	uint64_t full;
	uint64_t corrupt;
	uint64_t signals;
};

/* The leading fields are <uvmbus/ring.h>'s struct uvmbus_ring_hot (the
 * inline fast paths'): the same offsets and sizes. */
#define HOT_SAME(f)                                                                                \
	_Static_assert(offsetof(struct uvmbus_ring, f) == offsetof(struct uvmbus_ring_hot, f) &&   \
			   sizeof(((struct uvmbus_ring *)0)->f) ==                                 \
			       sizeof(((struct uvmbus_ring_hot *)0)->f),                           \
		       "uvmbus_ring_hot." #f)
HOT_SAME(data);
HOT_SAME(dsize);
HOT_SAME(role);
HOT_SAME(priv);
HOT_SAME(published);
HOT_SAME(other);
HOT_SAME(packets);
HOT_SAME(bytes);
_Static_assert(offsetof(struct uvmbus_ring, hdr) == offsetof(struct uvmbus_ring_hot, hdr_),
	       "uvmbus_ring_hot.hdr_");

static inline uint32_t align8(uint32_t n)
{
	return (n + 7u) & ~7u;
}

static inline bool index_ok(const struct uvmbus_ring *r, uint32_t idx)
{
	return idx < r->dsize && (idx & 7u) == 0;
}

/* Free room for the producer when the producer is at w and the consumer at rd. */
static inline uint32_t free_bytes(uint32_t dsize, uint32_t w, uint32_t rd)
{
	return w >= rd ? dsize - (w - rd) : rd - w;
}

static inline uint32_t ring_add(const struct uvmbus_ring *r, uint32_t idx, uint32_t n)
{
	uint64_t v = (uint64_t)idx + n;

	return (uint32_t)(v >= r->dsize ? v - r->dsize : v);
}

static void copy_from_ring(const struct uvmbus_ring *r, uint32_t off, void *dst, uint32_t n)
{
	uint32_t first = r->dsize - off;

	if (n <= first) {
		memcpy(dst, r->data + off, n);
	} else {
		memcpy(dst, r->data + off, first);
		memcpy((uint8_t *)dst + first, r->data, n - first);
	}
}

int uvmbus_ring_attach(struct uvmbus_ring **out, void *base, size_t ring_bytes, size_t hdr_bytes,
		       enum uvmbus_ring_role role)
{
	struct uvmbus_ring *r;
	size_t dsize;

	if (!out || !base || ((uintptr_t)base & 7u))
		return -EINVAL;
	*out = NULL;
	if (role != UVMBUS_RING_PRODUCER && role != UVMBUS_RING_CONSUMER)
		return -EINVAL;
	if (hdr_bytes < sizeof(struct vmbus_ring_hdr) || (hdr_bytes & 7u) ||
	    ring_bytes <= hdr_bytes)
		return -EINVAL;
	dsize = ring_bytes - hdr_bytes;
	/* Room for at least one descriptor + trailer besides the never-full gap. */
	if ((dsize & 7u) || dsize > UINT32_MAX - 8u || dsize < 48u)
		return -EINVAL;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->hdr = base;
	r->data = (uint8_t *)base + hdr_bytes;
	r->dsize = (uint32_t)dsize;
	r->role = role;
	if (role == UVMBUS_RING_PRODUCER)
		r->priv = shm_load_relaxed(&r->hdr->write_index);
	else
		r->priv = shm_load_relaxed(&r->hdr->read_index);
	r->published = r->priv;
	r->other = role == UVMBUS_RING_PRODUCER ? shm_load_acquire(&r->hdr->read_index)
						: shm_load_acquire(&r->hdr->write_index);
	if (!index_ok(r, r->priv) || !index_ok(r, r->other)) {
		free(r);
		return -EIO;
	}
	*out = r;
	return 0;
}

void uvmbus_ring_detach(struct uvmbus_ring *r)
{
	free(r);
}

uint32_t uvmbus_ring_data_size(const struct uvmbus_ring *r)
{
	return r->dsize;
}

uint32_t uvmbus_ring_max_packet(const struct uvmbus_ring *r)
{
	/* padded + trailer must stay strictly below dsize: padded <= dsize - 16 */
	uint32_t m = r->dsize - 2u * VMBUS_PKT_TRAILER_SIZE;

	return m < VMBUS_PKT_MAX_LEN ? m : VMBUS_PKT_MAX_LEN;
}

/*
 * Reload the other side's index: the consumer's write index (acquire: the
 * packet bytes it covers are visible before we copy them), the producer's
 * read index (acquire: the consumer's reads of the room are done before we
 * overwrite it); validated before it is cached, a corrupt one counted.
 */
static inline int reload_other(struct uvmbus_ring *r)
{
	uint32_t v = shm_load_acquire(r->role == UVMBUS_RING_PRODUCER ? &r->hdr->read_index
								      : &r->hdr->write_index);

	if (!index_ok(r, v)) {
		r->corrupt++;
		return -EIO;
	}
	r->other = v;
	return 0;
}

/* The same, for the inline fast paths when the cache says empty (an
 * exported function: the ordered load stays out of line). */
int uvmbus_ring_reload(struct uvmbus_ring *r)
{
	return reload_other(r);
}

/* ---------------- producer ---------------- */

int uvmbus_ring_reserve(struct uvmbus_ring *r, size_t len, struct uvmbus_ring_span *s)
{
	uint32_t padded, first, need;

	if (r->role != UVMBUS_RING_PRODUCER || len < sizeof(struct vmbus_pkt_desc))
		return -EINVAL;
	if (len > uvmbus_ring_max_packet(r))
		return -EMSGSIZE;
	padded = align8((uint32_t)len);
	need = padded + VMBUS_PKT_TRAILER_SIZE;

	/* Never full: write_index == read_index must keep meaning "empty". */
	if (free_bytes(r->dsize, r->priv, r->other) <= need) {
		if (reload_other(r))
			return -EIO;
		if (free_bytes(r->dsize, r->priv, r->other) <= need) {
			r->full++;
			return -EAGAIN;
		}
	}

	first = r->dsize - r->priv;
	if (first > padded)
		first = padded;
	s->p[0] = r->data + r->priv;
	s->n[0] = first;
	s->p[1] = r->data;
	s->n[1] = padded - first;
	s->len = padded;
	s->start = r->priv;
	/* Zero the padding now so a commit never exposes stale ring bytes. */
	if (padded != len)
		uvmbus_ring_span_write(s, len, (const uint8_t[8]){0}, padded - len);
	return 0;
}

int uvmbus_ring_span_write(const struct uvmbus_ring_span *s, size_t off, const void *src, size_t n)
{
	const uint8_t *b = src;

	if (off > s->len || n > s->len - off)
		return -EINVAL;
	if (off < s->n[0]) {
		size_t k = s->n[0] - off < n ? s->n[0] - off : n;

		memcpy(s->p[0] + off, b, k);
		b += k;
		n -= k;
		off = s->n[0];
	}
	if (n)
		memcpy(s->p[1] + (off - s->n[0]), b, n);
	return 0;
}

void uvmbus_ring_stage(struct uvmbus_ring *r, const struct uvmbus_ring_span *s)
{
	uint32_t tpos = ring_add(r, s->start, s->len);
	uint64_t trailer = (uint64_t)s->start << 32;

	/* 8-aligned position in an 8-multiple data area: never straddles. */
	memcpy(r->data + tpos, &trailer, sizeof(trailer));
	r->priv = ring_add(r, tpos, VMBUS_PKT_TRAILER_SIZE);
	r->packets++;
	r->bytes += s->len + VMBUS_PKT_TRAILER_SIZE;
}

void uvmbus_ring_publish(struct uvmbus_ring *r, bool *signal)
{
	uint32_t start = r->published, mask, rd;
	bool sig = false;

	if (signal)
		*signal = false;
	if (r->role != UVMBUS_RING_PRODUCER || r->priv == start)
		return;
	/*
	 * Two orderings in one seq_cst store (one locked instruction on x86):
	 * - release: the packet bytes are visible before the index covering
	 *   them;
	 * - store->load: the consumer sets interrupt_mask while it drains and
	 *   re-checks the ring after clearing it, so our index must be
	 *   globally visible before we read its mask, or both sides could miss
	 *   each other. The mask load is seq_cst too: C11 orders a seq_cst
	 *   store before seq_cst operations only (arm64: stlr, then ldar).
	 */
	shm_store_fenced(&r->hdr->write_index, r->priv);
	r->published = r->priv;
	mask = shm_load_fenced(&r->hdr->interrupt_mask);
	if (!mask) {
		/* Signal only on empty->non-empty: the consumer had caught up
		 * with everything before this batch and may be asleep. */
		rd = shm_load_acquire(&r->hdr->read_index);
		sig = rd == start;
		if (index_ok(r, rd))
			r->other = rd;
	}
	if (sig)
		r->signals++;
	if (signal)
		*signal = sig;
}

void uvmbus_ring_commit(struct uvmbus_ring *r, const struct uvmbus_ring_span *s, bool *signal)
{
	uvmbus_ring_stage(r, s);
	uvmbus_ring_publish(r, signal);
}

int uvmbus_ring_writev(struct uvmbus_ring *r, const struct iovec *iov, unsigned int iovcnt,
		       bool *signal)
{
	struct uvmbus_ring_span s;
	size_t total = 0, off = 0;
	unsigned int i;
	int rc;

	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > VMBUS_PKT_MAX_LEN)
			return -EMSGSIZE;
		total += iov[i].iov_len;
	}
	rc = uvmbus_ring_reserve(r, total, &s);
	if (rc)
		return rc;
	for (i = 0; i < iovcnt; i++) {
		uvmbus_ring_span_write(&s, off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	uvmbus_ring_commit(r, &s, signal);
	return 0;
}

void uvmbus_ring_set_pending_send(struct uvmbus_ring *r, uint32_t bytes)
{
	shm_store_relaxed(&r->hdr->pending_send_sz, bytes);
	/* The caller re-checks free room after this; order the store first. */
	shm_full_fence();
}

/* ---------------- consumer ---------------- */

/*
 * Readable bytes from our private position, or -EIO for a corrupt write
 * index. The producer moves its index only by whole packets, so a cached
 * index that shows any data shows whole packets.
 */
static int64_t consumer_avail(struct uvmbus_ring *r)
{
	if (r->other == r->priv && reload_other(r))
		return -EIO;
	return r->dsize - free_bytes(r->dsize, r->other, r->priv);
}

int uvmbus_ring_peek(struct uvmbus_ring *r, struct vmbus_pkt_desc *desc)
{
	int64_t avail;

	if (r->role != UVMBUS_RING_CONSUMER)
		return -EINVAL;
	avail = consumer_avail(r);
	if (avail < 0)
		return (int)avail;
	if (avail == 0)
		return -EAGAIN;
	if (avail < (int64_t)(sizeof(*desc) + VMBUS_PKT_TRAILER_SIZE))
		goto corrupt;
	/* One copy of the descriptor: all checks and all later uses read it. */
	copy_from_ring(r, r->priv, desc, sizeof(*desc));
	if (desc->offset8 < 2 || desc->offset8 > desc->len8 ||
	    (int64_t)desc->len8 * 8 + VMBUS_PKT_TRAILER_SIZE > avail)
		goto corrupt;
	return 0;
corrupt:
	r->corrupt++;
	return -EIO;
}

static void consumer_advance(struct uvmbus_ring *r, uint32_t len)
{
	r->priv = ring_add(r, r->priv, len + VMBUS_PKT_TRAILER_SIZE);
	r->packets++;
	r->bytes += len + VMBUS_PKT_TRAILER_SIZE;
}

int uvmbus_ring_read(struct uvmbus_ring *r, void *buf, size_t cap, size_t *len)
{
	struct vmbus_pkt_desc d;
	uint32_t n;
	int rc;

	rc = uvmbus_ring_peek(r, &d);
	if (rc)
		return rc;
	n = (uint32_t)d.len8 * 8u;
	if (len)
		*len = n;
	if (cap < n)
		return -EMSGSIZE;
	/* The validated descriptor, not a second read of shared memory. */
	memcpy(buf, &d, sizeof(d));
	copy_from_ring(r, ring_add(r, r->priv, sizeof(d)), (uint8_t *)buf + sizeof(d),
		       n - (uint32_t)sizeof(d));
	consumer_advance(r, n);
	return 0;
}

int uvmbus_ring_read_payload(struct uvmbus_ring *r, struct vmbus_pkt_desc *desc, void *buf,
			     size_t cap, size_t *payload_len)
{
	struct vmbus_pkt_desc d;
	uint32_t off, plen;
	int rc;

	rc = uvmbus_ring_peek(r, &d);
	if (rc)
		return rc;
	/* peek checked 2 <= offset8 <= len8 and len8 * 8 + 8 <= readable:
	 * the payload lies inside the packet, the packet inside the ring. */
	off = (uint32_t)d.offset8 * 8u;
	plen = (uint32_t)d.len8 * 8u - off;
	if (cap > plen)
		cap = plen;
	if (cap)
		copy_from_ring(r, ring_add(r, r->priv, off), buf, (uint32_t)cap);
	*desc = d;
	if (payload_len)
		*payload_len = plen;
	consumer_advance(r, (uint32_t)d.len8 * 8u);
	return 0;
}

int uvmbus_ring_skip(struct uvmbus_ring *r)
{
	struct vmbus_pkt_desc d;
	int rc;

	rc = uvmbus_ring_peek(r, &d);
	if (rc)
		return rc;
	consumer_advance(r, (uint32_t)d.len8 * 8u);
	return 0;
}

uint32_t uvmbus_ring_read_commit(struct uvmbus_ring *r, bool *signal)
{
	uint32_t bytes, pending, w, free_now;
	bool sig = false;

	if (signal)
		*signal = false;
	if (r->role != UVMBUS_RING_CONSUMER || r->priv == r->published)
		return 0;
	bytes =
	    r->priv >= r->published ? r->priv - r->published : r->dsize - r->published + r->priv;
	/*
	 * Only a ring that advertises feat_pending_send_sz has the wait-for-
	 * room contract (Linux hv_pkt_iter_close, DPDK): without it the
	 * producer polls, pending_send_sz means nothing, and a release store
	 * (we are done reading the bytes before handing them back) is all
	 * that is needed. The bit is set at open and never changes.
	 */
	if (!(shm_load_relaxed(&r->hdr->feature_bits) & VMBUS_RING_FEAT_PENDING_SEND_SZ)) {
		shm_store_release(&r->hdr->read_index, r->priv);
		r->published = r->priv;
		return bytes;
	}
	/*
	 * With it, a producer blocked on a full ring sets pending_send_sz and
	 * waits for our signal: release (as above) and store->load (the read
	 * index visible before we load pending_send_sz, or we and a producer
	 * re-checking the room could miss each other), in one seq_cst store
	 * and a seq_cst load (a relaxed one may pass the store on arm64).
	 */
	shm_store_fenced(&r->hdr->read_index, r->priv);
	r->published = r->priv;
	pending = shm_load_fenced(&r->hdr->pending_send_sz);
	if (pending) {
		w = shm_load_acquire(&r->hdr->write_index);
		if (!index_ok(r, w)) {
			r->corrupt++;
		} else {
			r->other = w;
			free_now = free_bytes(r->dsize, w, r->priv);
			/* Signal only on the crossing: not enough room before this
			 * batch (free_now - bytes <= pending), enough now. */
			sig = free_now > pending && (int64_t)free_now - bytes <= (int64_t)pending;
		}
	}
	if (sig)
		r->signals++;
	if (signal)
		*signal = sig;
	return bytes;
}

bool uvmbus_ring_set_interrupt_mask(struct uvmbus_ring *r, bool masked)
{
	shm_store_relaxed(&r->hdr->interrupt_mask, masked ? 1u : 0u);
	/* Mask store before the write index load: a producer that wrote just
	 * before our store saw the mask set and did not signal; we see its
	 * packet here instead (no lost wake-up). */
	shm_full_fence();
	return uvmbus_ring_readable(r) != 0;
}

/* ---------------- either role ---------------- */

/* Free room as seen from this handle; 0 when the other index is corrupt. */
static uint32_t handle_free(const struct uvmbus_ring *r)
{
	uint32_t other;

	if (r->role == UVMBUS_RING_PRODUCER) {
		other = shm_load_acquire(&r->hdr->read_index);
		return index_ok(r, other) ? free_bytes(r->dsize, r->priv, other) : 0;
	}
	other = shm_load_acquire(&r->hdr->write_index);
	return index_ok(r, other) ? free_bytes(r->dsize, other, r->priv) : r->dsize;
}

uint32_t uvmbus_ring_readable(const struct uvmbus_ring *r)
{
	return r->dsize - handle_free(r);
}

uint32_t uvmbus_ring_writable(const struct uvmbus_ring *r)
{
	return handle_free(r);
}

void uvmbus_ring_get_state(const struct uvmbus_ring *r, struct uvmbus_ring_state *st)
{
	memset(st, 0, sizeof(*st));
	st->data_size = r->dsize;
	st->write_index = shm_load_acquire(&r->hdr->write_index);
	st->read_index = shm_load_acquire(&r->hdr->read_index);
	st->priv_index = r->priv;
	st->interrupt_mask = shm_load_relaxed(&r->hdr->interrupt_mask);
	st->pending_send_sz = shm_load_relaxed(&r->hdr->pending_send_sz);
	st->feature_bits = shm_load_relaxed(&r->hdr->feature_bits);
	st->readable = uvmbus_ring_readable(r);
	st->writable = uvmbus_ring_writable(r);
	st->packets = r->packets;
	st->bytes = r->bytes;
	st->full = r->full;
	st->corrupt = r->corrupt;
	st->signals = r->signals;
}

int uvmbus_ring_dump(const struct uvmbus_ring *r, char *buf, size_t cap)
{
	struct uvmbus_ring_state st;

	uvmbus_ring_get_state(r, &st);
	return snprintf(buf, cap,
			"%s dsize=%" PRIu32 " w=%" PRIu32 " r=%" PRIu32 " priv=%" PRIu32
			" readable=%" PRIu32 " writable=%" PRIu32 " mask=%" PRIu32
			" pending_send=%" PRIu32 " feat=%#" PRIx32 " packets=%" PRIu64
			" bytes=%" PRIu64 " full=%" PRIu64 " corrupt=%" PRIu64 " signals=%" PRIu64,
			r->role == UVMBUS_RING_PRODUCER ? "producer" : "consumer", st.data_size,
			st.write_index, st.read_index, st.priv_index, st.readable, st.writable,
			st.interrupt_mask, st.pending_send_sz, st.feature_bits, st.packets,
			st.bytes, st.full, st.corrupt, st.signals);
}
