/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * One VMbus ring (one direction), in either role:
 *  - producer: reserve room, fill it, commit (publishes the write index);
 *  - consumer: peek / read packets at a private read position, then publish
 *    the read index once per batch (uvmbus_ring_read_commit).
 *
 * The ring code makes no system call, takes no lock and allocates nothing
 * after uvmbus_ring_attach(). It decides *whether* the other side must be
 * signalled (docs/WIRE.md section 1) and returns that decision; the device layer
 * does the signalling.
 *
 * Threading: one producer and one consumer may use the two ends of the same
 * ring memory concurrently (through two handles). One handle is used by one
 * thread at a time.
 *
 * Everything read from the shared memory is untrusted: indices and
 * descriptors are validated, corruption returns -EIO and is counted.
 */
#ifndef UVMBUS_RING_H
#define UVMBUS_RING_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <uvmbus/common.h>
#include <uvmbus/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uvmbus_ring;

enum uvmbus_ring_role {
	UVMBUS_RING_PRODUCER = 1,
	UVMBUS_RING_CONSUMER = 2,
};

/*
 * Attach to one ring at `base`: `ring_bytes` in all, of which the first
 * `hdr_bytes` (the system page size, 4096 on x86-64) are the header.
 * The data area size must be a non-zero multiple of 8 and fit a u32.
 * The current indices are taken from the header and validated.
 * Returns 0 or -EINVAL (bad geometry) / -EIO (indices out of range) /
 * -ENOMEM.
 */
UVMBUS_API int uvmbus_ring_attach(struct uvmbus_ring **out, void *base, size_t ring_bytes,
				  size_t hdr_bytes, enum uvmbus_ring_role role);
UVMBUS_API void uvmbus_ring_detach(struct uvmbus_ring *r);

/* Bytes of the data area. */
UVMBUS_API uint32_t uvmbus_ring_data_size(const struct uvmbus_ring *r);
/*
 * Largest packet (descriptor to padding, without trailer) one write can
 * carry: the never-full rule leaves data_size - 8 - 8 for packet + trailer,
 * capped by the len8 field width.
 */
UVMBUS_API uint32_t uvmbus_ring_max_packet(const struct uvmbus_ring *r);

/* ---------------- producer ---------------- */

/*
 * A reserved, not yet published packet slot: up to two pieces because the
 * packet may wrap around the end of the data area. `len` is the packet
 * length padded to 8 bytes.
 */
struct uvmbus_ring_span {
	uint8_t *p[2];
	uint32_t n[2];
	uint32_t len;
	uint32_t start; /* write index at which the packet starts */
};

/*
 * Reserve room for a packet of `len` bytes (padded to 8 by the ring) plus
 * its trailer. Returns 0, -EAGAIN when there is not enough room (the ring
 * is never allowed to become full), -EMSGSIZE when `len` can never fit,
 * -EIO when the other side's index is corrupt. Only one reservation may be
 * outstanding; nothing is visible to the consumer before commit.
 */
UVMBUS_API int uvmbus_ring_reserve(struct uvmbus_ring *r, size_t len, struct uvmbus_ring_span *s);

/* Copy `n` bytes to offset `off` of a reserved span (handles the wrap).
 * Returns 0, or -EINVAL (nothing written) when the bytes fall outside it. */
UVMBUS_API int uvmbus_ring_span_write(const struct uvmbus_ring_span *s, size_t off, const void *src,
				      size_t n);

/*
 * Write the trailer and publish the write index: uvmbus_ring_stage() then
 * uvmbus_ring_publish(). `*signal` (may be NULL) is set when the consumer
 * must be signalled: it had not masked interrupts and the ring was empty
 * before this packet.
 */
UVMBUS_API void uvmbus_ring_commit(struct uvmbus_ring *r, const struct uvmbus_ring_span *s,
				   bool *signal);

/*
 * Producer batching: stage (trailer written, private position advanced,
 * nothing visible yet) several packets, then publish them with one index
 * store, one fence and one signal decision for the whole batch (signal iff
 * the consumer is unmasked and had caught up with the last publish).
 * A staged packet is invisible to the consumer until published.
 */
