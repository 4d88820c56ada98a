// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Client life cycle: device, memory and slots; close in the safe order. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "internal.h"

/* A request the client gave up on is still covered by the pinning layer's
 * quarantine: the host never writes later than the client waits. */
_Static_assert(AZBLOB_MAX_TIMEOUT_MS + AZBLOB_GRACE_MS(AZBLOB_MAX_TIMEOUT_MS) <=
		   UVMBUS_PIN_QUARANTINE_MS,
	       "the longest request's deadline fits kstub's default quarantine");

#define DEFAULT_QD	   128u
#define DEFAULT_TIMEOUT_MS 30000u
#define DEFAULT_POOL_BUF   (64u * 1024u)
#define DEFAULT_CLOSE_MS   5000u

void azblob_opts_init(struct azblob_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->queue_depth = DEFAULT_QD;
	o->default_timeout_ms = DEFAULT_TIMEOUT_MS;
	o->pool_buf_size = DEFAULT_POOL_BUF;
	o->numa_node = -2;
	o->pin_backend = UVMBUS_PIN_AUTO;
}

static int open_device(struct azblob_client *c, const struct azblob_opts *o)
{
	int rc = az_transport_open(c, o);

	if (rc)
		return rc;
	c->ch = uvmbus_dev_channel(c->dev, 0);
	c->tx = uvmbus_chan_tx(c->ch);
	c->rx = uvmbus_chan_rx(c->ch);
	c->max_pages = uvmbus_chan_max_gpa_pfns(c->ch, sizeof(struct azblob_vsp_request));
	if (c->max_pages > AZBLOB_MAX_PAGES)
		c->max_pages = AZBLOB_MAX_PAGES;
	if (c->broker_max_pages && c->max_pages > c->broker_max_pages)
		c->max_pages = c->broker_max_pages;
	uvmbus_chan_set_polling(c->ch, !o->interrupt_mode);
	return 0;
}

static int open_memory(struct azblob_client *c, const struct azblob_opts *o)
{
	struct uvmbus_mem_opts m;
	int rc;

	uvmbus_mem_opts_init(&m);
	m.log = o->log;
	m.backend = o->pin_backend;
	m.allow_small_pages = o->allow_small_pages;
	m.numa_node = o->numa_node == -2 ? uvmbus_dev_get_info(c->dev)->numa_node : o->numa_node;
	if (c->arena_fd >= 0) {
		m.backend = UVMBUS_PIN_MEMFD;
		m.memfd = c->arena_fd;
		m.memfd_size = c->arena_bytes;
		m.numa_node = -1;
		if (c->simsock.memtable)
			m.memtable = &c->simsock;
	}
	rc = uvmbus_mem_open(&c->mem, &m);
	if (rc)
		return rc;
	rc = uvmbus_pool_create(c->mem, c->opts.pool_buf_size, c->opts.pool_bufs, &c->pool);
	if (rc)
		return rc;
	struct uvmbus_buf *b = uvmbus_pool_get(c->pool);

	/* The pool's layout, for mapping azblob_alloc() pointers back. */
	c->pool_base = (uint8_t *)b->addr - b->region_off;
	c->pool_len = uvmbus_region_len(b->region);
	c->pool_region = b->region;
	c->pool_stride = ((size_t)c->opts.pool_buf_size + 63) & ~(size_t)63;
	c->pool_magic = UINT64_MAX / c->pool_stride + 1;
	uvmbus_pool_put(c->pool, b);
	c->alloc_map = calloc(c->opts.pool_bufs, sizeof(*c->alloc_map));
	c->pool_busy = calloc(c->opts.pool_bufs, sizeof(*c->pool_busy));
	c->pool_free_pending = calloc(c->opts.pool_bufs, 1);
	c->pool_pfns = malloc((c->pool_len >> 12) * sizeof(*c->pool_pfns));
	if (!c->alloc_map || !c->pool_busy || !c->pool_free_pending || !c->pool_pfns)
		return -ENOMEM;
	return uvmbus_region_pfns(c->pool_region, 0, c->pool_len, c->pool_pfns, NULL);
}

