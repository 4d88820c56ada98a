// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The device tree the guest opens: the real sysfs names (WIRE.md 5) under
 * root/sys, the uio node under root/dev, a /proc/cpuinfo under root/proc.
 * The ring file and uio0 are shared files both sides map.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_internal.h"

#define AZBLOB_CLASS "0590b792-db64-45cc-81db-b8d70c577c9e"

static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(tmp, 0755) && errno != EEXIST ? -errno : 0;
}

static int put(const char *dir, const char *name, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	*strrchr(path, '/') = 0;
	rc = mkdirs(path);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	return fclose(f) ? -errno : 0;
}

/* A shared file of `len` zero bytes, mapped. */
static int shared_file(const char *path, size_t len, uint8_t **map)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	void *p;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len)) {
		int err = errno;

		close(fd);
		return -err;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	*map = p;
	return 0;
}

static int make_root(struct azblob_sim *s)
{
	if (s->opts.root) {
		if (strlen(s->opts.root) >= sizeof(s->root) - 64)
			return -ENAMETOOLONG;
		snprintf(s->root, sizeof(s->root), "%s", s->opts.root);
		if (mkdir(s->root, 0755))
			return -errno;
		return 0;
	}
	snprintf(s->root, sizeof(s->root), "%s/azblob-sim-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	return mkdtemp(s->root) ? 0 : -errno;
}

int sim_tree_create(struct azblob_sim *s)
{
	char dev[1024], dir[PATH_MAX];
	uint32_t ring = s->opts.ring_bytes;
	int rc;

	rc = make_root(s);
	if (rc) {
		sim_log(s, UVMBUS_LOG_ERR, "tree: cannot create %s: %s",
			s->opts.root ? s->opts.root : "a temporary directory", strerror(-rc));
		return rc;
	}
	s->tree_made = true;
	snprintf(dev, sizeof(dev), "%s/sys/bus/vmbus/devices/%s", s->root, s->guid);
	snprintf(dir, sizeof(dir), "%s/sys/bus/vmbus/drivers/uio_hv_generic", s->root);
	rc = mkdirs(dir);
	snprintf(dir, sizeof(dir), "%s/sys/module/uio_hv_generic", s->root);
	rc = rc ? rc : mkdirs(dir);
	rc = rc ? rc : put(dev, "class_id", "{%s}\n", AZBLOB_CLASS);
	rc = rc ? rc : put(dev, "device_id", "{%s}\n", s->guid);
	rc = rc ? rc : put(dev, "id", "%u\n", s->opts.relid);
	rc = rc ? rc : put(dev, "numa_node", "%d\n", s->opts.numa_node);
	rc =
	    rc ? rc
	       : put(dev, "monitor_id", "%d\n", s->opts.monitor_id >= 0 ? s->opts.monitor_id : 255);
	rc = rc ? rc : put(dev, "driver_override", "uio_hv_generic\n");
	rc = rc ? rc : put(dev, "uio/uio0/name", "uio_hv_generic\n");
	rc = rc ? rc : put(dev, "uio/uio0/maps/map0/name", "txrx_rings\n");
	rc = rc ? rc : put(dev, "uio/uio0/maps/map0/size", "0x%x\n", 2 * ring);
	rc = rc ? rc : put(dev, "uio/uio0/maps/map1/name", "int_page\n");
	rc = rc ? rc : put(dev, "uio/uio0/maps/map1/size", "0x1000\n");
	rc = rc ? rc : put(dev, "uio/uio0/maps/map2/name", "monitor_page\n");
	rc = rc ? rc : put(dev, "uio/uio0/maps/map2/size", "0x1000\n");
	snprintf(dir, sizeof(dir), "channels/%u/cpu", s->opts.relid);
	rc = rc ? rc : put(dev, dir, "%d\n", s->opts.cpu >= 0 ? s->opts.cpu : 0);
	rc = rc ? rc : put(s->root, "proc/cpuinfo", "processor\t: 0\nflags\t\t: hypervisor\n\n");
	if (rc)
		goto fail;
	snprintf(dir, sizeof(dir), "%s/driver", dev);
	if (symlink("../../drivers/uio_hv_generic", dir)) {
		rc = -errno;
		goto fail;
	}
	snprintf(dir, sizeof(dir), "%s/dev", s->root);
	rc = mkdirs(dir);
	snprintf(s->uio_path, sizeof(s->uio_path), "%s/dev/uio0", s->root);
	rc = rc ? rc : shared_file(s->uio_path, 3 * SIM_PAGE, &s->uio_pages);
	/* The ring file appears last and whole (the guest waits for it). */
	snprintf(s->ring_path, sizeof(s->ring_path), "%s/channels/%u/ring.new", dev, s->opts.relid);
	rc = rc ? rc : shared_file(s->ring_path, 2 * (size_t)ring, &s->rings);
	if (rc)
		goto fail;
	s->rings_len = 2 * (size_t)ring;
	hring_init(&s->tx, s->rings, ring, SIM_PAGE);
	hring_init(&s->rx, s->rings + ring, ring, SIM_PAGE);
	/* What uio_hv_generic does at open: both features, RX masked. */
	*s->tx.features = 1;
	*s->rx.features = 1;
	*s->rx.mask = 1;
	snprintf(dir, sizeof(dir), "%s/channels/%u/ring", dev, s->opts.relid);
	if (rename(s->ring_path, dir)) {
		rc = -errno;
		goto fail;
	}
	snprintf(s->ring_path, sizeof(s->ring_path), "%.2000s", dir);
	return 0;
fail:
	sim_log(s, UVMBUS_LOG_ERR, "tree: building %s: %s", s->root, strerror(-rc));
	return rc;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void sim_tree_remove(struct azblob_sim *s)
{
	if (s->rings)
		munmap(s->rings, s->rings_len);
	if (s->uio_pages)
		munmap(s->uio_pages, 3 * SIM_PAGE);
	s->rings = s->uio_pages = NULL;
	if (s->tree_made && nftw(s->root, rm_one, 16, FTW_DEPTH | FTW_PHYS))
		sim_log(s, UVMBUS_LOG_WARN, "tree: could not remove all of %s", s->root);
	s->tree_made = false;
}
