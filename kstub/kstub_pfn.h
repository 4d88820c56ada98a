/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Hyper-V pfn arithmetic for kernel pages of any size. Hyper-V pages are
 * always 4 KiB (HV_HYP_PAGE_SIZE in Linux); a kernel page of 16 or 64 KiB
 * (arm64) holds 4 or 16 of them, and the Hyper-V pfn of the j-th 4 KiB of
 * kernel page p is page_to_pfn(p) << (PAGE_SHIFT - 12) | j (Linux's
 * page_to_hvpfn()). The ioctl ABI counts in Hyper-V pages: a range
 * [addr, addr + len) has the pfns of addr >> 12 to (addr + len - 1) >> 12.
 *
 * Plain arithmetic on PAGE_SHIFT only, so that tests/kernel/kstub_pfn_test.c
 * compiles this very file for page shifts 12, 14 and 16 in user space
 * (there u64 and PAGE_SHIFT come from the test).
 */
#ifndef UVMBUS_KSTUB_PFN_H
#define UVMBUS_KSTUB_PFN_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <asm/page.h>
#endif

#define KSTUB_HV_SHIFT 12 /* UVMBUS_KSTUB_PFN_SHIFT, HV_HYP_PAGE_SHIFT */

#if PAGE_SHIFT < KSTUB_HV_SHIFT
#error "uvmbus_kstub: kernel pages smaller than Hyper-V's 4 KiB"
#endif

/* Hyper-V pages per kernel page: 1, 4 or 16. */
#define KSTUB_HV_PER_PAGE (1UL << (PAGE_SHIFT - KSTUB_HV_SHIFT))

/* Kernel pages that [addr, addr + len) touches (len > 0, no wrap). */
static inline u64 kstub_kpages(u64 addr, u64 len)
{
	return ((addr + len - 1) >> PAGE_SHIFT) - (addr >> PAGE_SHIFT) + 1;
}

/* Hyper-V pages (pfns) that [addr, addr + len) touches. */
static inline u64 kstub_hvpages(u64 addr, u64 len)
{
	return ((addr + len - 1) >> KSTUB_HV_SHIFT) - (addr >> KSTUB_HV_SHIFT) + 1;
}

/* Which of the pinned kernel pages (pages[] from addr's page on) holds the
 * i-th Hyper-V page of the range.
 */
static inline u64 kstub_hv_to_kpage(u64 addr, u64 i)
{
	return (((addr >> KSTUB_HV_SHIFT) + i) >> (PAGE_SHIFT - KSTUB_HV_SHIFT)) -
	       (addr >> PAGE_SHIFT);
}

/* The Hyper-V pfn of the i-th Hyper-V page of the range, given the kernel
 * pfn of the page that holds it (kstub_hv_to_kpage()).
 */
static inline u64 kstub_hvpfn(u64 kpfn, u64 addr, u64 i)
{
	return (kpfn << (PAGE_SHIFT - KSTUB_HV_SHIFT)) |
	       (((addr >> KSTUB_HV_SHIFT) + i) & (KSTUB_HV_PER_PAGE - 1));
}

#endif /* UVMBUS_KSTUB_PFN_H */
