// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob-fuse: the file system operations over blobs (the table of
 * docs/FUSE.md). A path "/a/b" is the blob "a/b"; directories are the
 * prefixes a listing with the delimiter '/' shows, plus those mkdir made
 * in this mount (virtual until something is written in them).
 */
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"

static struct fs *fs_get(void)
{
	return fuse_get_context()->private_data;
}

/* "/a/b" -> "a/b"; -ENAMETOOLONG beyond the service's 1024 bytes. */
static int blob_name(const char *path, const char **name)
{
	while (*path == '/')
		path++;
	if (strlen(path) > FS_NAME_MAX)
		return -ENAMETOOLONG;
	*name = path;
	return 0;
}

static void fill_stat(struct fs *fs, struct stat *st, bool dir, uint64_t size, time_t mtime)
{
	mode_t perm = (dir ? 0777 : 0666) & ~(mode_t)fs->conf.umask;

	if (fs->conf.ro)
		perm &= ~(mode_t)0222;
	memset(st, 0, sizeof(*st));
	st->st_mode = (dir ? S_IFDIR : S_IFREG) | perm;
	st->st_nlink = dir ? 2 : 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = (off_t)size;
	st->st_blksize = (blksize_t)fs->conf.block_size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	st->st_mtime = st->st_ctime = st->st_atime = mtime;
}

