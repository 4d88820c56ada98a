// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob-fuse: blob I/O. Metadata and whole-blob transfers go through the
 * blob helpers on the client (pipelined at the queue depth, under fs->io);
 * a reader's blocks are ranged Gets of its own on the open file's own
 * libazblob queue, submitted ahead (read-ahead) into pool buffers, each
 * with If-Match on the ETag pinned at open: reads never wait for the
 * client's lock (a commit, a listing), only for their own answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <syslog.h>
#include <unistd.h>

#include "fdio.h"
#include "fs.h"
#include "regmem.h"

void fs_log(struct fs *fs, int prio, const char *fmt, ...)
{
	char msg[1400];
	va_list ap;

	if (prio == LOG_DEBUG && !fs->conf.debug && fs->cli.verbose < 2)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fs->conf.foreground)
		fprintf(stderr, "azblob-fuse: %s\n", msg);
	else
		syslog(prio, "%s", msg);
}

int fs_errno(struct fs *fs, const char *what, const char *name, int rc,
	     const struct azblob_blob_status *st)
{
	switch (rc) {
	case 0:
	case -ENOENT:
	case -EEXIST:
	case -ENOTEMPTY:
	case -ENAMETOOLONG:
		return rc;
	case -EACCES:
	case -EPERM:
		fs_log(fs, LOG_WARNING, "%s %s: refused (%d %s)", what, name,
		       st ? st->http_status : 0, st ? st->error_code : "");
		return -EACCES;
	default:
		/* The host's or the transport's failure: EIO, never a made-up
		 * ENOSPC, with what the service said. */
		fs_log(fs, LOG_ERR, "%s %s: %s (HTTP %d %s, VSP status 0x%08" PRIx32 ")", what,
		       name, strerror(-rc), st ? st->http_status : 0,
		       st && st->error_code[0] ? st->error_code : "-", st ? st->vsp_status : 0);
		return -EIO;
	}
}

static struct azblob_blob_xfer xfer(struct fs *fs)
{
	struct azblob_blob_xfer x = {0};

	x.chunk_size = fs->conf.block_size;
	x.queue_depth = fs->conf.qd;
	x.timeout_ms = fs->cli.timeout_ms;
	x.no_md5 = true; /* each request's body carries its CRC-64 instead */
	return x;
}

int fs_props(struct fs *fs, const char *name, struct azblob_blob_props *p)
{
	struct azblob_blob_status st;
	int rc;

	pthread_mutex_lock(&fs->io);
	rc = azblob_blob_get_properties(fs->cli.c, fs->conf.container, name, p, &st);
	pthread_mutex_unlock(&fs->io);
	return fs_errno(fs, "stat", name, rc, &st);
}

int fs_delete(struct fs *fs, const char *name)
{
	struct azblob_blob_status st;
	int rc;

	pthread_mutex_lock(&fs->io);
	rc = azblob_blob_delete(fs->cli.c, fs->conf.container, name, &st);
	pthread_mutex_unlock(&fs->io);
	return fs_errno(fs, "delete", name, rc, &st);
}

static int any_item(void *user, const struct azblob_blob_item *it)
{
	const char *prefix = user;

	/* A marker blob named exactly "dir/" (other tools make them) is
	 * the directory itself, not something in it. */
	if (!it->is_prefix && !strcmp(it->name, prefix))
		return 0;
	return 1;
}

int fs_has_children(struct fs *fs, const char *prefix)
{
	struct azblob_blob_list_opts lo = {
	    .prefix = prefix, .delimiter = "/", .max_results = 2, .one_page = true};
	struct azblob_blob_status st;
	int rc;

	pthread_mutex_lock(&fs->io);
	rc = azblob_blob_list(fs->cli.c, fs->conf.container, &lo, any_item, (void *)prefix, &st);
	pthread_mutex_unlock(&fs->io);
	if (rc == 1)
		return 1;
	return rc ? fs_errno(fs, "list", prefix, rc, &st) : 0;
}

int fs_list(struct fs *fs, const char *prefix, azblob_blob_list_fn cb, void *user)
{
	struct azblob_blob_list_opts lo = {.prefix = prefix[0] ? prefix : NULL, .delimiter = "/"};
	struct azblob_blob_status st;
	int rc;

	pthread_mutex_lock(&fs->io);
	rc = azblob_blob_list(fs->cli.c, fs->conf.container, &lo, cb, user, &st);
	pthread_mutex_unlock(&fs->io);
	return fs_errno(fs, "list", prefix[0] ? prefix : "/", rc, &st);
}

