/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The CUSE front end: /dev/azure_blob in user space, serving the original
 * kernel driver's ioctl (docs/CUSE.md) over a libazblob client.
 *
 * Threads: libfuse's multi-threaded loop takes the callers' ioctls (one
 * loop thread per caller blocked in the ioctl); one owner thread is the
 * only one to touch the client (libazblob clients are one-thread). A loop
 * thread checks the caller, copies its buffers into a staging arena with
 * process_vm_readv, queues the request to the owner thread, sleeps until
 * it completes and copies the answer back with process_vm_writev.
 */
#ifndef AZBLOBD_CUSE_H
#define AZBLOBD_CUSE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include <azblob.h>

struct azcuse;

/* May this caller use the device? (The daemon's allow-list.) Called at
 * open and at every ioctl, from the loop threads: must be thread-safe. */
typedef bool (*azcuse_may_use_fn)(void *ctx, uid_t uid, gid_t gid, pid_t pid);

struct azcuse_opts {
	const char *devname;	   /* "azure_blob" (default) */
	unsigned arenas;	   /* requests staged at once, 32 MiB each (default 4) */
	unsigned max_threads;	   /* libfuse loop threads at most (default 64) */
	azcuse_may_use_fn may_use; /* NULL: everyone the node's mode lets in */
	void *may_use_ctx;
	bool debug; /* libfuse's -d */
	struct uvmbus_log log;
	struct azcuse_ctl *ctl; /* NULL, or azcuse_stop() may end the loop */
};

/* To stop an azcuse_serve() running in another thread (a daemon hosting
 * the front end, whose own signal handling keeps libfuse's handlers from
 * ever running). */
struct azcuse_ctl {
	pthread_mutex_t mu;
	bool stop;
	void *se; /* the libfuse session while the loop runs */
};

void azcuse_ctl_init(struct azcuse_ctl *ctl);
/* Ask the loop to end: what callers have in flight completes, later
 * ioctls are not taken, the device node goes. Idempotent. The loop sleeps
 * in sem_wait(): also interrupt the serving thread with a signal it does
 * not block and handles with a no-op handler (no SA_RESTART); call again
 * until azcuse_serve() has returned (a signal can land just before the
 * sleep). */
void azcuse_stop(struct azcuse_ctl *ctl);

void azcuse_opts_init(struct azcuse_opts *o);

/* Client options the front end needs: a pool whose buffers are its
 * staging arenas (arenas x 32 MiB), and no auto_flush (a failed submit
 * must mean no callback; the owner thread flushes once per batch). Call
 * before azblob_open(). */
void azcuse_client_opts(struct azblob_opts *co, unsigned arenas);

/* Create /dev/<devname> through /dev/cuse and serve until SIGINT, SIGTERM
 * or SIGHUP (libfuse's handlers) or azcuse_stop(o->ctl). The client must have
 * been opened with azcuse_client_opts(); it is used by the owner thread
 * only, and is left open. Returns 0, or a negative errno with a message. */
int azcuse_serve(struct azblob_client *c, const struct azcuse_opts *o);

#endif /* AZBLOBD_CUSE_H */