UVMBUS_API void uvmbus_ring_stage(struct uvmbus_ring *r, const struct uvmbus_ring_span *s);
UVMBUS_API void uvmbus_ring_publish(struct uvmbus_ring *r, bool *signal);

/* Gather write: reserve, copy the pieces back to back, commit. */
UVMBUS_API int uvmbus_ring_writev(struct uvmbus_ring *r, const struct iovec *iov,
				  unsigned int iovcnt, bool *signal);

/*
 * Producer waiting for room: ask the consumer to signal once `bytes` are
 * free (0 clears the request). Only meaningful when the consumer advertises
 * VMBUS_RING_FEAT_PENDING_SEND_SZ.
 */
UVMBUS_API void uvmbus_ring_set_pending_send(struct uvmbus_ring *r, uint32_t bytes);

/* ---------------- consumer ---------------- */

/*
 * Copy the next packet's descriptor out and validate it, without moving.
 * Returns 0, -EAGAIN when the ring is empty, -EIO when the ring is corrupt
 * (bad write index, or a descriptor with offset8 < 2, offset8 > len8 or a
 * length beyond the readable bytes).
 */
UVMBUS_API int uvmbus_ring_peek(struct uvmbus_ring *r, struct vmbus_pkt_desc *desc);

/*
 * Copy the next packet (descriptor included, len8 * 8 bytes) into `buf`
 * and advance the private read position; the read index is published only
 * by uvmbus_ring_read_commit(). The descriptor is read once: the copy in
 * `buf` is what was validated. `*len` gets the packet length.
 * Returns 0, -EAGAIN (empty), -EIO (corrupt), or -EMSGSIZE when `cap` is too
 * small (nothing consumed, `*len` says how much is needed).
 */
UVMBUS_API int uvmbus_ring_read(struct uvmbus_ring *r, void *buf, size_t cap, size_t *len);

/*
 * Consume the next packet, copying out only its validated descriptor and
 * the first `cap` bytes (fewer when the payload is shorter) of its in-band
 * payload, which starts at offset8 * 8 whatever the packet type (Linux
 * hv_pkt_data()). `*payload_len` (may be NULL) gets the payload's full
 * length, len8 * 8 - offset8 * 8 (Linux hv_pkt_datalen()). A packet of any
 * length is consumed; nothing past `cap` is written. Returns 0, -EAGAIN
 * (empty) or -EIO (corrupt), as uvmbus_ring_read().
 */
UVMBUS_API int uvmbus_ring_read_payload(struct uvmbus_ring *r, struct vmbus_pkt_desc *desc,
					void *buf, size_t cap, size_t *payload_len);

/* Skip the next packet without copying it (after a peek). Same returns. */
UVMBUS_API int uvmbus_ring_skip(struct uvmbus_ring *r);

/*
 * Publish the private read position (once per batch). `*signal` (may be
 * NULL) is set when the producer was blocked waiting for room
 * (pending_send_sz rule of docs/WIRE.md section 1). Returns the bytes released.
 */
UVMBUS_API uint32_t uvmbus_ring_read_commit(struct uvmbus_ring *r, bool *signal);

/*
 * Set this consumer's interrupt_mask (1: "I am polling, don't interrupt
 * me"; 0: "interrupt me"). Returns true when data is readable after the
 * store, so that a caller about to sleep re-checks instead of losing a
 * wake-up.
 */
UVMBUS_API bool uvmbus_ring_set_interrupt_mask(struct uvmbus_ring *r, bool masked);

/* ---------------- either role ---------------- */

/*
 * Reload the other side's index into the handle's cache (the consumer's
 * write index, the producer's read index), with acquire ordering, and
 * validate it. Returns 0, or -EIO (counted as corrupt) for an index out of
 * range or not 8-aligned. The inline fast paths call it when the cached
 * index says empty; the out-of-line functions do the same on their own.
 */
