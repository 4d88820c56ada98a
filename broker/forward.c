// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Forwarding: a client's checked requests go to the device through the
 * daemon's own libazblob client (its own trans_ids, buffers inside the
 * client's arena: pinned and used in place on a device, copied through
 * the daemon's pool on a simulator); the answers go back into the
 * client's RX ring under the client's trans_id.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "azd.h"

#define BUDGET 32u /* TX packets per session per pass */

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010 /* Linux 5.1 */
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

static struct azd_rec *rec_get(struct azd_session *s)
{
	struct azd_rec *r = &s->recs[s->free_recs[--s->nfree]];

	s->inflight++;
	if (s->inflight > s->st.max_inflight)
		s->st.max_inflight = s->inflight;
	return r;
}

static void rec_put(struct azd_session *s, struct azd_rec *r)
{
	r->state = REC_FREE;
	s->free_recs[s->nfree++] = (uint32_t)(r - s->recs);
	s->inflight--;
}

static void answer(struct azd_session *s, struct azd_rec *r, uint32_t status, uint32_t len)
{
	r->rsp.length = sizeof(r->rsp);
	r->rsp.error = status;
	r->rsp.response_len = len;
	if (s->state != SESS_ACTIVE) {
		s->st.dropped++;
		rec_put(s, r);
		return;
	}
	r->state = REC_ANSWER;
	s->answers[(s->ans_head + s->ans_count++) % s->qd] = (uint32_t)(r - s->recs);
}

/* The device answered (or gave up). */
static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct azd_rec *r = user;
	struct azd_session *s = r->s;

	if (err == -ETIMEDOUT) {
		s->st.timeouts++;
		if (s->registered) {
			/* The host may still write these arena pages: no answer
			 * (the client times out on its own and holds its buffers),
			 * and the arena stays registered until the host answers. */
			r->state = REC_HELD;
			s->held++;
			s->d->st.held_now++;
			return;
		}
	}
	if (err)
		status = err == -ETIMEDOUT ? AZBLOB_VSP_STATUS_IO_TIMEOUT
					   : AZBLOB_VSP_STATUS_INTERNAL_ERROR;
	if (status)
		s->st.errors++;
	answer(s, r, status, err ? 0 : len);
}

void azd_on_release(void *arg, void *user, int err, uint32_t status, uint32_t len)
{
	struct azd_rec *r = user;
	struct azd_session *s = r->s;
	struct azd *d = arg;

	/* Not held (the copy path: answered as usual), or the channel died
	 * or closes (err): the host may still write those arena pages, so the
	 * record stays held, and the client, which timed the request out
	 * too, keeps its buffers (the session ends with the device). */
	if (r->state != REC_HELD || err)
		return;
	/* The pages are the session's again. The client gets the host's late
	 * answer, as from a device: its libazblob absorbs it (late) and frees
	 * its slot; the record is free once that answer is in its RX ring. */
	s->held--;
	d->st.held_now--;
	d->st.late_returned++;
	answer(s, r, status, len);
}

