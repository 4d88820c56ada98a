/* A fake vmbus sysfs tree, /dev and /proc under a temporary directory,
 * with the real names and layout (docs/WIRE.md section 5), for device-layer
 * tests. The "host" side maps the same ring and uio files. */
#ifndef TEST_FAKE_SYSFS_H
#define TEST_FAKE_SYSFS_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uvmbus/dev.h>

#define AZBLOB_CLASS "0590b792-db64-45cc-81db-b8d70c577c9e"
#define NETVSC_CLASS "f8615163-df3e-46c5-913f-f2d2f965ed0e"

struct fake_tree {
	char root[64];
	char sys[128], dev[128], proc[128];
};

static inline void fake_mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(tmp, 0755);
			*p = '/';
		}
	mkdir(tmp, 0755);
}

/* Write a file (creating parent directories) with printf-style content. */
static inline void fake_put(const char *path, const char *fmt, ...)
{
	char dir[PATH_MAX];
	FILE *f;
	va_list ap;

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = 0;
	fake_mkdirs(dir);
	f = fopen(path, "w");
	if (!f)
		abort();
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static inline void fake_tree_init(struct fake_tree *t)
{
	char p[PATH_MAX];

	snprintf(t->root, sizeof(t->root), "/tmp/uvmbus-fake-XXXXXX");
	if (!mkdtemp(t->root))
		abort();
	snprintf(t->sys, sizeof(t->sys), "%s/sys", t->root);
	snprintf(t->dev, sizeof(t->dev), "%s/dev", t->root);
	snprintf(t->proc, sizeof(t->proc), "%s/proc", t->root);
	snprintf(p, sizeof(p), "%s/bus/vmbus/drivers/uio_hv_generic", t->sys);
	fake_mkdirs(p);
	snprintf(p, sizeof(p), "%s/bus/vmbus/drivers/hv_netvsc", t->sys);
	fake_mkdirs(p);
	fake_mkdirs(t->dev);
	snprintf(p, sizeof(p), "%s/cpuinfo", t->proc);
	fake_put(p, "processor\t: 0\nflags\t\t: fpu vme de pse hypervisor\n\n");
}

static inline void fake_tree_fini(struct fake_tree *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", t->root);
}

/* For uvmbus_dev_opts.open_map_fd: the tree's uio stand-in is one file
 * with page K = map K for the one-page maps, and <uio>.map0 for map 0. */
static inline int fake_open_map_fd(void *arg, const char *uio_path, int map, int64_t *offset)
{
	char p[PATH_MAX + 16];
	int fd;

	(void)arg;
	snprintf(p, sizeof(p), map ? "%s" : "%s.map0", uio_path);
	*offset = map ? (int64_t)map * 4096 : 0;
	fd = open(p, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Device options rooted in the tree, logging to `log`. */
static inline struct uvmbus_dev_opts fake_dev_opts(const struct fake_tree *t, struct uvmbus_log log)
{
	struct uvmbus_dev_opts o;

	uvmbus_dev_opts_init(&o);
	o.sysfs_root = t->sys;
	o.dev_root = t->dev;
	o.proc_root = t->proc;
	o.open_map_fd = fake_open_map_fd;
	o.log = log;
	return o;
}

struct fake_dev_spec {
	const char *guid, *class_guid, *driver;
	uint32_t relid;
	int numa, monitor_id, uio; /* monitor 255 or -1: none; uio -1: none */
	size_t ring_bytes;	   /* each ring (header page + data); 0: no ring file */
	const char *map_names[3];  /* NULL: the real ones */
};

static inline void fake_dir_of(const struct fake_tree *t, const char *guid, char *out, size_t cap)
{
	snprintf(out, cap, "%s/bus/vmbus/devices/%s", t->sys, guid);
}

/* The channel's ring file: 2 * ring_bytes, zeroed. */
static inline void fake_add_ring(const struct fake_tree *t, const char *guid, uint32_t relid,
				 size_t ring_bytes)
{
	char dir[PATH_MAX], p[PATH_MAX + 64];
	int fd;

	fake_dir_of(t, guid, dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/channels/%u/ring.tmp", dir, relid);
	fake_put(p, "");
	fd = open(p, O_RDWR);
	if (fd < 0 || ftruncate(fd, (off_t)(2 * ring_bytes)))
		abort();
	/* What the kernel does at every channel open: feat_pending_send_sz
	 * (bit 0 of feature_bits, offset 64) in both headers. */
	const uint32_t one = 1;

	if (pwrite(fd, &one, 4, 64) != 4 || pwrite(fd, &one, 4, (off_t)ring_bytes + 64) != 4)
		abort();
	close(fd);
	/* Appear atomically, as a sysfs attribute would. */
	char final[PATH_MAX + 64];

	snprintf(final, sizeof(final), "%s/channels/%u/ring", dir, relid);
	if (rename(p, final))
		abort();
}

static inline void fake_add_device(const struct fake_tree *t, const struct fake_dev_spec *s)
{
	static const char *const real[3] = {"txrx_rings", "int_page", "monitor_page"};
	char dir[PATH_MAX], p[PATH_MAX + 128];

	fake_dir_of(t, s->guid, dir, sizeof(dir));
	fake_mkdirs(dir);
	if (s->class_guid) {
		snprintf(p, sizeof(p), "%s/class_id", dir);
		fake_put(p, "{%s}\n", s->class_guid);
	}
	snprintf(p, sizeof(p), "%s/device_id", dir);
	fake_put(p, "{%s}\n", s->guid);
	snprintf(p, sizeof(p), "%s/id", dir);
	fake_put(p, "%u\n", s->relid);
	snprintf(p, sizeof(p), "%s/numa_node", dir);
	fake_put(p, "%d\n", s->numa);
	if (s->monitor_id >= 0) {
		snprintf(p, sizeof(p), "%s/monitor_id", dir);
		fake_put(p, "%d\n", s->monitor_id);
	}
	if (s->driver) {
		char target[PATH_MAX];

		snprintf(p, sizeof(p), "%s/driver", dir);
		snprintf(target, sizeof(target), "../../drivers/%s", s->driver);
		if (symlink(target, p))
			abort();
	}
	snprintf(p, sizeof(p), "%s/channels/%u/cpu", dir, s->relid);
	fake_put(p, "0\n");
	if (s->uio >= 0) {
		for (int k = 0; k < 3; k++) {
			snprintf(p, sizeof(p), "%s/uio/uio%d/maps/map%d/name", dir, s->uio, k);
			fake_put(p, "%s\n", s->map_names[k] ? s->map_names[k] : real[k]);
			snprintf(p, sizeof(p), "%s/uio/uio%d/maps/map%d/size", dir, s->uio, k);
			fake_put(p, "0x%zx\n", k ? (size_t)4096 : 2 * s->ring_bytes);
		}
		/* /dev/uioN stand-in: page 1 = int_page, page 2 = monitor page
		 * (the mmap offsets of maps 1 and 2). */
		snprintf(p, sizeof(p), "%s/uio%d", t->dev, s->uio);
		int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || ftruncate(fd, 3 * 4096))
			abort();
		close(fd);
	}
	if (s->ring_bytes)
		fake_add_ring(t, s->guid, s->relid, s->ring_bytes);
	if (s->ring_bytes && s->uio >= 0) {
		/* Map 0 of the uio stand-in is the same rings (fake_open_map_fd). */
		char ring[PATH_MAX + 64];

		snprintf(ring, sizeof(ring), "%s/channels/%u/ring", dir, s->relid);
		snprintf(p, sizeof(p), "%s/uio%d.map0", t->dev, s->uio);
		if (link(ring, p))
			abort();
	}
}

/* An Azure Blob device bound to uio_hv_generic: relid 14, node 0, uio0,
 * rings of ring_bytes each (monitor -1: none). */
static inline void fake_add_azblob(const struct fake_tree *t, const char *guid, int monitor,
				   size_t ring_bytes)
{
	struct fake_dev_spec s = {.guid = guid,
				  .class_guid = AZBLOB_CLASS,
				  .driver = "uio_hv_generic",
				  .relid = 14,
				  .numa = 0,
				  .monitor_id = monitor,
				  .uio = 0,
				  .ring_bytes = ring_bytes};

	fake_add_device(t, &s);
}

/* Map a file of the tree (host side). */
static inline void *fake_map(const char *path, size_t *len)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	void *p;

	if (fd < 0 || fstat(fd, &st))
		abort();
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		abort();
	*len = (size_t)st.st_size;
	return p;
}

#endif