/* ---- staging files ---- */

int fs_stage_open(struct fs *fs)
{
	int fd;

	if (fs->conf.stage_dir)
		fd = open(fs->conf.stage_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	else
		fd = memfd_create("azblob-fuse-stage", MFD_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		fs_log(fs, LOG_ERR, "staging file (%s): %s",
		       fs->conf.stage_dir ? fs->conf.stage_dir : "memfd", strerror(errno));
	}
	return fd;
}

static int stage_write(void *user, const void *buf, size_t len, uint64_t off)
{
	return fdio_write_all(*(int *)user, buf, len, off);
}

static int stage_read(void *user, void *buf, size_t len, uint64_t off)
{
	return fdio_read_all(*(int *)user, buf, len, off);
}

int fs_fetch_all(struct fs *fs, const char *name, int sfd, struct azblob_blob_props *p)
{
	struct azblob_blob_xfer x = xfer(fs);
	struct azblob_blob_status st;
	int rc;

	if (ftruncate(sfd, 0))
		return -errno;
	pthread_mutex_lock(&fs->io);
	rc = azblob_blob_download(fs->cli.c, fs->conf.container, name, 0, UINT64_MAX, stage_write,
				  &sfd, &x, p, &st);
	pthread_mutex_unlock(&fs->io);
	if (!rc && ftruncate(sfd, (off_t)p->size))
		rc = -errno;
	return fs_errno(fs, "read", name, rc, &st);
}

int fs_commit(struct fs *fs, const char *name, int sfd)
{
	struct azblob_blob_xfer x = xfer(fs);
	struct azblob_blob_status st;
	const char *why = NULL;
	struct stat sb;
	void *map;
	int rc;

	if (fstat(sfd, &sb))
		return -errno;
	memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&fs->io);
	/* In place when the host reaches the staging file's pages (a memfd's
	 * shmem pages can be pinned), else copied through pool buffers. */
	map = regmem_map(fs->cli.c, sfd, (uint64_t)sb.st_size, false, &why);
	if (map)
		rc = azblob_blob_put(fs->cli.c, fs->conf.container, name, map, (size_t)sb.st_size,
				     &x, &st);
	else
		rc = azblob_blob_upload(fs->cli.c, fs->conf.container, name, (uint64_t)sb.st_size,
					stage_read, &sfd, &x, &st);
	if (map && !regmem_unmap(fs->cli.c, map, (uint64_t)sb.st_size))
		fs_log(fs, LOG_WARNING, "commit %s: the staging mapping stays registered", name);
	pthread_mutex_unlock(&fs->io);
	fs_log(fs, LOG_DEBUG, "commit %s: %lld bytes, %s (%s)", name, (long long)sb.st_size,
	       rc ? strerror(-rc) : "done",
	       map   ? "in place"
	       : why ? why
		     : "copied");
	return fs_errno(fs, "write", name, rc, &st);
}

/* ---- a reader's blocks ---- */

static void blk_done(void *user, int err, uint32_t vsp_status, uint32_t response_len)
{
	struct fs_blk *b = user;

	b->err = err;
	b->vsp = vsp_status;
	b->resp_len = response_len;
	b->state = BLK_DONE; /* read after the io lock is released and taken */
}

/* A pool buffer for a block, within the share open files may hold (the
 * helpers need the rest; a race past the limit by a few is harmless:
 * azblob_alloc then says NULL). Any thread. */
static uint8_t *blk_buf(struct fs *fs)
{
	uint8_t *p;

	if (__atomic_load_n(&fs->bufs_held, __ATOMIC_RELAXED) + fs->conf.qd / 2 + 2 >=
	    fs->bufs_total)
		return NULL;
	p = azblob_alloc(fs->cli.c, fs->conf.block_size + FS_HEADS);
	if (p)
		__atomic_add_fetch(&fs->bufs_held, 1, __ATOMIC_RELAXED);
	return p;
}

/* Submit a ranged Get of [off, off + len) into b (If-Match: the pinned
 * ETag) on the file's queue. Under fh->lock. */
