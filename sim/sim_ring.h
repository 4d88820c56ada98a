/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The host's side of a VMbus ring, written from docs/WIRE.md section 1 and
 * independently of uvmbus/ring.c, so that one misunderstanding cannot pass
 * both sides. Deliberately plain: no caching, every index re-read.
 */
#ifndef SIM_RING_H
#define SIM_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hring {
	volatile uint32_t *w, *r, *mask, *pending, *features; /* header fields */
	uint8_t *data;
	uint32_t size; /* data area bytes */
};

void hring_init(struct hring *h, void *base, size_t total, size_t header);
/* Bytes between the indices: readable by the consumer. */
uint32_t hring_used(const struct hring *h);

/* Consumer (the guest's TX). Copy the next packet (descriptor..padding)
 * into buf: 1 = got one, 0 = empty, -1 = corrupt ring, -2 = buf too small
 * (*len = needed). Does not publish; hring_consume() does. */
int hring_peek(const struct hring *h, uint32_t at, void *buf, uint32_t cap, uint32_t *len);
/* Publish the read index to `to`; returns true when the producer waited
 * for room and now has it (the pending_send_sz rule). */
bool hring_consume(struct hring *h, uint32_t to, uint32_t read_bytes);

/* Producer, in batches: packets staged at a private write position and
 * published with one index store (the null host's way, for the normal
 * host's completions). */
struct hring_batch {
	uint32_t w0, w; /* the write index before the batch; after the staged packets */
	uint32_t r;	/* the consumer's read index as last loaded */
	bool bad;	/* an index out of range: nothing can be written */
};
void hring_batch_begin(struct hring *h, struct hring_batch *b);
/* Stage one packet of n bytes (multiple of 8) plus trailer: 0, or -1 when
 * there is no room (the read index is re-loaded once before saying so) or
 * the indices are bad. */
int hring_batch_put(struct hring *h, struct hring_batch *b, const void *pkt, uint32_t n);
/* Publish what was staged (one release store, one full fence): true when
 * the consumer had read everything before the batch (empty -> non-empty:
 * the interrupt rule). False when nothing was staged. */
bool hring_batch_publish(struct hring *h, struct hring_batch *b);

/* Raw copies at a data-area offset (at < size, n <= size), wrapping at the
 * end: for a host that walks and fills the rings itself (the null host). */
void hring_get(const struct hring *h, uint32_t at, void *dst, uint32_t n);
void hring_put(struct hring *h, uint32_t at, const void *src, uint32_t n);

#endif
