// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Memory context: backend choice, regions, references, statistics. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem_internal.h"

void uvmbus_mem_opts_init(struct uvmbus_mem_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->backend = UVMBUS_PIN_AUTO;
	o->numa_node = -1;
	o->memfd = -1;
}

static const struct pin_ops *backend_ops(enum uvmbus_pin_backend b)
{
	switch (b) {
	case UVMBUS_PIN_KSTUB:
		return &uvmbus_pin_kstub_ops;
	case UVMBUS_PIN_PAGEMAP:
		return &uvmbus_pin_pagemap_ops;
	case UVMBUS_PIN_MEMFD:
		return &uvmbus_pin_memfd_ops;
	default:
		return NULL;
	}
}

int uvmbus_mem_open(struct uvmbus_mem **out, const struct uvmbus_mem_opts *o)
{
	struct uvmbus_mem *m;
	int rc;

	if (!out || !o)
		return -EINVAL;
	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->opts = *o;
	m->opts.kstub_path = NULL; /* not kept: the caller's string may go away */

	if (o->backend == UVMBUS_PIN_AUTO) {
		const char *path = o->kstub_path ? o->kstub_path : "/dev/uvmbus_kstub";

		if (access(path, F_OK) != 0) {
			LOG_ERR(
			    &o->log,
			    "mem: no pinning backend: %s does not exist (load the module: "
			    "scripts/bind_uio.sh kstub). The pagemap backend (root, unsafe) and "
			    "the simulator's backend must be chosen explicitly",
			    path);
			free(m);
			return -ENODEV;
		}
		m->opts.backend = UVMBUS_PIN_KSTUB;
	}
	m->ops = backend_ops(m->opts.backend);
	if (!m->ops) {
		LOG_ERR(&o->log, "mem: unknown pinning backend %d", (int)o->backend);
		free(m);
		return -EINVAL;
	}
	rc = m->ops->open(m, o);
	if (rc) {
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int uvmbus_mem_close(struct uvmbus_mem *m)
{
	if (!m)
		return 0;
	if (m->regions || m->pools) {
		LOG_ERR(&m->opts.log, "mem: close with %llu region(s) and %u pool(s) still in use",
			(unsigned long long)m->st.regions, m->pools);
		return -EBUSY;
	}
	if (m->ops->close)
		m->ops->close(m, false);
	free(m);
	return 0;
}

uint64_t uvmbus_mem_abandon(struct uvmbus_mem *m)
{
	uint64_t bytes = 0;
	unsigned n = 0;

	if (!m)
		return 0;
	while (m->regions) {
		struct uvmbus_region *r = m->regions;

		/* Neither unpinned nor unmapped: only the bookkeeping goes. */
		m->regions = r->next;
		bytes += r->owned ? r->map_len : r->len;
		n++;
		pfn_table_free(&r->pfns);
		free(r);
	}
	if (n)
		LOG_WARN(&m->opts.log,
			 "mem: %u region(s), %llu bytes, stay pinned and mapped until the process "
			 "exits: the host may still write them",
			 n, (unsigned long long)bytes);
	if (m->ops->close)
		m->ops->close(m, true);
	free(m);
	return bytes;
}

const char *uvmbus_mem_backend_name(const struct uvmbus_mem *m)
{
	return m->ops->name;
}

static void account(struct uvmbus_region *r, int sign)
{
	struct uvmbus_mem_stats *st = &r->mem->st;
	uint64_t n = r->owned ? r->map_len : r->len;

	if (r->owned) {
		if (r->node >= 0 && r->node < UVMBUS_MEM_MAX_NODES)
			st->bytes_node[r->node] += sign * n;
		else
			st->bytes_unplaced += sign * n;
		if (r->page_size == UVMBUS_HUGEPAGE_SIZE)
			st->bytes_2m += sign * n;
		else
			st->bytes_4k += sign * n;
	} else {
		st->bytes_registered += sign * n;
	}
	st->pinned_bytes += sign * n;
	st->regions += sign;
}

static int finish_region(struct uvmbus_mem *m, struct uvmbus_region *r, struct uvmbus_region **out)
{
	int rc = m->ops->pin(m, r);

	if (rc)
		return rc;
	/* Requests copy their pfn lists from here (uvmbus_region_pfns). */
	pfn_table_flatten(&r->pfns, (uintptr_t)r->addr, r->len);
	r->next = m->regions;
	m->regions = r;
	account(r, +1);
	*out = r;
	return 0;
}

int uvmbus_mem_alloc(struct uvmbus_mem *m, size_t len, struct uvmbus_region **out)
{
	struct uvmbus_region *r;
	void *addr;
	int rc;

	if (!m || !out || !len || len > ((size_t)1 << 40))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->mem = m;
	r->owned = true;
	if (m->ops->map) {
		r->page_size = UVMBUS_HUGEPAGE_SIZE;
		r->map_len = (len + UVMBUS_HUGEPAGE_SIZE - 1) & ~(size_t)(UVMBUS_HUGEPAGE_SIZE - 1);
		r->node = -1;
		rc = m->ops->map(m, r->map_len, r->page_size, &addr);
	} else {
		r->node = m->opts.numa_node;
		rc = mem_map_anon(m, len, &r->page_size, &addr, &r->map_len);
	}
	if (rc) {
		free(r);
		return rc;
	}
	r->addr = addr;
	r->len = len;
	rc = finish_region(m, r, out);
	if (rc) {
		if (m->ops->unmap)
			m->ops->unmap(m, addr, r->map_len);
		else
			mem_unmap_anon(addr, r->map_len);
		free(r);
	}
	return rc;
}

int uvmbus_mem_register(struct uvmbus_mem *m, void *addr, size_t len, struct uvmbus_region **out)
{
	struct uvmbus_region *r;
	int rc;

	if (!m || !out || !addr || !len || (uintptr_t)addr + len < (uintptr_t)addr) {
		if (m)
			LOG_ERR(&m->opts.log, "mem: register: bad range %p + %zu", addr, len);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->mem = m;
	r->addr = addr;
	r->len = len;
	r->page_size = PAGE_4K;
	r->node = -1;
	rc = finish_region(m, r, out);
	if (rc)
		free(r);
	return rc;
}

int uvmbus_region_release(struct uvmbus_region *r)
{
	struct uvmbus_mem *m;
	struct uvmbus_region **pp;

	if (!r)
		return 0;
	m = r->mem;
	if (r->refs || r->pool_users) {
		LOG_ERR(&m->opts.log, "mem: release of a region still in use (%u refs, %u pools)",
			r->refs, r->pool_users);
		return -EBUSY;
	}
	for (pp = &m->regions; *pp && *pp != r; pp = &(*pp)->next)
		;
	if (!*pp)
		return -EINVAL;
	*pp = r->next;
	m->ops->unpin(m, r);
	account(r, -1);
	if (r->owned) {
		if (m->ops->unmap)
			m->ops->unmap(m, r->addr, r->map_len);
		else
			mem_unmap_anon(r->addr, r->map_len);
	}
	pfn_table_free(&r->pfns);
	free(r);
	return 0;
}

void *uvmbus_region_addr(const struct uvmbus_region *r)
{
	return r->addr;
}

size_t uvmbus_region_len(const struct uvmbus_region *r)
{
	return r->len;
}

size_t uvmbus_region_page_size(const struct uvmbus_region *r)
{
	return r->page_size;
}

int uvmbus_region_node(const struct uvmbus_region *r)
{
	return r->node;
}

void uvmbus_region_get(struct uvmbus_region *r)
{
	r->refs++;
}

void uvmbus_region_put(struct uvmbus_region *r)
{
	if (r->refs)
		r->refs--;
}

unsigned uvmbus_region_refs(const struct uvmbus_region *r)
{
	return r->refs;
}

struct uvmbus_region *uvmbus_mem_find(struct uvmbus_mem *m, const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;

	for (struct uvmbus_region *r = m->regions; r; r = r->next) {
		uintptr_t b = (uintptr_t)r->addr;

		if (a >= b && a - b <= r->len && len <= r->len - (a - b))
			return r;
	}
	return NULL;
}

void uvmbus_mem_get_stats(const struct uvmbus_mem *m, struct uvmbus_mem_stats *st)
{
	*st = m->st;
}