static int blk_issue(struct fs *fs, struct fs_fh *fh, struct fs_blk *b, uint64_t off, uint32_t len)
{
	char range[64], ifm[100];
	const char *h[] = {range, ifm, NULL};
	struct azblob_request r = {0};
	int n, rc;

	if (!b->buf && !(b->buf = blk_buf(fs)))
		return -ENOBUFS;
	snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-%" PRIu64, off, off + len - 1);
	snprintf(ifm, sizeof(ifm), "If-Match: %s", fh->etag);
	if (!fh->etag[0])
		h[1] = NULL;
	n = azblob_blob_build_request((char *)b->buf + fs->conf.block_size, FS_HEAD_REQ, "GET",
				      fs->conf.container, fh->name, NULL, h);
	if (n < 0)
		return n;
	r.request = b->buf + fs->conf.block_size;
	r.request_len = (uint32_t)n;
	r.response = b->buf + fs->conf.block_size + FS_HEAD_REQ;
	r.response_len = FS_HEADS - FS_HEAD_REQ;
	r.data = b->buf;
	r.data_len = len;
	r.timeout_ms = fs->cli.timeout_ms;
	r.done = blk_done;
	r.user = b;
	b->off = off;
	b->len = len;
	b->state = BLK_PENDING;
	while ((rc = azblob_queue_submit(fh->q, &r)) == -EAGAIN) {
		azblob_queue_flush(fh->q);
		if (azblob_queue_poll(fh->q, 0) == 0)
			azblob_queue_wait(fh->q, 1);
	}
	if (rc)
		b->state = BLK_FREE;
	return rc;
}

/* Poll the file's queue until b is answered (the queue sleeps on its own
 * eventfd between polls). Under fh->lock. */
static void blk_wait(struct fs_fh *fh, struct fs_blk *b)
{
	azblob_queue_flush(fh->q);
	while (b->state == BLK_PENDING) {
		int n = azblob_queue_poll(fh->q, 0);

		if (b->state != BLK_PENDING)
			break;
		if (n == 0)
			azblob_queue_wait(fh->q, 1);
		else if (n < 0 && !azblob_queue_inflight(fh->q)) {
			b->err = n;
			b->state = BLK_DONE;
		}
	}
}

/* The answer of a done block: 0, or a negative errno. */
static int blk_result(struct fs *fs, struct fs_fh *fh, struct fs_blk *b)
{
	struct azblob_blob_resp r;
	struct azblob_blob_status st = {0};
	uint32_t cap = FS_HEADS - FS_HEAD_REQ;
	int rc;

	if (b->err)
		return fs_errno(fs, "read", fh->name, b->err, NULL);
	st.vsp_status = b->vsp;
	if (b->vsp)
		return fs_errno(fs, "read", fh->name, -EIO, &st);
	rc = azblob_blob_parse_response(b->buf + fs->conf.block_size + FS_HEAD_REQ,
					b->resp_len < cap ? b->resp_len : cap, &r);
	if (rc)
		return fs_errno(fs, "read (malformed answer)", fh->name, rc, NULL);
	st.http_status = r.http_status;
	snprintf(st.error_code, sizeof(st.error_code), "%s", r.error_code);
	if (r.http_status == 412 || r.http_status == 404) {
		/* The blob changed (or went) since this file was opened: its
		 * reader gets EIO rather than a mix of two versions. */
		fs_log(fs, LOG_WARNING, "read %s: the blob changed since it was opened (%d): EIO",
		       fh->name, r.http_status);
		return -EIO;
	}
	rc = azblob_blob_http_errno(r.http_status);
	if (rc)
		return fs_errno(fs, "read", fh->name, rc, &st);
	if (r.content_length != (int64_t)b->len ||
	    (r.http_status == 206 && r.has_range &&
	     (r.range_first != b->off || r.range_last != b->off + b->len - 1)))
		return fs_errno(fs, "read (unexpected range)", fh->name, -EPROTO, &st);
	return 0;
}

int fs_fh_queue(struct fs *fs, struct fs_fh *fh)
{
	/* The read-ahead and one random read in flight; when the client has
	 * no slots to spare, the file reads through the helpers instead. */
	return azblob_queue_create(fs->cli.c, fh->nblk + 1, &fh->q);
}

void fs_fh_drop_blocks(struct fs *fs, struct fs_fh *fh)
{
	for (unsigned i = 0; i <= fh->nblk && fh->q; i++) {
		struct fs_blk *b = i < fh->nblk ? &fh->blk[i] : &fh->rnd;

		blk_wait(fh, b);
		if (b->buf) {
			azblob_free(fs->cli.c, b->buf);
			__atomic_sub_fetch(&fs->bufs_held, 1, __ATOMIC_RELAXED);
		}
		b->buf = NULL;
		b->state = BLK_FREE;
		b->idx = UINT64_MAX;
	}
	if (fh->q && azblob_queue_destroy(fh->q))
		fs_log(fs, LOG_WARNING, "%s: the file's queue still had requests", fh->name);
	fh->q = NULL;
}

