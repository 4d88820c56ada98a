/* Test fixture: one ring's memory (header page + data area) with a
 * producer and a consumer handle attached to it, as two sides would be. */
#ifndef TEST_RING_FIXTURE_H
#define TEST_RING_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include <uvmbus/ring.h>

#define FIX_HDR 4096u

struct ring_fix {
	uint8_t *mem;
	size_t dsize;
	struct vmbus_ring_hdr *hdr;
	uint8_t *data;
	struct uvmbus_ring *prod;
	struct uvmbus_ring *cons;
};

/* Lay out a ring of `dsize` data bytes whose indices both start at `start`
 * (empty), then attach both roles. Returns 0 or the attach error. */
static inline int ring_fix_init(struct ring_fix *f, size_t dsize, uint32_t start)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->dsize = dsize;
	f->mem = aligned_alloc(4096, FIX_HDR + ((dsize + 4095) & ~(size_t)4095));
	if (!f->mem)
		return -12;
	memset(f->mem, 0xee, FIX_HDR + dsize); /* stale bytes: padding must be zeroed */
	memset(f->mem, 0, FIX_HDR);
	f->hdr = (struct vmbus_ring_hdr *)f->mem;
	f->data = f->mem + FIX_HDR;
	f->hdr->write_index = start;
	f->hdr->read_index = start;
	f->hdr->feature_bits = VMBUS_RING_FEAT_PENDING_SEND_SZ;
	rc = uvmbus_ring_attach(&f->prod, f->mem, FIX_HDR + dsize, FIX_HDR, UVMBUS_RING_PRODUCER);
	if (rc)
		return rc;
	return uvmbus_ring_attach(&f->cons, f->mem, FIX_HDR + dsize, FIX_HDR, UVMBUS_RING_CONSUMER);
}

static inline void ring_fix_fini(struct ring_fix *f)
{
	uvmbus_ring_detach(f->prod);
	uvmbus_ring_detach(f->cons);
	free(f->mem);
	memset(f, 0, sizeof(*f));
}

#endif
