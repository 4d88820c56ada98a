/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* libazblob internals. */
#ifndef AZBLOB_INTERNAL_H
#define AZBLOB_INTERNAL_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <time.h>

#include "clock.h"
#include "probes.h"

#include <azblob.h>
#include <uvmbus.h>

enum slot_state {
	SLOT_FREE = 0,
	SLOT_INFLIGHT,	  /* the host owns the buffers */
	SLOT_QUARANTINED, /* the caller was answered (timeout, rescind, broken);
			   * the host may still write: buffers held until it
			   * answers or the channel closes */
};

struct azblob_queue;

struct slot {
	struct azblob_prep *prep; /* the template it came from (its buffers), or NULL */
	uint32_t gen;		  /* bumped at every reuse: stale answers are recognised */
	/* Shared mode: done/user are queue.c's router and the slot itself;
	 * the caller's callback, and the queue it goes to, are kept here. */
	struct azblob_queue *owner;
	azblob_done_fn udone;
	void *uuser;
	uint8_t state;
	bool special; /* references, pool marks or a bounce to release: the slow release */
	bool told;    /* quarantined: its release was called (valid only while quarantined) */
	/* In c->staged[]: submitted since the last stamp (az_stamp); while
	 * set, start_ns is stale (its clock has not started). A slot freed
	 * and reused before the stamp keeps its one entry. */
	bool staged;
	azblob_done_fn done;
	void *user;
	uint64_t start_ns; /* when its clock started: see `staged` */
	uint64_t tmo_ns;   /* timeout and grace: the deadline is start_ns + tmo_ns */
	uint32_t req_len, resp_cap, data_len;
	uint8_t guid[16];
	struct uvmbus_region *region[3]; /* references held while in flight */
	int32_t pool_idx[3];		 /* azblob_alloc() buffers used, -1: none */
	/* slow path: plain memory copied through a pool buffer */
	struct uvmbus_buf *bounce;
	void *user_resp, *user_data;
	uint32_t bounce_resp, bounce_data; /* offsets in the bounce buffer */
};

struct azblob_client {
	struct azblob_opts opts;
	/* The transport that opened the device (transport.c) and what it
	 * left: the emulator's socket, and the memfd arena the host reaches
	 * (the emulator's guest RAM, a broker session's arena; -1: none, the
	 * memory is the host's own guest RAM, pinned through kstub). */
	const struct az_transport *transport;
	struct uvmbus_simsock simsock;
	int arena_fd;
	uint64_t arena_bytes;
	uint32_t broker_max_pages; /* the broker's cap on pfns per request (0: none) */
	struct uvmbus_dev *dev;
	struct uvmbus_chan *ch;
	struct uvmbus_ring *tx, *rx;
	struct uvmbus_mem *mem;
	struct uvmbus_pool *pool;
	struct uvmbus_buf **alloc_map; /* pool index -> buffer handed out by azblob_alloc */
	uint16_t *pool_busy;	       /* requests (in flight or held) using the buffer */
	uint8_t *pool_free_pending;    /* azblob_free()d while busy: put when idle */
	uint32_t pending_frees;	       /* how many are */
	size_t pool_stride;
	uint64_t pool_magic; /* ceil(2^64 / pool_stride): indices without a division */
	uint8_t *pool_base;
	size_t pool_len;     /* the pool region's length: bounds checks without a call */
	uint64_t *pool_pfns; /* the pool's pfn per 4 KiB page: request pfns by lookup */
	struct uvmbus_region *pool_region;
	struct uvmbus_region *reg[64]; /* azblob_register()ed memory */
	unsigned nreg;
	unsigned pool_regs;	   /* of them overlapping the pool: looked up first */
	struct azblob_prep *preps; /* the templates (prep.c): close frees them */

