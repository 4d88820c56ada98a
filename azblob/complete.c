// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Completions: reap the RX ring, match trans_ids to slots (slot index +
 * generation: stale, duplicated or unknown answers are counted and
 * dropped), run callbacks, publish the read index once per batch, deliver
 * timeouts, notice rescind. The host's packets are untrusted.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* The slow part of a release: references, pool marks, a bounce buffer,
 * a held slot. */
static void slot_release_special(struct azblob_client *c, struct slot *s)
{
	for (int k = 0; k < 3; k++) {
		if (s->region[k])
			uvmbus_region_put(s->region[k]);
		if (s->pool_idx[k] >= 0)
			az_pool_unmark(c, s->pool_idx[k]);
		s->pool_idx[k] = -1;
		s->region[k] = NULL;
	}
	if (s->bounce)
		uvmbus_pool_put(c->pool, s->bounce);
	s->bounce = NULL;
	s->special = false;
}

/* The end of every release: the template's count, generation, state and a
 * free-list push. All a slot with nothing special (the usual one) needs. */
static inline void slot_free(struct azblob_client *c, struct slot *s, uint32_t i)
{
	if (s->prep) {
		az_prep_put(s->prep);
		s->prep = NULL;
	}
	s->state = SLOT_FREE;
	s->gen = s->gen + 1 ? s->gen + 1 : 1; /* never 0 */
	c->free_slots[c->nfree++] = i;
}

/* Give the slot and its buffers back (the host is done with them). */
void az_slot_release(struct azblob_client *c, uint32_t i)
{
	struct slot *s = &c->slots[i];

	if (__builtin_expect(s->special, 0))
		slot_release_special(c, s);
	if (s->state == SLOT_QUARANTINED)
		c->held--;
	slot_free(c, s, i);
}

static void latency(struct azblob_client *c, const struct slot *s, uint64_t now)
{
	uint64_t d = now > s->start_ns ? now - s->start_ns : 1;
	int b = 63 - __builtin_clzll(d);

	c->st.latency_hist[b < 40 ? b : 39]++;
}

/* Answer the caller now without freeing what the host may still write. */
static void quarantine(struct azblob_client *c, uint32_t i, int err)
{
	struct slot *s = &c->slots[i];

	s->state = SLOT_QUARANTINED;
	s->told = false; /* set here, off the hot path: tell_release() */
	c->held++;
	c->inflight--;
	s->done(s->user, err, 0, 0);
}

void az_cancel_user(struct azblob_client *c, azblob_done_fn done, const void *lo, const void *hi)
{
	for (uint32_t i = 0; i < c->qd; i++) {
		const struct slot *s = &c->slots[i];

		if (s->state == SLOT_INFLIGHT && s->done == done &&
		    (const uint8_t *)s->user >= (const uint8_t *)lo &&
		    (const uint8_t *)s->user < (const uint8_t *)hi) {
			c->st.cancelled++;
			quarantine(c, i, -ECANCELED);
		}
	}
}

void az_fail_all(struct azblob_client *c, int err)
{
	for (uint32_t i = 0; i < c->qd; i++) {
		if (c->slots[i].state != SLOT_INFLIGHT)
			continue;
		if (err == -ECANCELED)
			c->st.cancelled++;
		quarantine(c, i, err);
	}
}

/* Call the release callback of held slot s once, with its owner's user
 * pointer (shared mode: the caller's own, not the router's). */
static void tell_release(struct azblob_client *c, struct slot *s, int err, uint32_t status,
			 uint32_t len)
{
	if (s->told || !c->release_fn)
		return;
	s->told = true;
	c->release_fn(c->release_arg, s->owner ? s->uuser : s->user, err, status, len);
}

void az_release_all(struct azblob_client *c, int err)
{
	for (uint32_t i = 0; c->slots && i < c->qd; i++)
		if (c->slots[i].state == SLOT_QUARANTINED)
			tell_release(c, &c->slots[i], err, 0, 0);
}

void azblob_set_release(struct azblob_client *c, azblob_release_fn fn, void *arg)
{
	az_mem_lock(c);
	c->release_fn = fn;
	c->release_arg = arg;
	az_mem_unlock(c);
}

void az_mark_dead(struct azblob_client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	c->st.rescinded++;
	AZ_PROBE1(rescind, c->inflight);
	az_log(c, UVMBUS_LOG_ERR, "azblob: device rescinded: %u request(s) fail with ENODEV",
	       c->inflight);
	az_fail_all(c, -ENODEV);
	az_release_all(c, -ENODEV);
}

