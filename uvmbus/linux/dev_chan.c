// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Channels: ring mapping, host signalling, interrupts, rescind. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uvmbus/wire.h>

#include "dev_internal.h"

#define INT_PAGE_SEND_OFF 2048u /* guest-to-host half of the interrupt page */
#define MONITOR_TRIG_OFF  8u	/* trigger groups: {u32 pending, u32 armed} */
/* One send bit per relid in the rest of the 4 KiB interrupt page. */
#define INT_PAGE_SEND_BITS ((VMBUS_PAGE_SIZE - INT_PAGE_SEND_OFF) * 8u)
#define MONITOR_NONE	   255 /* monitor_id of a channel without a monitor */

_Static_assert(INT_PAGE_SEND_BITS == 16384, "relids the interrupt page can signal");
_Static_assert(MONITOR_TRIG_OFF + MONITOR_IDS / 32 * 8 <= 576, "trigger groups before latency");

void dev_mark_dead(struct uvmbus_dev *d, const char *why, int err)
{
	if (d->dead)
		return;
	d->dead = true;
	LOG_ERR(&d->opts.log,
		"dev: %s was removed by the host (%s on %s: %s): the channel is closed, every "
		"call now fails with ENODEV",
		d->info.guid, why, d->uio_path, strerror(err));
}

/* Wait (bounded) for <dev>/channels/<relid>/ring: it can appear after the
 * device is bound. sysfs sends no inotify events, so poll for it. */
static int wait_ring(struct uvmbus_dev *d, const char *path)
{
	struct timespec tick = {0, 10 * 1000 * 1000};

	for (unsigned waited = 0; access(path, F_OK); waited += 10) {
		if (waited >= d->opts.ring_wait_ms) {
			LOG_ERR(&d->opts.log, "dev: %s did not appear within %u ms", path,
				d->opts.ring_wait_ms);
			return -ETIMEDOUT;
		}
		nanosleep(&tick, NULL);
	}
	return 0;
}

/*
 * A monitor_id file: absent or 255 is no monitor (*id = -1); 0..127 is a
 * bit of the monitor page's 4 trigger groups; anything else is the host's
 * error, refused before a signal could write outside the groups.
 * 0, -ENOENT (absent) or -EPROTO.
 */
static int read_monitor_id(struct uvmbus_dev *d, const char *path, int *id)
{
	long v;
	int rc = sysfs_read_long(path, &v);

	*id = -1;
	if (rc == -ENOENT)
		return rc;
	if (rc || v < 0 || (v >= MONITOR_IDS && v != MONITOR_NONE)) {
		char buf[64] = "";

		sysfs_read(path, buf, sizeof(buf));
		LOG_ERR(&d->opts.log,
			"dev: %s: monitor_id %s is not a monitor page bit (0..%d) nor %d (none)",
			path, buf, MONITOR_IDS - 1, MONITOR_NONE);
		return -EPROTO;
	}
	if (v != MONITOR_NONE)
		*id = (int)v;
	return 0;
}

/* Two rings of `half` bytes each: whole pages, a header page and data. */
static int split_ok(struct uvmbus_dev *d, const char *what, uint64_t total, size_t *half)
{
	*half = (size_t)(total / 2);
	if (!total || total != 2 * (uint64_t)*half || *half % d->page || *half <= d->page) {
		LOG_ERR(&d->opts.log, "dev: %s: size %llu is not two rings of whole pages", what,
			(unsigned long long)total);
		return -EPROTO;
	}
	return 0;
}

static int map_file(struct uvmbus_dev *d, struct uvmbus_chan *c, const char *path, size_t len)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		rc = -errno;
		LOG_ERR(&d->opts.log, "dev: open %s: %s", path, strerror(-rc));
		return rc;
	}
	c->ring_map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (c->ring_map == MAP_FAILED) {
		rc = -errno;
		c->ring_map = NULL;
		LOG_ERR(&d->opts.log, "dev: mmap %s: %s", path, strerror(-rc));
		return rc;
	}
	return 0;
}

