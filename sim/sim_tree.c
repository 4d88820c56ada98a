// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The device tree the guest opens: the real sysfs names (docs/WIRE.md 5) under
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

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* <root>/dev/uio<N> (pages 1 and 2: the interrupt and monitor pages) and
 * <root>/dev/uio<N>.map0 (the rings: map 0, which a regular file cannot
 * multiplex by mmap offset; the guest reaches it through open_map_fd). */
static void uio_paths(const struct azblob_sim *s, char *uio, char *map0, size_t cap)
{
	snprintf(uio, cap, "%s/dev/uio%u", s->root, s->uio_num);
	snprintf(map0, cap, "%s/dev/uio%u.map0", s->root, s->uio_num);
}

/*
 * The channel's ring file, as this kernel shows it: the rings themselves
 * (a hard link of map 0), none (k.no_ring_file), or, when the kernel
 * reports a fixed 4 MiB that is not the rings' size, a 4 MiB file: a
 * regular file cannot report one size and map another, so a guest that
 * trusts that size gets other memory, and its requests are lost as they
 * would be on such a kernel. It appears last and whole (the guest may
 * wait for it).
 */
static int publish_ring_file(struct azblob_sim *s, const char *dev, const char *map0)
{
	char tmp[PATH_MAX], fin[PATH_MAX];
	uint8_t *decoy;
	int rc;

	if (s->k.no_ring_file)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s/channels/%u/ring.new", dev, s->opts.relid);
	snprintf(fin, sizeof(fin), "%s/channels/%u/ring", dev, s->opts.relid);
	if (s->k.ring_file_fixed && s->rings_len != (4u << 20)) {
		rc = shared_file(tmp, 4u << 20, &decoy);
		if (rc)
			return rc;
		munmap(decoy, 4u << 20);
	} else if (link(map0, tmp)) {
		return -errno;
	}
	if (rename(tmp, fin))
		return -errno;
	snprintf(s->ring_path, sizeof(s->ring_path), "%.2000s", fin);
	return 0;
}

/* A subchannel: its own ring file (each ring as the primary's), both
 * features set and RX masked as the kernel leaves them at open; a cpu
 * file. Its rings are not served. */
static int publish_subchannel(struct azblob_sim *s, const char *dev, uint32_t relid,
			      uint8_t **rings)
{
	char path[PATH_MAX], rel[64];
	uint32_t ring = s->opts.ring_bytes;
	int rc;

	snprintf(rel, sizeof(rel), "channels/%u/cpu", relid);
	rc = put(dev, rel, "0\n");
	snprintf(path, sizeof(path), "%s/channels/%u/ring", dev, relid);
	rc = rc ? rc : shared_file(path, 2 * (size_t)ring, rings);
	if (rc)
		return rc;
	*(uint32_t *)(*rings + 64) = 1;
	*(uint32_t *)(*rings + ring + 64) = 1;
	*(uint32_t *)(*rings + ring + 8) = s->k.kernel_masks_rx;
	return 0;
}

/* The device: sysfs attributes, the uio node and the rings. A kernel that
 * refuses the channel (no monitor before 6.10) leaves it unbound: no
 * driver link, no uio directory (the sim's own pages still exist). */
