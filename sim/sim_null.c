// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The null host (opts.backend = "null", azblob-vspd --backend null): for
 * measuring the client alone. Every request is answered at once with
 * status 0 and no response bytes, in batches: take every packet TX holds,
 * write all their completions into RX, then publish both indices and make
 * one interrupt decision. It checks only what the ring itself needs (the
 * indices, each descriptor's offset8/len8 against the readable bytes): no
 * VSP field validation, no HTTP, no buffer ownership, no faults, no
 * delays. A corrupt TX ring breaks the channel, as with the normal host.
 *
 * azblob_sim_step() runs one pass of it in the caller's thread, for
 * single-threaded harnesses (azblob-bench --modes cost), once
 * azblob_sim_join() took the serving thread back (the guest's open needs
 * a host that answers its connection).
 */
#include <errno.h>
#include <string.h>

#include <azblob/vsp_wire.h>

#include "sim_internal.h"

#define NULL_CPL_LEN 32u /* descriptor, response, padding */
#define NULL_CPL_ALL (NULL_CPL_LEN + 8u)

static int null_open(void **state, const char *arg, const struct uvmbus_log *log)
{
	(void)arg;
	(void)log;
	*state = NULL;
	return 0;
}

static uint32_t null_handle(void *state, struct azblob_sim_req *r, uint32_t *response_len,
			    uint32_t *data_out)
{
	(void)state;
	(void)r;
	*response_len = 0;
	*data_out = 0;
	return AZBLOB_VSP_STATUS_OK;
}

static void null_close(void *state)
{
	(void)state;
}

const struct azblob_sim_backend sim_null_backend = {"null", null_open, null_handle, null_close};

static int null_broken(struct azblob_sim *s, uint32_t at)
{
	__atomic_fetch_add(&s->st.violations[AZBLOB_SIM_V_DESCRIPTOR], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->st.violations_total, 1, __ATOMIC_RELAXED);
	sim_log(s, UVMBUS_LOG_ERR, "guest rings are corrupt (TX at %u): channel broken", at);
	s->null_broken = true;
	return -EIO;
}

int sim_null_drain(struct azblob_sim *s)
{
	struct hring *tx = &s->tx, *rx = &s->rx;
	uint32_t at = s->tx_read, tw, rw, rr, room, w;
	unsigned n = 0, answered = 0;
	bool irq = false;

	if (s->null_broken)
		return -EIO;
	tw = __atomic_load_n(tx->w, __ATOMIC_ACQUIRE);
	if (tw == at)
		return 0;
	rw = __atomic_load_n(rx->w, __ATOMIC_RELAXED); /* ours */
	rr = __atomic_load_n(rx->r, __ATOMIC_ACQUIRE);
	if (tw >= tx->size || (tw & 7) || rr >= rx->size || (rr & 7) || rw >= rx->size)
		return null_broken(s, at);
	room = rw >= rr ? rx->size - (rw - rr) : rr - rw;
	w = rw;
	/* 1. every packet TX holds, while RX has room for its answer */
	while (at != tw) {
		uint32_t avail = tw >= at ? tw - at : tx->size - at + tw;
		struct vmbus_pkt_desc d;

		if (avail < 24)
			return null_broken(s, at);
		hring_get(tx, at, &d, sizeof(d));
		if (d.offset8 < 2 || d.offset8 > d.len8 || (uint32_t)d.len8 * 8 + 8 > avail)
			return null_broken(s, at);
		if (d.flags & VMBUS_PKT_FLAG_COMPLETION_REQUESTED) {
			uint8_t c[NULL_CPL_ALL] = {0};
			struct vmbus_pkt_desc cd = {.type = VMBUS_PKT_COMPLETION,
						    .offset8 = 2,
						    .len8 = NULL_CPL_LEN / 8,
						    .trans_id = d.trans_id};
			struct azblob_vsp_response rsp = {.length = sizeof(rsp)};
			uint64_t trailer = (uint64_t)w << 32;

			if (room <= NULL_CPL_ALL) {
				/* RX full: ask the guest to signal once it has room,
				 * then look again (store->load, a full fence): it may
				 * have made room before it saw pending_send_sz. */
				__atomic_store_n(rx->pending, NULL_CPL_ALL, __ATOMIC_SEQ_CST);
				atomic_thread_fence(memory_order_seq_cst);
				rr = __atomic_load_n(rx->r, __ATOMIC_ACQUIRE);
				if (rr >= rx->size || (rr & 7))
					return null_broken(s, at);
				room = w >= rr ? rx->size - (w - rr) : rr - w;
				if (room <= NULL_CPL_ALL) {
					if (!s->rx_waiting)
						__atomic_fetch_add(&s->st.rx_full, 1,
								   __ATOMIC_RELAXED);
					s->rx_waiting = true;
					break;
				}
				s->rx_waiting = true; /* cleared below, with pending_send_sz */
			}
			memcpy(c, &cd, sizeof(cd));
			memcpy(c + sizeof(cd), &rsp, sizeof(rsp));
			memcpy(c + NULL_CPL_LEN, &trailer, sizeof(trailer));
			hring_put(rx, w, c, sizeof(c));
			w = (w + NULL_CPL_ALL) % rx->size;
			room -= NULL_CPL_ALL;
			answered++;
		}
		at = (at + (uint32_t)d.len8 * 8 + 8) % tx->size;
		n++;
	}
	if (!n)
		return 0;
	/* 2. publish: TX read index (room the guest may wait for), RX write
	 * index (the answers), then one interrupt decision */
	uint32_t bytes = at >= s->tx_read ? at - s->tx_read : tx->size - s->tx_read + at;

	s->tx_read = at;
	irq = hring_consume(tx, at, bytes);
	if (answered) {
		if (s->rx_waiting && at == tw) {
			s->rx_waiting = false;
			__atomic_store_n(rx->pending, 0u, __ATOMIC_RELAXED);
		}
		__atomic_store_n(rx->w, w, __ATOMIC_RELEASE);
		atomic_thread_fence(memory_order_seq_cst);
		if (__atomic_load_n(rx->r, __ATOMIC_ACQUIRE) == rw &&
		    !__atomic_load_n(rx->mask, __ATOMIC_SEQ_CST))
			irq = true;
		__atomic_fetch_add(&s->st.completions, answered, __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&s->st.requests, n, __ATOMIC_RELAXED);
	if (irq)
		sim_conn_interrupt(s);
	return (int)n;
}

void azblob_sim_join(struct azblob_sim *s)
{
	if (!s->thread_started)
		return;
	azblob_sim_stop(s);
	pthread_join(s->thread, NULL);
	s->thread_started = false;
	atomic_store(&s->serving, false);
	atomic_store(&s->stop, false);
}

int azblob_sim_step(struct azblob_sim *s)
{
	if (!s->null_host)
		return sim_vsp_step(s);
	if (s->conn_fd < 0) {
		sim_conn_accept(s);
		if (s->conn_fd < 0)
			return 0;
	}
	/* The guest's doorbell writes (and its hang-up) now and then: a
	 * stepping harness polls, so they are rare. */
	if ((++s->null_steps & 63) == 0 || s->rx_waiting) {
		int sig = sim_conn_drain(s);

		__atomic_fetch_add(&s->st.signals, (uint64_t)sig, __ATOMIC_RELAXED);
		if (s->conn_fd < 0)
			return 0;
	}
	/* a polling host keeps TX masked: the guest needs no doorbell */
	if (__atomic_load_n(s->tx.mask, __ATOMIC_RELAXED) != 1u)
		__atomic_store_n(s->tx.mask, 1u, __ATOMIC_SEQ_CST);
	return sim_null_drain(s);
}
