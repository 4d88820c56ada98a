// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * pfn tables and GPA ranges: pure arithmetic. A 32 MiB range on 2 MiB
 * pages reads 16 base pfns and emits 8192 consecutive runs of them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem_internal.h"

int pfn_table_alloc(struct pfn_table *t, uintptr_t va, size_t len, unsigned shift)
{
	uintptr_t gran = (uintptr_t)1 << shift;

	t->shift = shift;
	t->table_va = va & ~(gran - 1);
	t->nbase = (va + len - t->table_va + gran - 1) >> shift;
	t->base = calloc(t->nbase ? t->nbase : 1, sizeof(*t->base));
	return t->base ? 0 : -ENOMEM;
}

void pfn_table_from_flat(struct pfn_table *t, uintptr_t va, uint64_t *flat, size_t n)
{
	const size_t per = 1u << (SHIFT_2M - SHIFT_4K);
	uintptr_t page_va = va & ~(uintptr_t)(PAGE_4K - 1);

	t->table_va = page_va;
	t->shift = SHIFT_4K;
	t->nbase = n;
	t->base = flat;
	/* 2 MiB granules: aligned start, whole granules, each contiguous. */
	if (page_va & ((1u << SHIFT_2M) - 1) || n % per)
		return;
	for (size_t g = 0; g < n / per; g++)
		for (size_t i = 0; i < per; i++)
			if (flat[g * per + i] != flat[g * per] + i)
				return;
	for (size_t g = 0; g < n / per; g++)
		flat[g] = flat[g * per];
	t->shift = SHIFT_2M;
	t->nbase = n / per;
	uint64_t *shrunk = realloc(flat, t->nbase * sizeof(*flat));

	t->base = shrunk ? shrunk : flat;
}

void pfn_table_free(struct pfn_table *t)
{
	free(t->base);
	free(t->flat_own);
	memset(t, 0, sizeof(*t));
}

void pfn_table_flatten(struct pfn_table *t, uintptr_t va, size_t len)
{
	uintptr_t x = (va & ~(uintptr_t)(PAGE_4K - 1)) - t->table_va;
	uintptr_t gmask = ((uintptr_t)1 << t->shift) - 1;
	size_t n = len ? ((va + len - 1) >> SHIFT_4K) - (va >> SHIFT_4K) + 1 : 0;
	uint64_t *f;

	t->flat = NULL;
	if (!n || !t->base)
		return;
	if (t->shift == SHIFT_4K) {
		t->flat = t->base + (x >> SHIFT_4K);
		return;
	}
	if (n > PFN_FLAT_MAX_PAGES || !(f = malloc(n * sizeof(*f))))
		return;
	for (size_t i = 0; i < n; i++, x += PAGE_4K)
		f[i] = t->base[x >> t->shift] + ((x & gmask) >> SHIFT_4K);
	t->flat = t->flat_own = f;
}

static int range_ok(const struct uvmbus_region *r, size_t off, size_t len)
{
	return len && off <= r->len && len <= r->len - off;
}

uint32_t uvmbus_region_npfn(const struct uvmbus_region *r, size_t off, size_t len)
{
	uintptr_t a;

	if (!range_ok(r, off, len))
		return 0;
	a = (uintptr_t)r->addr + off;
	return (uint32_t)(((a + len - 1) >> SHIFT_4K) - (a >> SHIFT_4K) + 1);
}

/* The flat table's entry for the page holding byte off (range checked). */
static inline const uint64_t *flat_at(const struct uvmbus_region *r, size_t off)
{
	return r->pfns.flat +
	       ((((uintptr_t)r->addr + off) >> SHIFT_4K) - ((uintptr_t)r->addr >> SHIFT_4K));
}

/*
 * Emit the pfns of [off, off + len) run by run: each granule contributes
 * consecutive pfns starting at base + page index. `emit` gets (first pfn,
 * count, index of the first pfn in the output).
 */
#define FOR_EACH_RUN(r, off, len, FIRST, COUNT, OUT_IDX, BODY)                                     \
	do {                                                                                       \
		const struct pfn_table *t_ = &(r)->pfns;                                           \
		uintptr_t x_ = (uintptr_t)(r)->addr + (off)-t_->table_va;                          \
		uintptr_t end_ = x_ + (len);                                                       \
		uintptr_t gmask_ = ((uintptr_t)1 << t_->shift) - 1;                                \
		size_t OUT_IDX = 0;                                                                \
		x_ &= ~(uintptr_t)(PAGE_4K - 1);                                                   \
		while (x_ < end_) {                                                                \
			uintptr_t gend_ = (x_ | gmask_) + 1;                                       \
			uintptr_t stop_ = gend_ < end_ ? gend_ : end_;                             \
			uint64_t FIRST = t_->base[x_ >> t_->shift] + ((x_ & gmask_) >> SHIFT_4K);  \
			size_t COUNT = (size_t)((stop_ - x_ + PAGE_4K - 1) >> SHIFT_4K);           \
			BODY;                                                                      \
			OUT_IDX += COUNT;                                                          \
			x_ = gend_;                                                                \
		}                                                                                  \
	} while (0)

int uvmbus_region_pfns(const struct uvmbus_region *r, size_t off, size_t len, uint64_t *pfn,
		       uint32_t *page_off)
{
	if (!range_ok(r, off, len))
		return -EINVAL;
	if (page_off)
		*page_off = (uint32_t)(((uintptr_t)r->addr + off) & (PAGE_4K - 1));
	if (r->pfns.flat) {
		memcpy(pfn, flat_at(r, off), 8u * (size_t)uvmbus_region_npfn(r, off, len));
		return 0;
	}
	FOR_EACH_RUN(r, off, len, first, count, out, {
		for (size_t i = 0; i < count; i++)
			pfn[out + i] = first + i;
	});
	return 0;
}

int uvmbus_region_pfns_to_span(const struct uvmbus_region *r, size_t off, size_t len,
			       const struct uvmbus_ring_span *s, size_t span_off)
{
	uint32_t n = uvmbus_region_npfn(r, off, len);

	if (!n || span_off > s->len || (size_t)n * 8u > s->len - span_off || (span_off & 7u))
		return -EINVAL;
	if (r->pfns.flat) {
		/* before the wrap, then after it (n[0] is 8-aligned) */
		const uint64_t *f = flat_at(r, off);
		size_t bytes = 8u * (size_t)n;
		size_t k = span_off < s->n[0] ? s->n[0] - span_off : 0;

		if (k > bytes)
			k = bytes;
		if (k)
			memcpy(s->p[0] + span_off, f, k);
		if (bytes > k)
			memcpy(s->p[1] + (span_off + k - s->n[0]), (const uint8_t *)f + k,
			       bytes - k);
		return 0;
	}
	/* Pieces of the span: before and after the wrap (both 8-aligned, as
	 * ring positions and span offsets are). */
	FOR_EACH_RUN(r, off, len, first, count, out, {
		for (size_t i = 0; i < count; i++) {
			size_t at = span_off + 8u * (out + i);
			uint64_t v = first + i;
			uint8_t *dst = at < s->n[0] ? s->p[0] + at : s->p[1] + (at - s->n[0]);

			memcpy(dst, &v, sizeof(v));
		}
	});
	return 0;
}
