// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Pinning backend "sim": guest RAM is the simulator's memfd; a pfn is a
 * 4 KiB page offset in it. The context maps its window of the memfd once
 * (2 MiB-aligned in both the file and our address space, so granule
 * arithmetic holds) and carves regions from it, first fit in 2 MiB chunks.
 * Registered caller memory must lie inside that window.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mem_internal.h"

struct sim_ram {
	uint8_t *window;
	uint8_t *reserve; /* the VA reservation the window sits in */
	size_t reserve_len;
	uint64_t file_off;
	size_t size;
	size_t nchunks;
	uint8_t *used; /* one byte per 2 MiB chunk */
};

static int sim_open(struct uvmbus_mem *m, const struct uvmbus_mem_opts *o)
{
	const size_t huge = UVMBUS_HUGEPAGE_SIZE;
	struct sim_ram *s;
	uintptr_t aligned;
	void *p;

	if (o->sim_fd < 0 || !o->sim_size || o->sim_size % huge || o->sim_offset % huge) {
		LOG_ERR(&o->log, "mem: sim backend needs the guest-RAM memfd and a window of it "
				 "(offset and size multiples of 2 MiB)");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->size = o->sim_size;
	s->file_off = o->sim_offset;
	s->nchunks = s->size / huge;
	s->used = calloc(s->nchunks, 1);
	s->reserve_len = s->size + huge;
	s->reserve = mmap(NULL, s->reserve_len, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!s->used || s->reserve == MAP_FAILED) {
		free(s->used);
		free(s);
		return -ENOMEM;
	}
	aligned = ((uintptr_t)s->reserve + huge - 1) & ~(uintptr_t)(huge - 1);
	p = mmap((void *)aligned, s->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 o->sim_fd, (off_t)s->file_off);
	if (p == MAP_FAILED) {
		int err = errno;

		LOG_ERR(&o->log, "mem: sim backend: mmap of guest RAM [%llu, +%zu): %s",
			(unsigned long long)s->file_off, s->size, strerror(err));
		munmap(s->reserve, s->reserve_len);
		free(s->used);
		free(s);
		return -err;
	}
	s->window = p;
	m->backend = s;
	return 0;
}

static int sim_map(struct uvmbus_mem *m, size_t len, size_t page_size, void **addr)
{
	struct sim_ram *s = m->backend;
	size_t need = len / UVMBUS_HUGEPAGE_SIZE, run = 0;

	(void)page_size;
	for (size_t i = 0; i < s->nchunks; i++) {
		run = s->used[i] ? 0 : run + 1;
		if (run == need) {
			size_t first = i + 1 - need;

			memset(s->used + first, 1, need);
			*addr = s->window + first * UVMBUS_HUGEPAGE_SIZE;
			return 0;
		}
	}
	LOG_ERR(&m->opts.log, "mem: sim backend: no %zu contiguous bytes left in guest RAM (%zu)",
		len, s->size);
	return -ENOMEM;
}

static void sim_unmap(struct uvmbus_mem *m, void *addr, size_t len)
{
	struct sim_ram *s = m->backend;
	size_t first = (size_t)((uint8_t *)addr - s->window) / UVMBUS_HUGEPAGE_SIZE;

	/* Fresh memory for the next owner, as a new mapping would be. */
	memset(addr, 0, len);
	memset(s->used + first, 0, len / UVMBUS_HUGEPAGE_SIZE);
}

static int sim_pin(struct uvmbus_mem *m, struct uvmbus_region *r)
{
	struct sim_ram *s = m->backend;
	uintptr_t w = (uintptr_t)s->window;
	uintptr_t a = (uintptr_t)r->addr;
	int rc;

	if (a < w || a - w > s->size || r->len > s->size - (a - w)) {
		LOG_ERR(&m->opts.log,
			"mem: sim backend: %p + %zu is not guest RAM: register memory "
			"allocated from the simulator's window only",
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

static void sim_unpin(struct uvmbus_mem *m, struct uvmbus_region *r)
{
	(void)m;
	(void)r;
}

static void sim_close(struct uvmbus_mem *m)
{
	struct sim_ram *s = m->backend;

	munmap(s->reserve, s->reserve_len);
	free(s->used);
	free(s);
}

const struct pin_ops uvmbus_pin_sim_ops = {
    .name = "sim",
    .open = sim_open,
    .map = sim_map,
    .unmap = sim_unmap,
    .pin = sim_pin,
    .unpin = sim_unpin,
    .close = sim_close,
};
