/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause */
/*
 * uvmbus_kstub ioctl ABI: pin user memory long-term, get its Hyper-V pfns.
 *
 * Shared by the kernel module (kstub/) and user space (uvmbus/linux/kstub.c).
 * Rules of the ABI:
 *  - every struct starts with a __u32 size that the caller sets to
 *    sizeof(struct); the module answers -EINVAL when it differs;
 *  - fields are fixed width, naturally aligned, padding is explicit and
 *    must be zero (-EINVAL otherwise); user pointers travel as __u64;
 *  - page numbers ("pfns") are Hyper-V pfns: guest physical address >> 12;
 *  - a command the module does not know (another number or another struct
 *    size, which is part of the number) fails with -ENOTTY;
 *  - UVMBUS_KSTUB_ABI_VERSION changes on any incompatible change; query it
 *    with UVMBUS_KSTUB_IOC_VERSION before anything else.
 */
#ifndef _UAPI_UVMBUS_KSTUB_H
#define _UAPI_UVMBUS_KSTUB_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define UVMBUS_KSTUB_ABI_VERSION 1
#define UVMBUS_KSTUB_DEV_NAME "uvmbus_kstub"
#define UVMBUS_KSTUB_DEV_PATH "/dev/uvmbus_kstub"

/*
 * Default time that regions left registered at close (or process death)
 * stay pinned before they are unpinned: the library's longest request
 * timeout (300 s) plus a 30 s margin, so memory the host may still write
 * is never handed back to the page allocator. Module parameter quarantine_ms.
 */
#define UVMBUS_KSTUB_DEFAULT_QUARANTINE_MS 330000

/* Hyper-V pages are 4 KiB whatever the guest's page size. */
#define UVMBUS_KSTUB_PFN_SHIFT 12
#define UVMBUS_KSTUB_HUGE_SHIFT 21 /* 2 MiB */

/*
 * ioctl type 0xBD, numbers 0x00-0x0F: not listed in
 * Documentation/userspace-api/ioctl/ioctl-number.rst (checked against 6.1
 * and current mainline, whose neighbours are 0xB8 mshv and 0xBA
 * liveupdate). Commands are decoded only by this device, so a future
 * overlap could not misroute them.
 */
#define UVMBUS_KSTUB_IOC_MAGIC 0xBD

/* Features reported by UVMBUS_KSTUB_IOC_VERSION. */
#define UVMBUS_KSTUB_FEAT_PFN_2M (1U << 0) /* UVMBUS_KSTUB_REG_PFN_2M works */

struct uvmbus_kstub_version {
	__u32 size;	    /* in: sizeof(struct uvmbus_kstub_version) */
	__u32 abi_version;  /* out: UVMBUS_KSTUB_ABI_VERSION */
	__u32 pfn_shift;    /* out: UVMBUS_KSTUB_PFN_SHIFT */
	__u32 features;	    /* out: UVMBUS_KSTUB_FEAT_* */
};

/*
 * Return one pfn per 2 MiB instead of one per 4 KiB: addr and len must be
 * 2 MiB aligned and each 2 MiB of the range physically contiguous (as a
 * hugetlb page is), else -EINVAL. pfns[i] is the pfn of addr + i * 2 MiB.
 */
#define UVMBUS_KSTUB_REG_PFN_2M (1U << 0)
#define UVMBUS_KSTUB_REG_FLAGS (UVMBUS_KSTUB_REG_PFN_2M)

/*
 * Pin [addr, addr + len) with FOLL_WRITE | FOLL_LONGTERM and charge every
 * kernel page it touches (4 KiB, or 16/64 KiB on arm64) to the caller's
 * user (its locked_vm, against the caller's RLIMIT_MEMLOCK; CAP_IPC_LOCK:
 * not charged) until the pages are unpinned, quarantine included. Only
 * anonymous, shmem/memfd and hugetlbfs memory is pinned. Any alignment:
 * the pfns cover the pages from addr >> 12 to (addr + len - 1) >> 12,
 * Hyper-V's 4 KiB pages whatever the kernel's page size (a 64 KiB page
 * gives 16 consecutive pfns).
 *
 * pfns == 0 asks for no pfns. Otherwise pfn_cap must be at least the count
 * needed, else -ENOSPC and npfn tells the count (nothing is pinned).
 * Errors: -EINVAL (len 0, range wraps, more pages than the module's
 * max_region_pages, bad flags or 2 MiB rules, reserved != 0), -EFAULT (range
 * not mapped writable, pfns not writable), -EOPNOTSUPP (page cache of a file
 * system other than tmpfs or hugetlbfs), -ENOMEM (the user's pinned pages
 * would exceed RLIMIT_MEMLOCK, or out of memory), -EINTR (fatal signal).
 */
