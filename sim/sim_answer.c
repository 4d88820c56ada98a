// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The normal host's answers: each request's writable buffers are owned
 * until its answer is written (a guest that hands them out again shows in
 * reused_buffers), answers are held until due (delay faults, timeouts),
 * and the due ones are written into RX in one batch per pass: one index
 * publish, one full fence, one interrupt decision, one statistics update.
 */
#include <string.h>

#include <azblob/vsp_wire.h>

#include "sim_internal.h"

/* ---- buffer ownership: a page the host may write belongs to one
 * unanswered request at a time (counted per SIM_UNIT bytes) ---- */

static void unit_range(const struct azblob_sim *s, const struct sim_run *run, uint64_t *u,
		       uint64_t *end)
{
	*u = run->gpa / SIM_UNIT;
	*end = (run->gpa + run->len + SIM_UNIT - 1) / SIM_UNIT;
	if (*end > s->owned_units)
		*end = s->owned_units;
}

/* The unit loops in chunks of a fixed count: the compiler turns each
 * chunk into a few vector instructions (a 64 KiB buffer is 1024 units, a
 * 512-byte response 8). */
#define OWN_CHUNK 16

static uint16_t units_or(const uint16_t *o, uint64_t u, uint64_t end)
{
	uint16_t acc = 0;

	for (; u + OWN_CHUNK <= end; u += OWN_CHUNK)
		for (unsigned j = 0; j < OWN_CHUNK; j++)
			acc |= o[u + j];
	if (u + OWN_CHUNK / 2 <= end) {
		for (unsigned j = 0; j < OWN_CHUNK / 2; j++)
			acc |= o[u + j];
		u += OWN_CHUNK / 2;
	}
	for (; u < end; u++)
		acc |= o[u];
	return acc;
}

/* Counts wrap within their unit (never more owners than requests). */
static void units_add(uint16_t *o, uint64_t u, uint64_t end, uint16_t delta)
{
	for (; u + OWN_CHUNK <= end; u += OWN_CHUNK)
		for (unsigned j = 0; j < OWN_CHUNK; j++)
			o[u + j] = (uint16_t)(o[u + j] + delta);
	if (u + OWN_CHUNK / 2 <= end) {
		for (unsigned j = 0; j < OWN_CHUNK / 2; j++)
			o[u + j] = (uint16_t)(o[u + j] + delta);
		u += OWN_CHUNK / 2;
	}
	for (; u < end; u++)
		o[u] = (uint16_t)(o[u] + delta);
}

bool sim_own_claim(struct azblob_sim *s, const struct sim_run *runs, int n)
{
	uint16_t taken = 0;
	uint64_t u, end;

	/* Look first, then take: a request's own buffers may share a unit
	 * (data ending where its response begins). */
	for (int r = 0; r < n; r++) {
		unit_range(s, &runs[r], &u, &end);
		taken |= units_or(s->owned, u, end);
	}
	for (int r = 0; r < n; r++) {
		unit_range(s, &runs[r], &u, &end);
		units_add(s->owned, u, end, 1);
	}
	return taken != 0;
}

static void own_release(struct azblob_sim *s, const struct sim_pending *p)
{
	uint64_t u, end;

	for (unsigned r = 0; r < p->nruns; r++) {
		unit_range(s, &p->runs[r], &u, &end);
		units_add(s->owned, u, end, (uint16_t)-1);
	}
}

/* ---- holding ---- */

