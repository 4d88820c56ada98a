// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Pinning backend "memfd": guest RAM is a memfd arena (the emulator's, or a
 * broker session's); a pfn is a 4 KiB page offset in it. The context maps
 * its window of the memfd once (2 MiB-aligned in both the file and our
 * address space, so granule arithmetic holds) and carves regions from it
 * in 2 MiB chunks.
 *
 * Which chunks are taken is guest RAM's own business, shared by every
 * context on the memfd in any process, as a kernel's page allocator is:
 * the first chunk of the file holds one 32-bit entry per chunk, the pid
 * of the process that holds it (0: free; the first chunk is the table's
 * own). A context never takes a chunk another live process holds, or one
 * its own process left behind (uvmbus_mem_abandon: memory a host may still
 * write); a dead process's chunks are taken over.
 *
 * Under the emulator (opts.memtable), memory registered outside the window
 * is the caller's own (malloc, mmap, a memfd, hugetlbfs): it gets
 * guest-physical addresses above guest RAM from the connection's memory
 * table, and the emulator reaches the same pages (docs/MEMORY.md).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uvmbus/dev.h>

#include "mem_internal.h"

struct memfd_arena {
	uint8_t *window;
	uint8_t *reserve; /* the VA reservation the window sits in */
	size_t reserve_len;
	uint64_t file_off;
	size_t size;
	size_t nchunks;	    /* in the window */
	size_t first_chunk; /* the window's first chunk in the file */
	uint32_t *table;    /* per chunk of the file: holder pid, 0 free */
	size_t table_chunks;
	uint32_t pid;
};

#define TABLE_BYTES UVMBUS_HUGEPAGE_SIZE

static int map_table(struct memfd_arena *s, int fd, const struct uvmbus_log *log)
{
	struct stat st;
	void *t;

	if (fstat(fd, &st) || st.st_size < (off_t)TABLE_BYTES) {
		LOG_ERR(log, "mem: memfd backend: guest RAM is smaller than its allocation table");
		return -EINVAL;
	}
	s->table_chunks = (size_t)st.st_size / UVMBUS_HUGEPAGE_SIZE;
	if (s->table_chunks > TABLE_BYTES / sizeof(uint32_t))
		s->table_chunks = TABLE_BYTES / sizeof(uint32_t);
	t = mmap(NULL, TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED)
		return -errno;
	s->table = t;
	s->pid = (uint32_t)getpid();
	/* Chunk 0 is the table: never handed out (an id no process has). */
	__atomic_store_n(&s->table[0], UINT32_MAX, __ATOMIC_RELEASE);
	return 0;
}