int sim_tree_publish_device(struct azblob_sim *s)
{
	char dev[1024], dir[PATH_MAX], uio[PATH_MAX], map0[PATH_MAX];
	uint32_t ring = s->opts.ring_bytes;
	bool bound = !(s->k.monitor_required && s->opts.monitor_id < 0);
	int rc;

	snprintf(dev, sizeof(dev), "%s/sys/bus/vmbus/devices/%s", s->root, s->guid);
	rc = put(dev, "class_id", "{%s}\n", AZBLOB_CLASS);
	rc = rc ? rc : put(dev, "device_id", "{%s}\n", s->guid);
	rc = rc ? rc : put(dev, "id", "%u\n", s->opts.relid);
	rc = rc ? rc : put(dev, "numa_node", "%d\n", s->opts.numa_node);
	if (s->opts.monitor_id >= 0)
		rc = rc ? rc : put(dev, "monitor_id", "%d\n", s->opts.monitor_id);
	rc = rc ? rc : put(dev, "driver_override", "uio_hv_generic\n");
	snprintf(dir, sizeof(dir), "channels/%u/cpu", s->opts.relid);
	rc = rc ? rc : put(dev, dir, "%d\n", s->opts.cpu >= 0 ? s->opts.cpu : 0);
	if (bound) {
		snprintf(dir, sizeof(dir), "uio/uio%u/name", s->uio_num);
		rc = rc ? rc : put(dev, dir, "uio_hv_generic\n");
		snprintf(dir, sizeof(dir), "uio/uio%u/maps/map0/name", s->uio_num);
		rc = rc ? rc : put(dev, dir, "txrx_rings\n");
		snprintf(dir, sizeof(dir), "uio/uio%u/maps/map0/size", s->uio_num);
		rc = rc ? rc : put(dev, dir, "0x%x\n", 2 * ring);
		snprintf(dir, sizeof(dir), "uio/uio%u/maps/map1/name", s->uio_num);
		rc = rc ? rc : put(dev, dir, "int_page\n");
		snprintf(dir, sizeof(dir), "uio/uio%u/maps/map1/size", s->uio_num);
		rc = rc ? rc : put(dev, dir, "%#zx\n", s->page);
		snprintf(dir, sizeof(dir), "uio/uio%u/maps/map2/name", s->uio_num);
		rc = rc ? rc : put(dev, dir, "monitor_page\n");
		snprintf(dir, sizeof(dir), "uio/uio%u/maps/map2/size", s->uio_num);
		rc = rc ? rc : put(dev, dir, "%#zx\n", s->page);
	}
	if (rc)
		goto fail;
	if (bound) {
		snprintf(dir, sizeof(dir), "%s/driver", dev);
		if (symlink("../../drivers/uio_hv_generic", dir)) {
			rc = -errno;
			goto fail;
		}
	}
	uio_paths(s, uio, map0, sizeof(uio));
	rc = shared_file(uio, 3 * s->page, &s->uio_pages);
	rc = rc ? rc : shared_file(map0, 2 * (size_t)ring, &s->rings);
	if (rc)
		goto fail;
	s->rings_len = 2 * (size_t)ring;
	hring_init(&s->tx, s->rings, ring, s->page);
	hring_init(&s->rx, s->rings + ring, ring, s->page);
	/* What the kernel does at open: both features; RX masked by older
	 * kernels only. */
	*s->tx.features = 1;
	*s->rx.features = 1;
	*s->rx.mask = s->k.kernel_masks_rx;
	rc = bound ? publish_ring_file(s, dev, map0) : 0;
	for (uint32_t i = 0; !rc && bound && i < s->opts.subchannels; i++)
		rc = publish_subchannel(s, dev, s->opts.relid + 1 + i, &s->sub_rings[i]);
	if (rc)
		goto fail;
	s->sub_rings_len = 2 * (size_t)ring;
	return 0;
fail:
	sim_log(s, UVMBUS_LOG_ERR, "tree: publishing the device under %s: %s", s->root,
		strerror(-rc));
	return rc;
}

/* Take the device away (before a re-offer): its sysfs directory, the uio
 * files and our mappings of them. */
void sim_tree_unpublish_device(struct azblob_sim *s)
{
	char path[PATH_MAX], uio[PATH_MAX], map0[PATH_MAX];

	if (s->rings)
		munmap(s->rings, s->rings_len);
	if (s->uio_pages)
		munmap(s->uio_pages, 3 * s->page);
	s->rings = s->uio_pages = NULL;
	for (int i = 0; i < 4; i++) {
		if (s->sub_rings[i])
			munmap(s->sub_rings[i], s->sub_rings_len);
		s->sub_rings[i] = NULL;
	}
	uio_paths(s, uio, map0, sizeof(uio));
	unlink(uio);
	unlink(map0);
	snprintf(path, sizeof(path), "%s/sys/bus/vmbus/devices/%s", s->root, s->guid);
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS))
		sim_log(s, UVMBUS_LOG_WARN, "tree: could not remove all of %s", path);
}

int sim_tree_create(struct azblob_sim *s)
{
	char dir[PATH_MAX];
	int rc;

	rc = make_root(s);
	if (rc) {
		sim_log(s, UVMBUS_LOG_ERR, "tree: cannot create %s: %s",
			s->opts.root ? s->opts.root : "a temporary directory", strerror(-rc));
		return rc;
	}
	s->tree_made = true;
	snprintf(dir, sizeof(dir), "%s/sys/bus/vmbus/drivers/uio_hv_generic", s->root);
	rc = mkdirs(dir);
	snprintf(dir, sizeof(dir), "%s/sys/module/uio_hv_generic", s->root);
	rc = rc ? rc : mkdirs(dir);
	snprintf(dir, sizeof(dir), "%s/dev", s->root);
	rc = rc ? rc : mkdirs(dir);
	rc = rc ? rc : put(s->root, "proc/cpuinfo", "processor\t: 0\nflags\t\t: hypervisor\n\n");
	rc = rc ? rc : put(s->root, "proc/sys/kernel/osrelease", "%s\n", s->k.osrelease);
	if (rc) {
		sim_log(s, UVMBUS_LOG_ERR, "tree: building %s: %s", s->root, strerror(-rc));
		return rc;
	}
	return sim_tree_publish_device(s);
}

void sim_tree_remove(struct azblob_sim *s)
{
	for (int i = 0; i < 4; i++) {
		if (s->sub_rings[i])
			munmap(s->sub_rings[i], s->sub_rings_len);
		s->sub_rings[i] = NULL;
	}
	if (s->rings)
		munmap(s->rings, s->rings_len);
	if (s->uio_pages)
		munmap(s->uio_pages, 3 * s->page);
	s->rings = s->uio_pages = NULL;
	if (s->tree_made && nftw(s->root, rm_one, 16, FTW_DEPTH | FTW_PHYS))
		sim_log(s, UVMBUS_LOG_WARN, "tree: could not remove all of %s", s->root);
	s->tree_made = false;
}