/*
 * The primary channel: its size is uio map 0's (docs/WIRE.md 1: the ring file
 * reported a fixed 4 MiB on kernels whose rings are 2 MiB + 4 KiB each).
 * Mapped through the ring file when it exists and covers the rings, else
 * through map 0 of the uio node (older kernels give a device bound
 * through new_id after a re-offer no primary ring file).
 */
static int map_primary(struct uvmbus_dev *d, struct uvmbus_chan *c, const char *ring_path,
		       size_t *half)
{
	char path[PATH_MAX + 64], buf[64];
	unsigned long long size;
	struct stat st;
	char *end;
	int rc;

	snprintf(path, sizeof(path), "%s/uio/uio%d/maps/map0/size", d->dev_dir, d->info.uio);
	rc = sysfs_read(path, buf, sizeof(buf));
	if (rc) {
		LOG_ERR(&d->opts.log, "dev: %s: %s", path, strerror(-rc));
		return rc == -ENOENT ? -EPROTO : rc;
	}
	errno = 0;
	size = strtoull(buf, &end, 0);
	if (errno || end == buf || *end || size > (1ull << 32)) {
		LOG_ERR(&d->opts.log, "dev: %s: '%s' is not a size", path, buf);
		return -EPROTO;
	}
	rc = split_ok(d, path, size, half);
	if (rc)
		return rc;
	if (stat(ring_path, &st) == 0 && (uint64_t)st.st_size >= size) {
		c->ring_via = "ring file";
		return map_file(d, c, ring_path, (size_t)size);
	}
	LOG_INFO(&d->opts.log, "dev: %s %s: the rings through %s map 0", ring_path,
		 access(ring_path, F_OK) ? "is missing" : "is smaller than map 0", d->uio_path);
	c->ring_via = "uio map 0";
	c->ring_map = dev_map_uio(d, 0, (size_t)size);
	return c->ring_map ? 0 : -EIO;
}

/* A subchannel: its ring file only (it may appear after the device is
 * bound: wait for it, bounded), each ring half of it. */
