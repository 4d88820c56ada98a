/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * DMA memory for VMbus requests: hugepage-backed regions on a chosen NUMA
 * node, pinned once, whose guest page numbers (pfns) are known from the
 * moment they exist. Building the pfn list of a request is arithmetic on
 * per-hugepage base pfns: no system call, no page-table walk.
 *
 * Objects:
 *  - uvmbus_mem: a memory context (pinning backend, NUMA node, log,
 *    statistics). One owner thread; not thread-safe.
 *  - uvmbus_region: pinned memory, allocated by the library or registered
 *    by the caller (io_uring-style registered buffers), with a reference
 *    count held by requests in flight.
 *  - uvmbus_pool: fixed-size buffers carved from regions, O(1) get/put.
 */
#ifndef UVMBUS_MEM_H
#define UVMBUS_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uvmbus/common.h>
#include <uvmbus/ring.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uvmbus_mem;
struct uvmbus_region;
struct uvmbus_pool;
struct uvmbus_simsock;

enum uvmbus_pin_backend {
	UVMBUS_PIN_AUTO = 0, /* kstub if its node exists, else a clear error */
	UVMBUS_PIN_KSTUB,    /* production: the uvmbus_kstub module pins long-term */
	UVMBUS_PIN_PAGEMAP,  /* root-only fallback: mlock + /proc/self/pagemap; unsafe */
	UVMBUS_PIN_MEMFD, /* a memfd arena (the emulator's guest RAM, a broker session's arena): pfn
			     = page offset */
};

#define UVMBUS_HUGEPAGE_SIZE (2u * 1024u * 1024u)
/* How long pinned memory outlives an unpin while the host may still write it
 * (kstub's default quarantine, checked against the module's ABI in
 * uvmbus/linux/pin_kstub.c): a client never waits longer than this for
 * a request's answer. */
#define UVMBUS_PIN_QUARANTINE_MS 330000u
#define UVMBUS_MEM_MAX_NODES	 64

struct uvmbus_mem_opts {
	enum uvmbus_pin_backend backend;
	/* NUMA node for allocations (the device's numa_node from sysfs is the
	 * right choice); -1: no placement (first touch decides). */
	int numa_node;
	/* Fall back to 4 KiB pages when no hugepage is free (one warning and a
	 * counter); false: fail with a message saying how to reserve them. */
	bool allow_small_pages;
	const char *kstub_path; /* NULL: /dev/uvmbus_kstub */
	/* UVMBUS_PIN_MEMFD: the arena memfd and the window of it this context
	 * may allocate from (bytes, 2 MiB-aligned). */
	int memfd;
	uint64_t memfd_offset;
	uint64_t memfd_size;
	/* UVMBUS_PIN_MEMFD under the emulator: its connection, whose memory
	 * table (uvmbus_simsock_mem_add) gives memory registered outside the
	 * window guest-physical addresses above guest RAM. NULL: such memory
	 * is refused (a broker session's arena). */
	struct uvmbus_simsock *memtable;
	struct uvmbus_log log;
};

/* Fill `o` with the defaults (AUTO backend, node -1, no small pages). */
UVMBUS_API void uvmbus_mem_opts_init(struct uvmbus_mem_opts *o);

/*
 * Open a memory context. Errors (each with a message through the log):
 * -ENODEV no backend can serve (AUTO without kstub), -ENOENT/-EACCES kstub
 * node missing or not accessible, -EPERM pagemap without CAP_SYS_ADMIN,
 * -EINVAL bad options.
 */
UVMBUS_API int uvmbus_mem_open(struct uvmbus_mem **out, const struct uvmbus_mem_opts *o);

/* Close: -EBUSY (nothing freed) while regions or pools remain. */
UVMBUS_API int uvmbus_mem_close(struct uvmbus_mem *m);
/*
 * Close the context, leaving every region it still has pinned and mapped
 * until the process exits, never reused: for memory a host may still
 * write (requests it never answered). Under kstub the module keeps the
 * pins in its quarantine after the file closes; the pagemap backend leaves
 * the pages locked; the memfd backend leaves its chunks claimed in guest
 * RAM's allocation table. Logged with the size. Returns the bytes left.
 */
UVMBUS_API uint64_t uvmbus_mem_abandon(struct uvmbus_mem *m);

/* Name of the backend in use ("kstub", "pagemap", "memfd"). */
UVMBUS_API const char *uvmbus_mem_backend_name(const struct uvmbus_mem *m);

/*
 * Allocate `len` bytes (rounded up to the page size) of pinned DMA memory:
 * 2 MiB hugepages on the context's node; 4 KiB pages only when allowed and
 * no hugepage is free. Errors: -ENOMEM (with the hugepage message), the
 * backend's pinning errors.
 */
UVMBUS_API int uvmbus_mem_alloc(struct uvmbus_mem *m, size_t len, struct uvmbus_region **out);

