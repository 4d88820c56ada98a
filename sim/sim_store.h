/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Blob storage behind the sim's HTTP front: containers of named blobs. */
#ifndef SIM_STORE_H
#define SIM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uvmbus/common.h>

/*
 * The memory store (sim_store_mem.c): containers sorted by name, each with
 * its blobs sorted by name. A blob's committed content is a list of
 * refcounted blocks (Put Blob makes one, with an empty id); its uncommitted
 * blocks wait for Put Block List. Every write gets a new ETag.
 */
#define SIM_BLOCKID_MAX	    88 /* base64 of 64 bytes */
#define SIM_MAX_UNCOMMITTED 100000
#define SIM_MAX_COMMITTED   50000
#define SIM_MEM_DEFAULT_MAX (1ull << 30)
#define SIM_ETAG_LEN	    24 /* "0x" + 15 or 16 hex digits, quoted, NUL */

struct sim_mblock {
	uint32_t refs;
	size_t len;
	uint8_t data[];
};

struct sim_mentry {
	char id[SIM_BLOCKID_MAX + 1];
	struct sim_mblock *blk;
	uint64_t off; /* committed: where the block starts in the blob */
};

struct sim_mblob {
	char *name;
	bool committed; /* false: only uncommitted blocks, invisible */
	uint64_t size;
	struct sim_mentry *blocks; /* committed */
	uint32_t nblocks;
	struct sim_mentry *unc;
	uint32_t nunc, unc_cap;
	size_t idlen; /* length of every block id of this blob (0: none yet) */
	char etag[SIM_ETAG_LEN];
	int64_t mtime, ctime;
	char md5[28];	 /* base64 Content-MD5 of the blob, or "" */
	char ctype[128]; /* Content-Type, "" = application/octet-stream */
};

struct sim_mcontainer {
	char *name;
	struct sim_mblob **blobs;
	size_t n, cap;
	char etag[SIM_ETAG_LEN];
	int64_t mtime;
};

/*
 * Persistence under the store (the dir backend, sim_store_dir.c). Each is
 * called before the store changes (container_create: after it is made in
 * memory, undone there on failure); a negative errno fails the operation
 * and leaves the store as it was, so the store never holds what the hooks
 * did not accept (the dir backend's hooks fail with -EIO: 500 InternalError). blob_write gets the
 * blob as it will be: its committed blocks, size, ETag, times and properties.
 */
struct sim_mem_hooks {
	bool (*blob_name_ok)(void *arg, const char *name);
	int (*container_create)(void *arg, const char *name);
	int (*container_delete)(void *arg, const char *name);
	int (*blob_write)(void *arg, const char *container, const struct sim_mblob *b);
	int (*blob_delete)(void *arg, const char *container, const char *name);
	void *arg;
};

struct sim_mem {
	struct sim_mcontainer **cs;
	size_t n, cap;
	uint64_t bytes, max_bytes; /* block data held, and the cap */
	uint64_t etag_last;
	const struct sim_mem_hooks *hooks; /* NULL: memory only */
};

/* A blob's properties given with a write: the base64 MD5 of the whole blob
 * and its Content-Type (NULL, empty or too long: none). */
struct sim_mprops {
	const char *md5, *ctype;
};

struct sim_mem *sim_mem_new(uint64_t max_bytes);
void sim_mem_free(struct sim_mem *m);
struct sim_mcontainer *sim_mem_container(struct sim_mem *m, const char *name);
/* -EEXIST, -ENOMEM, or the hook's error. */
int sim_mem_container_create(struct sim_mem *m, const char *name);
int sim_mem_container_delete(struct sim_mem *m, const char *name); /* -ENOENT, hook's */
/* The blob named so (committed or not), or NULL; *pos: where it is or would go. */
struct sim_mblob *sim_mem_blob(struct sim_mcontainer *c, const char *name, size_t *pos);
/* Replace the blob's content with data (uncommitted blocks dropped).
 * -ENOMEM (also: over the store's cap), or the hook's error. */
int sim_mem_put_blob(struct sim_mem *m, struct sim_mcontainer *c, const char *name,
		     const uint8_t *data, size_t len, const struct sim_mprops *p,
		     struct sim_mblob **out);
/* Stage a block. -EINVAL id length differs from the blob's other ids,
 * -E2BIG too many uncommitted blocks, -ENOMEM. */
int sim_mem_put_block(struct sim_mem *m, struct sim_mcontainer *c, const char *name, const char *id,
		      const uint8_t *data, size_t len);
/* Commit from a list ('L', 'C', 'U' + id). -EINVAL unknown id (or the
 * blob has no blocks at all and the list is not empty), -ENOMEM, -ENOSPC,
 * or the hook's error (never -EINVAL). */
struct sim_blockref;
int sim_mem_commit(struct sim_mem *m, struct sim_mcontainer *c, const char *name,
		   const struct sim_blockref *refs, size_t n, const struct sim_mprops *p,
		   struct sim_mblob **out);
/* -ENOENT, or the hook's error. */
int sim_mem_blob_delete(struct sim_mem *m, struct sim_mcontainer *c, const char *name);
/* FILETIME (100 ns since 1601) of an ETag this store made, 0 if not one. */
uint64_t sim_mem_etag_time(const char *etag);
/* The ETag of FILETIME ft into etag (bumps the store's last ETag, so later
 * writes get newer ones); for a store loaded from disk. */
void sim_mem_etag_set(struct sim_mem *m, uint64_t ft, char *etag);
/* Copy [off, off+len) of the committed content (inside the blob). */
void sim_mem_read(const struct sim_mblob *b, uint64_t off, uint64_t len, uint8_t *out);

#endif
