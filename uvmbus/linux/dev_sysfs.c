// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Reading the vmbus sysfs tree (under a configurable root). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev_internal.h"

static void pick_root(char *dst, const char *opt, const char *env, const char *dflt)
{
	const char *v = opt ? opt : getenv(env);

	snprintf(dst, ROOT_MAX, "%s", v && *v ? v : dflt);
}

void dev_roots_init(struct dev_roots *r, const struct uvmbus_dev_opts *o)
{
	pick_root(r->sys, o ? o->sysfs_root : NULL, "UVMBUS_SYSFS_ROOT", "/sys");
	pick_root(r->dev, o ? o->dev_root : NULL, "UVMBUS_DEV_ROOT", "/dev");
	pick_root(r->proc, o ? o->proc_root : NULL, "UVMBUS_PROC_ROOT", "/proc");
}

int sysfs_read(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	if (n < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	close(fd);
	buf[n] = 0;
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = 0;
	return 0;
}

int sysfs_read_long(const char *path, long *v)
{
	char buf[64], *end;
	int rc = sysfs_read(path, buf, sizeof(buf));

	if (rc)
		return rc;
	errno = 0;
	*v = strtol(buf, &end, 0);
	return (errno || end == buf || *end) ? -EINVAL : 0;
}

int guid_normalize(const char *in, char out[UVMBUS_GUID_STR_LEN + 1])
{
	size_t n = strlen(in);

	if (n == UVMBUS_GUID_STR_LEN + 2 && in[0] == '{' && in[n - 1] == '}') {
		in++;
		n -= 2;
	}
	if (n != UVMBUS_GUID_STR_LEN)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? in[i] != '-' : !isxdigit((unsigned char)in[i]))
			return -EINVAL;
		out[i] = (char)tolower((unsigned char)in[i]);
	}
	out[n] = 0;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int dev_list_channels(const char *dev_dir, uint32_t *relids, unsigned cap)
{
	char path[PATH_MAX + 16];
	struct dirent *e;
	unsigned n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/channels", dev_dir);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((e = readdir(dir)) && n < cap) {
		char *end;
		unsigned long v = strtoul(e->d_name, &end, 10);

		if (e->d_name[0] != '.' && !*end && v <= UINT32_MAX)
			relids[n++] = (uint32_t)v;
	}
	closedir(dir);
	qsort(relids, n, sizeof(*relids), cmp_u32);
	return (int)n;
}

static int find_uio(const char *dev_dir)
{
	char path[PATH_MAX + 8];
	struct dirent *e;
	int n = -1;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/uio", dev_dir);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		if (sscanf(e->d_name, "uio%d", &n) == 1)
			break;
	closedir(dir);
	return n;
}

int dev_read_info(const struct dev_roots *r, const char *guid, struct uvmbus_dev_info *info,
		  const struct uvmbus_log *log)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], buf[PATH_MAX];
	uint32_t relids[DEV_MAX_CHANNELS];
	long v;
	int rc;

	memset(info, 0, sizeof(*info));
	snprintf(dir, sizeof(dir), "%s/bus/vmbus/devices/%.64s", r->sys, guid);
	snprintf(path, sizeof(path), "%s/class_id", dir);
	rc = sysfs_read(path, buf, sizeof(buf));
	if (!rc)
		rc = guid_normalize(buf, info->class_guid);
	if (rc) {
		LOG_WARN(log, "dev: %s: %s", path, rc == -EINVAL ? "not a GUID" : strerror(-rc));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/device_id", dir);
	rc = sysfs_read(path, buf, sizeof(buf));
	if (!rc)
		rc = guid_normalize(buf, info->guid);
	if (rc) {
		LOG_WARN(log, "dev: %s: %s", path, rc == -EINVAL ? "not a GUID" : strerror(-rc));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/id", dir);
	rc = sysfs_read_long(path, &v);
	if (rc || v < 0 || v > UINT32_MAX) {
		LOG_WARN(log, "dev: %s: %s", path, rc ? strerror(-rc) : "out of range");
		return rc ? rc : -EINVAL;
	}
	info->relid = (uint32_t)v;
	snprintf(path, sizeof(path), "%s/numa_node", dir);
	info->numa_node = sysfs_read_long(path, &v) == 0 && v >= 0 ? (int)v : -1;
	snprintf(path, sizeof(path), "%s/monitor_id", dir);
	info->monitor_id =
	    sysfs_read_long(path, &v) == 0 && v >= 0 && v < MONITOR_IDS ? (int)v : -1;
	snprintf(path, sizeof(path), "%s/driver", dir);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n > 0) {
		buf[n] = 0;
		const char *slash = strrchr(buf, '/');

		snprintf(info->driver, sizeof(info->driver), "%.63s", slash ? slash + 1 : buf);
	}
	info->uio = find_uio(dir);
	info->nchannels = (uint32_t)dev_list_channels(dir, relids, DEV_MAX_CHANNELS);
	return 0;
}

void uvmbus_dev_opts_init(struct uvmbus_dev_opts *o)
{
	memset(o, 0, sizeof(*o));
}

int uvmbus_dev_list(const struct uvmbus_dev_opts *o, struct uvmbus_dev_info *out, size_t cap,
		    size_t *n)
{
	struct dev_roots roots;
	char path[PATH_MAX + 32];
	struct dirent *e;
	size_t found = 0;
	DIR *dir;

	dev_roots_init(&roots, o);
	snprintf(path, sizeof(path), "%s/bus/vmbus/devices", roots.sys);
	dir = opendir(path);
	if (!dir) {
		int err = errno;

		LOG_ERR(o ? &o->log : NULL, "dev: %s: %s (no VMbus here?)", path, strerror(err));
		if (n)
			*n = 0;
		return -err;
	}
	while ((e = readdir(dir))) {
		struct uvmbus_dev_info info;

		if (e->d_name[0] == '.')
			continue;
		if (dev_read_info(&roots, e->d_name, &info, o ? &o->log : NULL))
			continue;
		if (found < cap)
			out[found] = info;
		found++;
	}
	closedir(dir);
	if (n)
		*n = found;
	return 0;
}

int uvmbus_dev_find_class(const struct uvmbus_dev_opts *o, const char *class_guid,
			  struct uvmbus_dev_info *info)
{
	struct uvmbus_dev_info list[64];
	char want[UVMBUS_GUID_STR_LEN + 1];
	size_t n;
	int rc;

	if (guid_normalize(class_guid, want))
		return -EINVAL;
	rc = uvmbus_dev_list(o, list, 64, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && i < 64; i++) {
		if (!strcmp(list[i].class_guid, want)) {
			*info = list[i];
			return 0;
		}
	}
	return -ENOENT;
}
