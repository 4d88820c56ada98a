/*
 * Hugepage DMA memory on this machine, as root, with the pagemap backend:
 * pfns match /proc/self/pagemap, NUMA placement is the asked node, the
 * no-hugepage path fails with its message or falls back when allowed.
 * Each test reserves the hugepages it needs and restores the old setting.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdlib.h>

#include "mem_fixture.h"

static long saved_nr = -1;

static void write_nr(long v)
{
	cr_assert(nr_hugepages_write(v), "cannot write %s: these tests need root", NR_HP);
}

static void reserve(void)
{
	cr_assert_eq(geteuid(), 0, "hugepage tests need root (they reserve hugepages)");
	saved_nr = nr_hugepages_read();
	cr_assert_geq(saved_nr, 0);
	write_nr(saved_nr + 16);
	cr_assert_geq(nr_hugepages_read(), saved_nr + 8, "could not reserve hugepages");
}

static void none(void)
{
	cr_assert_eq(geteuid(), 0, "hugepage tests need root (they change nr_hugepages)");
	saved_nr = nr_hugepages_read();
	write_nr(0);
}

static void restore(void)
{
	if (saved_nr >= 0)
		write_nr(saved_nr);
}

static struct uvmbus_mem *open_pagemap(struct log_sink *s, int node, bool small)
{
	struct uvmbus_mem_opts o;
	struct uvmbus_mem *m;

	uvmbus_mem_opts_init(&o);
	o.backend = UVMBUS_PIN_PAGEMAP;
	o.numa_node = node;
	o.allow_small_pages = small;
	o.log = sink_log(s);
	cr_assert_eq(uvmbus_mem_open(&m, &o), 0, "%s", s->text);
	cr_expect_neq(strstr(s->text, "unsafe"), NULL, "pagemap backend warns");
	return m;
}

Test(mem_hugepages, pagemap_pfns_match, .init = reserve, .fini = restore)
{
	struct log_sink s;
	struct uvmbus_mem *m = open_pagemap(&s, -1, false);
	struct uvmbus_region *r;
	static uint64_t pfn[1024];

	cr_assert_eq(uvmbus_mem_alloc(m, 3u << 20, &r), 0, "%s", s.text);
	cr_expect_eq(uvmbus_region_page_size(r), UVMBUS_HUGEPAGE_SIZE);
	cr_expect_eq((uintptr_t)uvmbus_region_addr(r) % UVMBUS_HUGEPAGE_SIZE, 0u);
	cr_assert_eq(uvmbus_region_pfns(r, 0, 4u << 20, pfn, NULL), -EINVAL, "only 3 MiB asked");
	cr_assert_eq(uvmbus_region_pfns(r, 0, 3u << 20, pfn, NULL), 0);
	uint8_t *a = uvmbus_region_addr(r);

	for (size_t i = 0; i < 768; i++)
		cr_assert_eq(pfn[i], pagemap_pfn(a + i * 4096), "page %zu", i);

	struct uvmbus_mem_stats st;

	uvmbus_mem_get_stats(m, &st);
	cr_expect_eq(st.bytes_2m, 4u << 20, "rounded up to whole hugepages");
	cr_expect_eq(st.fallbacks, 0u);
	cr_assert_eq(uvmbus_region_release(r), 0);
	cr_assert_eq(uvmbus_mem_close(m), 0);
}

Test(mem_hugepages, registered_caller_memory, .init = reserve, .fini = restore)
{
	struct log_sink s;
	struct uvmbus_mem *m = open_pagemap(&s, -1, false);
	struct uvmbus_region *r;
	uint8_t *buf = malloc(100000);
	uint64_t pfn[30];
	uint32_t pg;

	memset(buf, 1, 100000);
	cr_assert_eq(uvmbus_mem_register(m, buf + 3, 90000, &r), 0, "%s", s.text);
	cr_assert_eq(uvmbus_region_pfns(r, 1000, 50000, pfn, &pg), 0);
	uint32_t n = uvmbus_region_npfn(r, 1000, 50000);

	cr_expect_eq(pg, ((uintptr_t)buf + 1003) % 4096);
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(pfn[i], pagemap_pfn(buf + 1003 - pg + i * 4096));
	cr_assert_eq(uvmbus_region_release(r), 0);
	cr_assert_eq(uvmbus_mem_close(m), 0);
	free(buf);
}

Test(mem_hugepages, numa_placement, .init = reserve, .fini = restore)
{
	struct log_sink s;
	cr_assert_geq(numa_available(), 0, "libnuma: NUMA not available");
	int node = numa_max_node(); /* the last node: not just "wherever" */
	struct uvmbus_mem *m = open_pagemap(&s, node, false);
	struct uvmbus_region *r;

	cr_assert_eq(uvmbus_mem_alloc(m, 4u << 20, &r), 0, "%s", s.text);
	cr_expect_eq(uvmbus_region_node(r), node);
	uint8_t *a = uvmbus_region_addr(r);
	void *pages[2] = {a, a + (2u << 20)};
	int status[2] = {-1, -1}, where = -1;

	cr_assert_eq(move_pages(0, 2, pages, NULL, status, 0), 0);
	cr_expect_eq(status[0], node, "move_pages says node %d", status[0]);
	cr_expect_eq(status[1], node);
	cr_assert_eq(get_mempolicy(&where, NULL, 0, a, MPOL_F_NODE | MPOL_F_ADDR), 0);
	cr_expect_eq(where, node);

	struct uvmbus_mem_stats st;

	uvmbus_mem_get_stats(m, &st);
	cr_expect_eq(st.bytes_node[node], 4u << 20);
	cr_assert_eq(uvmbus_region_release(r), 0);
	cr_assert_eq(uvmbus_mem_close(m), 0);

	/* a node that does not exist is refused with a message */
	m = open_pagemap(&s, 63, false);
	cr_expect_eq(uvmbus_mem_alloc(m, 1u << 20, &r), -EINVAL);
	cr_expect_neq(strstr(s.text, "node 63 does not exist"), NULL, "%s", s.text);
	cr_assert_eq(uvmbus_mem_close(m), 0);
}

