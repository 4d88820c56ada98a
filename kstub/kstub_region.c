// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Pin a user range long-term, charge it to RLIMIT_MEMLOCK, report its pfns.
 */
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "uvmbus_kstub.h"

/* Pages pinned per pin_user_pages_fast() call: bounds the time between
 * fatal-signal checks on very large ranges.
 */
#define KSTUB_PIN_CHUNK 32768UL
/* pfns copied to user space per copy_to_user(). */
#define KSTUB_PFN_BATCH 32
#define KSTUB_PAGES_2M (SZ_2M >> PAGE_SHIFT)

/*
 * Charge first, then pin: a caller over its limit never pins anything.
 * Returns the region or an ERR_PTR; on error nothing stays pinned/charged.
 */
struct kstub_region *kstub_region_pin(unsigned long start,
				      unsigned long npages)
{
	struct mm_struct *mm = current->mm;
	struct kstub_region *r;
	long ret;
	int err;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return ERR_PTR(-ENOMEM);
	r->pages = kvmalloc_array(npages, sizeof(*r->pages),
				  GFP_KERNEL_ACCOUNT);
	if (!r->pages) {
		err = -ENOMEM;
		goto free_region;
	}
	err = account_locked_vm(mm, npages, true);
	if (err)
		goto free_pages;
	mmgrab(mm);
	r->mm = mm;

	while (r->npages < npages) {
		unsigned long n = min(npages - r->npages, KSTUB_PIN_CHUNK);

		ret = pin_user_pages_fast(start + (r->npages << PAGE_SHIFT), n,
					  FOLL_WRITE | FOLL_LONGTERM,
					  r->pages + r->npages);
		if (ret <= 0) {
			err = ret ? ret : -EFAULT;
			goto unpin;
		}
		r->npages += ret;
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			goto unpin;
		}
	}
	return r;

unpin:
	unpin_user_pages(r->pages, r->npages);
	account_locked_vm(mm, npages, false);
	mmdrop(mm);
free_pages:
	kvfree(r->pages);
free_region:
	kfree(r);
	return ERR_PTR(err);
}

/* Unpin (pages may have been written by DMA: mark dirty), uncharge, free. */
void kstub_region_release(struct kstub_region *r)
{
	unpin_user_pages_dirty_lock(r->pages, r->npages, true);
	account_locked_vm(r->mm, r->npages, false);
	mmdrop(r->mm);
	kvfree(r->pages);
	kfree(r);
}

/* The pfn of pages[i], or -EINVAL where a 2 MiB unit is not contiguous. */
static s64 kstub_pfn(const struct kstub_region *r, unsigned long i, bool huge)
{
	unsigned long base = page_to_pfn(r->pages[i]);
	unsigned long j;

	if (!huge)
		return base;
	for (j = 1; j < KSTUB_PAGES_2M; j++)
		if (page_to_pfn(r->pages[i + j]) != base + j)
			return -EINVAL;
	return base;
}

/*
 * Write the region's pfns to dst: one per page, or with huge one per 2 MiB
 * (the caller checked that start and length are 2 MiB aligned).
 */
int kstub_region_put_pfns(const struct kstub_region *r, bool huge,
			  u64 __user *dst)
{
	unsigned long step = huge ? KSTUB_PAGES_2M : 1;
	u64 buf[KSTUB_PFN_BATCH];
	unsigned long i, n = 0;
	s64 pfn;

	for (i = 0; i < r->npages; i += step) {
		pfn = kstub_pfn(r, i, huge);
		if (pfn < 0)
			return pfn;
		buf[n++] = pfn;
		if (n == ARRAY_SIZE(buf) || i + step >= r->npages) {
			if (copy_to_user(dst, buf, n * sizeof(buf[0])))
				return -EFAULT;
			dst += n;
			n = 0;
			cond_resched();
		}
	}
	return 0;
}