	struct slot *slots;
	uint32_t *free_slots;
	uint32_t nfree, qd, inflight;
	uint32_t held; /* slots of requests answered to the caller, not by the host */
	azblob_release_fn release_fn; /* azblob_set_release(): their owners hear the end */
	void *release_arg;
	uint32_t max_pages;
	uint32_t gen_seed;
	/* One load tells the public calls whether they leave the fast path:
	 * dead, broken, or in shared mode (queues). */
	union {
		struct {
			bool dead, shared; /* shared: queues exist (below) */
			bool broken;
		};
		uint16_t dead_or_shared; /* flush's gate */
		uint32_t gate;
	};

	uint64_t next_deadline_ns;
	uint64_t last_activity_ns, last_fd_check_ns, fd_check_ns;
	/* The rescind guard of a submit (az_submit_guard): the counter value
	 * before which the host cannot have been silent for fd_check_ns
	 * (0: always look; no counter in use). fd_ticks: fd_check_ns in
	 * counter ticks at the rate fd_ticks_mult. */
	uint64_t silent_tsc, fd_ticks, fd_ticks_mult;
	/* Slots submitted since the last stamp (their clock not started):
	 * each at most once, so at most qd; staged_tmo: their least tmo_ns. */
	uint32_t *staged;
	uint32_t nstaged;
	uint64_t staged_tmo;
	uint64_t guid_seq, guid_salt;
	struct az_clock clock;
	struct azblob_stats st;

	/* Queues (queue.c). `shared` turns on at the first queue and stays on
	 * until close: from then on `lock` guards everything above (rings,
	 * slots, memory, counters) and completions are routed to the owning
	 * queue's ring instead of being called back inline. */
	pthread_mutex_t lock;
	unsigned nqueues;
	struct azblob_queue *q0; /* the client's own calls in shared mode */
	int fail;		 /* 0, -ENODEV or -EIO: read without the lock */
};

#define TID_SLOT(tid) ((uint32_t)((tid)&0xffffffffu) - 1u)
#define TID_GEN(tid)  ((uint32_t)((tid) >> 32))

/* The client's clock (clock.h): the TSC where usable. */
static inline uint64_t az_now(const struct azblob_client *c)
{
	return az_clock_now(&c->clock);
}

/* Now, and in *raw the counter value it comes from (0: no counter). */
static inline uint64_t az_now_raw(const struct azblob_client *c, uint64_t *raw)
{
	return az_clock_now_raw(&c->clock, raw);
}

#define az_log(c, lvl, ...) uvmbus_log_printf(&(c)->opts.log, (lvl), __VA_ARGS__)

/* The cores of the public calls, without the gate (dead, broken, shared
 * mode): the callers (api.c, queue.c with the lock held) test those
 * first. The core never calls up into the queues: the dependency is
 * api.c -> queue.c -> core.
 *
 * az_submit_core stages one request. want_slot (queue.c): it returns the
 * slot it took (>= 0) and does not flush (the caller adds auto_flush: a
 * request staged is out even when that flush fails, it will be
 * answered). Else (the public call): 0 after auto_flush's flush, as
 * azblob_submit(). A negative errno: nothing taken. az_flush_body
 * publishes and signals; az_flush_core also refuses a dead channel. */
int az_submit_core(struct azblob_client *c, const struct azblob_request *r, bool want_slot);
int az_flush_body(struct azblob_client *c);
static inline int az_flush_core(struct azblob_client *c)
{
	return c->dead ? -ENODEV : az_flush_body(c);
}
int az_poll_core(struct azblob_client *c, unsigned max);
int az_wait_core(struct azblob_client *c, int timeout_ms);

/* queue.c: the shared-mode forms of the client's own calls (through q0,
 * for api.c), and close's check. */
int az_q0_submit(struct azblob_client *c, const struct azblob_request *r);
int az_q0_flush(struct azblob_client *c);
int az_q0_poll(struct azblob_client *c, unsigned max);
int az_q0_wait(struct azblob_client *c, int timeout_ms);
/* -ENOTEMPTY while queues are open; else back to single-thread mode. */
int az_queues_close(struct azblob_client *c);

