// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Calls that wait: submitting with a bounded wait for a free slot, and the
 * original driver's synchronous call. A caller that waits never waits
 * longer than its own timeout, and never returns while a request whose
 * callback points into its stack is in flight.
 */
#include <errno.h>

#include "internal.h"

int az_submit_until(struct azblob_client *c, const struct azblob_request *r, uint64_t deadline_ns)
{
	for (;;) {
		int rc = azblob_submit(c, r);
		uint64_t now;

		if (rc != -EAGAIN)
			return rc;
		now = az_now(c);
		if (now >= deadline_ns) {
			az_mem_lock(c); /* shared mode: counters under the lock */
			c->st.slot_timeouts++;
			az_log(
			    c, UVMBUS_LOG_WARN,
			    "azblob: no room for a request within its timeout: %u of %u slots are "
			    "held by requests the host has not answered, %u in flight",
			    c->held, c->qd, c->inflight);
			az_mem_unlock(c);
			return -ETIMEDOUT;
		}
		/* Make room the way an ioctl caller would wait: publish what is
		 * queued, reap, sleep briefly (never past the deadline). */
		rc = azblob_flush(c);
		if (rc == -ENODEV)
			return rc;
		rc = azblob_poll(c, 0);
		if (rc < 0)
			return rc;
		if (rc == 0)
			az_wait_until(c, now, deadline_ns);
	}
}

struct sync_result {
	bool done;
	int err;
	uint32_t status, len;
};

static void sync_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct sync_result *r = user;

	r->done = true;
	r->err = err;
	r->status = status;
	r->len = len;
}

int azblob_request_sync(struct azblob_client *c, struct azblob_request_sync_abi *a)
{
	struct sync_result res = {0};
	struct azblob_request r = {
	    .request = (const void *)(uintptr_t)a->request_buffer,
	    .request_len = a->request_len,
	    .response = (void *)(uintptr_t)a->response_buffer,
	    .response_len = a->response_len,
	    .data = (void *)(uintptr_t)a->data_buffer,
	    .data_len = a->data_len,
	    .data_valid = a->data_valid,
	    .timeout_ms = a->timeout,
	    .guid = a->guid,
	    .done = sync_done,
	    .user = &res,
	};
	uint32_t t = a->timeout ? a->timeout : c->opts.default_timeout_ms;
	uint64_t deadline;
	int rc;

	if (a->reserved) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: request_sync: the padding field must be 0");
		return -EINVAL;
	}
	if (a->timeout > AZBLOB_MAX_TIMEOUT_MS) {
		az_log(c, UVMBUS_LOG_ERR,
		       "azblob: request_sync: timeout above AZBLOB_MAX_TIMEOUT_MS");
		return -EINVAL;
	}
	if (!a->data_len) { /* the driver looked at data_valid only with data */
		r.data = NULL;
		r.data_valid = 0;
	}
	/* Waiting for a slot is bounded by the request's own timeout; the
	 * request then has its whole timeout at the host. */
	deadline = az_now(c) + (uint64_t)t * 1000000u;
	rc = az_submit_until(c, &r, deadline);
	if (rc == -EAGAIN || rc == -ETIMEDOUT)
		return -ETIMEDOUT;
	if (rc)
		return rc;
	rc = azblob_flush(c);
	while (!res.done) {
		rc = azblob_poll(c, 0);
		if (rc < 0 && !res.done) {
			/* Never leave with our callback reachable: res is on the stack. */
			az_cancel_user(c, sync_done, &res, &res + 1);
			break;
		}
		if (!res.done && !c->opts.interrupt_mode)
			continue; /* busy-poll: the fast path */
		if (!res.done)
			azblob_wait(c, -1);
	}
	a->response.status = res.status;
	a->response.response_len = res.len;
	return res.err;
}