/*
 * Pin caller-owned memory [addr, addr + len) once (any alignment); any
 * sub-range can then be used in requests. The caller keeps ownership of the
 * memory and must not unmap it before uvmbus_region_release().
 */
UVMBUS_API int uvmbus_mem_register(struct uvmbus_mem *m, void *addr, size_t len,
				   struct uvmbus_region **out);

/*
 * Unpin and (for allocations) free. -EBUSY, nothing done, while references
 * are held (requests in flight) or a pool uses the region.
 */
UVMBUS_API int uvmbus_region_release(struct uvmbus_region *r);

UVMBUS_API void *uvmbus_region_addr(const struct uvmbus_region *r);
UVMBUS_API size_t uvmbus_region_len(const struct uvmbus_region *r);
/* Page size backing the region: 2 MiB or 4 KiB. */
UVMBUS_API size_t uvmbus_region_page_size(const struct uvmbus_region *r);
/* NUMA node the region was placed on, -1 if unplaced. */
UVMBUS_API int uvmbus_region_node(const struct uvmbus_region *r);

/* References held by requests in flight (no locking: one owner thread). */
UVMBUS_API void uvmbus_region_get(struct uvmbus_region *r);
UVMBUS_API void uvmbus_region_put(struct uvmbus_region *r);
UVMBUS_API unsigned uvmbus_region_refs(const struct uvmbus_region *r);

/*
 * Find the region holding [addr, addr + len), or NULL. Linear in the
 * number of regions: look it up once, not per request.
 */
UVMBUS_API struct uvmbus_region *uvmbus_mem_find(struct uvmbus_mem *m, const void *addr,
						 size_t len);

/* ---- GPA ranges: arithmetic on per-page base pfns ---- */

/* Hyper-V pages (4 KiB) spanned by [off, off + len) of a region. */
UVMBUS_API uint32_t uvmbus_region_npfn(const struct uvmbus_region *r, size_t off, size_t len);

/*
 * Write the pfns of [off, off + len) into pfn[0..npfn) and return 0; the
 * range starts *page_off bytes into its first page (may be NULL).
 * -EINVAL when the range is empty or outside the region.
 */
UVMBUS_API int uvmbus_region_pfns(const struct uvmbus_region *r, size_t off, size_t len,
				  uint64_t *pfn, uint32_t *page_off);

/*
 * The same, written as little-endian u64s straight into a ring
 * reservation at byte `span_off` (handles the wrap): the request path
 * writes pfns once, into the ring, from the base table.
 */
UVMBUS_API int uvmbus_region_pfns_to_span(const struct uvmbus_region *r, size_t off, size_t len,
					  const struct uvmbus_ring_span *s, size_t span_off);

/* ---- buffer pools ---- */

struct uvmbus_buf {
	void *addr;
	size_t len;
	struct uvmbus_region *region;
	size_t region_off; /* addr - region base */
	uint32_t index;	   /* position in the pool */
};

/*
 * A pool of `count` buffers of `size` bytes each (rounded up to 64 bytes
 * for cache-line alignment), carved from one region allocated for it.
 */
UVMBUS_API int uvmbus_pool_create(struct uvmbus_mem *m, size_t size, uint32_t count,
				  struct uvmbus_pool **out);
/* -EBUSY while buffers are out. */
UVMBUS_API int uvmbus_pool_destroy(struct uvmbus_pool *p);
/* Free the pool's bookkeeping but not its region: the memory stays with
 * the context (see uvmbus_mem_abandon()). For buffers the host may still
 * write. */
UVMBUS_API void uvmbus_pool_abandon(struct uvmbus_pool *p);
/* O(1), no lock: NULL when the pool is exhausted (-ENOMEM for callers). */
UVMBUS_API struct uvmbus_buf *uvmbus_pool_get(struct uvmbus_pool *p);
/* O(1): -EALREADY (counted, nothing done) for a buffer already free,
 * -EINVAL for a buffer of another pool. */
UVMBUS_API int uvmbus_pool_put(struct uvmbus_pool *p, struct uvmbus_buf *b);
UVMBUS_API uint32_t uvmbus_pool_available(const struct uvmbus_pool *p);

/* ---- statistics ---- */

struct uvmbus_mem_stats {
	uint64_t bytes_node[UVMBUS_MEM_MAX_NODES]; /* allocated, per NUMA node */
	uint64_t bytes_unplaced;		   /* allocated without a node */
	uint64_t bytes_2m;			   /* allocated in 2 MiB pages */
	uint64_t bytes_4k;			   /* allocated in 4 KiB pages */
	uint64_t bytes_registered;		   /* caller memory pinned */
	uint64_t pinned_bytes;			   /* everything pinned now */
	uint64_t regions;
	uint64_t fallbacks;   /* allocations that fell back to 4 KiB pages */
	uint64_t double_puts; /* pool puts of a buffer already free */
};

UVMBUS_API void uvmbus_mem_get_stats(const struct uvmbus_mem *m, struct uvmbus_mem_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* UVMBUS_MEM_H */