/* "a/b" + "/" (the prefix of what is in directory a/b); "" for the root. */
static int dir_prefix(const char *name, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s%s", name, *name ? "/" : "");

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* What name is: 1 a file (size, mtime), 2 a directory, or a negative errno. */
static int lookup(struct fs *fs, const char *name, uint64_t *size, time_t *mtime)
{
	struct azblob_blob_props p;
	char prefix[FS_NAME_MAX + 2];
	bool dir;
	int rc;

	*size = 0;
	*mtime = 0;
	if (!*name)
		return 2;
	if (fs_writer_size(fs, name, size)) {
		*mtime = time(NULL);
		return 1;
	}
	if (fs_cache_get(fs, name, &dir, size, mtime))
		return dir ? 2 : 1;
	if (fs_vdir_has(fs, name))
		return 2;
	rc = fs_props(fs, name, &p);
	if (!rc) {
		*size = p.size;
		*mtime = fs_parse_http_date(p.last_modified);
		return 1;
	}
	if (rc != -ENOENT)
		return rc;
	if ((rc = dir_prefix(name, prefix, sizeof(prefix))))
		return rc;
	rc = fs_has_children(fs, prefix);
	return rc < 0 ? rc : rc ? 2 : -ENOENT;
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	const char *name;
	uint64_t size;
	time_t mtime;
	int rc;

	if (fi && fi->fh) {
		struct fs_fh *fh = (struct fs_fh *)(uintptr_t)fi->fh;
		struct stat sb;

		if (fh->kind == FH_READ) {
			fill_stat(fs, st, false, fh->size, time(NULL));
			return 0;
		}
		if (fstat(fh->sfd, &sb))
			return -errno;
		fill_stat(fs, st, false, (uint64_t)sb.st_size, time(NULL));
		return 0;
	}
	if ((rc = blob_name(path, &name)))
		return rc;
	rc = lookup(fs, name, &size, &mtime);
	if (rc < 0)
		return rc;
	fill_stat(fs, st, rc == 2, size, mtime ? mtime : time(NULL));
	return 0;
}

/* ---- readdir ---- */

struct rd {
	struct fs *fs;
	void *buf;
	fuse_fill_dir_t filler;
	const char *prefix;
	bool plus;
	char last[FS_NAME_MAX + 1];
	/* names this mount adds (virtual directories, files being written),
	 * given after the listing unless it had them */
	char **extra;
	bool *extra_dir, *seen;
	size_t nextra, capextra;
	bool full;
};

static int rd_item(void *user, const struct azblob_blob_item *it)
{
	struct rd *r = user;
	char base[FS_NAME_MAX + 1];
	struct stat st;
	size_t pl = strlen(r->prefix), n;
	time_t mtime;

	if (strncmp(it->name, r->prefix, pl))
		return 0;
	snprintf(base, sizeof(base), "%s", it->name + pl);
	n = strlen(base);
	if (it->is_prefix && n && base[n - 1] == '/')
		base[--n] = 0;
	/* the directory's own marker, names no path can carry */
	if (!n || strchr(base, '/') || !strcmp(base, ".") || !strcmp(base, ".."))
		return 0;
	if (!strcmp(base, r->last)) /* a blob "a" and a prefix "a/": the file */
		return 0;
	snprintf(r->last, sizeof(r->last), "%s", base);
	for (size_t i = 0; i < r->nextra; i++)
		if (!strcmp(r->extra[i], base))
			r->seen[i] = true;
	mtime = it->is_prefix ? time(NULL) : fs_parse_http_date(it->last_modified);
	fill_stat(r->fs, &st, it->is_prefix, it->size, mtime ? mtime : time(NULL));
	if (!it->is_prefix)
		fs_cache_put(r->fs, it->name, false, it->size, st.st_mtime);
	if (r->filler(r->buf, base, &st, 0, r->plus ? FUSE_FILL_DIR_PLUS : 0)) {
		r->full = true;
		return 1;
	}
	return 0;
}

static void rd_extra(struct rd *r, const char *base, bool dir)
{
	if (r->nextra == r->capextra) {
		size_t cap = r->capextra ? r->capextra * 2 : 8;
		char **e = realloc(r->extra, cap * sizeof(*e));
		bool *d, *s;

		if (!e)
			return;
		r->extra = e;
		if (!(d = realloc(r->extra_dir, cap * sizeof(*d))))
			return;
		r->extra_dir = d;
		if (!(s = realloc(r->seen, cap * sizeof(*s))))
			return;
		r->seen = s;
		r->capextra = cap;
	}
	if (!(r->extra[r->nextra] = strdup(base)))
		return;
	r->extra_dir[r->nextra] = dir;
	r->seen[r->nextra++] = false;
}

static void rd_vdir(void *u, const char *base)
{
	rd_extra(u, base, true);
}

static void rd_writer(void *u, const char *base)
{
	rd_extra(u, base, false);
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct fs *fs = fs_get();
	char prefix[FS_NAME_MAX + 2];
	struct rd r = {0};
	const char *name;
	struct stat st;
	int rc;

	(void)off;
	(void)fi;
	if ((rc = blob_name(path, &name)) || (rc = dir_prefix(name, prefix, sizeof(prefix))))
		return rc;
	r.fs = fs;
	r.buf = buf;
	r.filler = filler;
	r.prefix = prefix;
	r.plus = flags & FUSE_READDIR_PLUS;
	fs_vdir_children(fs, name, rd_vdir, &r);
	fs_writer_children(fs, name, rd_writer, &r);
	fill_stat(fs, &st, true, 0, time(NULL));
	filler(buf, ".", &st, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	rc = fs_list(fs, prefix, rd_item, &r);
	if (rc == 1)
		rc = 0;
	for (size_t i = 0; i < r.nextra; i++) {
		if (!rc && !r.full && !r.seen[i]) {
			fill_stat(fs, &st, r.extra_dir[i], 0, time(NULL));
			r.full = filler(buf, r.extra[i], &st, 0, 0) != 0;
		}
		free(r.extra[i]);
	}
	free(r.extra);
	free(r.extra_dir);
	free(r.seen);
	return rc;
}

/* ---- directories ---- */

static int op_mkdir(const char *path, mode_t mode)
{
	struct fs *fs = fs_get();
	const char *name;
	uint64_t size;
	time_t mtime;
	int rc;

	(void)mode;
	if (fs->conf.ro)
		return -EROFS;
	if ((rc = blob_name(path, &name)))
		return rc;
	if (strlen(name) + 1 > FS_NAME_MAX)
		return -ENAMETOOLONG;
	rc = lookup(fs, name, &size, &mtime);
	if (rc > 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	fs_vdir_add(fs, name);
	return 0;
}

static void count_child(void *u, const char *base)
{
	(void)base;
	(*(int *)u)++;
}

static int op_rmdir(const char *path)
{
	struct fs *fs = fs_get();
	char prefix[FS_NAME_MAX + 2];
	const char *name;
	int rc, local = 0;

	if (fs->conf.ro)
		return -EROFS;
	if ((rc = blob_name(path, &name)) || (rc = dir_prefix(name, prefix, sizeof(prefix))))
		return rc;
	if (!*name)
		return -EBUSY;
	fs_vdir_children(fs, name, count_child, &local);
	fs_writer_children(fs, name, count_child, &local);
	if (local)
		return -ENOTEMPTY;
	rc = fs_has_children(fs, prefix);
	if (rc < 0)
		return rc;
	if (rc)
		return -ENOTEMPTY;
	fs_cache_drop(fs, name);
	/* A directory made here goes; one that was only the prefix of blobs
	 * went with its last blob (the kernel found it a moment ago). */
	fs_vdir_del(fs, name);
	return 0;
}

/* ---- files ---- */

static struct fs_fh *fh_new(int kind, const char *name)
{
	struct fs_fh *fh = calloc(1, sizeof(*fh));

	if (!fh)
		return NULL;
	fh->kind = kind;
	fh->sfd = -1;
	pthread_mutex_init(&fh->lock, NULL);
	snprintf(fh->name, sizeof(fh->name), "%s", name);
	for (unsigned i = 0; i <= FS_MAX_RA; i++)
		fh->blk[i].idx = UINT64_MAX;
	fh->rnd.idx = UINT64_MAX;
	return fh;
}

static void fh_free(struct fs *fs, struct fs_fh *fh)
{
	if (fh->kind == FH_READ)
		fs_fh_drop_blocks(fs, fh);
	/* Out of the writers' table first: stat looks at its staging fd. */
	fs_writer_put(fs, fh->w);
	if (fh->sfd >= 0)
		close(fh->sfd);
	pthread_mutex_destroy(&fh->lock);
	free(fh);
}

static void set_io_mode(struct fs *fs, struct fuse_file_info *fi)
{
	/* Without the kernel's page cache every read comes here and is
	 * answered from the version the file pinned (docs/FUSE.md). */
	fi->direct_io = !fs->conf.page_cache;
	fi->keep_cache = 0;
}

static int open_writer(struct fs *fs, const char *name, bool trunc, struct fs_fh **out)
{
	struct azblob_blob_props p;
	struct fs_fh *fh = fh_new(FH_WRITE, name);
	int rc;

	if (!fh)
		return -ENOMEM;
	fh->sfd = fs_stage_open(fs);
	if (fh->sfd < 0) {
		rc = fh->sfd;
		fh_free(fs, fh);
		return rc == -ENOSPC ? -EIO : rc;
	}
	if (trunc) {
		fh->dirty = true;
	} else if ((rc = fs_fetch_all(fs, name, fh->sfd, &p))) {
		fh_free(fs, fh);
		return rc;
	}
	fh->w = fs_writer_get(fs, name, fh->sfd);
	*out = fh;
	return 0;
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct fs_fh *fh;
	const char *name;
	int rc;

	(void)mode;
	if (fs->conf.ro)
		return -EROFS;
	if ((rc = blob_name(path, &name)))
		return rc;
	if ((rc = open_writer(fs, name, true, &fh)))
		return rc;
	fs_cache_drop(fs, name);
	fi->fh = (uintptr_t)fh;
	set_io_mode(fs, fi);
	return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct azblob_blob_props p;
	struct fs_fh *fh;
	const char *name;
	int rc;

	if ((rc = blob_name(path, &name)))
		return rc;
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		if (fs->conf.ro)
			return -EROFS;
		if ((rc = open_writer(fs, name, fi->flags & O_TRUNC, &fh)))
			return rc;
	} else {
		if ((rc = fs_props(fs, name, &p)))
			return rc;
		if (!(fh = fh_new(FH_READ, name)))
			return -ENOMEM;
		snprintf(fh->etag, sizeof(fh->etag), "%s", p.etag);
		fh->size = p.size;
		fh->nblk = fs->conf.read_ahead + 1;
		if ((rc = fs_fh_queue(fs, fh)))
			fs_log(fs, LOG_DEBUG, "%s: no queue (%s): reads through the helpers", name,
			       strerror(-rc));
		fs_cache_put(fs, name, false, p.size, fs_parse_http_date(p.last_modified));
	}
	fi->fh = (uintptr_t)fh;
	set_io_mode(fs, fi);
	return 0;
}

static int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_fh *fh = (struct fs_fh *)(uintptr_t)fi->fh;
	ssize_t n;
	int rc;

	(void)path;
	if (off < 0)
		return -EINVAL;
	if (fh->kind == FH_WRITE) {
		n = pread(fh->sfd, buf, size, off);
		return n < 0 ? -errno : (int)n;
	}
	pthread_mutex_lock(&fh->lock);
	rc = fs_fh_read(fs_get(), fh, buf, size, (uint64_t)off);
	pthread_mutex_unlock(&fh->lock);
	return rc;
}

/* Writes go into the staging file, from FUSE's pipe by splice when the
 * kernel hands the data that way. */
static int op_write_buf(const char *path, struct fuse_bufvec *src, off_t off,
			struct fuse_file_info *fi)
{
	struct fs_fh *fh = (struct fs_fh *)(uintptr_t)fi->fh;
	struct fuse_bufvec dst = FUSE_BUFVEC_INIT(fuse_buf_size(src));
	ssize_t n;

	(void)path;
	if (fh->kind != FH_WRITE)
		return -EBADF;
	dst.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	dst.buf[0].fd = fh->sfd;
	dst.buf[0].pos = off;
	pthread_mutex_lock(&fh->lock);
	n = fuse_buf_copy(&dst, src, 0);
	if (n > 0)
		fh->dirty = true;
	pthread_mutex_unlock(&fh->lock);
	return n == -ENOSPC ? -EIO : (int)n;
}

static int commit(struct fs *fs, struct fs_fh *fh)
{
	int rc = 0;

	pthread_mutex_lock(&fh->lock);
	if (fh->kind == FH_WRITE && fh->dirty) {
		rc = fs_commit(fs, fh->name, fh->sfd);
		if (!rc)
			fh->dirty = false;
		fs_cache_drop(fs, fh->name);
	}
	pthread_mutex_unlock(&fh->lock);
	return rc;
}

/* close(2): the staged file becomes the blob here, so that close reports
 * a failure. */
static int op_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	return commit(fs_get(), (struct fs_fh *)(uintptr_t)fi->fh);
}