static void interrupt(struct azd_session *s)
{
	uint32_t one = 1;

	if (s->fd >= 0 && send(s->fd, &one, sizeof(one), MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		s->st.interrupts++;
}

/* Answers into RX, oldest first, as long as there is room. */
static unsigned flush_answers(struct azd_session *s)
{
	unsigned n = 0;
	bool sig = false;

	while (s->ans_count) {
		struct azd_rec *r = &s->recs[s->answers[s->ans_head]];
		bool one = false;
		int rc =
		    uvmbus_pkt_write_completion(s->rx, r->trans_id, &r->rsp, sizeof(r->rsp), &one);

		if (rc == -EAGAIN) {
			s->st.rx_full++;
			break;
		}
		if (rc) {
			azd_session_close(s, "its RX ring is corrupt");
			return n;
		}
		sig |= one;
		s->ans_head = (s->ans_head + 1) % s->qd;
		s->ans_count--;
		s->st.completed++;
		rec_put(s, r);
		n++;
	}
	if (sig)
		interrupt(s);
	return n;
}

/* Submit s->req; -EAGAIN: the device has no room now (kept for later). */
static int forward(struct azd *d, struct azd_session *s)
{
	const struct azd_req *q = &s->req;
	struct azd_rec *r;
	int rc;

	r = rec_get(s);
	r->trans_id = q->trans_id;
	struct azblob_request a = {
	    .request = s->arena + q->request_off,
	    .request_len = q->q.request_buffer_length,
	    .response = s->arena + q->response_off,
	    .response_len = q->q.response_buffer_length,
	    .data = q->q.data_buffer_length ? s->arena + q->data_off : NULL,
	    .data_len = q->q.data_buffer_length,
	    .data_valid = q->q.data_buffer_valid,
	    .timeout_ms = q->q.timeout_ms,
	    .guid = q->q.transaction_id,
	    .done = on_done,
	    .user = r,
	};

	rc = azblob_submit(d->dev, &a);
	if (rc == -EAGAIN || rc == -ENOMEM) {
		rec_put(s, r);
		s->st.device_busy++;
		d->device_full = true; /* for every session, until the next pass */
		return -EAGAIN;
	}
	if (rc) {
		/* Refused by the device client (a request our parser let
		 * through but the device cannot take): answered, not fatal. */
		azd_log(d, 4, "client %llu: request refused by the device client: %s",
			(unsigned long long)s->id, strerror(-rc));
		answer(s, r, AZBLOB_VSP_STATUS_INVALID_PARAMETER, 0);
		s->st.errors++;
		return 0;
	}
	r->state = REC_DEVICE;
	d->submitted = true;
	d->rr_last = s->id;
	s->st.requests++;
	s->st.bytes_in += q->q.data_buffer_valid;
	return 0;
}

/* At its first packet the client has mapped its rings and arena (its
 * library maps them at open): from then on nobody maps them writable again
 * or punches holes in them (F_SEAL_FUTURE_WRITE: fallocate(PUNCH_HOLE) is
 * EPERM), and the holes it punched before are filled again now, where a
 * failure is still a refusal (a read of a hole in a hugetlb arena with no
 * free huge page would be a SIGBUS in the copy path). true: sealed (or the
 * kernel has no such seal: a hole then reads as zeros on shmem); false: the
 * session was closed. */
static bool seal(struct azd_session *s)
{
	static bool warned;
	int fds[2] = {s->ring_fd, s->arena_fd};

	s->sealed = true;
	for (int i = 0; i < 2; i++) {
		if (!fcntl(fds[i], F_ADD_SEALS, F_SEAL_FUTURE_WRITE | F_SEAL_SEAL))
			continue;
		if (errno == EINVAL) { /* before 5.1 */
			if (!warned)
				azd_log(s->d, 4,
					"this kernel has no F_SEAL_FUTURE_WRITE: clients may punch "
					"holes in their arenas (docs/BROKER.md)");
			warned = true;
			return true;
		}
		/* F_SEAL_SEAL already: the client's. Only ours would do. */
		if (!(fcntl(fds[i], F_GET_SEALS) & F_SEAL_FUTURE_WRITE)) {
			azd_session_close(s, "its memory is sealed against the daemon's seal");
			return false;
		}
	}
	if ((madvise(s->ring_map, 2 * s->ring_bytes, MADV_POPULATE_WRITE) ||
	     madvise(s->arena, s->arena_bytes, MADV_POPULATE_WRITE)) &&
	    errno != EINVAL) {
		azd_session_close(s, "its memory has holes that cannot be filled");
		return false;
	}
	return true;
}

/* Read and check the next TX packet into s->req. 1: a request to
 * forward, 0: nothing (empty), -1: the session was closed. */
static int next_request(struct azd_session *s)
{
	enum azd_violation v;
	size_t len;
	int rc;

	for (;;) {
		rc = azd_next_packet(s->tx, &s->tx_seen, s->pkt, s->pkt_cap, &len);
		if (rc == 0)
			return 0;
		if (rc < 0) {
			azd_session_close(s, rc == -ERANGE ? "its TX write index moved backwards"
							   : "its TX ring is corrupt");
			return -1;
		}
		s->tx_dirty = true;
		if (!s->sealed && !seal(s))
			return -1;
		v = azd_check(s->pkt, len, s->arena_bytes / VMBUS_PAGE_SIZE, s->d->o.max_pages,
			      &s->req);
		if (v == AZD_OK)
			return 1;
		s->st.rejected++;
		s->st.violations[v]++;
		azd_log(s->d, 6, "client %llu: request refused: %s", (unsigned long long)s->id,
			azd_violation_name(v));
		if (azd_violation_answered(v)) {
			struct azd_rec *r = rec_get(s);

			r->trans_id = s->req.trans_id; /* non-zero: read from the descriptor */
			answer(s, r, AZBLOB_VSP_STATUS_INVALID_PARAMETER, 0);
		}
		if (s->inflight >= s->qd)
			return 0;
	}
}

/* Its requests at the device now (not answered yet, not held after a
 * timeout): what its share bounds. */
static uint32_t at_device(const struct azd_session *s)
{
	return s->inflight - s->ans_count - s->held;
}

uint32_t azd_share(const struct azd *d)
{
	uint32_t cap = d->o.device_qd;

	if (d->bounce && d->o.bounce_bufs < cap)
		cap = d->o.bounce_bufs;
	return cap / 2 ? cap / 2 : 1;
}

unsigned azd_serve(struct azd *d, struct azd_session *s)
{
	unsigned n = 0, got = 0;
	uint32_t share = azd_share(d);
	bool sig = false;

	if (s->state != SESS_ACTIVE)
		return 0;
	n += flush_answers(s);
	/* Draining (SIGTERM) or revoked: answers still go out, new requests
	 * are not read (the session ends). The device refused a request this
	 * pass: nobody tries again before the next pass, which begins with the
	 * session after the last one served. */
	while (s->state == SESS_ACTIVE && !d->stopping && !s->revoked_ns && !d->device_full &&
	       got < BUDGET) {
		if (!s->have_pending) {
			if (s->inflight >= s->qd) {
				s->st.qd_full++;
				break;
			}
			if (at_device(s) >= share) {
				s->st.share_full++;
				break;
			}
			int rc = next_request(s);

			if (rc <= 0)
				break;
			s->have_pending = true;
			got++;
		}
		if (forward(d, s))
			break;
		s->have_pending = false;
	}
	if (s->state != SESS_ACTIVE)
		return n + got;
	if (s->tx_dirty) {
		s->tx_dirty = false;
		uvmbus_ring_read_commit(s->tx, &sig);
		if (sig)
			interrupt(s); /* the client waits for TX room */
	}
	if (s->ans_count)
		n += flush_answers(s);
	return n + got;
}

unsigned azd_serve_all(struct azd *d)
{
	struct azd_session *start = NULL, *s;
	unsigned n = 0;

	/* The list is newest first (ids going down): the pass begins with the
	 * first session after the one that last got a request to the device,
	 * and wraps around, so a slot the device frees goes to each waiting
	 * session in turn whatever its place in the list. */
	for (s = d->sessions; s && !start; s = s->next)
		if (s->id < d->rr_last)
			start = s;
	d->device_full = false;
	for (s = start; s; s = s->next)
		n += azd_serve(d, s);
	for (s = d->sessions; s && s != start; s = s->next)
		n += azd_serve(d, s);
	return n;
}

bool azd_unmask_tx(struct azd_session *s, bool unmask)
{
	bool readable;

	if (s->state != SESS_ACTIVE)
		return false;
	readable = uvmbus_ring_set_interrupt_mask(s->tx, !unmask) && unmask;
	/* At its queue depth or its share of the device, what it has queued
	 * waits for one of its answers (the device's interrupt wakes the
	 * loop), not for a spin. */
	return readable && !s->revoked_ns && s->inflight < s->qd && at_device(s) < azd_share(s->d);
}