UVMBUS_API int uvmbus_ring_reload(struct uvmbus_ring *r);

/* Bytes the consumer can read / the producer could write, as of now. */
UVMBUS_API uint32_t uvmbus_ring_readable(const struct uvmbus_ring *r);
UVMBUS_API uint32_t uvmbus_ring_writable(const struct uvmbus_ring *r);

struct uvmbus_ring_state {
	uint32_t data_size;
	uint32_t write_index; /* as in shared memory */
	uint32_t read_index;  /* as in shared memory */
	uint32_t priv_index;  /* this handle's unpublished position */
	uint32_t interrupt_mask;
	uint32_t pending_send_sz;
	uint32_t feature_bits;
	uint32_t readable;
	uint32_t writable;
	uint64_t packets; /* written (producer) or read (consumer) by this handle */
	uint64_t bytes;	  /* same, including trailers */
	uint64_t full;	  /* reservations refused with -EAGAIN */
	uint64_t corrupt; /* -EIO returns */
	uint64_t signals; /* times a signal decision said "yes" */
};

UVMBUS_API void uvmbus_ring_get_state(const struct uvmbus_ring *r, struct uvmbus_ring_state *st);

/* ---------------- inline fast paths ---------------- */

/*
 * The leading fields of struct uvmbus_ring, part of the ABI (as DPDK's
 * struct rte_ring is) so that the fast paths below can be inlined into
 * the caller: the handle's private copies only, never the shared header.
 * `other` is the other side's index as last loaded with acquire ordering
 * and validated by the out-of-line code, so every byte it covers (a
 * packet written, room freed) is visible: the fast paths need no barrier
 * and have none. Whenever the cached index does not show enough room or
 * data, or a packet would wrap, they call the out-of-line function, which
 * loads the index (acquire), validates and handles the wrap. The bytes
 * and the index updates are exactly those of the out-of-line functions.
 */
struct uvmbus_ring_hot {
	void *hdr_;
	uint8_t *data;
	uint32_t dsize;
	uint32_t role; /* enum uvmbus_ring_role */
	uint32_t priv, published, other;
	uint64_t packets, bytes;
};

static inline struct uvmbus_ring_hot *uvmbus_ring_hot_(struct uvmbus_ring *r)
{
	return (struct uvmbus_ring_hot *)(void *)r;
}

/* uvmbus_ring_reserve(), inline when the cached read index shows room
 * and the packet does not wrap. */
static inline int uvmbus_ring_reserve_inline(struct uvmbus_ring *r, size_t len,
					     struct uvmbus_ring_span *s)
{
	struct uvmbus_ring_hot *h = uvmbus_ring_hot_(r);
	uint32_t w = h->priv, rd = h->other;
	uint32_t room = w >= rd ? h->dsize - (w - rd) : rd - w;
	size_t padded = (len + 7u) & ~(size_t)7u;

	if (__builtin_expect(h->role == UVMBUS_RING_PRODUCER &&
				 len >= sizeof(struct vmbus_pkt_desc) && len <= VMBUS_PKT_MAX_LEN &&
				 padded + 2u * VMBUS_PKT_TRAILER_SIZE <= h->dsize &&
				 padded + VMBUS_PKT_TRAILER_SIZE < room && padded <= h->dsize - w,
			     1)) {
		s->p[0] = h->data + w;
		s->n[0] = (uint32_t)padded;
		s->p[1] = h->data;
		s->n[1] = 0;
		s->len = (uint32_t)padded;
		s->start = w;
		/* the padding zeroed before the caller writes (its last word) */
		__builtin_memset(s->p[0] + padded - 8u, 0, 8u);
		return 0;
	}
	return uvmbus_ring_reserve(r, len, s);
}

/* uvmbus_ring_span_write(), inline when the bytes fall in the span's first
 * piece (always, for a span from the inline reserve): a copy of a size the
 * caller usually knows, so a few moves instead of two calls. */
