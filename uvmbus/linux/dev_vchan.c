// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* A virtual channel: rings and an event fd handed over by a broker. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev_internal.h"

static void *anon_page(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int uvmbus_dev_open_vchan(struct uvmbus_dev **out, int ring_fd, size_t ring_bytes, int event_fd,
			  const struct uvmbus_dev_opts *o)
{
	struct uvmbus_chan *c;
	struct uvmbus_dev *d;
	struct stat st;
	int rc;

	if (!out || ring_fd < 0 || event_fd < 0)
		return -EINVAL;
	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (o)
		d->opts = *o;
	d->opts.sysfs_root = d->opts.dev_root = d->opts.proc_root = NULL;
	d->uio_fd = -1;
	d->page = (size_t)sysconf(_SC_PAGESIZE);
	d->info.relid = 0;
	d->info.numa_node = -1;
	d->info.monitor_id = -1;
	d->info.uio = -1;
	d->info.nchannels = 1;
	snprintf(d->info.driver, sizeof(d->info.driver), "vchan");
	snprintf(d->uio_path, sizeof(d->uio_path), "vchan");
	d->event_fd = fcntl(event_fd, F_DUPFD_CLOEXEC, 0);
	if (d->event_fd < 0) {
		rc = -errno;
		goto fail;
	}
	d->event_is_socket = fstat(d->event_fd, &st) == 0 && S_ISSOCK(st.st_mode);
	/* The signal path sets a relid bit before its write: a private page
	 * stands in for the interrupt page (and the unused monitor page). */
	d->int_page = anon_page(d->page);
	d->monitor_page = anon_page(d->page);
	if (!d->int_page || !d->monitor_page) {
		rc = -ENOMEM;
		goto fail;
	}
	/* As a uio channel's (dev_chan.c, split_ok()): each ring whole kernel
	 * pages, a header page and data, so that RX starts on a page. A
	 * broker of another page size (a 4 KiB-only size under 64 KiB pages)
	 * is refused here, not misread. */
	if (ring_bytes <= d->page || ring_bytes % d->page || ring_bytes > (1u << 30)) {
		LOG_ERR(&d->opts.log,
			"dev: vchan: ring size %zu is not whole pages of %zu bytes (two at least)",
			ring_bytes, d->page);
		rc = -EPROTO;
		goto fail;
	}
	/* A shorter file would fault (SIGBUS) at the first touch past its end. */
	if (fstat(ring_fd, &st))
		st.st_size = 0;
	if (st.st_size < 0 || (uint64_t)st.st_size < 2 * (uint64_t)ring_bytes) {
		LOG_ERR(&d->opts.log,
			"dev: vchan: the ring fd holds %lld bytes, not two rings of %zu",
			(long long)st.st_size, ring_bytes);
		rc = -EPROTO;
		goto fail;
	}
	c = &d->chan[0];
	c->dev = d;
	c->monitor_id = -1;
	c->ring_via = "vchan";
	c->ring_map = mmap(NULL, 2 * ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, ring_fd, 0);
	if (c->ring_map == MAP_FAILED) {
		rc = -errno;
		c->ring_map = NULL;
		LOG_ERR(&d->opts.log, "dev: vchan: mmap of the rings: %s", strerror(-rc));
		goto fail;
	}
	c->ring_len = 2 * ring_bytes;
	rc = chan_attach(d, c, ring_bytes, "vchan");
	if (rc)
		goto fail;
	d->nchan = 1;
	*out = d;
	return 0;
fail:
	uvmbus_dev_close(d);
	return rc;
}
