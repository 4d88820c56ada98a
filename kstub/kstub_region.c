// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Pin a user range long-term, charge it to the user's RLIMIT_MEMLOCK, report
 * its pfns.
 */
#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/hugetlb.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/page-flags.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/shmem_fs.h>
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

/* user_struct.locked_vm exists when one of its users is built (NET always). */
#if !IS_ENABLED(CONFIG_NET)
#error "uvmbus_kstub needs user_struct.locked_vm (CONFIG_NET)"
#endif

/*
 * Regions belong to the open file and outlive the process that pinned them
 * (a forked child, the quarantine), so the charge goes to the user, as
 * io_uring and iommufd charge theirs: user->locked_vm against the caller's
 * RLIMIT_MEMLOCK, unless the caller has CAP_IPC_LOCK. VmPin (mm->pinned_vm)
 * shows the pins in the registering process while it lives.
 */
static int kstub_charge(struct kstub_region *r, unsigned long npages)
{
	struct user_struct *user = current_user();
	unsigned long limit, cur;

	if (!capable(CAP_IPC_LOCK)) {
		limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
		cur = atomic_long_read(&user->locked_vm);
		do {
			if (npages > limit || cur > limit - npages)
				return -ENOMEM;
		} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur,
						  cur + npages));
		r->user = get_uid(user);
	}
	r->mm = current->mm;
	mmgrab(r->mm);
	atomic64_add(npages, &r->mm->pinned_vm);
	return 0;
}

static void kstub_uncharge(struct kstub_region *r, unsigned long npages)
{
	atomic64_sub(npages, &r->mm->pinned_vm);
	mmdrop(r->mm);
	if (r->user) {
		atomic_long_sub(npages, &r->user->locked_vm);
		free_uid(r->user);
	}
}

/* Pages of the caller's user charged to its RLIMIT_MEMLOCK (all its files). */
unsigned long kstub_user_locked_pages(void)
{
	return atomic_long_read(&current_user()->locked_vm);
}

/*
 * Only anonymous, shmem (tmpfs, memfd, shared anonymous) and hugetlb pages
 * may stay pinned: the page cache of other file systems expects writeback to
 * write-protect and clean its pages, which host DMA would bypass (the kernel
 * refuses such long-term pins only from 6.5). Checked on the pinned pages,
 * not the VMAs, so a racing mmap() cannot slip a file mapping in.
 */
static bool kstub_page_allowed(struct page *page)
{
	struct address_space *mapping;

	if (PageAnon(page) || PageHuge(page))
		return true;
	mapping = READ_ONCE(compound_head(page)->mapping);
	return mapping && shmem_mapping(mapping);
}

/*
 * Charge first, then pin: a caller over its limit never pins anything.
 * Returns the region or an ERR_PTR; on error nothing stays pinned/charged.
 */
struct kstub_region *kstub_region_pin(unsigned long start,
				      unsigned long npages)
{
	struct kstub_region *r;
	unsigned long i;
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
	err = kstub_charge(r, npages);
	if (err)
		goto free_pages;

	while (r->npages < npages) {
		unsigned long n = min(npages - r->npages, KSTUB_PIN_CHUNK);

		ret = pin_user_pages_fast(start + (r->npages << PAGE_SHIFT), n,
					  FOLL_WRITE | FOLL_LONGTERM,
					  r->pages + r->npages);
		if (ret <= 0) {
			err = ret ? ret : -EFAULT;
			goto unpin;
		}
		for (i = r->npages, r->npages += ret; i < r->npages; i++) {
			if (!kstub_page_allowed(r->pages[i])) {
				err = -EOPNOTSUPP;
				goto unpin;
			}
		}
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			goto unpin;
		}
	}
	return r;

unpin:
	unpin_user_pages(r->pages, r->npages);
	kstub_uncharge(r, npages);
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
	kstub_uncharge(r, r->npages);
	kvfree(r->pages);
	kfree(r);
}

/*
 * The Hyper-V pfn of 2 MiB unit u (of its first 4 KiB), or -EINVAL where
 * the unit is not physically contiguous.
 */
static s64 kstub_pfn_2m(const struct kstub_region *r, u64 u)
{
	unsigned long i = u * KSTUB_PAGES_2M;
	unsigned long base = page_to_pfn(r->pages[i]);
	unsigned long j;

	for (j = 1; j < KSTUB_PAGES_2M; j++)
		if (page_to_pfn(r->pages[i + j]) != base + j)
			return -EINVAL;
	return kstub_hvpfn(base, 0, 0);
}

/*
 * Write the Hyper-V pfns of [addr, ...) to dst: npfn of them, one per 4 KiB
 * (kernel pages of 16 or 64 KiB give 4 or 16 each), or with huge one per
 * 2 MiB (the caller checked that start and length are 2 MiB aligned).
 * The region pins the kernel pages from addr's on.
 */
int kstub_region_put_pfns(const struct kstub_region *r, u64 addr, u64 npfn,
			  bool huge, u64 __user *dst)
{
	u64 buf[KSTUB_PFN_BATCH];
	unsigned long n = 0;
	u64 i;
	s64 pfn;

	for (i = 0; i < npfn; i++) {
		if (huge) {
			pfn = kstub_pfn_2m(r, i);
			if (pfn < 0)
				return pfn;
		} else {
			pfn = kstub_hvpfn(page_to_pfn(r->pages[kstub_hv_to_kpage(addr, i)]),
					  addr, i);
		}
		buf[n++] = pfn;
		if (n == ARRAY_SIZE(buf) || i + 1 == npfn) {
			if (copy_to_user(dst, buf, n * sizeof(buf[0])))
				return -EFAULT;
			dst += n;
			n = 0;
			cond_resched();
		}
	}
	return 0;
}
