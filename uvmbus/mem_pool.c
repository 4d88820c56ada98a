// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Fixed-size buffer pool over one region: a stack of free indices gives
 * O(1) get and put with no lock (one owner thread). Each buffer knows its
 * region and offset, so its GPA range is arithmetic on the region's table.
 * A put of a buffer that is already free is caught (in every build type),
 * counted and refused, never pushed twice.
 */
#include <errno.h>
#include <stdlib.h>

#include "mem_internal.h"

struct uvmbus_pool {
	struct uvmbus_mem *mem;
	struct uvmbus_region *region;
	struct uvmbus_buf *bufs;
	uint32_t *free_stack;
	uint8_t *in_use;
	uint32_t count;
	uint32_t nfree;
};

int uvmbus_pool_create(struct uvmbus_mem *m, size_t size, uint32_t count, struct uvmbus_pool **out)
{
	struct uvmbus_pool *p;
	size_t stride;
	int rc;

	if (!m || !out || !size || !count || size > ((size_t)1 << 32)) {
		if (m)
			LOG_ERR(&m->opts.log, "mem: pool of %u x %zu bytes: bad size or count",
				count, size);
		return -EINVAL;
	}
	stride = (size + 63) & ~(size_t)63;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->bufs = calloc(count, sizeof(*p->bufs));
	p->free_stack = calloc(count, sizeof(*p->free_stack));
	p->in_use = calloc(count, 1);
	if (!p->bufs || !p->free_stack || !p->in_use) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = uvmbus_mem_alloc(m, stride * count, &p->region);
	if (rc)
		goto fail;
	p->mem = m;
	p->count = count;
	for (uint32_t i = 0; i < count; i++) {
		struct uvmbus_buf *b = &p->bufs[i];

		b->region = p->region;
		b->region_off = (size_t)i * stride;
		b->addr = (uint8_t *)uvmbus_region_addr(p->region) + b->region_off;
		b->len = size;
		b->index = i;
		/* Hand out low indices first: they share the first hugepages. */
		p->free_stack[count - 1 - i] = i;
	}
	p->nfree = count;
	p->region->pool_users++;
	m->pools++;
	*out = p;
	return 0;
fail:
	free(p->bufs);
	free(p->free_stack);
	free(p->in_use);
	free(p);
	return rc;
}

/* The pool's bookkeeping (not its region, which the caller dealt with). */
static void pool_free(struct uvmbus_pool *p)
{
	p->mem->pools--;
	free(p->bufs);
	free(p->free_stack);
	free(p->in_use);
	free(p);
}

int uvmbus_pool_destroy(struct uvmbus_pool *p)
{
	int rc;

	if (!p)
		return 0;
	if (p->nfree != p->count) {
		LOG_ERR(&p->mem->opts.log, "mem: pool destroy with %u buffer(s) still out",
			p->count - p->nfree);
		return -EBUSY;
	}
	p->region->pool_users--;
	rc = uvmbus_region_release(p->region);
	if (rc) {
		p->region->pool_users++;
		return rc;
	}
	pool_free(p);
	return 0;
}

void uvmbus_pool_abandon(struct uvmbus_pool *p)
{
	if (!p)
		return;
	p->region->pool_users--;
	pool_free(p);
}

struct uvmbus_buf *uvmbus_pool_get(struct uvmbus_pool *p)
{
	uint32_t i;

	if (!p->nfree)
		return NULL;
	i = p->free_stack[--p->nfree];
	p->in_use[i] = 1;
	return &p->bufs[i];
}

int uvmbus_pool_put(struct uvmbus_pool *p, struct uvmbus_buf *b)
{
	if (b < p->bufs || b >= p->bufs + p->count || b != &p->bufs[b->index])
		return -EINVAL;
	if (!p->in_use[b->index]) {
		p->mem->st.double_puts++;
		return -EALREADY;
	}
	p->in_use[b->index] = 0;
	p->free_stack[p->nfree++] = b->index;
	return 0;
}

uint32_t uvmbus_pool_available(const struct uvmbus_pool *p)
{
	return p->nfree;
}
