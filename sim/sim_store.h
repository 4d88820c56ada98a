/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Blob storage behind the sim's HTTP front: containers of named blobs. */
#ifndef SIM_STORE_H
#define SIM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uvmbus/common.h>

enum sim_container_op { SIM_CONTAINER_CREATE, SIM_CONTAINER_DELETE, SIM_CONTAINER_EXISTS };

/* Errors: -ENODEV no container, -ENOENT no blob (or no container for
 * container ops), -EEXIST container exists, -EINVAL bad name, -ENOSPC the
 * blob is larger than `cap` (*size says how large), -ENOMEM, -EIO. */
struct sim_store_ops {
	int (*open)(void **store, const char *arg, const struct uvmbus_log *log);
	void (*close)(void *store);
	int (*container)(void *store, const char *name, enum sim_container_op op);
	int (*put)(void *store, const char *c, const char *b, const uint8_t *data, size_t len);
	/* out may be NULL (size only). */
	int (*get)(void *store, const char *c, const char *b, uint8_t *out, size_t cap,
		   uint64_t *size);
	int (*del)(void *store, const char *c, const char *b);
};

extern const struct sim_store_ops sim_store_dir;

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

struct sim_mem {
	struct sim_mcontainer **cs;
	size_t n, cap;
	uint64_t bytes, max_bytes; /* block data held, and the cap */
	uint64_t etag_last;
};

struct sim_mem *sim_mem_new(uint64_t max_bytes);
void sim_mem_free(struct sim_mem *m);
struct sim_mcontainer *sim_mem_container(struct sim_mem *m, const char *name);
int sim_mem_container_create(struct sim_mem *m, const char *name); /* -EEXIST, -ENOMEM */
int sim_mem_container_delete(struct sim_mem *m, const char *name); /* -ENOENT */
/* The blob named so (committed or not), or NULL; *pos: where it is or would go. */
struct sim_mblob *sim_mem_blob(struct sim_mcontainer *c, const char *name, size_t *pos);
/* Replace the blob's content with data (uncommitted blocks dropped).
 * -ENOMEM (also: over the store's cap). */
int sim_mem_put_blob(struct sim_mem *m, struct sim_mcontainer *c, const char *name,
		     const uint8_t *data, size_t len, struct sim_mblob **out);
/* Stage a block. -EINVAL id length differs from the blob's other ids,
 * -E2BIG too many uncommitted blocks, -ENOMEM. */
int sim_mem_put_block(struct sim_mem *m, struct sim_mcontainer *c, const char *name, const char *id,
		      const uint8_t *data, size_t len);
/* Commit from a list ('L', 'C', 'U' + id). -EINVAL unknown id (or the
 * blob has no blocks at all and the list is not empty), -ENOMEM. */
struct sim_blockref;
int sim_mem_commit(struct sim_mem *m, struct sim_mcontainer *c, const char *name,
		   const struct sim_blockref *refs, size_t n, struct sim_mblob **out);
int sim_mem_blob_delete(struct sim_mem *m, struct sim_mcontainer *c, const char *name);
/* Copy [off, off+len) of the committed content (inside the blob). */
void sim_mem_read(const struct sim_mblob *b, uint64_t off, uint64_t len, uint8_t *out);

#endif
