// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Pinning backend "pagemap": mlock plus /proc/self/pagemap. Root only (the
 * kernel hides pfns without CAP_SYS_ADMIN) and NOT a pin: the kernel may
 * still migrate the pages (compaction, NUMA balancing). For tests and
 * machines without the module; it says so when opened. pagemap has one
 * entry per kernel page (sysconf(_SC_PAGESIZE): 4, 16 or 64 KiB) holding
 * the kernel pfn; the pfns handed out are Hyper-V's (4 KiB).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem_internal.h"

#define PM_PRESENT  (1ull << 63)
#define PM_PFN_MASK ((1ull << 55) - 1)

struct pagemap {
	int fd;
	unsigned page_shift; /* the kernel's: pagemap has one entry per page */
};

/* Kernel pfns of the n kernel pages from the one holding va (0: not
 * present or hidden). */
static int read_entries(const struct pagemap *pm, uintptr_t va, size_t n, uint64_t *out)
{
	off_t off = (off_t)(va >> pm->page_shift) * 8;
	size_t want = n * 8;
	ssize_t got = pread(pm->fd, out, want, off);

	if (got != (ssize_t)want)
		return got < 0 ? -errno : -EIO;
	for (size_t i = 0; i < n; i++)
		out[i] = (out[i] & PM_PRESENT) ? out[i] & PM_PFN_MASK : 0;
	return 0;
}

/* The Hyper-V pfns of the n 4 KiB pages from va (4 KiB aligned): indexed
 * by the real page size, 16 of them per 64 KiB kernel page. */
static int read_hvpfns(const struct pagemap *pm, uintptr_t va, size_t n, uint64_t *out)
{
	unsigned per = 1u << (pm->page_shift - SHIFT_4K);
	uintptr_t kva = va >> pm->page_shift << pm->page_shift;
	size_t nk = ((va + n * PAGE_4K - 1) >> pm->page_shift) - (kva >> pm->page_shift) + 1;
	uint64_t *k = per == 1 ? out : calloc(nk, sizeof(*k));
	int rc;

	if (!k)
		return -ENOMEM;
	rc = read_entries(pm, kva, nk, k);
	if (per > 1) {
		for (size_t i = 0; !rc && i < n; i++) {
			uintptr_t a = va + i * PAGE_4K;
			uint64_t kpfn = k[(a >> pm->page_shift) - (kva >> pm->page_shift)];

			out[i] = kpfn ? hvpfn_of(kpfn, pm->page_shift, a) : 0;
		}
		free(k);
	}
	return rc;
}

static int pagemap_open(struct uvmbus_mem *m, const struct uvmbus_mem_opts *o)
{
	static volatile uint64_t probe = 1;
	struct pagemap *pm = calloc(1, sizeof(*pm));
	uint64_t pfn = 0;
	int rc;

	long psz = sysconf(_SC_PAGESIZE);

	if (!pm)
		return -ENOMEM;
	pm->page_shift = SHIFT_4K;
	while (psz > 0 && (1l << pm->page_shift) < psz)
		pm->page_shift++;
	if (psz <= 0 || (1l << pm->page_shift) != psz) {
		free(pm);
		return -EINVAL;
	}
	pm->fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm->fd < 0) {
		rc = -errno;
		LOG_ERR(&o->log, "mem: pagemap backend: open /proc/self/pagemap: %s",
			strerror(-rc));
		free(pm);
		return rc;
	}
	probe++;
	rc = read_entries(pm, (uintptr_t)&probe, 1, &pfn);
	if (rc || !pfn) {
		LOG_ERR(&o->log, "mem: pagemap backend: /proc/self/pagemap shows no pfns: it needs "
				 "CAP_SYS_ADMIN (run as root) - or use the kstub backend");
		close(pm->fd);
		free(pm);
		return rc ? rc : -EPERM;
	}
	LOG_WARN(&o->log, "mem: pagemap backend: pfns are read, not pinned - unsafe for "
			  "production (pages may migrate); use the kstub module there");
	m->backend = pm;
	return 0;
}

static int pagemap_pin(struct uvmbus_mem *m, struct uvmbus_region *r)
{
	struct pagemap *pm = m->backend;
	uintptr_t va = (uintptr_t)r->addr & ~(uintptr_t)(PAGE_4K - 1);
	size_t n = (((uintptr_t)r->addr + r->len - 1) >> SHIFT_4K) - (va >> SHIFT_4K) + 1;
	int rc;

	/* Resident and not swapped; also faults caller memory in. */
	if (mlock((void *)va, n * PAGE_4K)) {
		rc = -errno;
		LOG_ERR(&m->opts.log,
			"mem: pagemap backend: mlock(%zu bytes): %s (RLIMIT_MEMLOCK?)", n * PAGE_4K,
			strerror(-rc));
		return rc;
	}
	if (r->owned && r->page_size == UVMBUS_HUGEPAGE_SIZE) {
		/* A hugetlb page is physically contiguous: its first pfn is enough. */
		rc = pfn_table_alloc(&r->pfns, (uintptr_t)r->addr, r->map_len, SHIFT_2M);
		for (size_t g = 0; !rc && g < r->pfns.nbase; g++)
			rc = read_hvpfns(pm, r->pfns.table_va + (g << SHIFT_2M), 1,
					 &r->pfns.base[g]);
		for (size_t g = 0; !rc && g < r->pfns.nbase; g++)
			if (!r->pfns.base[g])
				rc = -EFAULT;
	} else {
		uint64_t *flat = calloc(n, sizeof(*flat));

		rc = flat ? read_hvpfns(pm, va, n, flat) : -ENOMEM;
		for (size_t i = 0; !rc && i < n; i++)
			if (!flat[i])
				rc = -EFAULT;
		if (!rc)
			pfn_table_from_flat(&r->pfns, va, flat, n);
		else
			free(flat);
	}
	if (rc) {
		LOG_ERR(&m->opts.log, "mem: pagemap backend: no pfn for %p + %zu: %s", r->addr,
			r->len, strerror(-rc));
		pfn_table_free(&r->pfns);
		munlock((void *)va, n * PAGE_4K);
	}
	return rc;
}

static void pagemap_unpin(struct uvmbus_mem *m, struct uvmbus_region *r)
{
	uintptr_t va = (uintptr_t)r->addr & ~(uintptr_t)(PAGE_4K - 1);
	uintptr_t end = ((uintptr_t)r->addr + r->len + PAGE_4K - 1) & ~(uintptr_t)(PAGE_4K - 1);

	(void)m;
	munlock((void *)va, end - va);
}

static void pagemap_close(struct uvmbus_mem *m, bool keep)
{
	/* keep: regions stay locked and mapped; nothing to undo here. */
	(void)keep;
	struct pagemap *pm = m->backend;

	close(pm->fd);
	free(pm);
}

const struct pin_ops uvmbus_pin_pagemap_ops = {
    .name = "pagemap",
    .open = pagemap_open,
    .pin = pagemap_pin,
    .unpin = pagemap_unpin,
    .close = pagemap_close,
};