/* The client's lock: adaptive (spins briefly before sleeping), since its
 * critical sections are short. */
void az_lock_init(pthread_mutex_t *m);

/* Memory calls from any thread in shared mode. */
static inline void az_mem_lock(struct azblob_client *c)
{
	if (c->shared)
		pthread_mutex_lock(&c->lock);
}

static inline void az_mem_unlock(struct azblob_client *c)
{
	if (c->shared)
		pthread_mutex_unlock(&c->lock);
}

void az_mark_broken(struct azblob_client *c, const char *why);

/* submit.c: one buffer of a request, resolved to its region. */
struct az_res {
	struct uvmbus_region *region;
	const void *addr; /* where the bytes are: region's base + off once resolved */
	size_t off;
	uint32_t len;
	uint32_t npfn;
};

/* The checks of every request (a message with each -EINVAL). */
int az_check_request(struct azblob_client *c, const struct azblob_request *r);
/* The region holding [p, p + len): registered memory, then the pool; NULL. */
struct uvmbus_region *az_lookup(struct azblob_client *c, const void *p, size_t len, size_t *off);
/* -EINVAL (with a message) when n pages are over the client's limit. */
int az_over_limit(struct azblob_client *c, uint32_t n);
/* The packet of resolved buffers b (request, response, data; n pages) into
 * span: GPA header with trans_id tid, pfns, VSP request (returned in *v,
 * its GUID `guid` or generated when NULL). Not staged. */
void az_packet_build(struct azblob_client *c, uint32_t data_valid, uint32_t timeout_ms,
		     const uint8_t *guid, const struct az_res b[3], uint32_t n, uint64_t tid,
		     struct uvmbus_ring_span *span, struct azblob_vsp_request *v);
/* Room for a packet of len bytes in TX (the ring's inline fast path): 0,
 * or the error counted (ring full; a broken ring marks the client broken).
 * lens: the request's buffers, for the probe. */
static inline __attribute__((always_inline)) int az_reserve(struct azblob_client *c, size_t len,
							    struct uvmbus_ring_span *span,
							    const uint32_t lens[3])
{
	int rc = uvmbus_ring_reserve_inline(c->tx, len, span);

	(void)lens; /* the probe's only (none when built without probes) */
	if (__builtin_expect(!rc, 1))
		return 0;
	if (rc == -EAGAIN) {
		c->st.ring_full++;
		AZ_PROBE4(ring_full, lens[0], lens[1], lens[2], c->inflight);
	}
	if (rc == -EIO)
		az_mark_broken(c, "the host corrupted the TX ring");
	return rc;
}
/* The pool index of an azblob_alloc() buffer holding [p, p + len), or -1. */
int32_t az_pool_index(struct azblob_client *c, const void *p, size_t len);
/* Pool buffer i, azblob_free()d while busy and idle now, back to the pool. */
void az_pool_put_freed(struct azblob_client *c, int32_t i);
/* One user less of pool buffer i: handed back when azblob_free()d meanwhile. */
static inline void az_pool_unmark(struct azblob_client *c, int32_t i)
{
	if (!--c->pool_busy[i] && c->pool_free_pending[i])
		az_pool_put_freed(c, i);
}

/* A prepared request (prep.c): its buffers resolved and held (registered
 * regions referenced, azblob_alloc() buffers marked busy) for its life,
 * and the packet's image with trans_id and GUID to patch. Guarded as the
 * slots are (the client's lock in shared mode). */
