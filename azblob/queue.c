// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Queues: many threads on one client and its one channel.
 *
 * The channel's state (TX and RX rings, slots, memory, counters) stays
 * the client's, guarded by one short critical section, c->lock: a submit
 * takes it around the slot and the TX write, a poll drives the channel
 * with a try-lock. Only the completions are per queue: whoever drives
 * routes each answer (trans_id -> slot -> owning queue) into that queue's
 * completion ring, a single-producer (the lock holder) single-consumer
 * (the queue's thread) ring, and the callback runs in the queue's own
 * azblob_queue_poll(). A queue never has more requests out than its depth
 * and every request yields exactly one record (answer, timeout, rescind,
 * broken, cancel), so its ring, sized to the depth, never overflows.
 *
 * Sleeping: a waiter drives under the lock, marks itself sleeping (still
 * under the lock, so any later routing sees the mark and writes its
 * eventfd), unmasks the channel in interrupt mode, and sleeps on both its
 * eventfd and the channel's fd. No wake-up is lost: a record routed later
 * writes the eventfd; a packet arriving later raises the interrupt.
 *
 * No thread is started here; the client's own calls become queue q0's in
 * shared mode (the first queue turns it on).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

struct az_cqe {
	azblob_done_fn done;
	void *user;
	int err;
	uint32_t status, len;
};

struct azblob_queue {
	struct azblob_client *c;
	uint32_t depth, mask;
	int evfd;
	/* the queue's thread only */
	uint64_t sub, reaped;
	bool staged; /* submitted since its last flush */
	struct az_cqe *ring;
	/* consumer index (the queue's thread), producer index (the lock
	 * holder): one cache line each */
	_Alignas(64) uint32_t head;
	_Alignas(64) uint32_t tail;
	int sleeping; /* set under the lock by a waiter, read under it by routers */
};

void az_lock_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

static void lock(struct azblob_client *c)
{
	pthread_mutex_lock(&c->lock);
}

/* Leave the critical section, publishing the channel's fate for readers
 * without the lock. */
static void unlock(struct azblob_client *c)
{
	__atomic_store_n(&c->fail, c->dead ? -ENODEV : c->broken ? -EIO : 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->lock);
}

static int fail_of(const struct azblob_client *c)
{
	return __atomic_load_n(&c->fail, __ATOMIC_ACQUIRE);
}

static bool ring_ready(const struct azblob_queue *q)
{
	return __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE) != q->head;
}

/*
 * The callback of every request in shared mode (user: its slot): hand the
 * answer to the owning queue's ring; its thread runs the caller's callback
 * in azblob_queue_poll(). Called by whoever drives, under the lock; the
 * slot may be free already (handle() frees first) but cannot be reused
 * before the lock is released.
 */
static void route(void *user, int err, uint32_t status, uint32_t len)
{
	struct slot *s = user;
	struct azblob_queue *q = s->owner;
	uint32_t t = q->tail;

	if (t - __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) > q->mask) {
		/* Cannot happen: a queue has at most `depth` requests out. */
		az_log(q->c, UVMBUS_LOG_ERR, "azblob: queue: completion ring full, answer dropped");
		return;
	}
	q->ring[t & q->mask] = (struct az_cqe){s->udone, s->uuser, err, status, len};
	__atomic_store_n(&q->tail, t + 1, __ATOMIC_RELEASE);
	if (__atomic_load_n(&q->sleeping, __ATOMIC_RELAXED)) {
		uint64_t one = 1;

		if (write(q->evfd, &one, sizeof(one)) < 0)
			az_log(q->c, UVMBUS_LOG_WARN, "azblob: queue: eventfd write failed");
	}
}

/* Make slot i's request answer through queue q (lock held). */
static void adopt(struct slot *s, struct azblob_queue *q)
{
	s->owner = q;
	s->udone = s->done;
	s->uuser = s->user;
	s->done = route;
	s->user = s;
}

/* Reap the channel for every queue (lock held). */
static void drive(struct azblob_client *c)
{
	if (!c->dead && !c->broken)
		az_poll_core(c, 0);
}

/* Run up to max (0: all) of the queue's callbacks, in the caller's thread. */
static unsigned reap(struct azblob_queue *q, unsigned max)
{
	uint32_t tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
	unsigned n = 0;

	while (q->head != tail && (!max || n < max)) {
		struct az_cqe e = q->ring[q->head & q->mask];

		__atomic_store_n(&q->head, q->head + 1, __ATOMIC_RELEASE);
		q->reaped++;
		n++;
		e.done(e.user, e.err, e.status, e.len); /* may submit again */
		if (q->head == tail)
			tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
	}
	return n;
}

static struct azblob_queue *queue_new(struct azblob_client *c, uint32_t depth)
{
	struct azblob_queue *q = aligned_alloc(64, sizeof(*q));
	uint32_t cap = 1;