struct uvmbus_kstub_register {
	__u32 size;	  /* in: sizeof(struct uvmbus_kstub_register) */
	__u32 flags;	  /* in: UVMBUS_KSTUB_REG_* */
	__u64 addr;	  /* in: user virtual address */
	__u64 len;	  /* in: bytes */
	__u64 pfns;	  /* in: user pointer to __u64[pfn_cap], or 0 */
	__u64 pfn_cap;	  /* in: entries at pfns */
	__u64 npfn;	  /* out: entries written (or needed, on -ENOSPC) */
	__u32 region_id;  /* out: > 0, unique within this open file */
	__u32 reserved;	  /* in: 0 */
};

/* Unpin at once (the caller knows the host is done). -ENOENT: unknown id. */
struct uvmbus_kstub_unregister {
	__u32 size;	  /* in: sizeof(struct uvmbus_kstub_unregister) */
	__u32 region_id;  /* in */
};

/* Out flags of UVMBUS_KSTUB_IOC_QUERY. */
#define UVMBUS_KSTUB_QUERY_CAP_IPC_LOCK (1U << 0) /* caller bypasses memlock */

/* Limits and usage; page counts are in 4 KiB pages. */
struct uvmbus_kstub_query {
	__u32 size;			/* in: sizeof(struct uvmbus_kstub_query) */
	__u32 flags;			/* out: UVMBUS_KSTUB_QUERY_* */
	__u64 regions;			/* out: live regions of this open file */
	__u64 pinned_pages;		/* out: pages they pin */
	__u64 locked_vm_pages;		/* out: caller's user's locked_vm */
	__u64 memlock_limit;		/* out: caller's RLIMIT_MEMLOCK, bytes */
	__u64 max_region_pages;		/* out: module parameter */
	__u64 quarantine_ms;		/* out: module parameter */
	__u64 quarantined_regions;	/* out: all files, still pinned */
	__u64 quarantined_pages;	/* out: all files, still pinned */
};

#define UVMBUS_KSTUB_IOC_VERSION \
	_IOWR(UVMBUS_KSTUB_IOC_MAGIC, 0x00, struct uvmbus_kstub_version)
#define UVMBUS_KSTUB_IOC_REGISTER \
	_IOWR(UVMBUS_KSTUB_IOC_MAGIC, 0x01, struct uvmbus_kstub_register)
#define UVMBUS_KSTUB_IOC_UNREGISTER \
	_IOW(UVMBUS_KSTUB_IOC_MAGIC, 0x02, struct uvmbus_kstub_unregister)
#define UVMBUS_KSTUB_IOC_QUERY \
	_IOWR(UVMBUS_KSTUB_IOC_MAGIC, 0x03, struct uvmbus_kstub_query)

/*
 * Layout checks: the same sizes on every architecture and in both worlds
 * (static_assert: <linux/build_bug.h> in the kernel, C11/C++11 outside).
 */
#ifdef __KERNEL__
#include <linux/build_bug.h>
#else
#include <assert.h>
#endif
#define UVMBUS_KSTUB_CHECK_SIZE(type, bytes) \
	static_assert(sizeof(type) == (bytes), #type " layout")

UVMBUS_KSTUB_CHECK_SIZE(struct uvmbus_kstub_version, 16);
UVMBUS_KSTUB_CHECK_SIZE(struct uvmbus_kstub_register, 56);
UVMBUS_KSTUB_CHECK_SIZE(struct uvmbus_kstub_unregister, 8);
UVMBUS_KSTUB_CHECK_SIZE(struct uvmbus_kstub_query, 72);

#endif /* _UAPI_UVMBUS_KSTUB_H */