void sim_hold(struct azblob_sim *s, uint64_t tid, uint32_t status, uint32_t rlen,
	      uint32_t timeout_ms, const struct sim_run *runs, int nruns)
{
	uint64_t delay; /* from this pass's time: no clock read per request */
	struct sim_pending *p;

	/* The sim thread's copy of the settings (see housekeeping). */
	delay = (uint64_t)s->cur_delay_us * 1000;
	if (s->cur_jitter_us)
		delay += (sim_rnd(s) % ((uint64_t)s->cur_jitter_us + 1)) * 1000;
	/* A request the host cannot answer within its timeout completes at
	 * the deadline with a timeout status, as the VSP does. */
	if (timeout_ms && s->cur.late_ms) {
		delay = ((uint64_t)timeout_ms + s->cur.late_ms) * 1000000;
		status = AZBLOB_VSP_STATUS_IO_TIMEOUT;
		rlen = 0;
		SIM_STAT_ADD(s, timeouts, 1);
	} else if (timeout_ms && delay > (uint64_t)timeout_ms * 1000000) {
		delay = (uint64_t)timeout_ms * 1000000;
		status = AZBLOB_VSP_STATUS_IO_TIMEOUT;
		rlen = 0;
		SIM_STAT_ADD(s, timeouts, 1);
	}
	if (s->nheld == SIM_MAX_REQS) { /* more in flight than any guest queue */
		status = AZBLOB_VSP_STATUS_INTERNAL_ERROR;
		delay = 0;
		s->nheld--; /* overwrite the newest; the guest broke its queue depth */
		own_release(s, &s->held[s->nheld]);
	}
	p = &s->held[s->nheld++];
	p->trans_id = tid;
	p->due_ns = s->now + delay;
	p->status = status;
	p->response_len = rlen;
	p->nruns = (uint8_t)(nruns > 0 ? nruns : 0);
	p->dropped = p->orphan = false;
	if (nruns > 0)
		memcpy(p->runs, runs, (size_t)nruns * sizeof(*runs));
}

/* ---- writing answers ---- */

/* The shape of completion packets (the completion_type and
 * completion_extra8 faults; {0, 0}: type 11, offset8 2). */
struct cshape {
	uint16_t type, extra8;
};

#define CSHAPE_MAX_EXTRA8 255u

/* One pass's answers: staged in RX, published at the end. */
struct emitter {
	struct hring_batch b;
	uint64_t completions, errors;
};

/* Stage one packet; false when RX has no room (the guest is asked to
 * signal once it has). */
static bool stage(struct azblob_sim *s, struct emitter *e, const void *pkt, uint32_t len)
{
	if (hring_batch_put(&s->rx, &e->b, pkt, len)) {
		/* Ask the guest to signal once a packet fits, then look again
		 * (store -> load): it may have made room before it saw that. */
		__atomic_store_n(s->rx.pending, len + 8u, __ATOMIC_SEQ_CST);
		atomic_thread_fence(memory_order_seq_cst);
		if (hring_batch_put(&s->rx, &e->b, pkt, len)) {
			if (!s->rx_waiting)
				SIM_STAT_ADD(s, rx_full, 1);
			s->rx_waiting = true;
			return false;
		}
		s->rx_waiting = true; /* cleared below, with pending_send_sz */
	}
	if (s->rx_waiting) {
		s->rx_waiting = false;
		__atomic_store_n(s->rx.pending, 0u, __ATOMIC_SEQ_CST);
	}
	return true;
}

static bool write_completion(struct azblob_sim *s, struct emitter *e, uint64_t tid, uint32_t status,
			     uint32_t rlen, struct cshape sh)
{
	uint8_t pkt[32 + 8 * CSHAPE_MAX_EXTRA8];
	uint16_t extra8 = sh.extra8 < CSHAPE_MAX_EXTRA8 ? sh.extra8 : CSHAPE_MAX_EXTRA8;
	uint32_t len = 32u + 8u * extra8;
	struct vmbus_pkt_desc d = {.type = sh.type ? sh.type : VMBUS_PKT_COMPLETION,
				   .offset8 = (uint16_t)(2 + extra8),
				   .len8 = (uint16_t)(len / 8),
				   .trans_id = tid};
	struct azblob_vsp_response rsp = {
	    .length = sizeof(rsp), .error = status, .response_len = rlen};

	/* Only the packet's own bytes are cleared: the response's padding
	 * and the extra header (zero, as documented). */
	if (extra8)
		memset(pkt, 0, len);
	else
		memset(pkt, 0, 32); /* a constant size: no call */
	memcpy(pkt, &d, sizeof(d));
	memcpy(pkt + 8u * d.offset8, &rsp, sizeof(rsp));
	if (!stage(s, e, pkt, len))
		return false;
	e->completions++;
	e->errors += status != 0;
	return true;
}