	if (!q)
		return NULL;
	memset(q, 0, sizeof(*q));
	while (cap < depth)
		cap <<= 1;
	q->c = c;
	q->depth = depth;
	q->mask = cap - 1;
	q->ring = calloc(cap, sizeof(*q->ring));
	q->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!q->ring || q->evfd < 0) {
		if (q->evfd >= 0)
			close(q->evfd);
		free(q->ring);
		free(q);
		return NULL;
	}
	return q;
}

static void queue_free(struct azblob_queue *q)
{
	close(q->evfd);
	free(q->ring);
	free(q);
}

int azblob_queue_create(struct azblob_client *c, uint32_t depth, struct azblob_queue **out)
{
	struct azblob_queue *q;

	if (!c || !out)
		return -EINVAL;
	*out = NULL;
	if (!depth)
		depth = c->qd;
	if (depth > c->qd) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: queue: depth %u above the client's %u", depth,
		       c->qd);
		return -EINVAL;
	}
	q = queue_new(c, depth);
	if (!q)
		return -ENOMEM;
	lock(c);
	if (!c->shared) {
		/* Shared mode from now on: the client's own calls go through q0. */
		c->q0 = queue_new(c, c->qd);
		if (!c->q0) {
			unlock(c);
			queue_free(q);
			return -ENOMEM;
		}
		/* Requests already out are answered through q0 from now on. */
		c->q0->sub = c->inflight;
		for (uint32_t i = 0; i < c->qd; i++)
			if (c->slots[i].state == SLOT_INFLIGHT)
				adopt(&c->slots[i], c->q0);
		c->shared = true;
	}
	c->nqueues++;
	unlock(c);
	*out = q;
	return 0;
}

int azblob_queue_destroy(struct azblob_queue *q)
{
	struct azblob_client *c;

	if (!q)
		return 0;
	c = q->c;
	if (q->sub != q->reaped) {
		az_log(c, UVMBUS_LOG_ERR,
		       "azblob: queue: destroy with %llu request(s) not reaped: poll first",
		       (unsigned long long)(q->sub - q->reaped));
		return -EBUSY;
	}
	lock(c);
	/* Only requests answered already (timed out, held for the host's late
	 * answer) may still name the queue: they never deliver again. */
	for (uint32_t i = 0; i < c->qd; i++)
		if (c->slots[i].owner == q)
			c->slots[i].owner = c->q0;
	c->nqueues--;
	unlock(c);
	queue_free(q);
	return 0;
}

unsigned azblob_queue_inflight(const struct azblob_queue *q)
{
	return (unsigned)(q->sub - q->reaped);
}

/* After a core submit under the lock: rc the slot taken, adopted by q.
 * Out even when auto_flush then fails: it will be answered. */
static int submitted(struct azblob_queue *q, int rc)
{
	struct azblob_client *c = q->c;

	if (rc >= 0) {
		adopt(&c->slots[rc], q);
		q->sub++;
		q->staged = !c->opts.auto_flush;
		rc = c->opts.auto_flush ? az_flush_core(c) : 0;
	}
	return rc;
}

int azblob_queue_submit(struct azblob_queue *q, const struct azblob_request *r)
{
	struct azblob_client *c = q->c;
	int rc;

	if (q->sub - q->reaped >= q->depth)
		return -EAGAIN; /* the queue's own depth: poll and retry */
	lock(c);
	rc = c->dead ? -ENODEV : c->broken ? -EIO : az_submit_core(c, r, true);
	rc = submitted(q, rc);
	unlock(c);
	return rc;
}

int azblob_queue_prep_submit(struct azblob_queue *q, struct azblob_prep *p, uint32_t request_len,
			     uint32_t data_valid, void *user)
{
	struct azblob_client *c = q->c;
	int rc;

	if (q->sub - q->reaped >= q->depth)
		return -EAGAIN;
	lock(c);
	rc = c->dead	 ? -ENODEV
	     : c->broken ? -EIO
			 : az_prep_core(c, p, request_len, data_valid, user, true);
	rc = submitted(q, rc);
	unlock(c);
	return rc;
}

int azblob_queue_flush(struct azblob_queue *q)
{
	struct azblob_client *c = q->c;
	int rc;

	/* Nothing of ours staged: no lock (another thread's flush may have
	 * published ours already; publishing twice is harmless). */
	if (!q->staged)
		return fail_of(c) == -ENODEV ? -ENODEV : 0;
	lock(c);
	rc = az_flush_core(c);
	q->staged = false;
	unlock(c);
	return rc;
}

int azblob_queue_poll(struct azblob_queue *q, unsigned max)
{
	struct azblob_client *c = q->c;
	unsigned n;

	/* Drive the channel unless another thread is in it (it routes our
	 * answers to our ring, or it only submits and we drive next time). */
	if (pthread_mutex_trylock(&c->lock) == 0) {
		drive(c);
		unlock(c);
	}
	n = reap(q, max);
	if (n)
		return (int)n;
	/* The channel's fate is published after the answers it caused were
	 * routed: seen failed, look once more, so that -ENODEV / -EIO is only
	 * returned with nothing of ours left to call back. */
	int err = fail_of(c);

	if (err && (n = reap(q, max)))
		return (int)n;
	return err;
}