/* Without pool buffers to spare: the range through the helper, checked
 * against the pinned ETag. */
static int read_fallback(struct fs *fs, struct fs_fh *fh, char *dst, size_t len, uint64_t off)
{
	struct azblob_blob_xfer x = xfer(fs);
	struct azblob_blob_status st;
	struct azblob_blob_props p;
	size_t got = 0;
	int rc;

	(void)p;
	pthread_mutex_lock(&fs->io);
	rc = azblob_blob_get(fs->cli.c, fs->conf.container, fh->name, off, dst, len, &got, &x, &st);
	if (!rc)
		rc = azblob_blob_get_properties(fs->cli.c, fs->conf.container, fh->name, &p, &st);
	pthread_mutex_unlock(&fs->io);
	if (rc == -ENOENT || (!rc && strcmp(p.etag, fh->etag))) {
		fs_log(fs, LOG_WARNING, "read %s: the blob changed since it was opened: EIO",
		       fh->name);
		return -EIO;
	}
	return rc ? fs_errno(fs, "read", fh->name, rc, &st) : (int)got;
}

/* The random read: exactly the range asked, one ranged Get. */
static int read_exact(struct fs *fs, struct fs_fh *fh, char *dst, size_t len, uint64_t off)
{
	int rc;

	rc = blk_issue(fs, fh, &fh->rnd, off, (uint32_t)len);
	if (!rc)
		blk_wait(fh, &fh->rnd);
	if (rc == -ENOBUFS)
		return read_fallback(fs, fh, dst, len, off);
	if (rc)
		return fs_errno(fs, "read", fh->name, rc, NULL);
	fh->rnd.state = BLK_FREE;
	rc = blk_result(fs, fh, &fh->rnd);
	if (rc)
		return rc;
	memcpy(dst, fh->rnd.buf, len);
	return (int)len;
}

/* Make sure blocks first..first+ra are asked for (slot idx % nblk). Under
 * fh->lock. */
static void read_ahead(struct fs *fs, struct fs_fh *fh, uint64_t first)
{
	uint64_t bs = fs->conf.block_size, nb = (fh->size + bs - 1) / bs;

	for (uint64_t k = first; k < first + fh->nblk && k < nb; k++) {
		struct fs_blk *b = &fh->blk[k % fh->nblk];
		uint64_t off = k * bs;

		if (b->idx == k)
			continue;
		if (b->state == BLK_PENDING)
			break; /* an older block still out: ask later */
		b->idx = k;
		if (blk_issue(fs, fh, b, off,
			      (uint32_t)(fh->size - off < bs ? fh->size - off : bs))) {
			b->idx = UINT64_MAX;
			break;
		}
	}
	azblob_queue_flush(fh->q);
}

int fs_fh_read(struct fs *fs, struct fs_fh *fh, char *dst, size_t len, uint64_t off)
{
	uint64_t bs = fs->conf.block_size;
	size_t done = 0;
	bool seq;
	int rc;

	if (off >= fh->size)
		return 0;
	if (len > fh->size - off)
		len = (size_t)(fh->size - off);
	if (!fh->q)
		return read_fallback(fs, fh, dst, len, off);
	seq = off == fh->next_off || off % bs == 0;
	fh->next_off = off + len;
	if (!seq && len <= bs && (off % bs) + len <= bs &&
	    fh->blk[off / bs % fh->nblk].idx != off / bs)
		return read_exact(fs, fh, dst, len, off);
	while (done < len) {
		uint64_t at = off + done, k = at / bs;
		struct fs_blk *b = &fh->blk[k % fh->nblk];
		size_t n;

		if (b->state == BLK_PENDING && b->idx != k)
			blk_wait(fh, b); /* the slot's older block (a reader that jumped) */
		read_ahead(fs, fh, k);
		if (b->idx == k)
			blk_wait(fh, b);
		if (b->idx != k) /* no buffer to spare */
			return done ? (int)done : read_fallback(fs, fh, dst, len, off);
		if (b->state == BLK_DONE) {
			rc = blk_result(fs, fh, b);
			if (rc) {
				b->idx = UINT64_MAX;
				b->state = BLK_FREE;
				return rc;
			}
			b->state = BLK_READY; /* answer checked */
		}
		n = (size_t)(b->off + b->len - at);
		if (n > len - done)
			n = len - done;
		memcpy(dst + done, b->buf + (at - b->off), n);
		done += n;
	}
	return (int)done;
}
