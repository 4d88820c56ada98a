/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The kstub device (<uvmbus/kstub.h>): a thin, thread-safe wrapper over the
 * uvmbus_kstub ioctls (include/uapi/uvmbus_kstub.h) that turns the usual
 * failures into messages an operator can act on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uapi/uvmbus_kstub.h>
#include <uvmbus/kstub.h>

#include "log.h"

#define KSTUB_PAGE 4096ULL

struct uvmbus_kstub {
	int fd;
	struct uvmbus_log log;
};

static void explain_open_error(const struct uvmbus_log *log, const char *path, int err)
{
	struct stat st;

	if (err == ENOENT || err == ENXIO || err == ENODEV) {
		uvmbus_log_printf(
		    log, UVMBUS_LOG_ERR,
		    "kstub: %s: %s: the uvmbus_kstub module is not loaded; load it with "
		    "'modprobe uvmbus_kstub' or 'scripts/bind_uio.sh kstub'",
		    path, strerror(err));
	} else if ((err == EACCES || err == EPERM) && stat(path, &st) == 0) {
		uvmbus_log_printf(
		    log, UVMBUS_LOG_ERR,
		    "kstub: %s: permission denied: node mode %04o, owner uid %u gid %u, "
		    "this process uid %u gid %u; it needs read+write: run as a member of "
		    "gid %u with mode 0660 (scripts/bind_uio.sh kstub sets group and mode), "
		    "or as root",
		    path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid,
		    (unsigned)geteuid(), (unsigned)getegid(), (unsigned)st.st_gid);
	} else {
		uvmbus_log_printf(log, UVMBUS_LOG_ERR, "kstub: cannot open %s: %s", path,
				  strerror(err));
	}
}

UVMBUS_API int uvmbus_kstub_open(struct uvmbus_kstub **out, const char *path,
				 const struct uvmbus_log *log)
{
	struct uvmbus_kstub_version v = {.size = sizeof(v)};
	struct uvmbus_kstub *k;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!path)
		path = UVMBUS_KSTUB_DEV_PATH;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	if (log)
		k->log = *log;

	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		err = errno;
		explain_open_error(&k->log, path, err);
		free(k);
		return -err;
	}
	if (ioctl(k->fd, UVMBUS_KSTUB_IOC_VERSION, &v) != 0) {
		err = errno;
		if (err == ENOTTY || err == EINVAL)
			uvmbus_log_printf(&k->log, UVMBUS_LOG_ERR,
					  "kstub: %s is not a uvmbus_kstub device", path);
		else
			uvmbus_log_printf(&k->log, UVMBUS_LOG_ERR,
					  "kstub: %s: version query failed: %s", path,
					  strerror(err));
		uvmbus_kstub_close(k);
		return err == EINVAL ? -ENOTTY : -err;
	}
	if (v.abi_version != UVMBUS_KSTUB_ABI_VERSION || v.pfn_shift != UVMBUS_KSTUB_PFN_SHIFT) {
		uvmbus_log_printf(
		    &k->log, UVMBUS_LOG_ERR,
		    "kstub: %s speaks ABI %u (pfn shift %u), this library needs ABI %u: "
		    "install the module built from the same source",
		    path, v.abi_version, v.pfn_shift, UVMBUS_KSTUB_ABI_VERSION);
		uvmbus_kstub_close(k);
		return -EPROTO;
	}
	uvmbus_log_printf(&k->log, UVMBUS_LOG_DEBUG, "kstub: %s open, ABI %u", path, v.abi_version);
	*out = k;
	return 0;
}

UVMBUS_API void uvmbus_kstub_close(struct uvmbus_kstub *k)
{
	if (!k)
		return;
	close(k->fd);
	free(k);
}

/*
 * -ENOMEM from the module: the memlock limit, or real memory pressure. The
 * module charges pins to the user (uid), not the process: everything the
 * uid pinned through any process or file, quarantined regions included.
 */
static void explain_enomem(struct uvmbus_kstub *k, size_t len, uint64_t need)
{
	struct uvmbus_kstub_usage u;
	struct rlimit rl;

	if (uvmbus_kstub_query(k, &u) == 0 && !u.cap_ipc_lock &&
	    (u.memlock_limit < u.locked_bytes || need > u.memlock_limit - u.locked_bytes)) {
		if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0)
			rl.rlim_cur = u.memlock_limit;
		uvmbus_log_printf(
		    &k->log, UVMBUS_LOG_ERR,
		    "kstub: memlock limit reached: RLIMIT_MEMLOCK is %llu bytes and holds all that "
		    "uid %u has pinned (every process and open file, regions in quarantine after "
		    "close, io_uring): %llu bytes; pinning %zu bytes needs %llu more (a limit of "
		    "at "
		    "least %llu); %llu bytes of all users are in quarantine for up to %llu ms: "
		    "raise the limit (ulimit -l, systemd LimitMEMLOCK=, limits.conf memlock), "
		    "grant CAP_IPC_LOCK, or wait for the quarantine to end",
		    (unsigned long long)rl.rlim_cur, (unsigned)getuid(),
		    (unsigned long long)u.locked_bytes, len, (unsigned long long)need,
		    (unsigned long long)(u.locked_bytes + need),
		    (unsigned long long)u.quarantined_bytes, (unsigned long long)u.quarantine_ms);
	} else {
		uvmbus_log_printf(&k->log, UVMBUS_LOG_ERR, "kstub: out of memory pinning %zu bytes",
				  len);
	}
}