/* Milliseconds until the nearest deadline, capping timeout_ms (lock held). */
static int cap_to_deadline(struct azblob_client *c, int timeout_ms)
{
	if (!c->inflight)
		return timeout_ms;
	uint64_t now = az_now(c);
	int until;

	az_stamp(c, now); /* staged requests: their clock starts now */
	until = az_ms_to_deadline(c, now);
	return until >= 0 && (timeout_ms < 0 || until < timeout_ms) ? until : timeout_ms;
}

int azblob_queue_wait(struct azblob_queue *q, int timeout_ms)
{
	struct azblob_client *c = q->c;
	uint64_t end = timeout_ms > 0 ? az_mono_ns() + (uint64_t)timeout_ms * 1000000u : 0;
	struct pollfd p[2];
	int rc, r, perr;

	if (ring_ready(q))
		return 1;
	for (;;) {
		lock(c);
		drive(c);
		if (c->dead) {
			unlock(c);
			return ring_ready(q) ? 1 : -ENODEV;
		}
		if (ring_ready(q) || c->broken) {
			unlock(c);
			return 1; /* poll answers (or says -EIO) */
		}
		/* Under the lock: every routing from now on sees the mark. */
		__atomic_store_n(&q->sleeping, 1, __ATOMIC_RELAXED);
		rc = 0;
		if (c->opts.interrupt_mode) {
			/* Unmask and re-check RX: a packet from now on interrupts. */
			rc = uvmbus_chan_wait(c->ch, 0);
			if (rc == -ENODEV)
				az_mark_dead(c);
		}
		if (rc) {
			__atomic_store_n(&q->sleeping, 0, __ATOMIC_RELAXED);
			unlock(c);
			if (rc < 0)
				return ring_ready(q) ? 1 : rc; /* answers first */
			continue;			       /* RX had data: drive again */
		}
		int t = cap_to_deadline(c, timeout_ms);

		/* Polling mode keeps the RX interrupt masked: naps of 1 ms,
		 * driving in between. */
		if (!c->opts.interrupt_mode && (t < 0 || t > 1))
			t = 1;
		unlock(c);
		p[0] = (struct pollfd){.fd = q->evfd, .events = POLLIN};
		p[1] = (struct pollfd){.fd = uvmbus_chan_fd(c->ch), .events = POLLIN};
		r = poll(p, 2, t);
		perr = errno;
		__atomic_store_n(&q->sleeping, 0, __ATOMIC_RELAXED);
		if (p[0].revents & POLLIN) {
			uint64_t v;

			if (read(q->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -errno;
		}
		if (p[1].revents) {
			/* Consume the channel's event (else the fd stays readable
			 * and every wait returns at once); a rescind shows here. */
			lock(c);
			az_check_fd(c, az_now(c)); /* marks a rescind dead: all fail */
			unlock(c);
		} else if (t) {
			lock(c);
			az_clock_resync(&c->clock); /* after a sleep: system calls were made */
			unlock(c);
		}
		if (r < 0)
			return perr == EINTR ? -EINTR : -perr;
		if (ring_ready(q) || p[0].revents || (r > 0 && c->opts.interrupt_mode))
			return 1;
		/* Polling mode: the nap is over; go on until timeout_ms. */
		if (c->opts.interrupt_mode || !timeout_ms ||
		    (timeout_ms > 0 && az_mono_ns() >= end))
			return 0;
	}
}

/* ---- the client's own calls in shared mode: queue q0 ---- */

int az_q0_submit(struct azblob_client *c, const struct azblob_request *r)
{
	return azblob_queue_submit(c->q0, r);
}

int az_q0_prep_submit(struct azblob_client *c, struct azblob_prep *p, uint32_t request_len,
		      uint32_t data_valid, void *user)
{
	return azblob_queue_prep_submit(c->q0, p, request_len, data_valid, user);
}

int az_q0_flush(struct azblob_client *c)
{
	return azblob_queue_flush(c->q0);
}

int az_q0_poll(struct azblob_client *c, unsigned max)
{
	return azblob_queue_poll(c->q0, max);
}

int az_q0_wait(struct azblob_client *c, int timeout_ms)
{
	return azblob_queue_wait(c->q0, timeout_ms);
}

int az_queues_close(struct azblob_client *c)
{
	unsigned n;

	if (!c->shared)
		return 0;
	lock(c);
	n = c->nqueues;
	unlock(c);
	if (n) {
		az_log(c, UVMBUS_LOG_ERR,
		       "azblob: close: %u queue(s) still open: destroy them first (the client "
		       "is left open)",
		       n);
		return -ENOTEMPTY;
	}
	/* Alone again: answers routed to q0 are called back now, the rest
	 * inline as in single-thread mode. */
	reap(c->q0, 0);
	for (uint32_t i = 0; i < c->qd; i++) {
		struct slot *s = &c->slots[i];

		if (s->done == route) {
			s->done = s->udone;
			s->user = s->uuser;
		}
	}
	c->shared = false;
	queue_free(c->q0);
	c->q0 = NULL;
	return 0;
}
