// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Blob helpers, uploads: Put Blob, or Put Block + Put Block List, over the
 * request engine (blob_engine.c).
 *
 * Integrity of uploads (docs/BLOB.md): each Put Blob / Put Block body
 * carries x-ms-content-crc64 (x->body_check: or Content-MD5, or nothing),
 * and x->blob_md5 sends the whole blob's MD5 as x-ms-blob-content-md5. The
 * source is read in pieces of AZBLOB_BLOB_READ_PIECE bytes and each piece
 * is checksummed right after it is read, while it is in the cache (the
 * reader is called in offset order, so the whole blob's MD5 is one pass
 * too).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "blob_engine.h"
#include "blob_internal.h"
#include "crc64.h"
#include "internal.h"

#define MAX_BLOCKS   50000u
#define BLOCK_ID_LEN 16 /* base64 of 12 bytes */

/* ---- upload ---- */

static void b64(char *out, const uint8_t *in, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		v |= i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0;
		v |= i + 2 < n ? in[i + 2] : 0;
		out[o++] = t[(v >> 18) & 63];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[o] = 0;
}

/* The base64 MD5 of len bytes. 0, or -ENOMEM when libcrypto fails. */
int az_blob_md5_b64(const void *data, size_t len, char out[MD5_B64_LEN + 1])
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (EVP_Digest(len ? data : "", len, d, &n, EVP_md5(), NULL) != 1 || n != 16) {
		out[0] = 0;
		return -ENOMEM;
	}
	b64(out, d, n);
	return 0;
}

bool az_blob_want_md5(const struct azblob_blob_xfer *x)
{
	return !x || !x->no_md5;
}

/* What an upload checksums as it reads. */
struct sums {
	enum azblob_blob_check check;
	EVP_MD_CTX *body;  /* the body's MD5 (AZBLOB_BLOB_CHECK_MD5) */
	EVP_MD_CTX *whole; /* the whole blob's MD5 (x->blob_md5) */
};

static int sums_init(struct sums *s, const struct azblob_blob_xfer *x)
{
	bool md5_ok = az_blob_want_md5(x);

	s->check = x ? x->body_check : AZBLOB_BLOB_CHECK_CRC64;
	if (s->check == AZBLOB_BLOB_CHECK_MD5 && !md5_ok)
		s->check = AZBLOB_BLOB_CHECK_NONE;
	if (s->check > AZBLOB_BLOB_CHECK_NONE)
		return -EINVAL;
	s->body = s->check == AZBLOB_BLOB_CHECK_MD5 ? EVP_MD_CTX_new() : NULL;
	s->whole = x && x->blob_md5 && md5_ok ? EVP_MD_CTX_new() : NULL;
	if ((s->check == AZBLOB_BLOB_CHECK_MD5 && !s->body) ||
	    (x && x->blob_md5 && md5_ok &&
	     (!s->whole || EVP_DigestInit_ex(s->whole, EVP_md5(), NULL) != 1)))
		return -ENOMEM;
	return 0;
}

static void sums_fini(struct sums *s)
{
	EVP_MD_CTX_free(s->body);
	EVP_MD_CTX_free(s->whole);
	s->body = s->whole = NULL;
}

/* "NAME: base64 MD5" of ctx (finished) into hdr. 0 or -ENOMEM. */
static int md5_hdr(EVP_MD_CTX *ctx, const char *name, char hdr[32 + MD5_B64_LEN])
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned dn = 0;

	if (EVP_DigestFinal_ex(ctx, d, &dn) != 1 || dn != 16)
		return -ENOMEM;
	b64(hdr + az_put_hdr(hdr, 32, name, ""), d, dn);
	return 0;
}

/* Read len bytes at off into buf, a piece at a time, each piece
 * checksummed while it is in the cache; hdr receives the body's header
 * ("" with AZBLOB_BLOB_CHECK_NONE). rd NULL: buf holds the bytes already
 * (registered memory, sent in place): checksummed only. 0, the reader's
 * error or -ENOMEM. */