/* Each slot's first generation is random: a trans_id of this client
 * cannot be predicted, and an answer meant for an earlier client on the
 * channel matches nothing here (but with 2^-32 odds). */
static int random_generations(struct azblob_client *c)
{
	for (uint32_t i = 0; i < c->qd; i++) {
		uint32_t g;

		if (getrandom(&g, sizeof(g), 0) != sizeof(g)) {
			int err = errno;

			az_log(c, UVMBUS_LOG_ERR, "azblob: getrandom: %s", strerror(err));
			return -err;
		}
		c->slots[i].gen = g ? g : 1;
	}
	return 0;
}

int azblob_open(struct azblob_client **out, const struct azblob_opts *o)
{
	struct azblob_opts dflt;
	struct azblob_client *c;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!o) {
		azblob_opts_init(&dflt);
		o = &dflt;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	az_lock_init(&c->lock);
	c->opts = *o;
	az_clock_init(&c->clock, true);
	c->opts.device_guid = c->opts.sysfs_root = c->opts.dev_root = c->opts.sim_root = NULL;
	c->opts.broker = NULL;
	c->simsock.event_fd = c->simsock.ram_fd = c->arena_fd = -1;
	if (!c->opts.queue_depth)
		c->opts.queue_depth = DEFAULT_QD;
	if (!c->opts.default_timeout_ms)
		c->opts.default_timeout_ms = DEFAULT_TIMEOUT_MS;
	if (!c->opts.pool_buf_size)
		c->opts.pool_buf_size = DEFAULT_POOL_BUF;
	if (!c->opts.pool_bufs)
		c->opts.pool_bufs = 2 * c->opts.queue_depth;
	if (c->opts.queue_depth > AZBLOB_QUEUE_DEPTH ||
	    c->opts.default_timeout_ms > AZBLOB_MAX_TIMEOUT_MS) {
		az_log(c, UVMBUS_LOG_ERR,
		       "azblob: queue depth %u (max %u) or timeout %u ms (max %u)",
		       c->opts.queue_depth, AZBLOB_QUEUE_DEPTH, c->opts.default_timeout_ms,
		       AZBLOB_MAX_TIMEOUT_MS);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return -EINVAL;
	}
	if (!c->opts.close_timeout_ms)
		c->opts.close_timeout_ms = DEFAULT_CLOSE_MS;
	c->qd = c->opts.queue_depth;
	c->slots = calloc(c->qd, sizeof(*c->slots));
	c->free_slots = calloc(c->qd, sizeof(*c->free_slots));
	c->staged = calloc(c->qd, sizeof(*c->staged));
	rc = c->slots && c->free_slots && c->staged ? 0 : -ENOMEM;
	if (!rc)
		rc = random_generations(c);
	for (uint32_t i = 0; !rc && i < c->qd; i++) {
		c->free_slots[i] = c->qd - 1 - i;
		for (int k = 0; k < 3; k++)
			c->slots[i].pool_idx[k] = -1;
	}
	c->nfree = c->qd;
	c->staged_tmo = UINT64_MAX;
	c->next_deadline_ns = UINT64_MAX;
	if (!rc && getrandom(&c->guid_salt, sizeof(c->guid_salt), 0) != sizeof(c->guid_salt))
		rc = -errno;
	if (!rc)
		rc = open_device(c, o);
	if (!rc)
		rc = open_memory(c, o);
	if (rc) {
		azblob_close(c);
		return rc;
	}
	uint64_t raw;

	c->last_activity_ns = c->last_fd_check_ns = az_now_raw(c, &raw);
	c->fd_check_ns = (uint64_t)(o->rescind_check_ms ? o->rescind_check_ms : 20) * 1000000u;
	az_guard_rate(c); /* fd_ticks of this fd_check_ns */
	az_guard_arm(c, raw);
	*out = c;
	return 0;
}

/* Wait up to close_timeout_ms for the host to answer what is still out
 * (in flight or timed out), polling: callbacks run as answers and
 * deadlines come. Nothing to wait for on a dead or broken channel. */