void az_mark_broken(struct azblob_client *c, const char *why)
{
	if (c->broken || c->dead)
		return;
	c->broken = true;
	c->st.broken++;
	az_log(c, UVMBUS_LOG_ERR, "azblob: %s: channel broken, %u request(s) fail with EIO", why,
	       c->inflight);
	az_fail_all(c, -EIO);
	az_release_all(c, -EIO);
}

/* An answer that completes no request in flight: for a free slot, a
 * stale generation (counted, dropped), or a late answer after a timeout
 * (the held slot freed at last). */
static __attribute__((noinline)) void handle_odd(struct azblob_client *c, uint32_t i,
						 uint64_t trans_id, struct azblob_vsp_response rsp)
{
	struct slot *s;

	if (c->slots[i].state == SLOT_FREE) {
		/* Answered already (the previous generation), or never sent. */
		if (c->slots[i].gen == TID_GEN(trans_id) + 1)
			c->st.duplicates++;
		else
			c->st.unknown++;
		return;
	}
	s = &c->slots[i];
	if (s->gen != TID_GEN(trans_id)) {
		c->st.duplicates++; /* an answer for a previous use of the slot */
		return;
	}
	if (s->state == SLOT_QUARANTINED) {
		/* The caller already had its -ETIMEDOUT: absorb, free at last. */
		c->st.late++;
		AZ_PROBE2(late, trans_id, rsp.response_len);
		/* The owner hears it (azblob_set_release) once the slot is free:
		 * the buffers are its own again. */
		bool tell = !s->told && c->release_fn;
		void *user = s->owner ? s->uuser : s->user;

		az_slot_release(c, i);
		if (tell)
			c->release_fn(c->release_arg, user, 0, rsp.error, rsp.response_len);
	}
}

/* One answer, `rsp` copied out of the packet. The original driver's
 * callback takes the response from any packet the host sends: at offset8
 * * 8 (hv_pkt_data), whatever the type, flags or the response's own
 * `length` field, none of which it reads; so does this. */
static inline void handle(struct azblob_client *c, uint64_t trans_id,
			  struct azblob_vsp_response rsp, uint64_t now)
{
	uint32_t i;
	struct slot *s;

	i = TID_SLOT(trans_id);
	if (i >= c->qd) {
		c->st.unknown++;
		return;
	}
	s = &c->slots[i];
	/* Anything but the answer to a request in flight (free slot, stale
	 * generation, late answer after a timeout): out of line. */
	if (__builtin_expect(s->state != SLOT_INFLIGHT || s->gen != TID_GEN(trans_id), 0)) {
		handle_odd(c, i, trans_id, rsp);
		return;
	}
	latency(c, s, now);
	AZ_PROBE4(complete, trans_id, now > s->start_ns ? now - s->start_ns : 1, rsp.error,
		  rsp.response_len);
	c->inflight--;
	c->st.completed++;
	int err = 0;

	if (rsp.response_len > s->resp_cap) {
		c->st.oversize++;
		err = -EPROTO;
		rsp.response_len = 0;
	} else if (rsp.error) {
		c->st.errors++;
	}
	azblob_done_fn done = s->done;
	void *user = s->user;

	/* Free first: the callback may submit again. Nothing special (no
	 * bounce, references or pool marks): the slot is only freed. */
	if (__builtin_expect(s->special, 0)) {
		if (s->bounce) {
			uint8_t *b = s->bounce->addr;

			if (s->user_resp)
				memcpy(s->user_resp, b + s->bounce_resp, rsp.response_len);
			if (s->user_data)
				memcpy(s->user_data, b + s->bounce_data, s->data_len);
		}
		slot_release_special(c, s);
	}
	slot_free(c, s, i); /* in flight, not held: no `held` to count down */
	done(user, err, rsp.error, rsp.response_len);
}

void az_stamp_slow(struct azblob_client *c, uint64_t now)
{
	/* (A slot freed meanwhile, by a host answering before the publish,
	 * is stamped too: harmless, its next submit stages it again.) */
	for (uint32_t k = 0; k < c->nstaged; k++) {
		struct slot *s = &c->slots[c->staged[k]];

		s->staged = false;
		s->start_ns = now;
	}
	c->nstaged = 0;
	/* Never later than the earliest deadline of a slot in flight. */
	if (now + c->staged_tmo < c->next_deadline_ns)
		c->next_deadline_ns = now + c->staged_tmo;
	c->staged_tmo = UINT64_MAX;
}

