/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * uvmbus_kstub internals: pinned regions, per-open contexts, quarantine.
 */
#ifndef UVMBUS_KSTUB_INTERNAL_H
#define UVMBUS_KSTUB_INTERNAL_H

#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

/* Hyper-V pfns are 4 KiB; kernel pages 4, 16 or 64 KiB (kstub_pfn.h). */
#include "kstub_pfn.h"

/* Module parameters (kstub_main.c). */
extern unsigned int kstub_quarantine_ms;
extern unsigned long kstub_max_region_pages;

/*
 * A pinned, charged range. Owns one FOLL_PIN reference on each page; a
 * charge of npages on user->locked_vm and a reference on user (NULL: the
 * caller had CAP_IPC_LOCK), for as long as the pages stay pinned, quarantine
 * included; npages on mm->pinned_vm (VmPin) and an mmgrab() reference on mm,
 * so both can be returned after the process died.
 */
struct kstub_region {
	struct list_head link;	/* on kstub_file.quarantine */
	struct user_struct *user;
	struct mm_struct *mm;
	struct page **pages;
	unsigned long npages;
};

/*
 * Per-open context (file->private_data). Regions live in an xarray, whose
 * own lock makes register/unregister/query safe from any thread. After
 * release the context outlives the file as the quarantine of its regions.
 */
struct kstub_file {
	struct xarray regions;		/* id -> struct kstub_region */
	u32 next_id;			/* cyclic id cursor, under xa_lock */
	atomic_long_t nregions;
	atomic_long_t npages;
	struct list_head quarantine;	/* regions left at release */
	unsigned long quarantine_pages;
	struct delayed_work unpin_work;
};

/* kstub_region.c */
struct kstub_region *kstub_region_pin(unsigned long start,
				      unsigned long npages);
void kstub_region_release(struct kstub_region *r);
int kstub_region_put_pfns(const struct kstub_region *r, u64 addr, u64 npfn,
			  bool huge, u64 __user *dst);
unsigned long kstub_user_locked_pages(void);

/* kstub_ioctl.c */
long kstub_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* kstub_quarantine.c */
int kstub_quarantine_init(void);
void kstub_quarantine_exit(void);
void kstub_quarantine(struct kstub_file *kf);
void kstub_quarantine_stats(u64 *regions, u64 *pages);

#endif /* UVMBUS_KSTUB_INTERNAL_H */