static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	return commit(fs_get(), (struct fs_fh *)(uintptr_t)fi->fh);
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct fs_fh *fh = (struct fs_fh *)(uintptr_t)fi->fh;

	(void)path;
	/* A flush that failed: one more try, logged (release cannot report). */
	if (commit(fs, fh))
		fs_log(fs, LOG_ERR, "close %s: the file could not be written: lost", fh->name);
	fh_free(fs, fh);
	return 0;
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct fs *fs = fs_get();
	struct azblob_blob_props p;
	const char *name;
	int rc, sfd;

	if (fs->conf.ro)
		return -EROFS;
	if (size < 0)
		return -EINVAL;
	if (fi && fi->fh) {
		struct fs_fh *fh = (struct fs_fh *)(uintptr_t)fi->fh;

		if (fh->kind != FH_WRITE)
			return -EBADF;
		pthread_mutex_lock(&fh->lock);
		rc = ftruncate(fh->sfd, size) ? -errno : 0;
		fh->dirty = true;
		pthread_mutex_unlock(&fh->lock);
		return rc == -ENOSPC || rc == -EFBIG ? -EIO : rc;
	}
	if ((rc = blob_name(path, &name)))
		return rc;
	if ((sfd = fs_stage_open(fs)) < 0)
		return -EIO;
	if (size)
		rc = fs_fetch_all(fs, name, sfd, &p);
	else
		rc = fs_props(fs, name, &p);
	if (!rc)
		rc = ftruncate(sfd, size) ? -EIO : 0;
	if (!rc)
		rc = fs_commit(fs, name, sfd);
	close(sfd);
	fs_cache_drop(fs, name);
	return rc;
}

