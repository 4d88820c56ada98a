/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * azblob-fuse internals: the mount's state, the open-file handles and the
 * blob I/O under them (docs/FUSE.md).
 *
 * Locks, always taken in this order: fh->lock (one open file, and its
 * libazblob queue: a reader's blocks), fs->meta (the listing cache,
 * virtual directories, files open for writing), fs->io (the client's own
 * calls, the blob helpers: libazblob's client is used by one thread at a
 * time; the queues of the open files go on meanwhile).
 */
#ifndef AZBLOB_FUSE_FS_H
#define AZBLOB_FUSE_FS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <azblob.h>
#include <azblob/blob.h>

#include "common.h"

#define FS_HEADS    16384u /* request + response heads after a block's data */
#define FS_HEAD_REQ 8192u
#define FS_MAX_RA   32u /* blocks read ahead, at most */
#define FS_NAME_MAX 1024u

struct fs_conf {
	const char *container, *mountpoint;
	bool ro, foreground, page_cache, debug;
	uint32_t block_size;   /* bytes per ranged Get / Put Block */
	uint32_t read_ahead;   /* blocks in flight ahead of a sequential reader */
	uint32_t qd;	       /* the client's queue depth */
	uint64_t cache_size;   /* the pool: read blocks of every open file */
	double list_timeout;   /* s: stats learnt from a listing stay valid */
	const char *stage_dir; /* NULL: staged writes in memory (memfd) */
	const char *broker, *backend;
	uint32_t max_threads;
	unsigned umask; /* mode bits taken from 0666 (files) and 0777 (directories) */
};

struct fs_cached; /* a listing cache entry (fs_meta.c) */
struct fs_vdir;	  /* a directory made by mkdir, with nothing in it yet */
struct fs_wfile;  /* a path open for writing */

struct fs {
	struct fs_conf conf;
	struct cli cli; /* the client (opened as the CLI does) */
	pthread_mutex_t io;
	pthread_mutex_t meta;
	struct fs_cached *cache; /* buckets */
	unsigned cache_count;
	struct fs_vdir *vdirs;
	struct fs_wfile *writers;
	struct azblob_queue *q0;	/* made first: the client in shared mode */
	uint32_t bufs_total, bufs_held; /* pool buffers, held by open files */
	uid_t uid;
	gid_t gid;
};

/* A block of a reader: one pool buffer [data | request | response]. */
enum { BLK_FREE, BLK_PENDING, BLK_DONE, BLK_READY };
struct fs_blk {
	uint8_t *buf;
	uint64_t idx; /* block index (off / block_size); UINT64_MAX: none */
	uint64_t off;
	uint32_t len;
	int state;
	int err; /* completion: 0 or a negative errno */
	uint32_t vsp, resp_len;
};

enum { FH_READ, FH_WRITE };
struct fs_fh {
	int kind;
	pthread_mutex_t lock;
	char name[FS_NAME_MAX + 1]; /* the blob */
	/* FH_READ: the version pinned at open (If-Match) */
	char etag[80];
	uint64_t size;
	uint64_t next_off;	/* where a sequential reader goes on */
	struct azblob_queue *q; /* the file's own (NULL: reads through the helpers) */
	unsigned nblk;
	struct fs_blk blk[FS_MAX_RA + 1];
	struct fs_blk rnd; /* a random read's exact range */
	/* FH_WRITE: the staged content */
	int sfd;
	bool dirty;
	struct fs_wfile *w;
};

/* ---- fs_io.c: blob I/O ---- */
void fs_log(struct fs *fs, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A library error as the errno a program expects (negative), logging the
 * ones that are the host's fault (EIO). */
int fs_errno(struct fs *fs, const char *what, const char *name, int rc,
	     const struct azblob_blob_status *st);
int fs_props(struct fs *fs, const char *name, struct azblob_blob_props *p);
int fs_delete(struct fs *fs, const char *name);
/* Whether anything is listed under prefix (a virtual directory): 1, 0 or
 * a negative errno. */
int fs_has_children(struct fs *fs, const char *prefix);
int fs_list(struct fs *fs, const char *prefix, azblob_blob_list_fn cb, void *user);
/* The blob into the staging file sfd (truncated to its size). */
int fs_fetch_all(struct fs *fs, const char *name, int sfd, struct azblob_blob_props *p);
/* Commit the staging file sfd as the blob (Put Block in parallel + Put
 * Block List, or one Put Blob): atomic for readers. */
int fs_commit(struct fs *fs, const char *name, int sfd);
int fs_stage_open(struct fs *fs);
/* Reader: up to len bytes at off into dst; bytes or a negative errno
 * (-EIO when the blob changed since open: If-Match failed). */
int fs_fh_read(struct fs *fs, struct fs_fh *fh, char *dst, size_t len, uint64_t off);
/* The reader's queue (fh->nblk set): 0 or a negative errno. */
int fs_fh_queue(struct fs *fs, struct fs_fh *fh);
/* Wait for the reader's blocks, free them, destroy its queue. */
void fs_fh_drop_blocks(struct fs *fs, struct fs_fh *fh);

/* ---- fs_meta.c: caches and local state ---- */
void fs_cache_put(struct fs *fs, const char *name, bool dir, uint64_t size, time_t mtime);
bool fs_cache_get(struct fs *fs, const char *name, bool *dir, uint64_t *size, time_t *mtime);
void fs_cache_drop(struct fs *fs, const char *name);
void fs_cache_drop_all(struct fs *fs);
/* Everything fs_meta.c holds, at exit. */
void fs_meta_free(struct fs *fs);
bool fs_vdir_has(struct fs *fs, const char *name);
void fs_vdir_add(struct fs *fs, const char *name);
bool fs_vdir_del(struct fs *fs, const char *name);
/* Calls fn for each virtual directory directly below dir ("" for the root). */
void fs_vdir_children(struct fs *fs, const char *dir, void (*fn)(void *u, const char *base),
		      void *u);
/* Files open for writing: their staged size counts for stat. */
struct fs_wfile *fs_writer_get(struct fs *fs, const char *name, int sfd);
void fs_writer_put(struct fs *fs, struct fs_wfile *w);
bool fs_writer_size(struct fs *fs, const char *name, uint64_t *size);
void fs_writer_children(struct fs *fs, const char *dir, void (*fn)(void *u, const char *base),
			void *u);
time_t fs_parse_http_date(const char *s);

/* ---- fs_ops.c ---- */
struct fuse_operations;
extern const struct fuse_operations fs_ops;

#endif
