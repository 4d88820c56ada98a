/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * uvmbus: the kstub pinning backend. Talks to the uvmbus_kstub kernel
 * module (kstub/, docs/KSTUB.md), which pins buffers long-term and returns
 * their Hyper-V pfns (guest physical address >> 12).
 *
 * A handle is one open of the device; every call on it is safe from several
 * threads at once. Regions still registered when the handle is closed (or
 * the process dies) stay pinned for the module's quarantine period, because
 * the host may still be writing them.
 */
#ifndef UVMBUS_KSTUB_H
#define UVMBUS_KSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uvmbus/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uvmbus_kstub;

/* Limits and usage, in bytes (pages of 4 KiB multiplied out). */
struct uvmbus_kstub_usage {
	uint64_t regions;	      /* live regions of this handle */
	uint64_t pinned_bytes;	      /* bytes they pin (whole 4 KiB pages) */
	uint64_t locked_bytes;	      /* user's locked_vm: all its processes, files,
					 quarantine (and io_uring) */
	uint64_t memlock_limit;	      /* RLIMIT_MEMLOCK; UINT64_MAX: unlimited */
	bool cap_ipc_lock;	      /* process bypasses the memlock limit */
	uint64_t max_region_bytes;    /* largest single registration */
	uint64_t quarantine_ms;	      /* module's quarantine period */
	uint64_t quarantined_regions; /* all processes: closed, still pinned */
	uint64_t quarantined_bytes;
};

/*
 * Open the device (path NULL: "/dev/uvmbus_kstub") and check its ABI
 * version. log may be NULL; it is copied. Errors, each with a message:
 * -ENOENT module not loaded, -EACCES/-EPERM no access to the node,
 * -EPROTO ABI mismatch, -ENOTTY not a uvmbus_kstub device.
 */
UVMBUS_API int uvmbus_kstub_open(struct uvmbus_kstub **out, const char *path,
				 const struct uvmbus_log *log);

/* Close the handle (NULL is a no-op). Regions left registered are
 * quarantined by the module, not unpinned at once. */
UVMBUS_API void uvmbus_kstub_close(struct uvmbus_kstub *k);

/* Pfns that [addr, addr + len) spans: one per 4 KiB page it touches. */
static inline size_t uvmbus_kstub_pfn_count(const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;

	return len ? ((a + len - 1) >> 12) - (a >> 12) + 1 : 0;
}

/*
 * Pin [addr, addr + len) (any alignment, writable memory) and charge it to
 * RLIMIT_MEMLOCK. On success *region_id identifies it and pfns[0..*npfn)
 * holds the pfn of each 4 KiB page, in order. pfns may be NULL (pfn_cap 0)
 * when the caller does not want them; npfn may be NULL.
 * Errors: -EINVAL, -EFAULT (not mapped writable), -ENOMEM (memlock limit:
 * the message gives the limit and the bytes needed), -ENOSPC (pfn_cap too
 * small: *npfn tells the count needed).
 */
UVMBUS_API int uvmbus_kstub_register(struct uvmbus_kstub *k, void *addr, size_t len,
				     uint32_t *region_id, uint64_t *pfns, size_t pfn_cap,
				     size_t *npfn);

/*
 * Same for 2 MiB-aligned ranges of physically contiguous 2 MiB units
 * (hugetlb pages): one pfn per 2 MiB, pfns[i] for addr + i * 2 MiB.
 * -EINVAL if the range is unaligned or a unit is not contiguous.
 */
UVMBUS_API int uvmbus_kstub_register_2m(struct uvmbus_kstub *k, void *addr, size_t len,
					uint32_t *region_id, uint64_t *pfns, size_t pfn_cap,
					size_t *npfn);

/* Unpin a region now: the caller guarantees the host no longer uses it.
 * -ENOENT: no such region on this handle. */
UVMBUS_API int uvmbus_kstub_unregister(struct uvmbus_kstub *k, uint32_t region_id);

UVMBUS_API int uvmbus_kstub_query(struct uvmbus_kstub *k, struct uvmbus_kstub_usage *usage);

#ifdef __cplusplus
}
#endif

#endif /* UVMBUS_KSTUB_H */