struct azblob_prep {
	struct azblob_client *c;
	struct azblob_prep *next, **pprev; /* c->preps */
	azblob_done_fn done;
	struct az_res b[3]; /* request, response, data */
	uint32_t npfn;
	uint32_t request_len, response_len, data_len, data_valid;
	uint32_t timeout_ms; /* as sent */
	uint64_t tmo_ns;     /* timeout and grace */
	int32_t pool_idx[3]; /* azblob_alloc() buffers held busy, -1: none */
	uint32_t inflight;   /* slots (in flight or held) of this template */
	uint32_t img_len;    /* the image: the packet padded to 8 bytes */
	uint32_t vsp_off;    /* the VSP request in the image */
	bool fixed_guid;
	uint8_t guid[16];
	_Alignas(8) uint8_t img[];
};

/* prep.c: prepared requests. az_prep_core is az_submit_core's form (the
 * same want_slot contract); az_prep_close frees the templates at close. */
int az_prep_core(struct azblob_client *c, struct azblob_prep *p, uint32_t request_len,
		 uint32_t data_valid, void *user, bool want_slot);
int az_q0_prep_submit(struct azblob_client *c, struct azblob_prep *p, uint32_t request_len,
		      uint32_t data_valid, void *user);
void az_prep_close(struct azblob_client *c);
/* A request of template p is over (its slot released). */
static inline void az_prep_put(struct azblob_prep *p)
{
	p->inflight--;
}

/* client.c */
/* Whether [addr, addr + len) lies inside one azblob_register()ed range:
 * the blob helpers then let the host use it in place (docs/BLOB.md). */
bool az_registered(struct azblob_client *c, const void *addr, size_t len);
/* azblob_alloc() without its zeroing: the last user's bytes are still
 * there, so the caller zeroes or overwrites every byte it reads, sends
 * or hands on (the blob engine: its heads at once, a Get's data before
 * each Get, a Put's data filled before each Put). */
void *az_alloc_raw(struct azblob_client *c, size_t len);

/* complete.c */
void az_slot_release(struct azblob_client *c, uint32_t i);
void az_fail_all(struct azblob_client *c, int err);
/* Tell the owners of held (quarantined) requests not told yet that the
 * host will not answer them: err -ENODEV, -EIO or -ECANCELED. */
void az_release_all(struct azblob_client *c, int err);
/* Answer now (-ECANCELED) the requests in flight whose callback is `done`
 * with user in [lo, hi): their slots and buffers stay held as after a
 * timeout. For a caller that must return with nothing left to call back. */
void az_cancel_user(struct azblob_client *c, azblob_done_fn done, const void *lo, const void *hi);

/* Look at the interrupt fd (one system call, no wait): a rescind found
 * there marks the client dead. Counted in fd_checks. */
void az_check_fd(struct azblob_client *c, uint64_t now);
/* Before writing the rings: after rescind_check_ms of host silence, look
 * at the fd first (newer kernels free the ring pages at rescind). In the
 * steady state (answers flowing, or a look taken lately) nothing. */
static inline bool az_silent_dead(struct azblob_client *c, uint64_t now)
{
	/* Sums, not differences: `now` may be older than the last activity. */
	if (now > c->last_activity_ns + c->fd_check_ns &&
	    now > c->last_fd_check_ns + c->fd_check_ns)
		az_check_fd(c, now);
	return c->dead;
}

/* The submit's guard is armed from an instant at counter value raw that
 * just became the last activity or the last look at the fd: no silence
 * can pass before raw + fd_ticks. Never later than az_silent_dead's own
 * bound (raw is at or before the instant recorded). raw 0 (no counter):
 * silent_tsc stays 0, every submit takes the slow path. */
void az_guard_rate(struct azblob_client *c);
static inline void az_guard_arm(struct azblob_client *c, uint64_t raw)
{
	if (__builtin_expect(c->clock.mult != c->fd_ticks_mult, 0))
		az_guard_rate(c);
	c->silent_tsc = raw ? raw + c->fd_ticks : 0;
}
/* az_submit_guard's slow path: the clock read, az_silent_dead, the guard
 * re-armed. */