Test(mem_hugepages, none_free_fails_with_message, .init = none, .fini = restore)
{
	struct log_sink s;
	struct uvmbus_mem *m = open_pagemap(&s, 0, false);
	struct uvmbus_region *r;

	cr_expect_eq(uvmbus_mem_alloc(m, 3u << 20, &r), -ENOMEM);
	cr_expect_neq(strstr(s.text, "wanted 2 x 2 MiB on node 0"), NULL, "%s", s.text);
	cr_expect_neq(strstr(s.text, "free: node0=0"), NULL, "%s", s.text);
	cr_expect_neq(strstr(s.text, "node0/hugepages/hugepages-2048kB/nr_hugepages"), NULL, "%s",
		      s.text);
	cr_assert_eq(uvmbus_mem_close(m), 0);
}

Test(mem_hugepages, none_free_falls_back_when_allowed, .init = none, .fini = restore)
{
	struct log_sink s;
	struct uvmbus_mem *m = open_pagemap(&s, 0, true);
	struct uvmbus_region *r1, *r2;
	uint64_t pfn[300];
	int warn0 = s.warnings;

	cr_assert_eq(uvmbus_mem_alloc(m, 1u << 20, &r1), 0, "%s", s.text);
	cr_assert_eq(uvmbus_mem_alloc(m, 100000, &r2), 0);
	cr_expect_eq(uvmbus_region_page_size(r1), 4096u);
	cr_expect_eq(s.warnings - warn0, 1, "one warning for the context: %s", s.text);
	cr_expect_neq(strstr(s.text, "4 KiB pages"), NULL);

	struct uvmbus_mem_stats st;

	uvmbus_mem_get_stats(m, &st);
	cr_expect_eq(st.fallbacks, 2u);
	cr_expect_eq(st.bytes_4k, (1u << 20) + 102400u);
	/* 4 KiB pages keep a flat table: still exact */
	cr_assert_eq(uvmbus_region_pfns(r1, 0, 1u << 20, pfn, NULL), 0);
	uint8_t *a = uvmbus_region_addr(r1);

	for (int i = 0; i < 256; i++)
		cr_assert_eq(pfn[i], pagemap_pfn(a + i * 4096));
	cr_assert_eq(uvmbus_region_release(r1), 0);
	cr_assert_eq(uvmbus_region_release(r2), 0);
	cr_assert_eq(uvmbus_mem_close(m), 0);
}
