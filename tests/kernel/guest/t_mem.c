/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The memory layer (uvmbus/mem*) on its production backend, the real module:
 * hugepage regions in compact form, registered memory, pools, release. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uvmbus/mem.h>

#include "guest.h"

void test_mem_kstub(void)
{
	struct uvmbus_mem_opts o;
	struct uvmbus_mem *m = NULL;
	struct uvmbus_region *r = NULL, *reg = NULL;
	struct uvmbus_pool *pool = NULL;
	struct uvmbus_mem_stats st;
	static uint64_t pfn[1100];
	long pins0 = pins_outstanding();
	int err;

	clear_log();
	uvmbus_mem_opts_init(&o);
	o.numa_node = 0;
	o.log = capture_log;
	err = uvmbus_mem_open(&m, &o);
	if (!check(err == 0 && !strcmp(uvmbus_mem_backend_name(m), "kstub"),
		   "mem: AUTO picks kstub when the node exists (%s)", last_log()))
		return;

	err = uvmbus_mem_alloc(m, 4u << 20, &r);
	if (check(err == 0, "mem: 4 MiB region on hugepages (%s)", last_log())) {
		check(uvmbus_region_page_size(r) == HUGE, "mem: region uses 2 MiB pages");
		err = uvmbus_region_pfns(r, 100, (4u << 20) - 100, pfn, NULL);
		check(err == 0 && pfns_match(uvmbus_region_addr(r), pfn, 1024),
		      "mem: 1024 pfns from 2 base pfns equal pagemap");
		check(pins_outstanding() - pins0 >= 1, "mem: region is pinned (%ld pins)",
		      pins_outstanding() - pins0);
	}

	char *buf = map_anon(20 * PAGE);

	err = uvmbus_mem_register(m, buf + 123, 10 * PAGE, &reg);
	if (check(err == 0, "mem: register caller memory (%s)", last_log())) {
		uint32_t n = uvmbus_region_npfn(reg, 0, 10 * PAGE);

		err = uvmbus_region_pfns(reg, 0, 10 * PAGE, pfn, NULL);
		check(err == 0 && n == 11 && pfns_match(buf, pfn, n),
		      "mem: registered range pfns equal pagemap");
		uvmbus_region_get(reg);
		check(uvmbus_region_release(reg) == -EBUSY, "mem: release in use is EBUSY");
		uvmbus_region_put(reg);
		check(uvmbus_region_release(reg) == 0, "mem: release after put");
	}

	err = uvmbus_pool_create(m, 4096, 64, &pool);
	if (check(err == 0, "mem: pool of 64 x 4 KiB")) {
		struct uvmbus_buf *b = uvmbus_pool_get(pool);

		err = uvmbus_region_pfns(b->region, b->region_off, b->len, pfn, NULL);
		check(err == 0 && pfns_match(b->addr, pfn, 1),
		      "mem: pool buffer pfn equals pagemap");
		check(uvmbus_pool_put(pool, b) == 0, "mem: pool put");
		check(uvmbus_pool_destroy(pool) == 0, "mem: pool destroy");
	}
	uvmbus_mem_get_stats(m, &st);
	check(st.bytes_node[0] >= (4u << 20) && st.fallbacks == 0,
	      "mem: stats %llu bytes on node 0", (unsigned long long)st.bytes_node[0]);
	check(uvmbus_region_release(r) == 0, "mem: release region");
	check(uvmbus_mem_close(m) == 0, "mem: close");
	check(pins_outstanding() == pins0, "mem: every pin released (%ld)", pins_outstanding());
}