bool az_submit_guard_slow(struct azblob_client *c);
/* A submit's rescind guard, without a clock read in the steady state: one
 * counter read compared with silent_tsc. Past it (the host may have been
 * silent for rescind_check_ms: the caller slept, nobody polled), the
 * clock is read and the fd looked at as az_silent_dead does. True: the
 * device is gone, write nothing. */
static inline bool az_submit_guard(struct azblob_client *c)
{
	if (__builtin_expect(az_rdtsc() < c->silent_tsc, 1))
		return false;
	return az_submit_guard_slow(c);
}

/* Start the clock of the slots staged since the last stamp at `now` (the
 * flush's or the poll's one clock read). */
void az_stamp_slow(struct azblob_client *c, uint64_t now);
static inline void az_stamp(struct azblob_client *c, uint64_t now)
{
	if (c->nstaged)
		az_stamp_slow(c, now);
}

/* A submit's slot s (index i): its clock starts at the next stamp;
 * tmo_ns is its timeout and grace. */
static inline void az_stage_slot(struct azblob_client *c, struct slot *s, uint32_t i,
				 uint64_t tmo_ns)
{
	s->tmo_ns = tmo_ns;
	if (tmo_ns < c->staged_tmo)
		c->staged_tmo = tmo_ns;
	/* Nothing else in flight: the next deadline known is stale. */
	if (!c->inflight)
		c->next_deadline_ns = UINT64_MAX;
	if (!s->staged) {
		s->staged = true;
		c->staged[c->nstaged++] = i;
	}
}

/* Milliseconds (rounded up) from now until the nearest deadline, 0 when
 * past; -1: none known (nothing in flight, or all staged), or beyond
 * INT_MAX. */
static inline int az_ms_to_deadline(const struct azblob_client *c, uint64_t now)
{
	uint64_t ms;

	if (c->next_deadline_ns <= now)
		return 0;
	ms = (c->next_deadline_ns - now) / 1000000 + 1;
	return ms < INT_MAX ? (int)ms : -1;
}

/* Sleep in azblob_wait() at most 10 ms and never past end_ns (now_ns <
 * end_ns): the waiting step of calls that wait with a deadline. */
static inline void az_wait_until(struct azblob_client *c, uint64_t now_ns, uint64_t end_ns)
{
	uint64_t left_ms = (end_ns - now_ns) / 1000000 + 1;

	azblob_wait(c, left_ms < 10 ? (int)left_ms : 10);
}

/* transport.c: how a client reaches its device, as SPDK's transports: a
 * table of {name, match, open}; the first whose match() accepts the
 * options opens c->dev (and may set c->arena_fd / arena_bytes). */
struct az_transport {
	const char *name;
	bool (*match)(const struct azblob_opts *o);
	int (*open)(struct azblob_client *c, const struct azblob_opts *o,
		    struct uvmbus_dev_opts *d);
};
int az_transport_open(struct azblob_client *c, const struct azblob_opts *o);

/* broker_client.c: the broker to attach to (opts.broker, else
 * $AZBLOB_BROKER unless a simulator root is given), or NULL. */
const char *az_broker_path(const struct azblob_opts *o);
/* The broker transport: c->dev is the session's virtual channel,
 * c->arena_fd / arena_bytes its arena (memory comes from the arena through
 * the memfd pin backend). */
extern const struct az_transport az_transport_broker;

/* sync.c: submit, waiting up to deadline_ns for a free slot or ring room
 * (polling meanwhile). -ETIMEDOUT, with a message that counts the slots
 * held by unanswered requests, when none came free in time. */
int az_submit_until(struct azblob_client *c, const struct azblob_request *r, uint64_t deadline_ns);
/* The device is gone: log once, fail everything in flight with ENODEV. */
void az_mark_dead(struct azblob_client *c);
/* The host broke a ring (TX or RX): log once, fail everything in flight
 * with EIO at once; the client then refuses everything with EIO. */
void az_mark_broken(struct azblob_client *c, const char *why);

#endif
