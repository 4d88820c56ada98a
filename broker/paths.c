// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The directories azblobd creates files in (its socket, --ready-file):
 * opened once and checked as sshd's StrictModes does. The directory must
 * belong to root or to the daemon's own uid and be writable by nobody
 * else; every directory above it too, except that a sticky one (/tmp)
 * may be writable by all. Files are then made relative to the checked
 * directory's fd (openat, O_EXCL | O_NOFOLLOW), never through the path.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azd.h"

static bool trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

static int refuse_dir(struct azd *d, const char *what, const char *dir, const struct stat *st,
		      const char *why)
{
	uid_t me = geteuid();
	char daemon_uid[40] = "";

	if (me)
		snprintf(daemon_uid, sizeof(daemon_uid), " or to azblobd's uid %u", (unsigned)me);
	azd_log(d, 3,
		"%s: directory %s is owned by uid %u, mode %04o: %s; it must belong to root%s "
		"and not be writable by group or others",
		what, dir, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777), why, daemon_uid);
	return -EPERM;
}

int azd_open_dir(struct azd *d, const char *path, const char *what, int *dirfd, const char **base)
{
	char dir[PATH_MAX], real[PATH_MAX], link[64];
	const char *slash = strrchr(path, '/');
	struct stat st;
	ssize_t n;
	int fd;

	*base = slash ? slash + 1 : path;
	if (!**base || !strcmp(*base, ".") || !strcmp(*base, "..")) {
		azd_log(d, 3, "%s %s: not a file name", what, path);
		return -EINVAL;
	}
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		int err = errno;

		azd_log(d, 3, "%s: directory %s: %s", what, dir, strerror(err));
		if (fd >= 0)
			close(fd);
		return -err;
	}
	if (!trusted_owner(st.st_uid) || st.st_mode & 022) {
		refuse_dir(d, what, dir, &st,
			   trusted_owner(st.st_uid) ? "writable by others" : "another user's");
		close(fd);
		return -EPERM;
	}
	/* The directories above, as the kernel resolved them. */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	if (n > 0 && real[0] == '/') {
		real[n] = 0;
		for (char *p = strrchr(real, '/'); p; p = strrchr(real, '/')) {
			struct stat a;

			p[p == real] = 0; /* "/x/y" -> "/x" ... -> "/" */
			if (stat(real, &a))
				break;
			if (!trusted_owner(a.st_uid) ||
			    (a.st_mode & 022 && !(a.st_mode & S_ISVTX))) {
				refuse_dir(d, what, real, &a,
					   trusted_owner(a.st_uid)
					       ? "writable by others (above "
						 "the file)"
					       : "another user's (above the file)");
				close(fd);
				return -EPERM;
			}
			if (p == real)
				break;
		}
	}
	*dirfd = fd;
	return 0;
}

int azd_write_ready(struct azd *d)
{
	char tmp[NAME_MAX + 8];
	int fd = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", d->ready_base) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* Created afresh (O_EXCL: never an existing file, never through a
	 * symlink), closed, then renamed into place (rename replaces a
	 * symlink there, it does not follow it). */
	for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
		fd = openat(d->ready_dirfd, tmp,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno == EEXIST && !attempt)
			unlinkat(d->ready_dirfd, tmp, 0); /* a stale one: the name only */
	}
	if (fd < 0 || close(fd) || renameat(d->ready_dirfd, tmp, d->ready_dirfd, d->ready_base)) {
		int err = errno;

		azd_log(d, 4, "ready file %s: %s", d->o.ready_file, strerror(err));
		return -err;
	}
	return 0;
}