static int memfd_open(struct uvmbus_mem *m, const struct uvmbus_mem_opts *o)
{
	const size_t huge = UVMBUS_HUGEPAGE_SIZE;
	struct memfd_arena *s;
	uintptr_t aligned;
	void *p;
	int rc;

	if (o->memfd < 0 || !o->memfd_size || o->memfd_size % huge || o->memfd_offset % huge) {
		LOG_ERR(&o->log, "mem: memfd backend needs the guest-RAM memfd and a window of it "
				 "(offset and size multiples of 2 MiB)");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->size = o->memfd_size;
	s->file_off = o->memfd_offset;
	s->nchunks = s->size / huge;
	s->first_chunk = s->file_off / huge;
	rc = map_table(s, o->memfd, &o->log);
	if (rc) {
		free(s);
		return rc;
	}
	s->reserve_len = s->size + huge;
	s->reserve = mmap(NULL, s->reserve_len, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->reserve == MAP_FAILED) {
		munmap(s->table, TABLE_BYTES);
		free(s);
		return -ENOMEM;
	}
	aligned = ((uintptr_t)s->reserve + huge - 1) & ~(uintptr_t)(huge - 1);
	p = mmap((void *)aligned, s->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, o->memfd,
		 (off_t)s->file_off);
	if (p == MAP_FAILED) {
		int err = errno;

		LOG_ERR(&o->log, "mem: memfd backend: mmap of guest RAM [%llu, +%zu): %s",
			(unsigned long long)s->file_off, s->size, strerror(err));
		munmap(s->reserve, s->reserve_len);
		munmap(s->table, TABLE_BYTES);
		free(s);
		return -err;
	}
	s->window = p;
	m->backend = s;
	return 0;
}

/* Take file chunk f for us: free, or held by a process that is gone. */
static bool claim(struct memfd_arena *s, size_t f)
{
	uint32_t *e, cur;

	if (f >= s->table_chunks)
		return false;
	e = &s->table[f];
	cur = __atomic_load_n(e, __ATOMIC_ACQUIRE);
	if (cur &&
	    (cur == s->pid || cur == UINT32_MAX || kill((pid_t)cur, 0) == 0 || errno != ESRCH))
		return false;
	return __atomic_compare_exchange_n(e, &cur, s->pid, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

static void unclaim(struct memfd_arena *s, size_t first, size_t n)
{
	for (size_t f = first; f < first + n; f++)
		__atomic_store_n(&s->table[f], 0u, __ATOMIC_RELEASE);
}

static int memfd_map(struct uvmbus_mem *m, size_t len, size_t page_size, void **addr)
{
	struct memfd_arena *s = m->backend;
	size_t need = len / UVMBUS_HUGEPAGE_SIZE;

	(void)page_size;
	for (size_t i = 0; i + need <= s->nchunks; i++) {
		size_t got = 0, f = s->first_chunk + i;

		while (got < need && claim(s, f + got))
			got++;
		if (got == need) {
			*addr = s->window + i * UVMBUS_HUGEPAGE_SIZE;
			/* A dead holder's bytes are not ours to see. */
			memset(*addr, 0, len);
			return 0;
		}
		unclaim(s, f, got);
		i += got;
	}
	LOG_ERR(&m->opts.log, "mem: memfd backend: no %zu contiguous bytes left in guest RAM (%zu)",
		len, s->size);
	return -ENOMEM;
}

static void memfd_unmap(struct uvmbus_mem *m, void *addr, size_t len)
{
	struct memfd_arena *s = m->backend;
	size_t first = (size_t)((uint8_t *)addr - s->window) / UVMBUS_HUGEPAGE_SIZE;

	/* Fresh memory for the next owner, as a new mapping would be. */
	memset(addr, 0, len);
	unclaim(s, s->first_chunk + first, len / UVMBUS_HUGEPAGE_SIZE);
}

/* Caller memory outside the window: a region of the emulator's memory
 * table, its pfns contiguous from the table's address of the first 2 MiB
 * granule (pin_id 1: remove it at unpin). */
static int table_pin(struct uvmbus_mem *m, struct uvmbus_region *r)
{
	uint64_t gpa0;
	int rc = pfn_table_alloc(&r->pfns, (uintptr_t)r->addr, r->len, SHIFT_2M);

	if (rc)
		return rc;
	rc = uvmbus_simsock_mem_add(m->opts.memtable, r->addr, r->len, &gpa0);
	if (rc) {
		LOG_ERR(&m->opts.log,
			"mem: memfd backend: %p + %zu: the emulator's memory table: %s", r->addr,
			r->len, strerror(-rc));
		pfn_table_free(&r->pfns);
		return rc;
	}
	for (size_t g = 0; g < r->pfns.nbase; g++)
		r->pfns.base[g] = (gpa0 >> SHIFT_4K) + (g << (SHIFT_2M - SHIFT_4K));
	r->pin_id = 1;
	return 0;
}

static int memfd_pin(struct uvmbus_mem *m, struct uvmbus_region *r)
{
	struct memfd_arena *s = m->backend;
	uintptr_t w = (uintptr_t)s->window;
	uintptr_t a = (uintptr_t)r->addr;
	int rc;

	if ((a < w || a - w > s->size || r->len > s->size - (a - w)) && m->opts.memtable)
		return table_pin(m, r);
	if (a < w || a - w > s->size || r->len > s->size - (a - w)) {
		LOG_ERR(&m->opts.log,
			"mem: memfd backend: %p + %zu is not guest RAM: register memory "
			"allocated from the arena's window only",
			r->addr, r->len);
		return -EINVAL;
	}
	rc = pfn_table_alloc(&r->pfns, a, r->len, SHIFT_2M);
	if (rc)
		return rc;
	/* The window is contiguous in pfn space: base = file page of the granule. */
	for (size_t g = 0; g < r->pfns.nbase; g++)
		r->pfns.base[g] =
		    (s->file_off + (r->pfns.table_va - w) + (g << SHIFT_2M)) >> SHIFT_4K;
	return 0;
}

static void memfd_unpin(struct uvmbus_mem *m, struct uvmbus_region *r)
{
	uintptr_t a = (uintptr_t)r->addr & ~(uintptr_t)(PAGE_4K - 1);
	uintptr_t end = ((uintptr_t)r->addr + r->len + PAGE_4K - 1) & ~(uintptr_t)(PAGE_4K - 1);

	if (r->pin_id != 1)
		return;
	/* the region's refs are 0: no request the host may still answer */
	(void)uvmbus_simsock_mem_remove(
	    m->opts.memtable, (r->pfns.base[0] << SHIFT_4K) + (a - r->pfns.table_va), end - a);
}

static void memfd_close(struct uvmbus_mem *m, bool keep)
{
	struct memfd_arena *s = m->backend;

	/* keep: the window stays mapped and its chunks stay ours in the
	 * table until the process exits. */
	if (!keep)
		munmap(s->reserve, s->reserve_len);
	munmap(s->table, TABLE_BYTES);
	free(s);
}

const struct pin_ops uvmbus_pin_memfd_ops = {
    .name = "memfd",
    .open = memfd_open,
    .map = memfd_map,
    .unmap = memfd_unmap,
    .pin = memfd_pin,
    .unpin = memfd_unpin,
    .close = memfd_close,
};
