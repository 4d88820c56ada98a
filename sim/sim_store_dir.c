// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The "dir" store: a container is a subdirectory, a blob a file in it.
 * Names are untrusted: "/" inside a blob name is stored as "%2F", and
 * names that could escape the directory ("", ".", "..", control bytes,
 * "%") are refused.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_store.h"

struct dir_store {
	int dirfd;
};

static bool name_ok(const char *n, bool container)
{
	if (!n[0] || !strcmp(n, ".") || !strcmp(n, "..") || strlen(n) > 255)
		return false;
	for (const char *p = n; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '%' || (container && *p == '/'))
			return false;
	return true;
}

/* "c/b" with '/' in b escaped, into out. */
static int path_of(const char *c, const char *b, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "%s/", c);

	for (const char *p = b; *p; p++) {
		if (n + 4 >= cap)
			return -EINVAL;
		if (*p == '/') {
			memcpy(out + n, "%2F", 3);
			n += 3;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = 0;
	return 0;
}

static int dir_open(void **store, const char *arg, const struct uvmbus_log *log)
{
	struct dir_store *d;

	if (!arg || !arg[0]) {
		if (log && log->fn)
			log->fn(log->arg, UVMBUS_LOG_ERR,
				"dir backend: needs a directory argument");
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	mkdir(arg, 0755);
	d->dirfd = open(arg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dirfd < 0) {
		int err = errno;

		if (log && log->fn) {
			char msg[512];

			snprintf(msg, sizeof(msg), "dir backend: %s: %s", arg, strerror(err));
			log->fn(log->arg, UVMBUS_LOG_ERR, msg);
		}
		free(d);
		return -err;
	}
	*store = d;
	return 0;
}

static void dir_close(void *store)
{
	struct dir_store *d = store;

	close(d->dirfd);
	free(d);
}

static int dir_container(void *store, const char *name, enum sim_container_op op)
{
	struct dir_store *d = store;
	struct stat st;

	if (!name_ok(name, true))
		return -EINVAL;
	switch (op) {
	case SIM_CONTAINER_CREATE:
		return mkdirat(d->dirfd, name, 0755) ? -errno : 0;
	case SIM_CONTAINER_DELETE: {
		int fd = openat(d->dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *dir;
		struct dirent *e;

		if (fd < 0)
			return -ENOENT;
		dir = fdopendir(fd);
		if (!dir) {
			close(fd);
			return -EIO;
		}
		while ((e = readdir(dir)))
			if (e->d_name[0] != '.')
				unlinkat(fd, e->d_name, 0);
		closedir(dir);
		return unlinkat(d->dirfd, name, AT_REMOVEDIR) ? -errno : 0;
	}
	default:
		return fstatat(d->dirfd, name, &st, 0) == 0 && S_ISDIR(st.st_mode) ? 0 : -ENOENT;
	}
}

static int check(struct dir_store *d, const char *c, const char *b, char *path, size_t cap)
{
	struct stat st;

	if (!name_ok(c, true) || !name_ok(b, false) || path_of(c, b, path, cap))
		return -EINVAL;
	if (fstatat(d->dirfd, c, &st, 0) || !S_ISDIR(st.st_mode))
		return -ENODEV;
	return 0;
}

static int dir_put(void *store, const char *c, const char *b, const uint8_t *data, size_t len)
{
	struct dir_store *d = store;
	char path[1024], tmp[1100];
	int rc = check(d, c, b, path, sizeof(path)), fd;

	if (rc)
		return rc;
	/* Write a temporary file, then rename: readers never see half a blob. */
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%d", c, (int)getpid());
	fd = openat(d->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, data + done, len - done);

		if (n <= 0) {
			close(fd);
			unlinkat(d->dirfd, tmp, 0);
			return -EIO;
		}
		done += (size_t)n;
	}
	close(fd);
	return renameat(d->dirfd, tmp, d->dirfd, path) ? -errno : 0;
}

static int dir_get(void *store, const char *c, const char *b, uint8_t *out, size_t cap,
		   uint64_t *size)
{
	struct dir_store *d = store;
	char path[1024];
	struct stat st;
	int rc = check(d, c, b, path, sizeof(path)), fd;

	if (rc)
		return rc;
	fd = openat(d->dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st)) {
		close(fd);
		return -EIO;
	}
	*size = (uint64_t)st.st_size;
	if (out && *size > cap) {
		close(fd);
		return -ENOSPC;
	}
	for (size_t done = 0; out && done < *size;) {
		ssize_t n = read(fd, out + done, *size - done);

		if (n <= 0) {
			close(fd);
			return -EIO;
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

static int dir_del(void *store, const char *c, const char *b)
{
	struct dir_store *d = store;
	char path[1024];
	int rc = check(d, c, b, path, sizeof(path));

	if (rc)
		return rc;
	return unlinkat(d->dirfd, path, 0) ? -ENOENT : 0;
}

const struct sim_store_ops sim_store_dir = {
    .open = dir_open,
    .close = dir_close,
    .container = dir_container,
    .put = dir_put,
    .get = dir_get,
    .del = dir_del,
};