static int read_summed(struct sums *s, azblob_blob_read_fn rd, void *user, uint8_t *buf, size_t len,
		       uint64_t off, char hdr[32 + MD5_B64_LEN])
{
	uint64_t crc = 0;
	int rc = 0;

	hdr[0] = 0;
	if (s->body && EVP_DigestInit_ex(s->body, EVP_md5(), NULL) != 1)
		return -ENOMEM;
	for (size_t done = 0; done < len && !rc;) {
		size_t n =
		    len - done < AZBLOB_BLOB_READ_PIECE ? len - done : AZBLOB_BLOB_READ_PIECE;

		rc = rd ? rd(user, buf + done, n, off + done) : 0;
		if (rc)
			break;
		if (s->check == AZBLOB_BLOB_CHECK_CRC64)
			crc = az_crc64(crc, buf + done, n);
		if ((s->body && EVP_DigestUpdate(s->body, buf + done, n) != 1) ||
		    (s->whole && EVP_DigestUpdate(s->whole, buf + done, n) != 1))
			rc = -ENOMEM;
		done += n;
	}
	if (rc)
		return rc;
	if (s->check == AZBLOB_BLOB_CHECK_CRC64) {
		strcpy(hdr, "x-ms-content-crc64: ");
		az_crc64_b64(crc, hdr + strlen(hdr));
		return 0;
	}
	return s->body ? md5_hdr(s->body, "Content-MD5", hdr) : 0;
}

/* Block ids: base64 of "azblk%07u" (12 bytes): 16 characters, all alike in
 * length (idx < MAX_BLOCKS: seven digits, written without snprintf). */
static void block_id(char out[BLOCK_ID_LEN + 1], uint32_t idx)
{
	char raw[12] = "azblk";

	for (int i = 11; i >= 5; i--, idx /= 10)
		raw[i] = (char)('0' + idx % 10);
	b64(out, (const uint8_t *)raw, 12);
}

/* What an upload's steps share. */
struct upload {
	const char *container, *blob;
	uint64_t size;
	azblob_blob_read_fn rd;
	void *user;
	uint8_t *mem; /* non-NULL: the blob's bytes, registered: sent in place */
	struct sums sm;
	char ctype[128], ctype_blob[140]; /* "" without x->content_type */
	/* Put Block's head, built for the first block and patched for the
	 * others (NULL: build each): its length, where the block id and the
	 * body's checksum value are, and that value's length (0: none). */
	struct block_head {
		uint32_t len, id_at, sum_at, sum_len;
		char head[HEAD_REQ];
	} * bh;
};

/* The value of a "Name: value" header h (after ": "). */
static const char *hdr_value(const char *h)
{
	const char *v = strchr(h, ':');

	return v ? v + 2 : h + strlen(h);
}

/* Keep op's head (of block id `id`, checksum header `sum`) as u's Put
 * Block template when both fields are found in it. */
static void block_head_keep(struct upload *u, const struct op *op, uint32_t len, const char *id,
			    const char *sum)
{
	const char *h = (const char *)op->req, *at = memmem(h, len, "&blockid=", 9);
	size_t sl = sum[0] ? strlen(hdr_value(sum)) : 0;

	if (!u->bh || !at || memcmp(at + 9, id, BLOCK_ID_LEN))
		return;
	u->bh->id_at = (uint32_t)(at + 9 - h);
	u->bh->sum_len = (uint32_t)sl;
	if (sl) {
		/* the header line as built: "\r\nName: value\r\n" */
		size_t nl = (size_t)(hdr_value(sum) - sum);
		const char *p = h;

		at = NULL;
		while ((p = memmem(p, len - (size_t)(p - h), sum, nl + sl))) {
			if (p > h + 1 && p[-1] == '\n' && p[nl + sl] == '\r')
				at = p;
			p++;
		}
		if (!at)
			return;
		u->bh->sum_at = (uint32_t)(at + nl - h);
	}
	memcpy(u->bh->head, h, len);
	u->bh->len = len;
}

/* One Put Blob: the whole blob in one body. */
static int put_blob(struct eng *e, struct upload *u)
{
	char sum[32 + MD5_B64_LEN], md5[32 + MD5_B64_LEN];
	const char *h[5] = {"x-ms-blob-type: BlockBlob"};
	struct azblob_blob_resp r;
	struct op *op = &e->ops[0];
	unsigned nh = 1;
	int rc;

	if (u->ctype[0])
		h[nh++] = u->ctype;
	op->ext = u->mem;
	rc = read_summed(&u->sm, u->mem ? NULL : u->rd, u->user, az_op_data(op), (size_t)u->size, 0,
			 sum);
	if (!rc && sum[0])
		h[nh++] = sum;
	if (!rc && u->sm.whole && !(rc = md5_hdr(u->sm.whole, "x-ms-blob-content-md5", md5)))
		h[nh++] = md5;
	sums_fini(&u->sm);
	if (!rc)
		rc = az_op_head(e, op, "PUT", u->container, u->blob, NULL, h);
	if (rc >= 0)
		rc = az_eng_one(e, op, (uint32_t)rc, (uint32_t)u->size, (uint32_t)u->size, &r);
	if (!rc)
		az_eng_progress(e, u->size);
	return rc;
}