static void check_timeouts(struct azblob_client *c, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (uint32_t i = 0; i < c->qd; i++) {
		struct slot *s = &c->slots[i];

		/* Staged: its clock has not started (az_stamp). */
		if (s->state != SLOT_INFLIGHT || s->staged)
			continue;
		uint64_t deadline = s->start_ns + s->tmo_ns;

		if (deadline <= now) {
			c->st.timeouts++;
			AZ_PROBE3(timeout, AZ_TID(s, i), now - s->start_ns, s->req_len);
			az_log(c, UVMBUS_LOG_WARN,
			       "azblob: request in slot %u timed out; its buffers stay held until "
			       "the host answers",
			       i);
			quarantine(c, i, -ETIMEDOUT);
		} else if (deadline < next) {
			next = deadline;
		}
	}
	c->next_deadline_ns = next;
}

void az_guard_rate(struct azblob_client *c)
{
	c->fd_ticks_mult = c->clock.mult;
	c->fd_ticks = az_clock_ticks(&c->clock, c->fd_check_ns);
}

bool az_submit_guard_slow(struct azblob_client *c)
{
	uint64_t raw, now = az_now_raw(c, &raw);
	uint64_t last =
	    c->last_activity_ns > c->last_fd_check_ns ? c->last_activity_ns : c->last_fd_check_ns;

	if (az_silent_dead(c, now))
		return true;
	/* Not silent yet (or just looked: armed by az_check_fd): the guard
	 * again from the instant silence could start, or the slow path
	 * for good without a counter. */
	if (raw && raw >= c->silent_tsc && last + c->fd_check_ns > now) {
		if (c->clock.mult != c->fd_ticks_mult)
			az_guard_rate(c);
		c->silent_tsc = raw + az_clock_ticks(&c->clock, last + c->fd_check_ns - now);
	}
	return false;
}

/* The host has been silent for a while with requests out: look at the fd
 * (one system call, at most once per rescind_check_ms) so that a rescinded
 * device is noticed even by a caller that only busy-polls. While answers
 * flow (the steady state) this never runs. */
void az_check_fd(struct azblob_client *c, uint64_t now)
{
	struct pollfd p = {.fd = uvmbus_chan_fd(c->ch), .events = POLLIN};
	uint32_t count;

	c->last_fd_check_ns = now;
	c->st.fd_checks++;
	az_clock_resync(&c->clock); /* a slow path: a system call follows */
	if (c->clock.tsc) {
		/* The look is after the fresh reference point: record that
		 * instant, and arm the submit's guard from its counter value. */
		if (c->clock.ns0 > now)
			c->last_fd_check_ns = c->clock.ns0;
		az_guard_arm(c, c->clock.tsc0);
	}
	if (poll(&p, 1, 0) <= 0)
		return;
	if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
		az_mark_dead(c);
		return;
	}
	if (p.revents & POLLIN) {
		ssize_t n = read(p.fd, &count, sizeof(count));

		if (n == 0 || (n < 0 && errno == EIO))
			az_mark_dead(c);
	}
}

_Static_assert(AZBLOB_RX_INBAND == VMBUS_PKT_DATA_INBAND - VMBUS_PKT_DATA_INBAND &&
		   AZBLOB_RX_GPA_DIRECT == VMBUS_PKT_DATA_GPA_DIRECT - VMBUS_PKT_DATA_INBAND &&
		   AZBLOB_RX_COMPLETION == VMBUS_PKT_COMPLETION - VMBUS_PKT_DATA_INBAND &&
		   AZBLOB_RX_OTHER == AZBLOB_RX_COMPLETION + 1,
	       "rx_types[] is indexed by packet type - 6");

static void count_type(struct azblob_client *c, uint16_t type)
{
	unsigned k = type >= VMBUS_PKT_DATA_INBAND && type <= VMBUS_PKT_COMPLETION
			 ? type - VMBUS_PKT_DATA_INBAND
			 : AZBLOB_RX_OTHER;

	c->st.rx_types[k]++;
}

/* One copy of the body (its helpers inlined into it once); the public
 * call only adds the shared-mode test. */