static int op_unlink(const char *path)
{
	struct fs *fs = fs_get();
	const char *name;
	int rc;

	if (fs->conf.ro)
		return -EROFS;
	if ((rc = blob_name(path, &name)))
		return rc;
	fs_cache_drop(fs, name);
	return fs_delete(fs, name);
}

/* A file: copy (read, then written as one commit) and delete. A directory
 * made here and still empty: renamed in this mount. A directory holding
 * blobs: EXDEV, as overlayfs does for what it cannot move in one step, so
 * that mv(1) copies and removes the files one by one. */
static int op_rename(const char *from, const char *to, unsigned int flags)
{
	struct fs *fs = fs_get();
	const char *src, *dst;
	char prefix[FS_NAME_MAX + 2];
	uint64_t size;
	time_t mtime;
	int rc, kind, tkind, sfd;

	if (fs->conf.ro)
		return -EROFS;
	if (flags & ~(unsigned)RENAME_NOREPLACE)
		return -EINVAL;
	if ((rc = blob_name(from, &src)) || (rc = blob_name(to, &dst)))
		return rc;
	if (!*src || !*dst)
		return -EBUSY;
	kind = lookup(fs, src, &size, &mtime);
	if (kind < 0)
		return kind;
	tkind = lookup(fs, dst, &size, &mtime);
	if (tkind < 0 && tkind != -ENOENT)
		return tkind;
	if (tkind > 0 && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (kind == 2) {
		if (tkind == 1)
			return -ENOTDIR;
		if ((rc = dir_prefix(src, prefix, sizeof(prefix))))
			return rc;
		if ((rc = fs_has_children(fs, prefix)) != 0)
			return rc < 0 ? rc : -EXDEV;
		if (tkind == 2) {
			if ((rc = dir_prefix(dst, prefix, sizeof(prefix))) ||
			    (rc = fs_has_children(fs, prefix)) != 0)
				return rc < 0 ? rc : -ENOTEMPTY;
			fs_vdir_del(fs, dst);
		}
		if (!fs_vdir_del(fs, src))
			return -ENOENT;
		fs_vdir_add(fs, dst);
		return 0;
	}
	if (tkind == 2)
		return -EISDIR;
	if (!strcmp(src, dst))
		return 0;
	if ((sfd = fs_stage_open(fs)) < 0)
		return -EIO;
	struct azblob_blob_props p;

	rc = fs_fetch_all(fs, src, sfd, &p);
	if (!rc)
		rc = fs_commit(fs, dst, sfd);
	close(sfd);
	fs_cache_drop(fs, dst);
	fs_cache_drop(fs, src);
	if (!rc)
		rc = fs_delete(fs, src);
	return rc;
}

static int op_statfs(const char *path, struct statvfs *sv)
{
	struct fs *fs = fs_get();

	(void)path;
	/* A container has no size limit to report: a large, constant figure
	 * (1 PiB, 2^30 files) so that df and free-space checks go on. */
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = fs->conf.block_size;
	sv->f_frsize = 4096;
	sv->f_blocks = sv->f_bfree = sv->f_bavail = (1ull << 50) / 4096;
	sv->f_files = sv->f_ffree = sv->f_favail = 1u << 30;
	sv->f_namemax = 255;
	if (fs->conf.ro)
		sv->f_flag |= ST_RDONLY;
	return 0;
}

/* Blobs keep no mode, owner or times of their own: accepted and ignored
 * (as blobfuse2 does), refused on a read-only mount. */
static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return fs_get()->conf.ro ? -EROFS : 0;
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	(void)path;
	(void)uid;
	(void)gid;
	(void)fi;
	return fs_get()->conf.ro ? -EROFS : 0;
}

static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	(void)path;
	(void)tv;
	(void)fi;
	return fs_get()->conf.ro ? -EROFS : 0;
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct fs *fs = fs_get();

	/* 1 MiB requests (the kernel negotiates max_pages from max_write),
	 * reads answered out of order, writes spliced from the kernel. */
	conn->max_write = 1u << 20;
	conn->max_read = 0;
	conn->max_readahead = 1u << 20;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	if (conn->capable & FUSE_CAP_SPLICE_READ)
		conn->want |= FUSE_CAP_SPLICE_READ;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	cfg->nullpath_ok = 0;
	cfg->use_ino = 0;
	return fs;
}

const struct fuse_operations fs_ops = {
    .init = op_init,
    .getattr = op_getattr,
    .readdir = op_readdir,
    .mkdir = op_mkdir,
    .rmdir = op_rmdir,
    .create = op_create,
    .open = op_open,
    .read = op_read,
    .write_buf = op_write_buf,
    .flush = op_flush,
    .fsync = op_fsync,
    .release = op_release,
    .truncate = op_truncate,
    .unlink = op_unlink,
    .rename = op_rename,
    .statfs = op_statfs,
    .chmod = op_chmod,
    .chown = op_chown,
    .utimens = op_utimens,
};