static void close_wait(struct azblob_client *c)
{
	uint64_t end = az_now(c) + (uint64_t)c->opts.close_timeout_ms * 1000000u;

	if (azblob_flush(c) < 0)
		return;
	while (c->inflight + c->held) {
		uint64_t now = az_now(c);

		if (now >= end || azblob_poll(c, 0) < 0)
			return;
		if (!uvmbus_ring_readable(c->rx))
			az_wait_until(c, now, end);
	}
}

/* Release everything; memory of requests the host never answered is
 * abandoned instead (pinned, mapped, unused until the process exits).
 * Returns the number of such requests. */
static uint32_t release_memory(struct azblob_client *c)
{
	uint32_t unanswered = 0;
	uint64_t bytes = 0;

	for (uint32_t i = 0; c->slots && i < c->qd; i++)
		if (c->slots[i].state != SLOT_FREE)
			unanswered++;
	/* Answered requests hold nothing; unanswered ones keep their region
	 * references, so their regions are neither released nor destroyed. */
	if (c->pool) {
		for (uint32_t i = 0; c->alloc_map && i < c->opts.pool_bufs; i++)
			if (c->alloc_map[i])
				uvmbus_pool_put(c->pool, c->alloc_map[i]);
		for (uint32_t i = 0; unanswered && i < c->qd; i++)
			if (c->slots[i].bounce)
				uvmbus_pool_put(c->pool, c->slots[i].bounce);
		/* The pool region holds no references of requests: anything
		 * unanswered keeps the whole pool. */
		if (unanswered || uvmbus_pool_destroy(c->pool))
			uvmbus_pool_abandon(c->pool);
	}
	for (unsigned i = 0; i < c->nreg; i++)
		uvmbus_region_release(c->reg[i]); /* -EBUSY: in use, left to abandon */
	if (!c->mem)
		return unanswered;
	if (!unanswered) {
		if (uvmbus_mem_close(c->mem))
			az_log(c, UVMBUS_LOG_WARN, "azblob: memory still in use at close");
		return 0;
	}
	bytes = uvmbus_mem_abandon(c->mem);
	az_log(c, UVMBUS_LOG_WARN,
	       "azblob: close: %u request(s) never answered by the host: their memory (%llu "
	       "bytes) stays pinned and unused until the process exits",
	       unanswered, (unsigned long long)bytes);
	return unanswered;
}

int azblob_close(struct azblob_client *c)
{
	uint32_t unanswered;

	if (!c)
		return 0;
	/* 0. Queues first (queue.c): the client is left untouched while any is open. */
	if (az_queues_close(c))
		return -ENOTEMPTY;
	/* 1. As the original driver: the host answers what it holds first. */
	if (c->slots && c->dev && !c->dead && !c->broken)
		close_wait(c);
	/* 2. Whatever is still in flight is answered now, with ECANCELED. */
	if (c->slots) {
		az_fail_all(c, -ECANCELED);
		az_release_all(c, -ECANCELED);
	}
	az_prep_close(c); /* templates: their references dropped where nothing is held */
	/* 3. Close the channel (uio: the last close closes it). */
	uvmbus_dev_close(c->dev);
	c->dev = NULL;
	uvmbus_simsock_disconnect(&c->simsock);
	if (c->arena_fd >= 0)
		close(c->arena_fd);
	c->arena_fd = -1;
	/* 4. Release what the host answered; never reuse what it did not. */
	unanswered = release_memory(c);
	free(c->alloc_map);
	free(c->pool_busy);
	free(c->pool_free_pending);
	free(c->pool_pfns);
	free(c->slots);
	free(c->free_slots);
	free(c->staged);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return unanswered ? -EBUSY : 0;
}

/* ---- memory ---- */

bool azblob_registers_in_place(const struct azblob_client *c)
{
	/* a device (kstub pins anything), or the emulator's memory table */
	return c->arena_fd < 0 || c->simsock.memtable;
}

static void *alloc_locked(struct azblob_client *c, size_t len)
{
	struct uvmbus_buf *b;

	if (len > c->opts.pool_buf_size)
		return NULL;
	b = uvmbus_pool_get(c->pool);
	if (!b)
		return NULL;
	c->alloc_map[b->index] = b;
	return b->addr;
}

void *az_alloc_raw(struct azblob_client *c, size_t len)
{
	void *p;

	az_mem_lock(c);
	p = alloc_locked(c, len);
	az_mem_unlock(c);
	return p;
}

