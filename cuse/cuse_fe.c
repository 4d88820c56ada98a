// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The CUSE glue: /dev/<devname>, its open/release/ioctl, and the caller's
 * memory. The ioctl is restricted (the kernel copies the 72-byte argument
 * in, from the _IOWR number); the three buffers it points to are read and
 * written in the caller's process with process_vm_readv/writev (32 MiB is
 * far beyond what the CUSE retry protocol can move), and of the argument
 * only `response` is written back, as the driver's copy_to_user did.
 */
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fuse3/cuse_lowlevel.h>
#include <fuse3/fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuse_internal.h"

/* Whom the file was opened by: the driver refused (-EACCES) an ioctl from
 * credentials other than the opener's (az_blob_safe_file_access). */
struct opener {
	uid_t uid;
	gid_t gid;
};

static bool allowed(struct azcuse *s, const struct fuse_ctx *cx)
{
	return !s->o.may_use || s->o.may_use(s->o.may_use_ctx, cx->uid, cx->gid, cx->pid);
}

static void fe_open(fuse_req_t req, struct fuse_file_info *fi)
{
	struct azcuse *s = fuse_req_userdata(req);
	const struct fuse_ctx *cx = fuse_req_ctx(req);
	struct opener *op;

	if (!allowed(s, cx)) {
		atomic_fetch_add(&s->refused, 1);
		AZCUSE_LOG(s, UVMBUS_LOG_INFO, "cuse: open by uid %u gid %u pid %d refused",
			   (unsigned)cx->uid, (unsigned)cx->gid, (int)cx->pid);
		fuse_reply_err(req, EACCES);
		return;
	}
	op = malloc(sizeof(*op));
	if (!op) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	op->uid = cx->uid;
	op->gid = cx->gid;
	fi->fh = (uintptr_t)op;
	fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

static void fe_release(fuse_req_t req, struct fuse_file_info *fi)
{
	free((void *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* Read the caller's three buffers into the arena, in the driver's order
 * (request, response, data: each must be mapped, else -EFAULT). */
static int stage_in(const struct azcuse_caller *c, const struct azblob_request_sync_abi *a,
		    const struct azcuse_plan *p, uint8_t *ar)
{
	int rc = azcuse_caller_xfer(c, ar + p->req_off, a->request_buffer, a->request_len, false);

	if (!rc)
		rc = azcuse_caller_xfer(c, ar + p->resp_off, a->response_buffer, a->response_len,
					false);
	if (!rc && a->data_len)
		rc = azcuse_caller_xfer(c, ar + p->data_off, a->data_buffer, a->data_len, false);
	return rc;
}

/* The host wrote into the arena: the response and data buffers go back
 * whole (bytes the host did not write are the caller's own, as with the
 * driver's DMA into pinned pages), then the 8-byte `response`. */
static int stage_out(struct azcuse *s, const struct azcuse_caller *c, uint64_t arg,
		     const struct azblob_request_sync_abi *a, const struct azcuse_plan *p,
		     uint8_t *ar, const struct azcuse_job *j)
{
	struct {
		uint32_t status, response_len;
	} resp = {j->status, j->response_len};
	int rc = azcuse_caller_xfer(c, ar + p->resp_off, a->response_buffer, a->response_len, true);

	if (!rc && a->data_len)
		rc = azcuse_caller_xfer(c, ar + p->data_off, a->data_buffer, a->data_len, true);
	if (rc == -ESRCH)
		return rc;
	if (rc) /* the driver's DMA went to pinned pages whatever the caller did */
		AZCUSE_LOG(s, UVMBUS_LOG_WARN, "cuse: pid %d: buffers unmapped during the request",
			   (int)c->pid);
	return azcuse_caller_xfer(
	    c, &resp, arg + offsetof(struct azblob_request_sync_abi, response), sizeof(resp), true);
}

static int serve(struct azcuse *s, const struct azcuse_caller *c, uint64_t arg,
		 const struct azblob_request_sync_abi *a)
{
	struct azcuse_plan p;
	struct azcuse_job j;
	struct azcuse_arena *ar;
	uint32_t t = a->timeout > AZBLOB_MAX_TIMEOUT_MS ? AZBLOB_MAX_TIMEOUT_MS : a->timeout;
	int rc = azcuse_check_lengths(a);

	if (rc)
		return rc;
	ar = azcuse_arena_get(s, t ? t : 30000);
	if (!ar) {
		AZCUSE_LOG(s, UVMBUS_LOG_WARN,
			   "cuse: no staging arena came free within the timeout");
		return -ETIMEDOUT;
	}
	/* Over the page rule, the driver still faulted on an unmapped buffer
	 * first: each is read (mapped?) at the arena's start, where it fits
	 * (each is 32 MiB at most), then EINVAL. Never at the plan's offsets,
	 * which the rule leaves unset: over 8192 pages they would run past
	 * the arena. */
	rc = azcuse_plan(a, &p);
	if (rc) {
		struct azcuse_plan at0 = {0};

		rc = stage_in(c, a, &at0, ar->base);
		if (!rc)
			rc = -EINVAL;
	} else {
		rc = stage_in(c, a, &p, ar->base);
	}
	if (rc) {
		azcuse_arena_put(s, ar, false);
		return rc;
	}
	memset(&j, 0, sizeof(j));
	j.r.request = ar->base + p.req_off;
	j.r.request_len = a->request_len;
	j.r.response = ar->base + p.resp_off;
	j.r.response_len = a->response_len;
	j.r.data = a->data_len ? ar->base + p.data_off : NULL;
	j.r.data_len = a->data_len;
	j.r.data_valid = a->data_len ? a->data_valid : 0;
	j.r.timeout_ms = t;
	j.r.guid = a->guid;
	if (azcuse_run_staged(s, ar, &j))
		return j.err; /* timed out: the arena is retired */
	if (!j.err)
		j.err = stage_out(s, c, arg, a, &p, ar->base, &j);
	azcuse_arena_put(s, ar, false);
	if (!j.err)
		atomic_fetch_add(&s->completed, 1);
	return j.err;
}

/* cuse_lowlevel.h (3.14) still passes the command as int. */
static void fe_ioctl(fuse_req_t req, int cmd, void *arg, struct fuse_file_info *fi, unsigned flags,
		     const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	struct azcuse *s = fuse_req_userdata(req);
	const struct fuse_ctx *cx = fuse_req_ctx(req);
	const struct opener *op = (const void *)(uintptr_t)fi->fh;
	struct azblob_request_sync_abi a;
	struct azcuse_caller caller = {.pid = 0, .pidfd = -1};
	int rc = azcuse_check_cmd((unsigned)cmd, flags & FUSE_IOCTL_COMPAT), cancel;

	(void)out_bufsz;
	/* libfuse cancels its loop threads when the session ends; a thread
	 * waiting for its job must not vanish: the job lives on its stack
	 * and the owner thread calls it back. The join waits for it instead. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	atomic_fetch_add(&s->ioctls, 1);
	/* The caller is fixed (a pidfd) before its credentials are checked
	 * (the allow-list reads /proc/PID): still there after the check, the
	 * check was of this process, and so is every access to its memory
	 * (cuse_caller.c). */
	if (!rc && azcuse_caller_take(&caller, cx->pid))
		rc = -ESRCH;
	if (!rc && (!allowed(s, cx) || cx->uid != op->uid || cx->gid != op->gid)) {
		atomic_fetch_add(&s->refused, 1);
		rc = -EACCES;
	}
	if (!rc && !azcuse_caller_alive(&caller))
		rc = -ESRCH;
	if (!rc && in_bufsz != sizeof(a))
		rc = -EFAULT; /* the kernel copies exactly _IOC_SIZE in */
	if (!rc) {
		memcpy(&a, in_buf, sizeof(a));
		rc = serve(s, &caller, (uint64_t)(uintptr_t)arg, &a);
	}
	azcuse_caller_drop(&caller);
	if (rc == -EFAULT)
		atomic_fetch_add(&s->faults, 1);
	if (rc == -ESRCH) {
		atomic_fetch_add(&s->gone, 1);
		rc = -EINTR; /* nobody is left to read it */
	}
	if (rc == -EPERM)
		AZCUSE_LOG(s, UVMBUS_LOG_ERR,
			   "cuse: no access to pid %d's memory: the daemon needs CAP_SYS_PTRACE "
			   "(and Yama ptrace_scope below 3)",
			   (int)cx->pid);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_ioctl(req, 0, NULL, 0);
	pthread_setcancelstate(cancel, NULL);
}

static const struct cuse_lowlevel_ops ops = {
    .open = fe_open,
    .release = fe_release,
    .ioctl = fe_ioctl,
};

void azcuse_opts_init(struct azcuse_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->devname = "azure_blob";
	o->arenas = 4;
	o->max_threads = 64;
}

void azcuse_client_opts(struct azblob_opts *co, unsigned arenas)
{
	co->auto_flush = false;
	co->pool_buf_size = AZCUSE_MAX_BYTES;
	co->pool_bufs = arenas ? arenas : 4;
}

void azcuse_ctl_init(struct azcuse_ctl *ctl)
{
	memset(ctl, 0, sizeof(*ctl));
	pthread_mutex_init(&ctl->mu, NULL);
}

void azcuse_stop(struct azcuse_ctl *ctl)
{
	pthread_mutex_lock(&ctl->mu);
	ctl->stop = true;
	if (ctl->se)
		fuse_session_exit(ctl->se);
	pthread_mutex_unlock(&ctl->mu);
}

/* Publish the session to azcuse_stop(): false when a stop came first. */
static bool ctl_publish(const struct azcuse_opts *o, struct fuse_session *se)
{
	bool go = true;

	if (!o->ctl)
		return true;
	pthread_mutex_lock(&o->ctl->mu);
	o->ctl->se = se;
	go = !o->ctl->stop;
	pthread_mutex_unlock(&o->ctl->mu);
	return go;
}

int azcuse_serve(struct azblob_client *c, const struct azcuse_opts *o)
{
	struct azcuse s;
	char devarg[128];
	const char *info[] = {devarg};
	struct cuse_info ci = {.dev_info_argc = 1, .dev_info_argv = info};
	char *argv[] = {"azblob-cuse", "-f", o->debug ? "-d" : NULL, NULL};
	struct fuse_session *se;
	struct fuse_loop_config *cfg;
	int mt = 0, rc;

	snprintf(devarg, sizeof(devarg), "DEVNAME=%s", o->devname ? o->devname : "azure_blob");
	rc = azcuse_core_init(&s, c, o);
	if (rc)
		return rc;
	rc = azcuse_owner_start(&s);
	if (rc) {
		azcuse_core_fini(&s);
		return rc;
	}
	se = cuse_lowlevel_setup(o->debug ? 3 : 2, argv, &ci, &ops, &mt, &s);
	if (!se) {
		AZCUSE_LOG(&s, UVMBUS_LOG_ERR,
			   "cuse: cannot create /dev/%s through /dev/cuse (is the cuse module "
			   "loaded, and are we root?)",
			   o->devname ? o->devname : "azure_blob");
		rc = -ENODEV;
	} else {
		AZCUSE_LOG(&s, UVMBUS_LOG_INFO, "cuse: serving /dev/%s", devarg + 8);
		cfg = fuse_loop_cfg_create();
		fuse_loop_cfg_set_max_threads(cfg, o->max_threads ? o->max_threads : 64);
		fuse_loop_cfg_set_idle_threads(cfg, 4);
		rc = ctl_publish(o, se) ? fuse_session_loop_mt(se, cfg) : 0;
		ctl_publish(o, NULL);
		fuse_loop_cfg_destroy(cfg);
		cuse_lowlevel_teardown(se);
		rc = rc < 0 ? rc : 0;
	}
	azcuse_owner_stop(&s);
	AZCUSE_LOG(&s, UVMBUS_LOG_INFO,
		   "cuse: %llu ioctls, %llu completed, %llu refused, %llu faults, %llu callers "
		   "gone, %llu arenas retired",
		   (unsigned long long)s.ioctls, (unsigned long long)s.completed,
		   (unsigned long long)s.refused, (unsigned long long)s.faults,
		   (unsigned long long)s.gone, (unsigned long long)s.lost);
	azcuse_core_fini(&s);
	return rc;
}