/* Whether nblocks blocks of e->chunk bytes are allowed: 0 or -EFBIG. */
static int blocks_fit(struct eng *e, uint64_t size, uint64_t nblocks)
{
	if (nblocks > MAX_BLOCKS) {
		az_log(e->c, UVMBUS_LOG_ERR,
		       "azblob: blob: %" PRIu64 " bytes need %" PRIu64
		       " blocks of %u bytes (at most %u): use a larger chunk",
		       size, nblocks, e->chunk, MAX_BLOCKS);
		return -EFBIG;
	}
	/* The block list must fit one data buffer. */
	if (nblocks * (BLOCK_ID_LEN + 17) + 128 > e->chunk) {
		az_log(e->c, UVMBUS_LOG_ERR,
		       "azblob: blob: the block list of %" PRIu64
		       " blocks does not fit a %u-byte buffer",
		       nblocks, e->chunk);
		return -EFBIG;
	}
	return 0;
}

/* Put Block k (az_eng_run): the bytes at k * chunk. */
static int block_issue(struct eng *e, struct op *op, uint64_t k, void *arg)
{
	struct upload *u = arg;
	char id[BLOCK_ID_LEN + 1], q[96], sum[32 + MD5_B64_LEN];
	const char *h[] = {sum, NULL};
	uint64_t off = k * e->chunk;
	uint32_t len = (uint32_t)(u->size - off < e->chunk ? u->size - off : e->chunk);
	int rc;

	block_id(id, (uint32_t)k);
	op->ext = u->mem ? u->mem + off : NULL;
	rc = read_summed(&u->sm, u->mem ? NULL : u->rd, u->user, az_op_data(op), len, off, sum);
	if (!sum[0])
		h[0] = NULL;
	if (!rc && u->bh && u->bh->len && (sum[0] ? strlen(hdr_value(sum)) : 0) == u->bh->sum_len) {
		/* The template: the same head but for the id (16 characters
		 * that never need escaping: base64 of "azblk" and digits has
		 * no '+' or '/') and the checksum (fixed length per kind). */
		memcpy(op->req, u->bh->head, u->bh->len);
		memcpy(op->req + u->bh->id_at, id, BLOCK_ID_LEN);
		if (u->bh->sum_len)
			memcpy(op->req + u->bh->sum_at, hdr_value(sum), u->bh->sum_len);
		rc = (int)u->bh->len;
	} else if (!rc) {
		char enc[3 * BLOCK_ID_LEN + 1];

		static const char pre[] = "comp=block&blockid=";
		int k = azblob_blob_url_encode(enc, sizeof(enc), id, false);

		memcpy(q, pre, sizeof(pre) - 1);
		memcpy(q + sizeof(pre) - 1, enc, (size_t)k + 1);
		rc = az_op_head(e, op, "PUT", u->container, u->blob, q, h);
		if (rc > 0 && u->bh && !u->bh->len)
			block_head_keep(u, op, (uint32_t)rc, id, sum);
	}
	if (rc >= 0)
		rc = az_op_submit(e, op, (uint32_t)rc, len, len);
	if (rc)
		return rc;
	op->off = off;
	op->len = len;
	return 0;
}