static inline int uvmbus_ring_span_write_inline(const struct uvmbus_ring_span *s, size_t off,
						const void *src, size_t n)
{
	if (__builtin_expect(off <= s->n[0] && n <= s->n[0] - off, 1)) {
		__builtin_memcpy(s->p[0] + off, src, n);
		return 0;
	}
	return uvmbus_ring_span_write(s, off, src, n);
}

/* uvmbus_ring_stage(), inline (it touches the ring's data area only). */
static inline void uvmbus_ring_stage_inline(struct uvmbus_ring *r, const struct uvmbus_ring_span *s)
{
	struct uvmbus_ring_hot *h = uvmbus_ring_hot_(r);
	uint32_t t = s->start + s->len;
	uint64_t trailer = (uint64_t)s->start << 32;

	if (t >= h->dsize)
		t -= h->dsize;
	__builtin_memcpy(h->data + t, &trailer, sizeof(trailer));
	t += VMBUS_PKT_TRAILER_SIZE;
	if (t >= h->dsize)
		t -= h->dsize;
	h->priv = t;
	h->packets++;
	h->bytes += s->len + VMBUS_PKT_TRAILER_SIZE;
}

/* uvmbus_ring_read_payload(), inline when the write index shows a whole
 * packet whose descriptor and copied payload do not wrap. When the cached
 * write index says empty (after every packet of a batch was read), it is
 * reloaded by uvmbus_ring_reload(), out of line: the acquire load and its
 * check are the out-of-line read's, only the call around them is saved.
 * The descriptor is read once and validated as uvmbus_ring_peek() does;
 * one that fails goes to the out-of-line function (which counts it). */
static inline int uvmbus_ring_read_payload_inline(struct uvmbus_ring *r,
						  struct vmbus_pkt_desc *desc, void *buf,
						  size_t cap, size_t *payload_len)
{
	struct uvmbus_ring_hot *h = uvmbus_ring_hot_(r);
	uint32_t w = h->other, rd = h->priv;
	struct vmbus_pkt_desc d;

	if (w == rd && h->role == UVMBUS_RING_CONSUMER) {
		int rc = uvmbus_ring_reload(r);

		if (rc)
			return rc;
		w = h->other;
		if (w == rd)
			return -EAGAIN;
	}
	if (__builtin_expect(
		h->role == UVMBUS_RING_CONSUMER && w != rd && h->dsize - rd >= sizeof(d), 1)) {
		uint64_t avail = w > rd ? w - rd : (uint64_t)h->dsize - (rd - w);
		uint64_t off, plen, n;

		__builtin_memcpy(&d, h->data + rd, sizeof(d));
		off = (uint64_t)d.offset8 * 8u;
		plen = (uint64_t)d.len8 * 8u - off;
		n = cap < plen ? cap : plen;
		if (__builtin_expect(d.offset8 >= 2 && d.offset8 <= d.len8 &&
					 (uint64_t)d.len8 * 8u + VMBUS_PKT_TRAILER_SIZE <= avail &&
					 rd + off + n <= h->dsize,
				     1)) {
			uint32_t next = rd + (uint32_t)d.len8 * 8u + VMBUS_PKT_TRAILER_SIZE;

			/* cap is the caller's constant: a fixed-size copy */
			if (__builtin_expect(cap <= plen, 1))
				__builtin_memcpy(buf, h->data + rd + off, cap);
			else if (n)
				__builtin_memcpy(buf, h->data + rd + off, n);
			*desc = d;
			if (payload_len)
				*payload_len = plen;
			h->priv = next >= h->dsize ? next - h->dsize : next;
			h->packets++;
			h->bytes += (uint32_t)d.len8 * 8u + VMBUS_PKT_TRAILER_SIZE;
			return 0;
		}
	}
	return uvmbus_ring_read_payload(r, desc, buf, cap, payload_len);
}

/*
 * Human-readable one-line dump of the state into `buf` (always
 * NUL-terminated when cap > 0). Returns the length snprintf would give.
 */
UVMBUS_API int uvmbus_ring_dump(const struct uvmbus_ring *r, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* UVMBUS_RING_H */
