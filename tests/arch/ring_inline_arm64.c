// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* arch_barriers: the ring's inline fast paths (<uvmbus/ring.h>) compiled
 * as libazblob compiles them, one function each, for the object code
 * check: they read only the handle's cached indices and the data area,
 * so they hold no barrier and no access to the shared header; what needs
 * an ordered load falls to the out-of-line functions (ring.c, checked):
 * the read's reload of an empty cache is a call to uvmbus_ring_reload. */
#include <uvmbus/ring.h>

__attribute__((noinline)) int fast_reserve(struct uvmbus_ring *r, size_t len,
					   struct uvmbus_ring_span *s)
{
	return uvmbus_ring_reserve_inline(r, len, s);
}

__attribute__((noinline)) int fast_span_write(const struct uvmbus_ring_span *s, size_t off,
					      const void *src, size_t n)
{
	return uvmbus_ring_span_write_inline(s, off, src, n);
}

__attribute__((noinline)) void fast_stage(struct uvmbus_ring *r, const struct uvmbus_ring_span *s)
{
	uvmbus_ring_stage_inline(r, s);
}

__attribute__((noinline)) int fast_read(struct uvmbus_ring *r, struct vmbus_pkt_desc *d, void *buf,
					size_t *plen)
{
	return uvmbus_ring_read_payload_inline(r, d, buf, 12, plen);
}