static int do_register(struct uvmbus_kstub *k, void *addr, size_t len, uint32_t flags,
		       uint32_t *region_id, uint64_t *pfns, size_t pfn_cap, size_t *npfn)
{
	struct uvmbus_kstub_register r = {
	    .size = sizeof(r),
	    .flags = flags,
	    .addr = (uintptr_t)addr,
	    .len = len,
	    .pfns = (uintptr_t)pfns,
	    .pfn_cap = pfns ? pfn_cap : 0,
	};
	uint64_t need = uvmbus_kstub_pfn_count(addr, len) * KSTUB_PAGE;
	int err;

	if (!k || !region_id)
		return -EINVAL;
	if (ioctl(k->fd, UVMBUS_KSTUB_IOC_REGISTER, &r) == 0) {
		*region_id = r.region_id;
		if (npfn)
			*npfn = r.npfn;
		return 0;
	}
	err = errno;
	switch (err) {
	case ENOMEM:
		explain_enomem(k, len, need);
		break;
	case ENOSPC:
		if (npfn)
			*npfn = r.npfn;
		uvmbus_log_printf(&k->log, UVMBUS_LOG_ERR,
				  "kstub: pfn array holds %zu entries, %llu needed", pfn_cap,
				  (unsigned long long)r.npfn);
		break;
	case EFAULT:
		uvmbus_log_printf(&k->log, UVMBUS_LOG_ERR,
				  "kstub: cannot pin %p+%zu: not mapped writable (read-only, "
				  "PROT_NONE, a hole, or memory such as device or DAX mappings)",
				  addr, len);
		break;
	case EOPNOTSUPP:
		uvmbus_log_printf(
		    &k->log, UVMBUS_LOG_ERR,
		    "kstub: cannot pin %p+%zu: the module pins only anonymous, shmem/memfd and "
		    "hugetlbfs memory, and this range maps a file of another file system "
		    "(MAP_SHARED), whose page cache must not be pinned long-term: use memory from "
		    "the library, an anonymous mapping or a memfd",
		    addr, len);
		break;
	case EINVAL:
		uvmbus_log_printf(
		    &k->log, UVMBUS_LOG_ERR,
		    "kstub: invalid range %p+%zu%s (empty, wrapping or larger than the module's "
		    "max_region_pages)",
		    addr, len,
		    flags & UVMBUS_KSTUB_REG_PFN_2M
			? ": 2 MiB form needs 2 MiB-aligned, physically contiguous units"
			: "");
		break;
	default:
		uvmbus_log_printf(&k->log, UVMBUS_LOG_ERR, "kstub: pinning %p+%zu failed: %s", addr,
				  len, strerror(err));
	}
	return -err;
}

UVMBUS_API int uvmbus_kstub_register(struct uvmbus_kstub *k, void *addr, size_t len,
				     uint32_t *region_id, uint64_t *pfns, size_t pfn_cap,
				     size_t *npfn)
{
	return do_register(k, addr, len, 0, region_id, pfns, pfn_cap, npfn);
}

UVMBUS_API int uvmbus_kstub_register_2m(struct uvmbus_kstub *k, void *addr, size_t len,
					uint32_t *region_id, uint64_t *pfns, size_t pfn_cap,
					size_t *npfn)
{
	return do_register(k, addr, len, UVMBUS_KSTUB_REG_PFN_2M, region_id, pfns, pfn_cap, npfn);
}

UVMBUS_API int uvmbus_kstub_unregister(struct uvmbus_kstub *k, uint32_t region_id)
{
	struct uvmbus_kstub_unregister u = {.size = sizeof(u), .region_id = region_id};
	int err;

	if (!k)
		return -EINVAL;
	if (ioctl(k->fd, UVMBUS_KSTUB_IOC_UNREGISTER, &u) == 0)
		return 0;
	err = errno;
	uvmbus_log_printf(&k->log, UVMBUS_LOG_ERR, "kstub: unregister region %u: %s", region_id,
			  err == ENOENT ? "no such region on this handle" : strerror(err));
	return -err;
}

UVMBUS_API int uvmbus_kstub_query(struct uvmbus_kstub *k, struct uvmbus_kstub_usage *usage)
{
	struct uvmbus_kstub_query q = {.size = sizeof(q)};
	int err;

	if (!k || !usage)
		return -EINVAL;
	if (ioctl(k->fd, UVMBUS_KSTUB_IOC_QUERY, &q) != 0) {
		err = errno;
		uvmbus_log_printf(&k->log, UVMBUS_LOG_ERR, "kstub: query failed: %s",
				  strerror(err));
		return -err;
	}
	*usage = (struct uvmbus_kstub_usage){
	    .regions = q.regions,
	    .pinned_bytes = q.pinned_pages * KSTUB_PAGE,
	    .locked_bytes = q.locked_vm_pages * KSTUB_PAGE,
	    .memlock_limit = q.memlock_limit,
	    .cap_ipc_lock = q.flags & UVMBUS_KSTUB_QUERY_CAP_IPC_LOCK,
	    .max_region_bytes = q.max_region_pages * KSTUB_PAGE,
	    .quarantine_ms = q.quarantine_ms,
	    .quarantined_regions = q.quarantined_regions,
	    .quarantined_bytes = q.quarantined_pages * KSTUB_PAGE,
	};
	return 0;
}
