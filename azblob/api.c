// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The client's own I/O calls: one load of the gate (dead, broken, shared
 * mode) decides between the single-thread core (submit.c, complete.c)
 * and, in shared mode, the client's own queue q0 (queue.c). The layers
 * below never call back up here: api.c -> queue.c -> core.
 */
#include <errno.h>

#include "internal.h"

static __attribute__((noinline)) int submit_gated(struct azblob_client *c,
						  const struct azblob_request *r)
{
	if (c->dead)
		return -ENODEV;
	if (c->broken)
		return -EIO;
	return az_q0_submit(c, r);
}

int azblob_submit(struct azblob_client *c, const struct azblob_request *r)
{
	if (__builtin_expect(c->gate != 0, 0))
		return submit_gated(c, r);
	return az_submit_core(c, r, false);
}

static __attribute__((noinline)) int prep_gated(struct azblob_client *c, struct azblob_prep *p,
						uint32_t request_len, uint32_t data_valid,
						void *user)
{
	if (c->dead)
		return -ENODEV;
	if (c->broken)
		return -EIO;
	return az_q0_prep_submit(c, p, request_len, data_valid, user);
}

int azblob_prep_submit(struct azblob_client *c, struct azblob_prep *p, uint32_t request_len,
		       uint32_t data_valid, void *user)
{
	if (__builtin_expect(c->gate != 0, 0))
		return prep_gated(c, p, request_len, data_valid, user);
	return az_prep_core(c, p, request_len, data_valid, user, false);
}

int azblob_flush(struct azblob_client *c)
{
	if (__builtin_expect(c->dead_or_shared != 0, 0))
		return c->shared ? az_q0_flush(c) : -ENODEV;
	return az_flush_body(c);
}

static __attribute__((noinline)) int poll_gated(struct azblob_client *c, unsigned max)
{
	if (c->shared)
		return az_q0_poll(c, max);
	return c->dead ? -ENODEV : -EIO;
}

int azblob_poll(struct azblob_client *c, unsigned max)
{
	if (__builtin_expect(c->gate != 0, 0))
		return poll_gated(c, max);
	return az_poll_core(c, max);
}

int azblob_wait(struct azblob_client *c, int timeout_ms)
{
	if (c->shared)
		return az_q0_wait(c, timeout_ms);
	return az_wait_core(c, timeout_ms);
}
