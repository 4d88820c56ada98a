// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Host side of a ring (see sim_ring.h for why it is separate). */
#include <stdatomic.h>
#include <string.h>

#include "sim_ring.h"

/* The other side's index: acquire (its bytes before its index). */
static uint32_t load_acq(volatile uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Our index: release (our bytes before our index). */
static void store_rel(volatile uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

void hring_init(struct hring *h, void *base, size_t total, size_t header)
{
	uint8_t *b = base;

	h->w = (volatile uint32_t *)(b + 0);
	h->r = (volatile uint32_t *)(b + 4);
	h->mask = (volatile uint32_t *)(b + 8);
	h->pending = (volatile uint32_t *)(b + 12);
	h->features = (volatile uint32_t *)(b + 64);
	h->data = b + header;
	h->size = (uint32_t)(total - header);
}

uint32_t hring_used(const struct hring *h)
{
	uint32_t w = load_acq(h->w), r = load_acq(h->r);

	if (w >= h->size || r >= h->size)
		return 0;
	return w >= r ? w - r : h->size - r + w;
}

/* Copies in at most two pieces: up to the end of the data area, then from
 * its start (at < size and n <= size always hold here); one memcpy when it
 * does not wrap, the common case. */
static void copy_out(const struct hring *h, uint32_t at, void *dst, uint32_t n)
{
	uint32_t first = h->size - at;

	if (n <= first) {
		memcpy(dst, h->data + at, n);
		return;
	}
	memcpy(dst, h->data + at, first);
	memcpy((uint8_t *)dst + first, h->data, n - first);
}

static void copy_in(struct hring *h, uint32_t at, const void *src, uint32_t n)
{
	uint32_t first = h->size - at;

	if (n <= first) {
		memcpy(h->data + at, src, n);
		return;
	}
	memcpy(h->data + at, src, first);
	memcpy(h->data, (const uint8_t *)src + first, n - first);
}

int hring_peek(const struct hring *h, uint32_t at, void *buf, uint32_t cap, uint32_t *len)
{
	uint32_t w = load_acq(h->w), avail;
	uint16_t hdr[4];

	if (w >= h->size || (w & 7) || at >= h->size || (at & 7))
		return -1;
	avail = w >= at ? w - at : h->size - at + w;
	if (avail == 0)
		return 0;
	if (avail < 24)
		return -1;
	/* type, offset8, len8, flags: at is 8-aligned and the data area a
	 * multiple of 8 (whole pages), so these 8 bytes never wrap */
	memcpy(hdr, h->data + at, 8);
	if (hdr[1] < 2 || hdr[1] > hdr[2] || (uint32_t)hdr[2] * 8 + 8 > avail)
		return -1;
	*len = (uint32_t)hdr[2] * 8;
	if (*len > cap)
		return -2;
	memcpy(buf, hdr, 8); /* the bytes we checked, not a second read */
	copy_out(h, (at + 8) % h->size, (uint8_t *)buf + 8, *len - 8);
	return 1;
}

bool hring_consume(struct hring *h, uint32_t to, uint32_t read_bytes)
{
	uint32_t pending, w, free_now;

	store_rel(h->r, to);
	/* store->load: our read index before the guest's pending_send_sz
	 * (the guest stores it, fences and re-checks the room). An atomic
	 * load: the guest writes it concurrently (a plain read is a data race
	 * in C11). */
	atomic_thread_fence(memory_order_seq_cst);
	pending = __atomic_load_n(h->pending, __ATOMIC_RELAXED);
	if (!pending)
		return false;
	w = load_acq(h->w);
	free_now = w >= to ? h->size - (w - to) : to - w;
	return free_now > pending && (uint64_t)free_now <= (uint64_t)pending + read_bytes;
}

void hring_batch_begin(struct hring *h, struct hring_batch *b)
{
	b->w0 = b->w = load_acq(h->w);
	b->r = load_acq(h->r);
	b->bad = b->w >= h->size || b->r >= h->size || (b->w & 7) || (b->r & 7);
}

static uint32_t batch_room(const struct hring *h, const struct hring_batch *b)
{
	return b->w >= b->r ? h->size - (b->w - b->r) : b->r - b->w;
}

int hring_batch_put(struct hring *h, struct hring_batch *b, const void *pkt, uint32_t n)
{
	uint64_t trailer = (uint64_t)b->w << 32;

	if (b->bad)
		return -1;
	if (batch_room(h, b) <= n + 8) { /* never full: w == r means empty */
		uint32_t r = load_acq(h->r);

		if (r >= h->size || (r & 7)) {
			b->bad = true;
			return -1;
		}
		b->r = r;
		if (batch_room(h, b) <= n + 8)
			return -1;
	}
	if (h->size - b->w >= n + 8) { /* no wrap: the common case */
		memcpy(h->data + b->w, pkt, n);
		memcpy(h->data + b->w + n, &trailer, 8);
	} else {
		copy_in(h, b->w, pkt, n);
		copy_in(h, (b->w + n) % h->size, &trailer, 8);
	}
	b->w = (b->w + n + 8) % h->size;
	return 0;
}

bool hring_batch_publish(struct hring *h, struct hring_batch *b)
{
	if (b->w == b->w0)
		return false;
	store_rel(h->w, b->w);
	atomic_thread_fence(memory_order_seq_cst);
	return load_acq(h->r) == b->w0;
}

void hring_get(const struct hring *h, uint32_t at, void *dst, uint32_t n)
{
	copy_out(h, at, dst, n);
}

void hring_put(struct hring *h, uint32_t at, const void *src, uint32_t n)
{
	copy_in(h, at, src, n);
}
