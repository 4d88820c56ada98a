/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Memory layer internals shared by mem*.c and the pinning backends. */
#ifndef UVMBUS_MEM_INTERNAL_H
#define UVMBUS_MEM_INTERNAL_H

#include <uvmbus/mem.h>

#include "log.h"

#define PAGE_4K	 4096u
#define SHIFT_4K 12u
#define SHIFT_2M 21u

/*
 * The Hyper-V pfn (always 4 KiB) of the byte at address va, given the
 * kernel pfn of the kernel page holding it and the kernel page shift (12,
 * 14 or 16: a 64 KiB page holds 16 Hyper-V pages). Linux's page_to_hvpfn()
 * plus the offset; kstub/kstub_pfn.h does the same in the module.
 */
static inline uint64_t hvpfn_of(uint64_t kpfn, unsigned page_shift, uintptr_t va)
{
	return kpfn << (page_shift - SHIFT_4K) |
	       ((va >> SHIFT_4K) & ((1ull << (page_shift - SHIFT_4K)) - 1));
}

/*
 * pfn table: the region's memory seen from `table_va` (its start rounded
 * down to a granule) in granules of 1 << shift bytes (2 MiB or 4 KiB);
 * base[g] is the pfn of the first 4 KiB page of granule g and the granule
 * is physically contiguous, so pfn(x) = base[x >> shift] + ((x & (granule
 * - 1)) >> 12) for a byte offset x from table_va.
 */
struct pfn_table {
	uintptr_t table_va;
	unsigned shift;
	size_t nbase;
	uint64_t *base;
	/* One pfn per 4 KiB page from the page holding the region's first
	 * byte (pfn_table_flatten): a range's pfn list is one memcpy. NULL:
	 * generated run by run from base. Points into base when the table is
	 * already per page (shift 12), else at flat_own (2 MiB granules
	 * expanded once, at pin time: 8 bytes per 4 KiB page). */
	const uint64_t *flat;
	uint64_t *flat_own;
};

struct uvmbus_region {
	struct uvmbus_mem *mem;
	struct uvmbus_region *next;
	uint8_t *addr;
	size_t len;
	size_t page_size; /* backing pages */
	int node;
	unsigned refs;
	unsigned pool_users;
	bool owned;	 /* we mapped it (munmap on release) */
	size_t map_len;	 /* owned mapping length */
	uint32_t pin_id; /* backend's handle for the pin */
	struct pfn_table pfns;
};

struct pin_ops {
	const char *name;
	/* Set up m->backend; `o` is the caller's options (strings valid only
	 * during the call). */
	int (*open)(struct uvmbus_mem *m, const struct uvmbus_mem_opts *o);
	/* Map `len` bytes (a multiple of page_size) for a new region; NULL:
	 * anonymous memory from mem_alloc.c. */
	int (*map)(struct uvmbus_mem *m, size_t len, size_t page_size, void **addr);
	void (*unmap)(struct uvmbus_mem *m, void *addr, size_t len);
	/* Pin [r->addr, +r->len) and fill r->pfns and r->pin_id. */
	int (*pin)(struct uvmbus_mem *m, struct uvmbus_region *r);
	void (*unpin)(struct uvmbus_mem *m, struct uvmbus_region *r);
	/* keep: regions left pinned and mapped (uvmbus_mem_abandon): release
	 * the backend without unmapping or unpinning anything. */
	void (*close)(struct uvmbus_mem *m, bool keep);
};

struct uvmbus_mem {
	struct uvmbus_mem_opts opts;
	const struct pin_ops *ops;
	void *backend; /* backend state */
	struct uvmbus_region *regions;
	unsigned pools;
	bool warned_fallback;
	struct uvmbus_mem_stats st;
};

extern const struct pin_ops uvmbus_pin_kstub_ops;
extern const struct pin_ops uvmbus_pin_pagemap_ops;
extern const struct pin_ops uvmbus_pin_memfd_ops;

/* mem_pfn.c: build tables (pure). */
int pfn_table_alloc(struct pfn_table *t, uintptr_t va, size_t len, unsigned shift);
/* From one pfn per 4 KiB page of [va & ~4095, ...): compress to 2 MiB
 * granules when the layout allows, else keep the flat table. Takes
 * ownership of `flat` (length n). */
void pfn_table_from_flat(struct pfn_table *t, uintptr_t va, uint64_t *flat, size_t n);
void pfn_table_free(struct pfn_table *t);
/* Set t->flat for the region [va, va + len) the table describes, once it
 * is complete: base itself when per page, else an expansion of at most
 * PFN_FLAT_MAX_PAGES pfns (larger, or when malloc fails: no flat table,
 * the pfns are generated from base as before). */
void pfn_table_flatten(struct pfn_table *t, uintptr_t va, size_t len);
#define PFN_FLAT_MAX_PAGES ((size_t)1 << 20) /* 4 GiB of 2 MiB granules: an 8 MiB table */

/* mem_alloc.c: anonymous hugepage / small-page memory on a node. */
int mem_map_anon(struct uvmbus_mem *m, size_t len, size_t *page_size, void **addr, size_t *map_len);
void mem_unmap_anon(void *addr, size_t len);

#endif