void *azblob_alloc(struct azblob_client *c, size_t len)
{
	void *p = az_alloc_raw(c, len);

	/* The last user's bytes (maybe another request's data) never show. */
	if (p)
		memset(p, 0, len);
	return p;
}

static void free_locked(struct azblob_client *c, void *buf)
{
	size_t off;

	if (!buf)
		return;
	off = (size_t)((uint8_t *)buf - c->pool_base);
	if ((uint8_t *)buf < c->pool_base || off % c->pool_stride ||
	    off / c->pool_stride >= c->opts.pool_bufs || !c->alloc_map[off / c->pool_stride]) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: free of %p: not from azblob_alloc", buf);
		return;
	}
	size_t i = off / c->pool_stride;

	if (c->pool_busy[i]) {
		/* A request (maybe timed out) still lets the host write it: hand
		 * it back to the pool only when that request is over. */
		c->pool_free_pending[i] = 1;
		c->pending_frees++;
		return;
	}
	uvmbus_pool_put(c->pool, c->alloc_map[i]);
	c->alloc_map[i] = NULL;
}

void azblob_free(struct azblob_client *c, void *buf)
{
	az_mem_lock(c);
	free_locked(c, buf);
	az_mem_unlock(c);
}

/* Whether registered region g overlaps the pool (submit then looks
 * registrations up first, so that the request references them). */
static bool overlaps_pool(const struct azblob_client *c, const struct uvmbus_region *g)
{
	const uint8_t *a = uvmbus_region_addr(g);

	return a < c->pool_base + c->pool_len && c->pool_base < a + uvmbus_region_len(g);
}

static int register_locked(struct azblob_client *c, void *addr, size_t len)
{
	int rc;

	if (c->nreg == sizeof(c->reg) / sizeof(c->reg[0])) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: register: at most %zu registered ranges",
		       sizeof(c->reg) / sizeof(c->reg[0]));
		return -ENOSPC;
	}
	rc = uvmbus_mem_register(c->mem, addr, len, &c->reg[c->nreg]);
	if (!rc)
		c->pool_regs += overlaps_pool(c, c->reg[c->nreg++]);
	return rc;
}

int azblob_register(struct azblob_client *c, void *addr, size_t len)
{
	int rc;

	az_mem_lock(c);
	rc = register_locked(c, addr, len);
	az_mem_unlock(c);
	return rc;
}

static int unregister_locked(struct azblob_client *c, void *addr)
{
	for (unsigned i = 0; i < c->nreg; i++) {
		if (uvmbus_region_addr(c->reg[i]) != addr)
			continue;
		bool in_pool = overlaps_pool(c, c->reg[i]);
		int rc = uvmbus_region_release(c->reg[i]);

		if (!rc) {
			c->reg[i] = c->reg[--c->nreg];
			c->pool_regs -= in_pool;
		}
		return rc;
	}
	az_log(c, UVMBUS_LOG_ERR, "azblob: unregister %p: not a registered start address", addr);
	return -EINVAL;
}

bool az_registered(struct azblob_client *c, const void *addr, size_t len)
{
	const uint8_t *a = addr;
	bool in = false;

	if (!a || !len)
		return false;
	az_mem_lock(c);
	for (unsigned i = 0; i < c->nreg && !in; i++) {
		const uint8_t *b = uvmbus_region_addr(c->reg[i]);

		in = a >= b && (size_t)(a - b) <= uvmbus_region_len(c->reg[i]) &&
		     len <= uvmbus_region_len(c->reg[i]) - (size_t)(a - b);
	}
	az_mem_unlock(c);
	return in;
}

int azblob_unregister(struct azblob_client *c, void *addr)
{
	int rc;

	az_mem_lock(c);
	rc = unregister_locked(c, addr);
	az_mem_unlock(c);
	return rc;
}

int azblob_fd(const struct azblob_client *c)
{
	return uvmbus_chan_fd(c->ch);
}

unsigned azblob_inflight(const struct azblob_client *c)
{
	if (c->shared)
		return azblob_queue_inflight(c->q0);
	return c->inflight;
}