static int map_subchannel(struct uvmbus_dev *d, struct uvmbus_chan *c, const char *path,
			  size_t *half)
{
	struct stat st;
	int rc = wait_ring(d, path);

	if (rc)
		return rc;
	if (stat(path, &st)) {
		rc = -errno;
		LOG_ERR(&d->opts.log, "dev: stat %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = split_ok(d, path, st.st_size > 0 ? (uint64_t)st.st_size : 0, half);
	if (rc)
		return rc;
	c->ring_via = "ring file";
	return map_file(d, c, path, 2 * *half);
}

/* The kernel sets feat_pending_send_sz (bit 0 of feature_bits) in both
 * headers at every channel open: a zero means our split is wrong. */
static int check_features(struct uvmbus_dev *d, struct uvmbus_chan *c, size_t half)
{
	const struct vmbus_ring_hdr *tx = c->ring_map;
	const struct vmbus_ring_hdr *rx = (const void *)((const uint8_t *)c->ring_map + half);
	uint32_t ftx = __atomic_load_n(&tx->feature_bits, __ATOMIC_ACQUIRE);
	uint32_t frx = __atomic_load_n(&rx->feature_bits, __ATOMIC_ACQUIRE);

	if ((ftx & 1) && (frx & 1))
		return 0;
	LOG_ERR(&d->opts.log,
		"dev: %s channel %u: feature_bits %#x (TX) and %#x (RX at %zu bytes, through "
		"the %s): the kernel sets bit 0 in both at open, so these are not the ring "
		"headers. Likely cause: the ring size is wrong (a ring file that reports a "
		"fixed 4 MiB while the rings are 2 MiB + 4 KiB each), or the channel is not open",
		d->info.guid, c->relid, ftx, frx, half, c->ring_via);
	return -EPROTO;
}

int chan_map(struct uvmbus_dev *d, struct uvmbus_chan *c, uint32_t relid)
{
	char path[PATH_MAX + 64];
	size_t half = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	c->dev = d;
	c->relid = relid;
	c->monitor_id = -1;
	if (relid >= INT_PAGE_SEND_BITS) {
		LOG_ERR(&d->opts.log,
			"dev: %s: channel relid %u is beyond the interrupt page's %u send bits: "
			"refused",
			d->dev_dir, relid, INT_PAGE_SEND_BITS);
		return -EPROTO;
	}
	/* The channel's own monitor_id, else the device's (primary only). */
	snprintf(path, sizeof(path), "%s/channels/%u/monitor_id", d->dev_dir, relid);
	rc = read_monitor_id(d, path, &c->monitor_id);
	if (rc == -ENOENT && relid == d->info.relid) {
		snprintf(path, sizeof(path), "%s/monitor_id", d->dev_dir);
		rc = read_monitor_id(d, path, &c->monitor_id);
	}
	if (rc == -EPROTO)
		return rc;

	snprintf(path, sizeof(path), "%s/channels/%u/ring", d->dev_dir, relid);
	rc = relid == d->info.relid ? map_primary(d, c, path, &half)
				    : map_subchannel(d, c, path, &half);
	if (rc)
		return rc;
	return chan_attach(d, c, half, path);
}

int chan_attach(struct uvmbus_dev *d, struct uvmbus_chan *c, size_t half, const char *what)
{
	int rc;

	c->ring_len = 2 * half;
	rc = check_features(d, c, half);
	if (rc) {
		chan_unmap(c);
		return rc;
	}
	rc = uvmbus_ring_attach(&c->tx, c->ring_map, half, d->page, UVMBUS_RING_PRODUCER);
	if (!rc)
		rc = uvmbus_ring_attach(&c->rx, (uint8_t *)c->ring_map + half, half, d->page,
					UVMBUS_RING_CONSUMER);
	if (rc) {
		LOG_ERR(&d->opts.log, "dev: %s: ring header rejected (%s)", what, strerror(-rc));
		chan_unmap(c);
		return rc;
	}
	c->polling = true;
	uvmbus_ring_set_interrupt_mask(c->rx, true);
	return 0;
}

void chan_unmap(struct uvmbus_chan *c)
{
	uvmbus_ring_detach(c->tx);
	uvmbus_ring_detach(c->rx);
	if (c->ring_map)
		munmap(c->ring_map, c->ring_len);
	c->tx = c->rx = NULL;
	c->ring_map = NULL;
}

struct uvmbus_ring *uvmbus_chan_tx(struct uvmbus_chan *c)
{
	return c->dev->dead ? NULL : c->tx;
}

struct uvmbus_ring *uvmbus_chan_rx(struct uvmbus_chan *c)
{
	return c->dev->dead ? NULL : c->rx;
}

uint32_t uvmbus_chan_relid(const struct uvmbus_chan *c)
{
	return c->relid;
}

uint32_t uvmbus_chan_max_packet(const struct uvmbus_chan *c)
{
	return uvmbus_ring_max_packet(c->tx);
}

uint32_t uvmbus_chan_max_gpa_pfns(const struct uvmbus_chan *c, uint32_t payload_len)
{
	uint32_t max = uvmbus_chan_max_packet(c);
	uint32_t fixed = (uint32_t)sizeof(struct vmbus_gpa_direct_hdr) + ((payload_len + 7u) & ~7u);

	return max > fixed ? (max - fixed) / 8u : 0;
}

/* 4-byte write of 1 to the event fd (unmask, and signal when there is no
 * monitor). Returns 0 or -ENODEV after marking the device dead. */
static int event_write(struct uvmbus_dev *d)
{
	uint32_t one = 1;

	for (;;) {
		/* A socket stand-in (the simulator) must not raise SIGPIPE in the
		 * caller's process once the host hangs up: send(MSG_NOSIGNAL). */
		ssize_t n = d->event_is_socket ? send(d->event_fd, &one, sizeof(one), MSG_NOSIGNAL)
					       : write(d->event_fd, &one, sizeof(one));

		if (n == (ssize_t)sizeof(one))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		dev_mark_dead(d, "write", n < 0 ? errno : EIO);
		return -ENODEV;
	}
}

int uvmbus_chan_signal(struct uvmbus_chan *c)
{
	struct uvmbus_dev *d = c->dev;
	_Atomic uint32_t *word;
	int rc = 0;

	if (d->dead)
		return -ENODEV;
	if (c->monitor_id >= 0) {
		/* The host scans the monitor page: a bit per monitor id. The
		 * ring publish (release + fence) is ordered before this RMW. */
		word = (_Atomic uint32_t *)(d->monitor_page + MONITOR_TRIG_OFF +
					    (size_t)(c->monitor_id / 32) * 8u);
		atomic_fetch_or(word, 1u << (c->monitor_id % 32));
	} else {
		/* Relid bit in the send half of the interrupt page, then the
		 * kernel makes the hypercall on our 4-byte write. */
		word = (_Atomic uint32_t *)(d->int_page + INT_PAGE_SEND_OFF +
					    (size_t)(c->relid / 32) * 4u);
		atomic_fetch_or(word, 1u << (c->relid % 32));
		rc = event_write(d);
		/* Side effect of the write: RX interrupts unmasked. */
		if (!rc && c->polling)
			uvmbus_ring_set_interrupt_mask(c->rx, true);
	}
	if (!rc)
		c->st.signals++;
	return rc;
}

void uvmbus_chan_set_polling(struct uvmbus_chan *c, bool polling)
{
	c->polling = polling;
	if (!c->dev->dead)
		uvmbus_ring_set_interrupt_mask(c->rx, polling);
}

int uvmbus_chan_fd(const struct uvmbus_chan *c)
{
	return c->dev->event_fd;
}

bool uvmbus_chan_dead(const struct uvmbus_chan *c)
{
	return c->dev->dead;
}

int uvmbus_chan_wait(struct uvmbus_chan *c, int timeout_ms)
{
	struct uvmbus_dev *d = c->dev;
	struct pollfd p = {.fd = d->event_fd, .events = POLLIN};
	uint32_t count;
	ssize_t n;
	int rc = 1, r;

	if (d->dead)
		return -ENODEV;
	/* Something to read already: no write, which on a channel without a
	 * monitor would be a host signal for nothing; only a look (no wait)
	 * for a rescind. */
	if (uvmbus_ring_readable(c->rx)) {
		if (poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL))) {
			dev_mark_dead(d, "poll", EIO);
			return -ENODEV;
		}
		return 1;
	}
	/* Unmask (older kernels clear the RX mask on this write; newer ones
	 * leave it to us, below), then re-check the ring: data that arrived
	 * while masked raised no interrupt. */
	if (event_write(d))
		return -ENODEV;
	c->st.unmasks++;
	if (c->monitor_id < 0)
		c->st.idle_signals++;
	if (uvmbus_ring_set_interrupt_mask(c->rx, false))
		goto out;
	c->st.waits++;
	r = poll(&p, 1, timeout_ms);
	if (r < 0) {
		rc = errno == EINTR ? -EINTR : -errno;
		goto out;
	}
	if (r == 0) {
		rc = 0;
		goto out;
	}
	if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
		dev_mark_dead(d, "poll", EIO);
		return -ENODEV;
	}
	n = read(d->event_fd, &count, sizeof(count));
	if (n == (ssize_t)sizeof(count)) {
		c->st.interrupts += count;
	} else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		dev_mark_dead(d, "read", n < 0 ? errno : EIO);
		return -ENODEV;
	}
out:
	if (c->polling && !d->dead)
		uvmbus_ring_set_interrupt_mask(c->rx, true);
	return rc;
}

void uvmbus_chan_get_stats(const struct uvmbus_chan *c, struct uvmbus_chan_stats *st)
{
	*st = c->st;
}
