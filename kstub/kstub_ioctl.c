// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioctl handlers. Each copies its struct in, checks size, flags and
 * reserved fields before acting, and never trusts user input further.
 */
#include <linux/capability.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include <uapi/uvmbus_kstub.h>
#include "uvmbus_kstub.h"

static int kstub_ioc_version(struct uvmbus_kstub_version __user *uarg)
{
	struct uvmbus_kstub_version v;

	if (copy_from_user(&v, uarg, sizeof(v)))
		return -EFAULT;
	if (v.size != sizeof(v))
		return -EINVAL;
	v.abi_version = UVMBUS_KSTUB_ABI_VERSION;
	v.pfn_shift = UVMBUS_KSTUB_PFN_SHIFT;
	v.features = UVMBUS_KSTUB_FEAT_PFN_2M;
	return copy_to_user(uarg, &v, sizeof(v)) ? -EFAULT : 0;
}

/* Forget a region that left the xarray and release it at once. */
static void kstub_drop(struct kstub_file *kf, struct kstub_region *r)
{
	atomic_long_dec(&kf->nregions);
	atomic_long_sub(r->npages, &kf->npages);
	kstub_region_release(r);
}

static int kstub_check_register(const struct uvmbus_kstub_register *req,
				unsigned long *npages, u64 *npfn)
{
	u64 kpages;

	if (req->size != sizeof(*req) || req->reserved ||
	    (req->flags & ~UVMBUS_KSTUB_REG_FLAGS))
		return -EINVAL;
	if (!req->len || req->addr + req->len < req->addr)
		return -EINVAL;
	/* Kernel pages pinned; the limit and the pfns are in 4 KiB pages. */
	kpages = kstub_kpages(req->addr, req->len);
	if (kpages > READ_ONCE(kstub_max_region_pages) / KSTUB_HV_PER_PAGE)
		return -EINVAL;
	*npages = kpages;
	*npfn = kstub_hvpages(req->addr, req->len);
	if (req->flags & UVMBUS_KSTUB_REG_PFN_2M) {
		if (!IS_ALIGNED(req->addr, SZ_2M) ||
		    !IS_ALIGNED(req->len, SZ_2M))
			return -EINVAL;
		*npfn = req->len >> UVMBUS_KSTUB_HUGE_SHIFT;
	}
	return 0;
}

static int kstub_ioc_register(struct kstub_file *kf,
			      struct uvmbus_kstub_register __user *uarg)
{
	struct uvmbus_kstub_register req;
	struct kstub_region *r;
	unsigned long npages;
	u32 id;
	int err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	err = kstub_check_register(&req, &npages, &req.npfn);
	if (err)
		return err;
	if (req.pfns && req.pfn_cap < req.npfn)
		return put_user(req.npfn, &uarg->npfn) ? -EFAULT : -ENOSPC;

	r = kstub_region_pin(req.addr & PAGE_MASK, npages);
	if (IS_ERR(r))
		return PTR_ERR(r);
	if (req.pfns) {
		err = kstub_region_put_pfns(r, req.addr, req.npfn,
					    req.flags & UVMBUS_KSTUB_REG_PFN_2M,
					    u64_to_user_ptr(req.pfns));
		if (err)
			goto release;
	}
	err = xa_alloc_cyclic(&kf->regions, &id, r, XA_LIMIT(1, INT_MAX),
			      &kf->next_id, GFP_KERNEL_ACCOUNT);
	if (err < 0)
		goto release;
	atomic_long_inc(&kf->nregions);
	atomic_long_add(npages, &kf->npages);

	req.region_id = id;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		/* Another thread may have guessed the id and dropped it. */
		r = xa_erase(&kf->regions, id);
		if (r)
			kstub_drop(kf, r);
		return -EFAULT;
	}
	return 0;

release:
	kstub_region_release(r);
	return err;
}

static int kstub_ioc_unregister(struct kstub_file *kf,
				struct uvmbus_kstub_unregister __user *uarg)
{
	struct uvmbus_kstub_unregister req;
	struct kstub_region *r;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.size != sizeof(req))
		return -EINVAL;
	r = xa_erase(&kf->regions, req.region_id);
	if (!r)
		return -ENOENT;
	kstub_drop(kf, r);
	return 0;
}

static int kstub_ioc_query(struct kstub_file *kf,
			   struct uvmbus_kstub_query __user *uarg)
{
	struct uvmbus_kstub_query q;
	unsigned long limit;

	if (copy_from_user(&q, uarg, sizeof(q)))
		return -EFAULT;
	if (q.size != sizeof(q))
		return -EINVAL;
	q.flags = 0;
	if (has_capability_noaudit(current, CAP_IPC_LOCK))
		q.flags |= UVMBUS_KSTUB_QUERY_CAP_IPC_LOCK;
	q.regions = atomic_long_read(&kf->nregions);
	/* In 4 KiB pages (the ABI's unit) whatever the kernel's page size. */
	q.pinned_pages = atomic_long_read(&kf->npages) * KSTUB_HV_PER_PAGE;
	q.locked_vm_pages = kstub_user_locked_pages() * KSTUB_HV_PER_PAGE;
	limit = rlimit(RLIMIT_MEMLOCK);
	q.memlock_limit = limit == RLIM_INFINITY ? U64_MAX : limit;
	q.max_region_pages = READ_ONCE(kstub_max_region_pages);
	q.quarantine_ms = READ_ONCE(kstub_quarantine_ms);
	kstub_quarantine_stats(&q.quarantined_regions, &q.quarantined_pages);
	q.quarantined_pages *= KSTUB_HV_PER_PAGE;
	return copy_to_user(uarg, &q, sizeof(q)) ? -EFAULT : 0;
}

long kstub_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kstub_file *kf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case UVMBUS_KSTUB_IOC_VERSION:
		return kstub_ioc_version(uarg);
	case UVMBUS_KSTUB_IOC_REGISTER:
		return kstub_ioc_register(kf, uarg);
	case UVMBUS_KSTUB_IOC_UNREGISTER:
		return kstub_ioc_unregister(kf, uarg);
	case UVMBUS_KSTUB_IOC_QUERY:
		return kstub_ioc_query(kf, uarg);
	default:
		return -ENOTTY;
	}
}