/* Put Block List: commit blocks 0..nblocks-1. */
static int put_block_list(struct eng *e, struct upload *u, uint64_t nblocks)
{
	struct op *op = &e->ops[0];
	char *p = (char *)op->data;
	char md5[32 + MD5_B64_LEN];
	const char *h[4] = {"Content-Type: application/xml"};
	struct azblob_blob_resp r;
	unsigned nh = 1;
	size_t n;
	int rc;

	op->ext = NULL; /* the XML in the pool buffer */
	if (u->ctype_blob[0])
		h[nh++] = u->ctype_blob;
	if (u->sm.whole) {
		rc = md5_hdr(u->sm.whole, "x-ms-blob-content-md5", md5);
		sums_fini(&u->sm);
		if (rc) {
			az_log(e->c, UVMBUS_LOG_ERR, "azblob: blob: upload: MD5 failed");
			return rc;
		}
		h[nh++] = md5;
	}
	sums_fini(&u->sm);

	n = 0;
#define APPEND(lit) (memcpy(p + n, lit, sizeof(lit) - 1), n += sizeof(lit) - 1)
	APPEND("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
	for (uint64_t i = 0; i < nblocks; i++) {
		APPEND("<Latest>");
		block_id(p + n, (uint32_t)i);
		n += BLOCK_ID_LEN;
		APPEND("</Latest>");
	}
	APPEND("</BlockList>");
#undef APPEND
	rc = az_op_head(e, op, "PUT", u->container, u->blob, "comp=blocklist", h);
	if (rc >= 0)
		rc = az_eng_one(e, op, (uint32_t)rc, (uint32_t)n, (uint32_t)n, &r);
	return rc;
}

/* Put Block, pipelined over more ops (up to the queue depth), then Put
 * Block List. */
static int put_blocks(struct eng *e, struct upload *u, const struct azblob_blob_xfer *x,
		      struct azblob_blob_status *st)
{
	uint64_t nblocks = (u->size + e->chunk - 1) / e->chunk;
	int rc = blocks_fit(e, u->size, nblocks);

	if (rc)
		return az_eng_finish(e, rc);
	az_eng_fini(e);
	rc = az_eng_init(e, e->c, x, nblocks < 1024 ? (unsigned)nblocks : 1024, st);
	if (rc)
		return rc;
	if (!u->mem)
		az_eng_zero_data(e); /* a reader filling less than it says sends zeros */
	e->total_bytes = u->size;
	u->bh = calloc(1, sizeof(*u->bh)); /* none: each head built */
	rc = az_eng_run(e, nblocks, block_issue, NULL, u);
	free(u->bh);
	u->bh = NULL;
	if (rc) {
		az_log(e->c, UVMBUS_LOG_INFO,
		       "azblob: blob: upload of %s/%s failed; its uncommitted blocks are "
		       "dropped by the service later",
		       u->container, u->blob);
		return az_eng_finish(e, e->err);
	}
	return az_eng_finish(e, put_block_list(e, u, nblocks));
}

/* An upload from rd, or in place from mem (registered) when not NULL. */
static int upload(struct azblob_client *c, const char *container, const char *blob, uint64_t size,
		  azblob_blob_read_fn rd, void *user, const uint8_t *mem,
		  const struct azblob_blob_xfer *x, struct azblob_blob_status *st)
{
	/* mem is only read: the request sends it (data_valid == data_len). */
	struct upload u = {.container = container,
			   .blob = blob,
			   .size = size,
			   .rd = rd,
			   .user = user,
			   .mem = (uint8_t *)(uintptr_t)mem};
	struct eng e;
	int rc;

	if ((!rd && !mem) || !azblob_container_name_ok(container) || !azblob_blob_name_ok(blob)) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: blob: upload: bad container or blob name");
		if (st) {
			memset(st, 0, sizeof(*st));
			st->err = -EINVAL;
		}
		return -EINVAL;
	}
	if (x && x->content_type) {
		az_put_hdr(u.ctype, sizeof(u.ctype), "Content-Type", x->content_type);
		az_put_hdr(u.ctype_blob, sizeof(u.ctype_blob), "x-ms-blob-content-type",
			   x->content_type);
	}
	rc = az_eng_init(&e, c, x, 1, st);
	if (rc)
		return rc;
	if (!mem)
		az_eng_zero_data(&e); /* a reader filling less than it says sends zeros */
	e.total_bytes = size;
	rc = sums_init(&u.sm, x);
	if (rc) {
		sums_fini(&u.sm);
		az_log(c, UVMBUS_LOG_ERR, "azblob: blob: upload: %s",
		       rc == -EINVAL ? "bad body_check" : "cannot start an MD5");
		return az_eng_finish(&e, rc);
	}
	if (size <= e.chunk)
		return az_eng_finish(&e, put_blob(&e, &u));
	rc = put_blocks(&e, &u, x, st);
	sums_fini(&u.sm);
	return rc;
}

int azblob_blob_upload(struct azblob_client *c, const char *container, const char *blob,
		       uint64_t size, azblob_blob_read_fn rd, void *user,
		       const struct azblob_blob_xfer *x, struct azblob_blob_status *st)
{
	if (!rd) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: blob: upload: no reader");
		if (st) {
			memset(st, 0, sizeof(*st));
			st->err = -EINVAL;
		}
		return -EINVAL;
	}
	return upload(c, container, blob, size, rd, user, NULL, x, st);
}

struct mem_src {
	const uint8_t *p;
};

static int mem_read(void *user, void *buf, size_t len, uint64_t off)
{
	const struct mem_src *m = user;

	memcpy(buf, m->p + off, len);
	return 0;
}

int azblob_blob_put(struct azblob_client *c, const char *container, const char *blob,
		    const void *data, size_t len, const struct azblob_blob_xfer *x,
		    struct azblob_blob_status *st)
{
	struct mem_src m = {data};

	if (!data && len)
		return -EINVAL;
	if (az_eng_in_place(c, data, len, "put"))
		return upload(c, container, blob, len, NULL, NULL, data, x, st);
	return upload(c, container, blob, len, mem_read, &m, NULL, x, st);
}

/* The public CRC-64 (blob.h): common/crc64.c's, on the fastest path. */
uint64_t azblob_crc64(uint64_t crc, const void *data, size_t len)
{
	return az_crc64(crc, data, len);
}