__attribute__((noinline)) int az_poll_core(struct azblob_client *c, unsigned max)
{
	unsigned n = 0;
	uint64_t now, raw;
	bool sig, skipped = false;
	int rc = 0;

	/* One time read per batch: latency at batch granularity; requests
	 * staged and not flushed yet start their clock here. */
	now = az_now_raw(c, &raw);
	az_stamp(c, now);
	while (!max || n < max) {
		struct azblob_vsp_response rsp;
		struct vmbus_pkt_desc d;
		size_t plen;

		/* Only the descriptor and the response are copied, so a packet
		 * of any length (a host variant's extra header, a padded
		 * answer) is read without a buffer of its size. */
		rc = uvmbus_ring_read_payload_inline(c->rx, &d, &rsp, sizeof(rsp), &plen);
		if (rc == -EAGAIN)
			break;
		if (rc) {
			az_mark_broken(c, "the host corrupted the RX ring");
			return -EIO;
		}
		count_type(c, d.type);
		if (plen < sizeof(rsp)) { /* no room for the response: dropped */
			c->st.bad_packets++;
			skipped = true;
			continue;
		}
		handle(c, d.trans_id, rsp, now);
		n++;
	}
	if (n) {
		c->last_activity_ns = now;
		az_guard_arm(c, raw);
	}
	if (n || skipped) {
		/* Once per batch, for every packet consumed, handled or skipped:
		 * the host may wait for room (pending_send_sz). */
		uvmbus_ring_read_commit(c->rx, &sig);
		if (sig)
			AZ_PROBE2(signal, 2, c->inflight);
		if (sig && uvmbus_chan_signal(c->ch) == 0)
			c->st.signals++;
	}
	if (c->inflight && now >= c->next_deadline_ns)
		check_timeouts(c, now);
	if (!n && c->inflight)
		az_silent_dead(c, now);
	if (uvmbus_chan_dead(c->ch))
		az_mark_dead(c);
	return c->dead ? -ENODEV : (int)n;
}

int az_wait_core(struct azblob_client *c, int timeout_ms)
{
	int rc;

	if (c->dead)
		return -ENODEV;
	if (uvmbus_ring_readable(c->rx))
		return 1;
	/* Never sleep past the nearest deadline: timeouts are delivered by poll. */
	if (c->inflight) {
		uint64_t now = az_now(c);
		int until;

		az_stamp(c, now); /* staged requests: their clock starts now */
		until = az_ms_to_deadline(c, now);
		if (until >= 0 && (timeout_ms < 0 || until < timeout_ms))
			timeout_ms = until;
	}
	rc = uvmbus_chan_wait(c->ch, timeout_ms);
	if (rc == -ENODEV)
		az_mark_dead(c);
	if (timeout_ms)
		az_clock_resync(&c->clock); /* after a sleep: system calls were made */
	return rc;
}

void azblob_get_stats(const struct azblob_client *c, struct azblob_stats *st)
{
	struct azblob_client *m = (struct azblob_client *)c; /* the lock only */
	struct uvmbus_chan_stats cs;

	az_mem_lock(m);
	*st = c->st;
	st->held_slots = c->held;
	uvmbus_chan_get_stats(c->ch, &cs);
	az_mem_unlock(m);
	st->idle_signals = cs.idle_signals;
	st->waits = cs.unmasks;
}

int azblob_dump_pending(const struct azblob_client *c, char *buf, size_t cap)
{
	struct azblob_client *m = (struct azblob_client *)c; /* the lock only */
	uint64_t now = az_now(c);
	size_t n = 0;

	az_mem_lock(m);

	if (cap)
		buf[0] = 0;
	for (uint32_t i = 0; i < c->qd; i++) {
		const struct slot *s = &c->slots[i];
		const uint8_t *g = s->guid;
		char line[200];
		int k;

		if (s->state == SLOT_FREE)
			continue;
		k = snprintf(line, sizeof(line),
			     "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x "
			     "request %u response %u data %u age %" PRIu64 " ms %s\n",
			     g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10],
			     g[11], g[12], g[13], g[14], g[15], s->req_len, s->resp_cap,
			     s->data_len, s->staged ? 0 : (now - s->start_ns) / 1000000,
			     s->state != SLOT_INFLIGHT ? "timed out, held"
			     : s->staged	       ? "staged (not flushed)"
						       : "in flight");
		if (n < cap)
			snprintf(buf + n, cap - n, "%s", line);
		n += (size_t)k;
	}
	az_mem_unlock(m);
	return (int)n;
}
