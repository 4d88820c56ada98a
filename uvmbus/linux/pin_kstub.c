// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Pinning backend "kstub" (production): the uvmbus_kstub module pins
 * long-term and returns pfns; hugepage regions come back in compact form. */
#include <errno.h>
#include <stdlib.h>

#include <uapi/uvmbus_kstub.h>
#include <uvmbus/kstub.h>

#include "mem_internal.h"

/* The public promise (mem.h) is the module's default quarantine. */
_Static_assert(UVMBUS_PIN_QUARANTINE_MS == UVMBUS_KSTUB_DEFAULT_QUARANTINE_MS,
	       "UVMBUS_PIN_QUARANTINE_MS is kstub's default quarantine");

static int kstub_mem_open(struct uvmbus_mem *m, const struct uvmbus_mem_opts *o)
{
	return uvmbus_kstub_open((struct uvmbus_kstub **)&m->backend, o->kstub_path, &o->log);
}

static int kstub_mem_pin(struct uvmbus_mem *m, struct uvmbus_region *r)
{
	struct uvmbus_kstub *k = m->backend;
	size_t n;
	int rc;

	if (r->owned && r->page_size == UVMBUS_HUGEPAGE_SIZE) {
		rc = pfn_table_alloc(&r->pfns, (uintptr_t)r->addr, r->map_len, SHIFT_2M);
		if (rc)
			return rc;
		rc = uvmbus_kstub_register_2m(k, r->addr, r->map_len, &r->pin_id, r->pfns.base,
					      r->pfns.nbase, &n);
		if (rc || n != r->pfns.nbase) {
			pfn_table_free(&r->pfns);
			return rc ? rc : -EIO;
		}
		return 0;
	}
	n = uvmbus_kstub_pfn_count(r->addr, r->len);
	uint64_t *flat = calloc(n, sizeof(*flat));

	if (!flat)
		return -ENOMEM;
	rc = uvmbus_kstub_register(k, r->addr, r->len, &r->pin_id, flat, n, &n);
	if (rc) {
		free(flat);
		return rc;
	}
	pfn_table_from_flat(&r->pfns, (uintptr_t)r->addr, flat, n);
	return 0;
}

static void kstub_mem_unpin(struct uvmbus_mem *m, struct uvmbus_region *r)
{
	int rc = uvmbus_kstub_unregister(m->backend, r->pin_id);

	if (rc)
		LOG_ERR(&m->opts.log, "mem: kstub unregister of region %u: error %d", r->pin_id,
			rc);
}

static void kstub_mem_close(struct uvmbus_mem *m, bool keep)
{
	/* keep: regions still registered go into the module's quarantine
	 * when the file closes; their mappings stay. */
	(void)keep;
	uvmbus_kstub_close(m->backend);
}

const struct pin_ops uvmbus_pin_kstub_ops = {
    .name = "kstub",
    .open = kstub_mem_open,
    .pin = kstub_mem_pin,
    .unpin = kstub_mem_unpin,
    .close = kstub_mem_close,
};
