// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A client's session: its ring pair and data arena (sealed memfds, so a
 * client cannot shrink them under the daemon), its request records, and
 * the safe end: a session is freed only when nothing of it is in flight
 * and the host holds none of its arena pages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "azd.h"
#include "rings.h"

#define HELLO_NS (2000ull * 1000 * 1000) /* a connection has 2 s to say hello */

int azd_session_setup(struct azd *d, struct azd_session *s, uint32_t qd, uint64_t arena_bytes,
		      char *why, size_t whylen)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int rc;

	s->qd = qd;
	s->arena_bytes = arena_bytes;
	/* Whole kernel pages, whatever --ring said (options.c rounds it): the
	 * client's uvmbus_dev_open_vchan() refuses anything else. */
	s->ring_bytes = azd_ring_round(d->o.ring_bytes, page);
	s->ring_fd = azd_rings_create(s->ring_bytes, page, &s->ring_map);
	s->arena_fd = azd_memfd("azblobd-arena", arena_bytes, true, &s->hugetlb, &s->arena);
	if (s->arena_fd >= 0)
		d->st.arena_bytes_now += arena_bytes; /* until azd_session_free() */
	if (s->ring_fd < 0 || s->arena_fd < 0) {
		snprintf(why, whylen, "no memory for a %llu-byte arena",
			 (unsigned long long)arena_bytes);
		return -ENOMEM;
	}
	rc = uvmbus_ring_attach(&s->tx, s->ring_map, s->ring_bytes, page, UVMBUS_RING_CONSUMER);
	if (!rc)
		rc = uvmbus_ring_attach(&s->rx, s->ring_map + s->ring_bytes, s->ring_bytes, page,
					UVMBUS_RING_PRODUCER);
	if (rc) {
		snprintf(why, whylen, "ring setup failed");
		return rc;
	}
	/* Polling: the client need not signal (hybrid and interrupt unmask
	 * before sleeping). */
	uvmbus_ring_set_interrupt_mask(s->tx, d->o.mode != AZD_INTERRUPT);
	s->pkt_cap = uvmbus_ring_max_packet(s->tx);
	s->pkt = malloc(s->pkt_cap);
	s->recs = calloc(qd, sizeof(*s->recs));
	s->free_recs = calloc(qd, sizeof(*s->free_recs));
	s->answers = calloc(qd, sizeof(*s->answers));
	if (!s->pkt || !s->recs || !s->free_recs || !s->answers) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < qd; i++) {
		s->recs[i].s = s;
		s->free_recs[i] = qd - 1 - i;
	}
	s->nfree = qd;
	/* A real device: the arena is pinned once, here; requests then point
	 * straight into it. A simulator sees only its own guest RAM: copy. */
	if (!d->bounce) {
		rc = azblob_register(d->dev, s->arena, arena_bytes);
		if (rc) {
			snprintf(why, whylen, "cannot pin the arena: %s", strerror(-rc));
			return rc;
		}
		s->registered = true;
	}
	return 0;
}

void azd_session_close(struct azd_session *s, const char *why)
{
	if (s->state == SESS_CLOSING || s->state == SESS_ZOMBIE)
		return;
	if (s->state == SESS_ACTIVE)
		azd_log(s->d, 6,
			"client %llu (pid %d uid %u): %s; %u request(s) in flight finish first",
			(unsigned long long)s->id, (int)s->pid, (unsigned)s->uid, why,
			s->inflight - s->held);
	s->why = why;
	s->state = SESS_CLOSING;
	s->t_state_ns = azd_now_ns();
	/* Answers nobody will read: their records are free. */
	while (s->ans_count) {
		struct azd_rec *r = &s->recs[s->answers[s->ans_head]];

		s->ans_head = (s->ans_head + 1) % s->qd;
		s->ans_count--;
		r->state = REC_FREE;
		s->free_recs[s->nfree++] = (uint32_t)(r - s->recs);
		s->inflight--;
		s->st.dropped++;
	}
	s->have_pending = false;
	if (s->fd >= 0)
		close(s->fd); /* the client sees the hang-up: its calls fail with ENODEV */
	s->fd = -1;
}

void azd_session_free(struct azd_session *s)
{
	struct azd *d = s->d;

	uvmbus_ring_detach(s->tx);
	uvmbus_ring_detach(s->rx);
	if (s->ring_map)
		munmap(s->ring_map, 2 * s->ring_bytes);
	if (s->arena) {
		munmap(s->arena, s->arena_bytes);
		d->st.arena_bytes_now -= s->arena_bytes;
	}
	if (s->ring_fd >= 0)
		close(s->ring_fd);
	if (s->arena_fd >= 0)
		close(s->arena_fd);
	if (s->fd >= 0)
		close(s->fd);
	free(s->pkt);
	free(s->recs);
	free(s->free_recs);
	free(s->answers);
	free(s->gids);
	free(s);
}

/* Nothing of the session in flight, and the host holds no arena page
 * (a registered arena is unregistered only when no request uses it). */
static bool over(struct azd *d, struct azd_session *s)
{
	if (s->inflight != s->held)
		return false;
	if (s->registered) {
		if (azblob_unregister(d->dev, s->arena))
			return false;
		s->registered = false;
	}
	return true;
}

void azd_session_reap(struct azd *d)
{
	for (struct azd_session **pp = &d->sessions; *pp;) {
		struct azd_session *s = *pp;

		if (s->state == SESS_HELLO && azd_now_ns() - s->t_open_ns > HELLO_NS)
			azd_session_close(s, "no hello in time");
		/* Revoked: cut off once its answers are out and read. */
		if (s->state == SESS_ACTIVE && s->revoked_ns && s->inflight == s->held &&
		    !s->ans_count &&
		    (!uvmbus_ring_readable(s->rx) ||
		     azd_now_ns() - s->revoked_ns > AZD_DRAIN_READ_NS))
			azd_session_close(s, "removed from the allow-list");
		if (s->state != SESS_CLOSING && s->state != SESS_ZOMBIE) {
			pp = &s->next;
			continue;
		}
		if (!over(d, s)) {
			if (s->state == SESS_CLOSING && s->inflight == s->held) {
				s->state = SESS_ZOMBIE;
				d->st.zombies_now++;
				azd_log(d, 4,
					"client %llu: the host still holds %u request(s) of its "
					"arena: kept (%llu bytes) until it answers",
					(unsigned long long)s->id, s->held,
					(unsigned long long)s->arena_bytes);
			}
			pp = &s->next;
			continue;
		}
		if (s->state == SESS_ZOMBIE) {
			d->st.zombies_now--;
			d->st.zombies_freed++;
		}
		*pp = s->next;
		d->st.sessions_now--;
		d->st.closed++;
		d->st.dropped += s->st.dropped;
		azd_log(d, 7, "client %llu: freed", (unsigned long long)s->id);
		azd_session_free(s);
	}
}
