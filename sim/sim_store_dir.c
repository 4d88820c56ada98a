// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The "dir" backend: the memory backend's operations (sim_ops_mem.c) on a
 * memory store persisted under a directory PATH. At open, PATH's
 * containers (subdirectories) and blobs (files) are loaded into the store;
 * every mutation is written through here, before the store changes, by
 * the store's hooks (sim_store.h): a failed write fails the request and
 * the store keeps what the disk keeps. Uncommitted blocks live in memory
 * only (lost at exit). docs/SIM.md "Backends".
 *
 * On disk, PATH/CONTAINER/FILE: a container is an Azure name (no escape
 * possible); a blob's file name is its name with '/', '%', control bytes,
 * DEL and a leading '.' written %XX, so no blob file starts with '.' and
 * none leaves its directory. The '.'-names are this code's: ".tmp-N"
 * (a file being written, renamed over the blob when whole), ".props/FILE"
 * (the blob's ETag, creation time, MD5 and Content-Type, trusted only
 * while the blob's size and mtime are the ones it records), ".trash-N"
 * (a container being removed).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim_ops.h"
#include "sim_store.h"

#define FILE_NAME_MAX 255
#define FT_UNIX	      116444736000000000ull /* FILETIME of 1970-01-01 */
#define PROPS	      ".props"

struct dir_store {
	int dirfd;
	uint64_t seq; /* temporary names */
	struct uvmbus_log log;
	struct sim_mem_hooks hooks;
};

static void logf_(struct dir_store *d, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(struct dir_store *d, int level, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (!d->log.fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->log.fn(d->log.arg, level, msg);
}

static bool escaped(unsigned char ch, size_t i)
{
	return ch < 0x20 || ch == 0x7f || ch == '%' || ch == '/' || (i == 0 && ch == '.');
}

/* The file name of blob name b into out[FILE_NAME_MAX + 1]: 0 or -EINVAL
 * (empty, or longer than a file name may be). */
static int enc_name(const char *b, char *out)
{
	size_t n = 0;

	if (!b[0])
		return -EINVAL;
	for (size_t i = 0; b[i]; i++) {
		unsigned char ch = (unsigned char)b[i];

		if (n + (escaped(ch, i) ? 3 : 1) > FILE_NAME_MAX)
			return -EINVAL;
		if (escaped(ch, i))
			n += (size_t)sprintf(out + n, "%%%02X", ch);
		else
			out[n++] = (char)ch;
	}
	out[n] = 0;
	return 0;
}

/* The blob name of file name f, only if f is how enc_name writes it. */
static int dec_name(const char *f, char *out, size_t cap)
{
	char back[FILE_NAME_MAX + 1];
	size_t n = 0;

	for (const char *p = f; *p; p++) {
		unsigned v;

		if (n + 1 >= cap)
			return -EINVAL;
		if (*p != '%') {
			out[n++] = *p;
			continue;
		}
		if (sscanf(p + 1, "%2X", &v) != 1 || !v)
			return -EINVAL;
		out[n++] = (char)v;
		p += 2;
	}
	out[n] = 0;
	return enc_name(out, back) || strcmp(back, f) ? -EINVAL : 0;
}

static bool hook_name_ok(void *arg, const char *name)
{
	char f[FILE_NAME_MAX + 1];

	(void)arg;
	return !enc_name(name, f);
}

/* Make a directory's entries durable. */
static void sync_dir(struct dir_store *d, const char *rel)
{
	int fd = openat(d->dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int write_all(int fd, const void *p, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const uint8_t *)p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* Remove a directory's entries (one level below: .props) and itself. */
static int remove_tree(int parent, const char *name, int depth)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *dir;
	struct dirent *e;
	int rc = 0;

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -EIO;
	}
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(fd, e->d_name, 0) &&
		    (errno != EISDIR || depth < 1 || remove_tree(fd, e->d_name, depth - 1)))
			rc = -EIO;
	}
	closedir(dir);
	if (unlinkat(parent, name, AT_REMOVEDIR))
		rc = -errno;
	return rc;
}

static int hook_container_create(void *arg, const char *name)
{
	struct dir_store *d = arg;
	char p[300];

	snprintf(p, sizeof(p), "%s/" PROPS, name);
	if (mkdirat(d->dirfd, name, 0755) || mkdirat(d->dirfd, p, 0755)) {
		logf_(d, UVMBUS_LOG_ERR, "dir backend: making %s: %s", p, strerror(errno));
		unlinkat(d->dirfd, p, AT_REMOVEDIR);
		unlinkat(d->dirfd, name, AT_REMOVEDIR);
		return -EIO;
	}
	sync_dir(d, ".");
	return 0;
}

/* Renamed out of the way at once (the container is gone as a whole), its
 * files removed after; what is left of a failed removal goes at open. */
static int hook_container_delete(void *arg, const char *name)
{
	struct dir_store *d = arg;
	char trash[64];

	snprintf(trash, sizeof(trash), ".trash-%" PRIu64, ++d->seq);
	if (renameat(d->dirfd, name, d->dirfd, trash)) {
		logf_(d, UVMBUS_LOG_ERR, "dir backend: removing %s: %s", name, strerror(errno));
		return -EIO;
	}
	sync_dir(d, ".");
	if (remove_tree(d->dirfd, trash, 1))
		logf_(d, UVMBUS_LOG_WARN, "dir backend: %s: not all removed (retried at open)",
		      trash);
	return 0;
}

/* The sidecar: "v1 SIZE MTIME_SEC MTIME_NSEC ETAG_FT CTIME MD5\n" then the
 * Content-Type up to the next newline ("-" for an empty MD5). */
static int write_props(struct dir_store *d, const char *tmp, const struct sim_mblob *b,
		       const struct stat *st)
{
	char buf[512];
	int n =
	    snprintf(buf, sizeof(buf), "v1 %" PRIu64 " %lld %ld %" PRIu64 " %lld %s\n%s\n", b->size,
		     (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec, sim_mem_etag_time(b->etag),
		     (long long)b->ctime, b->md5[0] ? b->md5 : "-", b->ctype);
	int fd, rc;

	if (n < 0 || (size_t)n >= sizeof(buf) || strchr(b->ctype, '\n'))
		return -EINVAL;
	fd = openat(d->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, buf, (size_t)n);
	if (!rc && fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

static int hook_blob_write(void *arg, const char *c, const struct sim_mblob *b)
{
	struct dir_store *d = arg;
	char f[FILE_NAME_MAX + 1], path[600], tmp[100], ptmp[120], ppath[700];
	uint64_t ft = sim_mem_etag_time(b->etag), seq = ++d->seq;
	struct timespec ts[2];
	struct stat st;
	int fd, rc = 0;

	if (enc_name(b->name, f))
		return -EIO; /* refused before (blob_name_ok) */
	snprintf(path, sizeof(path), "%s/%s", c, f);
	snprintf(ppath, sizeof(ppath), "%s/" PROPS "/%s", c, f);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%" PRIu64, c, seq);
	snprintf(ptmp, sizeof(ptmp), "%s/" PROPS "/.tmp-%" PRIu64, c, seq);
	fd = openat(d->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		logf_(d, UVMBUS_LOG_ERR, "dir backend: writing %s: %s", tmp, strerror(errno));
		return -EIO;
	}
	for (uint32_t i = 0; !rc && i < b->nblocks; i++)
		rc = write_all(fd, b->blocks[i].blk->data, b->blocks[i].blk->len);
	/* The file's mtime is the ETag's time: the ETag comes back from it
	 * when the sidecar is missing. */
	ts[0].tv_sec = ts[1].tv_sec = (time_t)((ft - FT_UNIX) / 10000000u);
	ts[0].tv_nsec = ts[1].tv_nsec = (long)((ft - FT_UNIX) % 10000000u) * 100;
	if (!rc && ft > FT_UNIX && futimens(fd, ts))
		rc = -errno;
	if (!rc && fsync(fd))
		rc = -errno;
	if (!rc && fstat(fd, &st))
		rc = -errno;
	close(fd);
	if (!rc)
		rc = write_props(d, ptmp, b, &st);
	if (!rc && renameat(d->dirfd, ptmp, d->dirfd, ppath))
		rc = -errno;
	if (!rc && renameat(d->dirfd, tmp, d->dirfd, path)) {
		rc = -errno;
		/* The new sidecar describes no file: gone, the old blob keeps
		 * its ETag (its mtime) and loses its other properties at a
		 * restart. */
		unlinkat(d->dirfd, ppath, 0);
	}
	if (rc) {
		unlinkat(d->dirfd, tmp, 0);
		unlinkat(d->dirfd, ptmp, 0);
		logf_(d, UVMBUS_LOG_ERR, "dir backend: writing %s: %s", path, strerror(-rc));
		return -EIO;
	}
	sync_dir(d, c);
	return 0;
}

static int hook_blob_delete(void *arg, const char *c, const char *name)
{
	struct dir_store *d = arg;
	char f[FILE_NAME_MAX + 1], path[600];

	if (enc_name(name, f))
		return -EIO;
	snprintf(path, sizeof(path), "%s/%s", c, f);
	if (unlinkat(d->dirfd, path, 0) && errno != ENOENT) {
		logf_(d, UVMBUS_LOG_ERR, "dir backend: removing %s: %s", path, strerror(errno));
		return -EIO;
	}
	snprintf(path, sizeof(path), "%s/" PROPS "/%s", c, f);
	unlinkat(d->dirfd, path, 0);
	sync_dir(d, c);
	return 0;
}

/* The sidecar of file f in container fd cfd, if it describes st. */
static void load_props(int cfd, const char *f, const struct stat *st, struct sim_mem *m,
		       struct sim_mblob *b)
{
	char path[300], buf[512], md5[sizeof(b->md5)];
	unsigned long long size, ft;
	long long sec, ctime;
	long nsec;
	int fd, n = 0;
	ssize_t got;
	char *nl;

	snprintf(path, sizeof(path), PROPS "/%s", f);
	fd = openat(cfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0)
		return;
	buf[got] = 0;
	if (sscanf(buf, "v1 %llu %lld %ld %llu %lld %27s%n", &size, &sec, &nsec, &ft, &ctime, md5,
		   &n) != 6 ||
	    buf[n++] != '\n' || size != (unsigned long long)st->st_size ||
	    sec != (long long)st->st_mtim.tv_sec || nsec != st->st_mtim.tv_nsec || !ft)
		return;
	nl = strchr(buf + n, '\n');
	if (!nl || ft <= FT_UNIX || (size_t)(nl - (buf + n)) >= sizeof(b->ctype))
		return;
	*nl = 0;
	sim_mem_etag_set(m, ft, b->etag);
	b->mtime = (int64_t)((ft - FT_UNIX) / 10000000u);
	b->ctime = ctime;
	memcpy(b->md5, md5, sizeof(md5));
	if (!strcmp(md5, "-"))
		b->md5[0] = 0;
	memcpy(b->ctype, buf + n, (size_t)(nl - (buf + n)) + 1);
}

static int read_file(int cfd, const char *f, size_t len, uint8_t **out)
{
	int fd = openat(cfd, f, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	uint8_t *p;

	if (fd < 0)
		return -errno;
	p = malloc(len ? len : 1);
	if (!p) {
		close(fd);
		return -ENOMEM;
	}
	for (size_t done = 0; done < len;) {
		ssize_t n = read(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(p);
			close(fd);
			return n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	close(fd);
	*out = p;
	return 0;
}

/* One container's blobs into the store. */
static int load_container(struct dir_store *d, struct sim_mem *m, const char *cname)
{
	struct sim_mcontainer *ct = sim_mem_container(m, cname);
	int cfd = openat(d->dirfd, cname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir;
	struct dirent *e;
	int rc = 0;

	if (cfd < 0)
		return -errno;
	mkdirat(cfd, PROPS, 0755); /* a directory made by hand */
	dir = fdopendir(cfd);
	if (!dir) {
		close(cfd);
		return -EIO;
	}
	while (!rc && (e = readdir(dir))) {
		char name[SIM_NAME_MAX + 1];
		struct sim_mblob *b;
		struct stat st;
		uint8_t *data = NULL;
		uint64_t ft;

		if (e->d_name[0] == '.') {
			if (!strncmp(e->d_name, ".tmp-", 5)) /* a write cut short */
				unlinkat(cfd, e->d_name, 0);
			continue;
		}
		if (fstatat(cfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode) ||
		    dec_name(e->d_name, name, sizeof(name))) {
			logf_(d, UVMBUS_LOG_WARN,
			      "dir backend: %s/%s: not a blob file (a regular file named as "
			      "docs/SIM.md says), ignored",
			      cname, e->d_name);
			continue;
		}
		rc = read_file(cfd, e->d_name, (size_t)st.st_size, &data);
		if (!rc) {
			rc = sim_mem_put_blob(m, ct, name, data, (size_t)st.st_size, NULL, &b);
			free(data);
		}
		if (rc == -ENOMEM || rc == -ENOSPC) {
			logf_(d, UVMBUS_LOG_ERR,
			      "dir backend: %s/%s: the blobs are more than max_bytes=%" PRIu64
			      " (dir=PATH,max_bytes=N for more)",
			      cname, e->d_name, m->max_bytes);
			rc = -ENOSPC;
			break;
		}
		if (rc) {
			logf_(d, UVMBUS_LOG_ERR, "dir backend: %s/%s: %s", cname, e->d_name,
			      strerror(-rc));
			break;
		}
		/* Without a sidecar that matches: the ETag from the mtime. */
		ft = (uint64_t)st.st_mtim.tv_sec * 10000000u + (uint64_t)st.st_mtim.tv_nsec / 100u +
		     FT_UNIX;
		sim_mem_etag_set(m, ft, b->etag);
		b->mtime = b->ctime = st.st_mtim.tv_sec;
		load_props(cfd, e->d_name, &st, m, b);
	}
	closedir(dir);
	return rc;
}

static int load(struct dir_store *d, struct sim_mem *m)
{
	int fd = dup(d->dirfd);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	int rc = 0;

	if (!dir) {
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	while (!rc && (e = readdir(dir))) {
		struct stat st;

		if (e->d_name[0] == '.') {
			if (!strncmp(e->d_name, ".trash-", 7))
				remove_tree(d->dirfd, e->d_name, 1);
			continue;
		}
		if (fstatat(d->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISDIR(st.st_mode) || !sim_container_name_len_ok(e->d_name) ||
		    !sim_container_name_ok(e->d_name)) {
			logf_(d, UVMBUS_LOG_WARN,
			      "dir backend: %s: not a container (a directory with an Azure "
			      "container name), ignored",
			      e->d_name);
			continue;
		}
		rc = sim_mem_container_create(m, e->d_name);
		if (rc)
			logf_(d, UVMBUS_LOG_ERR, "dir backend: %s: %s (max_bytes=%" PRIu64 ")",
			      e->d_name, strerror(-rc), m->max_bytes);
		else
			rc = load_container(d, m, e->d_name);
	}
	closedir(dir);
	return rc;
}

int sim_dir_backend_open(void **state, const char *arg, const struct uvmbus_log *log)
{
	struct dir_store *d;
	struct sim_mem *m;
	uint64_t max = 0;
	const char *comma = arg ? strrchr(arg, ',') : NULL;
	char path[4096];
	size_t plen;
	int rc;

	if (!arg || !arg[0] || arg[0] == ',') {
		if (log && log->fn)
			log->fn(log->arg, UVMBUS_LOG_ERR,
				"dir backend: needs a directory argument (PATH[,max_bytes=N])");
		return -EINVAL;
	}
	/* "PATH,max_bytes=N" as "memory=max_bytes=N"; a PATH may hold commas. */
	plen = comma && !strncmp(comma + 1, "max_bytes=", 10) ? (size_t)(comma - arg) : strlen(arg);
	if ((plen < strlen(arg) && sim_mem_parse_max(comma + 1, &max)) || plen >= sizeof(path)) {
		if (log && log->fn)
			log->fn(log->arg, UVMBUS_LOG_ERR,
				"dir backend: bad argument (PATH[,max_bytes=N], N > 0)");
		return -EINVAL;
	}
	memcpy(path, arg, plen);
	path[plen] = 0;
	d = calloc(1, sizeof(*d));
	m = d ? sim_mem_new(max) : NULL;
	if (!m) {
		free(d);
		return -ENOMEM;
	}
	if (log)
		d->log = *log;
	d->seq = (uint64_t)time(NULL) << 20; /* temporary names new after a restart */
	mkdir(path, 0755);
	d->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dirfd < 0) {
		rc = -errno;
		logf_(d, UVMBUS_LOG_ERR, "dir backend: %s: %s", path, strerror(-rc));
		goto fail;
	}
	rc = load(d, m);
	if (rc)
		goto fail;
	d->hooks = (struct sim_mem_hooks){.blob_name_ok = hook_name_ok,
					  .container_create = hook_container_create,
					  .container_delete = hook_container_delete,
					  .blob_write = hook_blob_write,
					  .blob_delete = hook_blob_delete,
					  .arg = d};
	m->hooks = &d->hooks;
	rc = sim_mem_backend_wrap(state, m);
	if (!rc)
		return 0;
fail:
	sim_mem_free(m);
	if (d->dirfd >= 0)
		close(d->dirfd);
	free(d);
	return rc;
}

void sim_dir_backend_close(void *state)
{
	struct dir_store *d = sim_mem_backend_store(state)->hooks->arg;

	sim_mem_backend_close(state);
	close(d->dirfd);
	free(d);
}
