/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The CUSE front end's parts: the owner thread and its queue (cuse_owner.c),
 * the libfuse glue and the caller's memory (cuse_fe.c). */
#ifndef AZBLOBD_CUSE_INTERNAL_H
#define AZBLOBD_CUSE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "cuse.h"
#include "cuse_abi.h"

struct azcuse_arena {
	uint8_t *base; /* page-aligned, AZCUSE_MAX_BYTES */
	bool busy;
	bool lost; /* the host never answered a request staged here: never reused */
};

/* One request on its way: lives on the stack of the loop thread that
 * waits for it. */
struct azcuse_job {
	struct azcuse_job *next;
	struct azblob_request r;
	struct azcuse *s;
	pthread_cond_t cv;
	bool done;
	int err;
	uint32_t status, response_len;
};

struct azcuse {
	struct azblob_client *c;
	struct azcuse_opts o;
	pthread_mutex_t mu;
	pthread_cond_t work;	 /* owner: a job was queued, or stop */
	pthread_cond_t arena_cv; /* loop threads: an arena came free */
	struct azcuse_job *head, **tail;
	unsigned inflight;
	bool stop;
	pthread_t owner;
	struct azcuse_arena *arenas;
	unsigned narenas;
	atomic_ullong ioctls, completed, refused, faults, lost, gone;
};

/* Set up (locks, the staging arenas from the client's pool) and tear down. */
int azcuse_core_init(struct azcuse *s, struct azblob_client *c, const struct azcuse_opts *o);
void azcuse_core_fini(struct azcuse *s);

/* Owner thread and queue. */
int azcuse_owner_start(struct azcuse *s);
void azcuse_owner_stop(struct azcuse *s);
/* Queue a job (its r filled) and wait for its completion. */
void azcuse_run_job(struct azcuse *s, struct azcuse_job *j);
/* Run a job staged in ar: 0 (the caller still holds ar), or -ETIMEDOUT
 * when the host did not answer: ar is then retired, never reused. */
int azcuse_run_staged(struct azcuse *s, struct azcuse_arena *ar, struct azcuse_job *j);
/* Take a free arena, waiting up to timeout_ms: NULL when none came. */
struct azcuse_arena *azcuse_arena_get(struct azcuse *s, uint32_t timeout_ms);
/* Give it back; lost: the host may still write it (never reused). */
void azcuse_arena_put(struct azcuse *s, struct azcuse_arena *a, bool lost);

/* The caller of an ioctl (cuse_caller.c): a pidfd on its thread group,
 * taken before its credentials are checked, and that group's PID. */
struct azcuse_caller {
	pid_t pid; /* the thread group: process_vm_* reach its memory */
	int pidfd;
};

/* Take the caller of thread tid: 0, or -ESRCH (gone, or no pidfd). */
int azcuse_caller_take(struct azcuse_caller *c, pid_t tid);
/* Has it not exited (its PID still its own)? */
bool azcuse_caller_alive(const struct azcuse_caller *c);
void azcuse_caller_drop(struct azcuse_caller *c);
/* Move len bytes between local and the caller's raddr, the pidfd checked
 * before and after each system call: 0, -EFAULT (not mapped, or partly),
 * -ESRCH (the caller is gone: nothing read is to be used), -EPERM. */
int azcuse_caller_xfer(const struct azcuse_caller *c, void *local, uint64_t raddr, size_t len,
		       bool to_caller);

#define AZCUSE_LOG(s, lvl, ...) uvmbus_log_printf(&(s)->o.log, lvl, __VA_ARGS__)

#endif