static void corrupt_descriptor(struct azblob_sim *s, struct emitter *e)
{
	uint8_t pkt[32] = {0};
	struct vmbus_pkt_desc d = {
	    .type = VMBUS_PKT_COMPLETION, .offset8 = 1, .len8 = 4, .trans_id = 1};

	memcpy(pkt, &d, sizeof(d));
	(void)hring_batch_put(&s->rx, &e->b, pkt, sizeof(pkt)); /* no room: no fault */
}

/* Emit one due answer with the faults that apply to it. Returns false
 * when RX is full (the answer stays held). */
static bool emit(struct azblob_sim *s, struct emitter *e, struct sim_pending *p)
{
	struct azblob_sim_faults *f = &s->faults;

	if (p->orphan) {
		/* dma_after_close: the late write lands in whatever the guest
		 * now keeps in those pages. */
		for (unsigned i = 0; i < p->nruns; i++)
			sim_mem_fill(s, p->runs[i].gpa, 0xa5, p->runs[i].len);
		SIM_STAT_ADD(s, faults, 1);
	}

	/* No one-shot fault armed: no lock on the common path. */
	if (!atomic_load_explicit(&s->oneshots, memory_order_acquire))
		return write_completion(s, e, p->trans_id, p->status, p->response_len,
					(struct cshape){0, 0});
	pthread_mutex_lock(&s->lock);
	struct cshape sh = {f->completion_type, f->completion_extra8};

	if (f->corrupt) {
		f->corrupt--;
		SIM_STAT_ADD(s, faults, 1);
		pthread_mutex_unlock(&s->lock);
		corrupt_descriptor(s, e);
		return true;
	}
	if (f->drop) {
		f->drop--;
		SIM_STAT_ADD(s, faults, 1);
		pthread_mutex_unlock(&s->lock);
		p->dropped = true;
		return true;
	}
	bool dup = f->duplicate && f->duplicate--;
	bool unknown = f->unknown_tid && f->unknown_tid--;

	if (f->oversize_response && !p->status) {
		f->oversize_response--;
		p->response_len = UINT32_MAX / 2;
		SIM_STAT_ADD(s, faults, 1);
	}
	SIM_STAT_ADD(s, faults, dup + unknown);
	pthread_mutex_unlock(&s->lock);

	if (unknown &&
	    !write_completion(s, e, 0x7fff000000000000ull | (sim_rnd(s) & 0xffffffff), 0, 0, sh))
		return false;
	if (!write_completion(s, e, p->trans_id, p->status, p->response_len, sh))
		return false;
	if (dup)
		write_completion(s, e, p->trans_id, p->status, p->response_len, sh);
	return true;
}

void sim_emit_due(struct azblob_sim *s)
{
	uint64_t now = s->now;
	struct emitter e = {0};
	unsigned keep = 0;
	bool full = false;

	hring_batch_begin(&s->rx, &e.b);
	/* Oldest first: held[] is in arrival order and delays are equal or
	 * jittered; emit every due one, keep the order of the rest. */
	for (unsigned i = 0; i < s->nheld; i++) {
		struct sim_pending *p = &s->held[i];

		if (!full && p->due_ns <= now) {
			if (emit(s, &e, p)) {
				/* Answered (or dropped: then the guest never gets it
				 * back and must never reuse it either, so it stays
				 * owned). */
				if (!p->dropped)
					own_release(s, p);
				continue;
			}
			full = true; /* RX full: wait for the guest */
		}
		if (keep != i)
			s->held[keep] = *p;
		keep++;
	}
	s->nheld = keep;
	/* Counted before the guest can see them: a guest that reads the
	 * statistics after its answers finds them there. */
	if (e.completions)
		SIM_STAT_ADD(s, completions, e.completions);
	if (e.errors)
		SIM_STAT_ADD(s, errors, e.errors);
	if (hring_batch_publish(&s->rx, &e.b) && !__atomic_load_n(s->rx.mask, __ATOMIC_SEQ_CST))
		sim_conn_interrupt(s);
}
