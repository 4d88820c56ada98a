// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * uvmbus_kstub: a misc device that pins user memory long-term and returns
 * its Hyper-V pfns, for the user-space VMbus driver (uvmbus). Nothing else.
 * The ABI is include/uapi/uvmbus_kstub.h; docs/KSTUB.md explains the rest.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/stat.h>

#include <uapi/uvmbus_kstub.h>
#include "uvmbus_kstub.h"

unsigned int kstub_quarantine_ms = UVMBUS_KSTUB_DEFAULT_QUARANTINE_MS;
module_param_named(quarantine_ms, kstub_quarantine_ms, uint, 0644);
MODULE_PARM_DESC(quarantine_ms,
		 "ms that regions left registered at close stay pinned");

/* 1 GiB of 4 KiB pages: a page array of 2 MiB per registration. */
unsigned long kstub_max_region_pages = 1UL << 18;
module_param_named(max_region_pages, kstub_max_region_pages, ulong, 0444);
MODULE_PARM_DESC(max_region_pages, "Largest registration, in 4 KiB pages");

static ushort mode = 0600;
module_param(mode, ushort, 0444);
MODULE_PARM_DESC(mode, "Mode of the device node (its group: chgrp)");

static int kstub_open(struct inode *inode, struct file *file)
{
	struct kstub_file *kf;

	kf = kzalloc(sizeof(*kf), GFP_KERNEL_ACCOUNT);
	if (!kf)
		return -ENOMEM;
	xa_init_flags(&kf->regions, XA_FLAGS_ALLOC1);
	atomic_long_set(&kf->nregions, 0);
	atomic_long_set(&kf->npages, 0);
	file->private_data = kf;
	return 0;
}

static int kstub_release(struct inode *inode, struct file *file)
{
	kstub_quarantine(file->private_data);
	return 0;
}

static const struct file_operations kstub_fops = {
	.owner = THIS_MODULE,
	.open = kstub_open,
	.release = kstub_release,
	.unlocked_ioctl = kstub_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice kstub_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = UVMBUS_KSTUB_DEV_NAME,
	.fops = &kstub_fops,
};

static int __init kstub_init(void)
{
	int err;

	if (mode & ~0666 || !kstub_max_region_pages ||
	    kstub_max_region_pages > INT_MAX) {
		pr_err("bad mode or max_region_pages\n");
		return -EINVAL;
	}
	kstub_misc.mode = mode;
	err = kstub_quarantine_init();
	if (err)
		return err;
	err = misc_register(&kstub_misc);
	if (err)
		kstub_quarantine_exit();
	return err;
}

static void __exit kstub_exit(void)
{
	/* No open file and no quarantine left: each holds a module ref. */
	misc_deregister(&kstub_misc);
	kstub_quarantine_exit();
}

module_init(kstub_init);
module_exit(kstub_exit);

MODULE_DESCRIPTION("uvmbus: pin user memory for Hyper-V GPA-direct I/O");
MODULE_AUTHOR("uvmbus developers");
MODULE_LICENSE("Dual BSD/GPL");
