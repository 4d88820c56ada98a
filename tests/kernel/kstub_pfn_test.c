// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * kstub_pfn_{12,14,16}: the module's own Hyper-V pfn arithmetic
 * (kstub/kstub_pfn.h) compiled in user space for one kernel page shift
 * (-DPAGE_SHIFT=12, 14 or 16: 4, 16 and 64 KiB pages) and checked against
 * a reference that walks the range 4 KiB at a time through a made-up
 * physical layout (kernel page -> a scattered kernel pfn): every Hyper-V
 * pfn is the physical address of its 4 KiB >> 12, 16 of them per 64 KiB
 * page, and the counts are those of the ioctl ABI.
 */
#include <stdint.h>
#include <stdio.h>

typedef uint64_t u64;

#ifndef PAGE_SHIFT
#error "build with -DPAGE_SHIFT=12, 14 or 16"
#endif

#include "../../kstub/kstub_pfn.h"

#define PAGE_SZ (1ull << PAGE_SHIFT)

static int fails;

/* The made-up layout: virtual kernel page v is at kernel pfn fake(v). */
static u64 fake(u64 v)
{
	return (v * 0x9e3779b1ull + 7) % 0x100000ull + 0x1000;
}

static void check(u64 addr, u64 len)
{
	u64 first_h = addr >> 12, last_h = (addr + len - 1) >> 12;
	u64 nhv = kstub_hvpages(addr, len), nk = kstub_kpages(addr, len);
	u64 first_k = addr >> PAGE_SHIFT;

	if (nhv != last_h - first_h + 1) {
		printf("addr %#llx len %#llx: %llu Hyper-V pages, expected %llu\n",
		       (unsigned long long)addr, (unsigned long long)len, (unsigned long long)nhv,
		       (unsigned long long)(last_h - first_h + 1));
		fails++;
	}
	if (nk != ((addr + len - 1) >> PAGE_SHIFT) - first_k + 1) {
		printf("addr %#llx len %#llx: %llu kernel pages\n", (unsigned long long)addr,
		       (unsigned long long)len, (unsigned long long)nk);
		fails++;
	}
	for (u64 i = 0; i < nhv; i++) {
		u64 va = (first_h + i) << 12; /* this 4 KiB's address */
		u64 v = va >> PAGE_SHIFT;     /* its kernel page */
		u64 phys = (fake(v) << PAGE_SHIFT) | (va & (PAGE_SZ - 1));
		u64 k = kstub_hv_to_kpage(addr, i); /* index into pages[] */
		u64 got = k < nk ? kstub_hvpfn(fake(first_k + k), addr, i) : ~0ull;

		if (k != v - first_k || got != phys >> 12) {
			printf("addr %#llx len %#llx, pfn %llu: pages[%llu] -> %#llx, expected "
			       "pages[%llu] -> %#llx\n",
			       (unsigned long long)addr, (unsigned long long)len,
			       (unsigned long long)i, (unsigned long long)k,
			       (unsigned long long)got, (unsigned long long)(v - first_k),
			       (unsigned long long)(phys >> 12));
			if (++fails > 20)
				return;
		}
	}
}

int main(void)
{
	static const u64 lens[] = {1,	  4095,	 4096,	 4097,	 12288,	   16384,   65535,
				   65536, 65537, 131072, 200000, 2u << 20, 3u << 20};
	int n = 0;

	/* Every 4 KiB start within two kernel pages, with a few sub-page
	 * offsets, and lengths across the page sizes. */
	for (u64 base = 0; base < 2 * PAGE_SZ; base += 4096)
		for (u64 off = 0; off < 4096; off += 1365)
			for (unsigned l = 0; l < sizeof(lens) / sizeof(lens[0]); l++, n++)
				check(0x7f0000000000ull + base + off, lens[l]);
	/* One whole kernel page: KSTUB_HV_PER_PAGE consecutive pfns. */
	if (kstub_hvpages(5 * PAGE_SZ, PAGE_SZ) != KSTUB_HV_PER_PAGE ||
	    KSTUB_HV_PER_PAGE != PAGE_SZ / 4096) {
		printf("a kernel page is not %llu Hyper-V pages\n", PAGE_SZ / 4096);
		fails++;
	}
	for (u64 i = 0; i < KSTUB_HV_PER_PAGE; i++)
		if (kstub_hvpfn(3, 5 * PAGE_SZ, i) != 3 * KSTUB_HV_PER_PAGE + i) {
			printf("kernel pfn 3, 4 KiB %llu: %#llx\n", (unsigned long long)i,
			       (unsigned long long)kstub_hvpfn(3, 5 * PAGE_SZ, i));
			fails++;
		}
	printf("kstub_pfn (PAGE_SHIFT %d, %lu Hyper-V pages per kernel page): %d ranges, %d "
	       "failures\n",
	       PAGE_SHIFT, (unsigned long)KSTUB_HV_PER_PAGE, n, fails);
	return fails != 0;
}
