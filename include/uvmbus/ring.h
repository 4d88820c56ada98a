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

/*
 * Human-readable one-line dump of the state into `buf` (always
 * NUL-terminated when cap > 0). Returns the length snprintf would give.
 */
UVMBUS_API int uvmbus_ring_dump(const struct uvmbus_ring *r, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* UVMBUS_RING_H */
