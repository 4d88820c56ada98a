// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Quarantine: regions still registered when their file is released (close
 * or process death) may still be the target of host DMA, so they stay
 * pinned for kstub_quarantine_ms before being unpinned.
 *
 * Unload policy: every pending quarantine holds a module reference, so
 * rmmod fails with EBUSY until all quarantines have ended. module_exit then
 * destroys the workqueue, which waits for a work function still returning
 * after its module_put().
 */
#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "uvmbus_kstub.h"

static struct workqueue_struct *kstub_wq;
static atomic_long_t kstub_q_regions = ATOMIC_LONG_INIT(0);
static atomic_long_t kstub_q_pages = ATOMIC_LONG_INIT(0);

static void kstub_unpin_work(struct work_struct *work)
{
	struct kstub_file *kf = container_of(to_delayed_work(work),
					     struct kstub_file, unpin_work);
	struct kstub_region *r, *tmp;
	long nregions = 0;

	list_for_each_entry_safe(r, tmp, &kf->quarantine, link) {
		list_del(&r->link);
		kstub_region_release(r);
		nregions++;
		cond_resched();
	}
	atomic_long_sub(nregions, &kstub_q_regions);
	atomic_long_sub(kf->quarantine_pages, &kstub_q_pages);
	kfree(kf);
	module_put(THIS_MODULE);
}

/*
 * Take over kf (its file is being released, no ioctl can run): free it now
 * if it holds no region, else queue its regions for a delayed unpin.
 */
void kstub_quarantine(struct kstub_file *kf)
{
	struct kstub_region *r;
	unsigned long id;
	long nregions = 0;

	INIT_LIST_HEAD(&kf->quarantine);
	kf->quarantine_pages = 0;
	xa_for_each(&kf->regions, id, r) {
		list_add_tail(&r->link, &kf->quarantine);
		kf->quarantine_pages += r->npages;
		nregions++;
	}
	xa_destroy(&kf->regions);
	if (!nregions) {
		kfree(kf);
		return;
	}
	atomic_long_add(nregions, &kstub_q_regions);
	atomic_long_add(kf->quarantine_pages, &kstub_q_pages);
	/* Safe: the file being released still holds a module reference. */
	__module_get(THIS_MODULE);
	INIT_DELAYED_WORK(&kf->unpin_work, kstub_unpin_work);
	queue_delayed_work(kstub_wq, &kf->unpin_work,
			   msecs_to_jiffies(READ_ONCE(kstub_quarantine_ms)));
}

void kstub_quarantine_stats(u64 *regions, u64 *pages)
{
	*regions = atomic_long_read(&kstub_q_regions);
	*pages = atomic_long_read(&kstub_q_pages);
}

int kstub_quarantine_init(void)
{
	kstub_wq = alloc_workqueue("uvmbus_kstub", WQ_UNBOUND, 0);
	return kstub_wq ? 0 : -ENOMEM;
}

void kstub_quarantine_exit(void)
{
	destroy_workqueue(kstub_wq);
}
