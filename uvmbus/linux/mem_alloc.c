// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Anonymous DMA memory: 2 MiB hugetlb pages bound to a NUMA node, or 4 KiB
 * pages when the caller allows the fallback. Pages are populated here, at
 * allocation time, so that nothing faults on the request path and a node
 * without free hugepages is an error code, not a SIGBUS later.
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem_internal.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/*
 * 2 MiB pages by name, never the default huge page size: that is 2 MiB on
 * x86-64 and on arm64 with 4 KiB pages, but 32 MiB with 16 KiB pages and
 * 512 MiB with 64 KiB pages (where 2 MiB pages exist too, as contiguous
 * PTEs). So: the hugepages-2048kB counters (not /proc/meminfo's
 * HugePages_Free, which counts the default size) and MAP_HUGE_2MB.
 */
#define HP_SYSFS "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/%s"
#define HP_DIR	 "/sys/kernel/mm/hugepages/hugepages-2048kB"
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static long node_free_hugepages(int node)
{
	char path[128];

	snprintf(path, sizeof(path), HP_SYSFS, node, "free_hugepages");
	return read_long(path);
}

static long total_free_hugepages(void)
{
	return read_long(HP_DIR "/free_hugepages");
}

/* "node0=3 node1=0" into buf. */
static void free_per_node(char *buf, size_t cap)
{
	int max = numa_available() < 0 ? 0 : numa_max_node();
	size_t used = 0;

	buf[0] = 0;
	for (int n = 0; n <= max && used < cap; n++) {
		long f = node_free_hugepages(n);

		if (f >= 0)
			used += (size_t)snprintf(buf + used, cap - used, "%snode%d=%ld",
						 used ? " " : "", n, f);
	}
	if (!buf[0])
		snprintf(buf, cap, "total=%ld", total_free_hugepages());
}

static bool node_exists(int node)
{
	return node >= 0 && node < UVMBUS_MEM_MAX_NODES && numa_available() >= 0 &&
	       node <= numa_max_node();
}

static int bind_node(struct uvmbus_mem *m, void *addr, size_t len, int node)
{
	unsigned long mask[UVMBUS_MEM_MAX_NODES / (8 * sizeof(unsigned long))] = {0};

	if (node < 0)
		return 0;
	mask[node / (8 * sizeof(unsigned long))] |= 1ul << (node % (8 * sizeof(unsigned long)));
	if (mbind(addr, len, MPOL_BIND, mask, UVMBUS_MEM_MAX_NODES + 1, MPOL_MF_STRICT)) {
		int err = errno;

		LOG_ERR(&m->opts.log, "mem: mbind(%zu bytes, node %d): %s", len, node,
			strerror(err));
		return -err;
	}
	return 0;
}

/* Fault every page in now; an error instead of a SIGBUS when the node
 * runs out (MADV_POPULATE_WRITE, Linux 5.14+). */
static int populate(void *addr, size_t len)
{
	if (madvise(addr, len, MADV_POPULATE_WRITE) == 0)
		return 0;
	return -errno;
}

static int try_map(struct uvmbus_mem *m, size_t len, size_t page, void **addr)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | (page > PAGE_4K ? MAP_HUGETLB | MAP_HUGE_2MB : 0);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	int rc;

	if (p == MAP_FAILED)
		return -errno;
	rc = bind_node(m, p, len, m->opts.numa_node);
	if (!rc)
		rc = populate(p, len);
	if (rc) {
		munmap(p, len);
		return rc;
	}
	/* Keep it out of fork children: the host may DMA into it. */
	madvise(p, len, MADV_DONTFORK);
	*addr = p;
	return 0;
}

int mem_map_anon(struct uvmbus_mem *m, size_t len, size_t *page_size, void **addr, size_t *map_len)
{
	size_t huge_len = (len + UVMBUS_HUGEPAGE_SIZE - 1) & ~(size_t)(UVMBUS_HUGEPAGE_SIZE - 1);
	size_t small_len = (len + PAGE_4K - 1) & ~(size_t)(PAGE_4K - 1);
	int node = m->opts.numa_node;
	long want = (long)(huge_len / UVMBUS_HUGEPAGE_SIZE);
	long avail = node >= 0 ? node_free_hugepages(node) : total_free_hugepages();
	int rc = -ENOMEM;
	char per_node[256];

	if (node >= 0 && !node_exists(node)) {
		LOG_ERR(&m->opts.log, "mem: NUMA node %d does not exist on this machine", node);
		return -EINVAL;
	}
	if (avail >= want) {
		rc = try_map(m, huge_len, UVMBUS_HUGEPAGE_SIZE, addr);
		if (rc == 0) {
			*page_size = UVMBUS_HUGEPAGE_SIZE;
			*map_len = huge_len;
			return 0;
		}
	}

	free_per_node(per_node, sizeof(per_node));
	if (!m->opts.allow_small_pages) {
		char where[32] = "any node";
		char reserve[160];

		if (node >= 0)
			snprintf(where, sizeof(where), "node %d", node);
		snprintf(reserve, sizeof(reserve), HP_SYSFS, node >= 0 ? node : 0, "nr_hugepages");
		if (access(HP_DIR, F_OK)) {
			LOG_ERR(&m->opts.log,
				"mem: no hugepages for %zu bytes: this kernel has no 2 MiB huge "
				"pages (no " HP_DIR "; /sys/kernel/mm/hugepages lists its sizes): "
				"allow 4 KiB pages",
				len);
			return -ENOMEM;
		}
		LOG_ERR(&m->opts.log,
			"mem: no hugepages for %zu bytes: wanted %ld x 2 MiB on %s, free: %s (%s). "
			"Reserve them as root: echo N > %s (or scripts/bind_uio.sh hugepages N "
			"--node K), or allow 4 KiB pages",
			len, want, where, per_node, strerror(-rc), reserve);
		return -ENOMEM;
	}
	rc = try_map(m, small_len, PAGE_4K, addr);
	if (rc) {
		LOG_ERR(&m->opts.log, "mem: %zu bytes of 4 KiB pages on node %d: %s", small_len,
			node, strerror(-rc));
		return rc;
	}
	m->st.fallbacks++;
	if (!m->warned_fallback) {
		m->warned_fallback = true;
		LOG_WARN(&m->opts.log,
			 "mem: no free 2 MiB hugepages (wanted %ld, free: %s): using 4 KiB pages, "
			 "slower to describe and pin; reserve hugepages for production",
			 want, per_node);
	}
	*page_size = PAGE_4K;
	*map_len = small_len;
	return 0;
}

void mem_unmap_anon(void *addr, size_t len)
{
	munmap(addr, len);
}
