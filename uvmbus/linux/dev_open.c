// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Opening a device bound to uio_hv_generic: checks, /dev/uioN, mappings. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uvmbus/wire.h>

#include "dev_internal.h"

#define MIN_PACKET_DEFAULT 96u /* GPA header + 1 pfn + 56-byte VSP request */

/* Map K of /dev/uioN must be called `name` (sysfs maps/mapK/name). */
static int check_map(struct uvmbus_dev *d, int k, const char *name)
{
	char path[PATH_MAX + 64], buf[64];
	int rc;

	snprintf(path, sizeof(path), "%s/uio/uio%d/maps/map%d/name", d->dev_dir, d->info.uio, k);
	rc = sysfs_read(path, buf, sizeof(buf));
	if (rc) {
		LOG_ERR(&d->opts.log, "dev: %s: %s", path, strerror(-rc));
		return rc == -ENOENT ? -EPROTO : rc;
	}
	if (strcmp(buf, name)) {
		LOG_ERR(&d->opts.log, "dev: %s is '%s', expected '%s': not a uio_hv_generic layout",
			path, buf, name);
		return -EPROTO;
	}
	return 0;
}

void *dev_map_uio(struct uvmbus_dev *d, int k, size_t len)
{
	int64_t off = (int64_t)k * (int64_t)d->page;
	int fd = d->uio_fd;
	void *p;

	if (d->opts.open_map_fd) {
		fd = d->opts.open_map_fd(d->opts.event_arg, d->uio_path, k, &off);
		if (fd < 0) {
			LOG_ERR(&d->opts.log, "dev: %s map %d: %s", d->uio_path, k, strerror(-fd));
			return NULL;
		}
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	if (p == MAP_FAILED)
		LOG_ERR(&d->opts.log, "dev: mmap %s map %d: %s", d->uio_path, k, strerror(errno));
	if (fd != d->uio_fd)
		close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static int open_uio(struct uvmbus_dev *d)
{
	int rc;

	snprintf(d->uio_path, sizeof(d->uio_path), "%s/uio%d", d->roots.dev, d->info.uio);
	d->uio_fd = open(d->uio_path, O_RDWR | O_CLOEXEC);
	if (d->uio_fd < 0) {
		rc = -errno;
		LOG_ERR(&d->opts.log, "dev: open %s: %s%s", d->uio_path, strerror(-rc),
			rc == -EACCES || rc == -EPERM
			    ? " (grant access: scripts/bind_uio.sh permissions --group GROUP)"
			    : "");
		return rc;
	}
	d->int_page = dev_map_uio(d, 1, d->page);
	d->monitor_page = d->int_page ? dev_map_uio(d, 2, d->page) : NULL;
	if (!d->int_page || !d->monitor_page)
		return -errno ? -errno : -EIO;
	if (d->opts.open_event_fd) {
		d->event_fd = d->opts.open_event_fd(d->opts.event_arg, d->uio_path);
		if (d->event_fd < 0) {
			LOG_ERR(&d->opts.log, "dev: event fd for %s: %s", d->uio_path,
				strerror(-d->event_fd));
			return d->event_fd;
		}
		struct stat st;

		d->event_is_socket = fstat(d->event_fd, &st) == 0 && S_ISSOCK(st.st_mode);
	} else {
		d->event_fd = d->uio_fd;
	}
	return 0;
}

/*
 * An unbound device without a monitor, under a kernel before 6.10: its
 * uio_hv_generic refuses such a channel (probe fails with ENOTSUPP, "vmbus
 * channel requires hypercall"; the bind write shows "Unknown error 524").
 * Say so and what to do. True when that is the case (logged).
 */
static bool refused_without_monitor(struct uvmbus_dev *d)
{
	char path[ROOT_MAX + 32], rel[128] = "";
	int major = 0, minor = 0;

	if (d->info.monitor_id >= 0)
		return false;
	snprintf(path, sizeof(path), "%s/sys/kernel/osrelease", d->roots.proc);
	if (sysfs_read(path, rel, sizeof(rel)) || sscanf(rel, "%d.%d", &major, &minor) != 2 ||
	    major > 6 || (major == 6 && minor >= 10))
		return false;
	LOG_ERR(&d->opts.log,
		"dev: %s is not bound, and this kernel's uio_hv_generic cannot bind it: the host "
		"offered the channel without a monitor (no monitor_id), and before Linux 6.10 "
		"uio_hv_generic refuses such a channel (\"vmbus channel requires hypercall\" in "
		"the kernel log, \"Unknown error 524\" from the bind). This kernel is %s. Use "
		"a 6.10 or later kernel, or a host that offers the device with a monitor",
		d->info.guid, rel);
	return true;
}

int uvmbus_dev_open(struct uvmbus_dev **out, const char *guid, const struct uvmbus_dev_opts *o)
{
	char want[UVMBUS_GUID_STR_LEN + 1];
	struct uvmbus_dev *d;
	int rc;

	if (!out || !guid)
		return -EINVAL;
	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (o)
		d->opts = *o;
	d->opts.sysfs_root = d->opts.dev_root = d->opts.proc_root = NULL; /* copied below */
	if (!d->opts.ring_wait_ms)
		d->opts.ring_wait_ms = 2000;
	if (!d->opts.min_packet)
		d->opts.min_packet = MIN_PACKET_DEFAULT;
	d->uio_fd = d->event_fd = -1;
	d->page = (size_t)sysconf(_SC_PAGESIZE);
	dev_roots_init(&d->roots, o);

	rc = dev_check_isolation(&d->roots, &d->opts.log);
	if (rc)
		goto fail;
	if (guid_normalize(guid, want)) {
		LOG_ERR(&d->opts.log, "dev: '%s' is not a device GUID", guid);
		rc = -EINVAL;
		goto fail;
	}
	snprintf(d->dev_dir, sizeof(d->dev_dir), "%s/bus/vmbus/devices/%s", d->roots.sys, want);
	if (access(d->dev_dir, F_OK)) {
		LOG_ERR(&d->opts.log, "dev: no VMbus device %s (%s: %s)", want, d->dev_dir,
			strerror(errno));
		rc = -ENOENT;
		goto fail;
	}
	rc = dev_read_info(&d->roots, want, &d->info, &d->opts.log);
	if (rc)
		goto fail;
	if (strcmp(d->info.driver, "uio_hv_generic") || d->info.uio < 0) {
		if (!d->info.driver[0] && refused_without_monitor(d)) {
			rc = -EOPNOTSUPP;
			goto fail;
		}
		LOG_ERR(&d->opts.log,
			"dev: %s is bound to '%s', not uio_hv_generic (with a uio node): run "
			"scripts/bind_uio.sh bind %s",
			want, d->info.driver[0] ? d->info.driver : "no driver", want);
		rc = -ENODEV;
		goto fail;
	}
	rc = check_map(d, 0, "txrx_rings");
	if (!rc)
		rc = check_map(d, 1, "int_page");
	if (!rc)
		rc = check_map(d, 2, "monitor_page");
	if (!rc)
		rc = open_uio(d);
	if (!rc)
		rc = chan_map(d, &d->chan[0], d->info.relid);
	if (rc)
		goto fail;
	d->nchan = 1;
	if (uvmbus_chan_max_packet(&d->chan[0]) < d->opts.min_packet) {
		LOG_ERR(&d->opts.log,
			"dev: %s: the TX ring (%u data bytes) cannot carry even a %u-byte request "
			"packet",
			want, uvmbus_ring_data_size(d->chan[0].tx), d->opts.min_packet);
		rc = -ENOSPC;
		goto fail;
	}
	*out = d;
	return 0;
fail:
	uvmbus_dev_close(d);
	return rc;
}

void uvmbus_dev_close(struct uvmbus_dev *d)
{
	if (!d)
		return;
	for (unsigned i = 0; i < d->nchan || (i == 0 && d->chan[0].ring_map); i++)
		chan_unmap(&d->chan[i]);
	if (d->int_page)
		munmap(d->int_page, d->page);
	if (d->monitor_page)
		munmap(d->monitor_page, d->page);
	if (d->event_fd >= 0 && d->event_fd != d->uio_fd)
		close(d->event_fd);
	if (d->uio_fd >= 0)
		close(d->uio_fd);
	free(d);
}

const struct uvmbus_dev_info *uvmbus_dev_get_info(const struct uvmbus_dev *d)
{
	return &d->info;
}

int uvmbus_dev_open_subchannels(struct uvmbus_dev *d)
{
	uint32_t relids[DEV_MAX_CHANNELS];
	int n = dev_list_channels(d->dev_dir, relids, DEV_MAX_CHANNELS);

	if (d->dead)
		return -ENODEV;
	for (int i = 0; i < n && d->nchan < DEV_MAX_CHANNELS; i++) {
		bool have = false;

		for (unsigned j = 0; j < d->nchan; j++)
			have |= d->chan[j].relid == relids[i];
		if (have)
			continue;
		int rc = chan_map(d, &d->chan[d->nchan], relids[i]);

		if (rc)
			return rc;
		d->nchan++;
	}
	return (int)d->nchan;
}

unsigned uvmbus_dev_channel_count(const struct uvmbus_dev *d)
{
	return d->nchan;
}

struct uvmbus_chan *uvmbus_dev_channel(struct uvmbus_dev *d, unsigned i)
{
	return i < d->nchan ? &d->chan[i] : NULL;
}
