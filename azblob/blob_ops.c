// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Blob helpers, the operations: container create/delete, Put Blob, Put
 * Block + Put Block List, ranged parallel Get Blob, Get Blob Properties,
 * Delete Blob, List Blobs. Synchronous from the caller's view: a small
 * engine keeps up to queue_depth requests in flight on the client and
 * drives submit/flush/poll/wait until the operation is done.
 *
 * Each request of the engine ("op") owns one pool buffer laid out as
 * [data: chunk bytes | request head: 8 KiB | response head: 8 KiB], the
 * order the VSP wants its buffers in.
 *
 * Integrity of uploads (docs/BLOB.md): each Put Blob / Put Block body
 * carries x-ms-content-crc64 (x->body_check: or Content-MD5, or nothing),
 * and x->blob_md5 sends the whole blob's MD5 as x-ms-blob-content-md5. The
 * source is read in pieces of AZBLOB_BLOB_READ_PIECE bytes and each piece
 * is checksummed right after it is read, while it is in the cache (the
 * reader is called in offset order, so the whole blob's MD5 is one pass
 * too). A whole blob read with one Get is checked against the Content-MD5
 * the service returns (unless x->no_md5).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <azblob.h>
#include <azblob/blob.h>

#include "blob_internal.h"
#include "crc64.h"
#include "internal.h"

#define HEAD_REQ     8192u
#define HEAD_RESP    8192u
#define HEADS	     (HEAD_REQ + HEAD_RESP)
#define MAX_CHUNK    (32u << 20)
#define MAX_BLOCKS   50000u
#define BLOCK_ID_LEN 16 /* base64 of 12 bytes */

struct eng;

struct op {
	struct eng *e;
	uint8_t *buf, *data, *req, *resp;
	bool busy, completed;
	int err;
	uint32_t vsp, resp_len;
	uint64_t off;
	uint32_t len;
};

struct eng {
	struct azblob_client *c;
	struct op *ops;
	unsigned nops, busy;
	uint32_t chunk;
	uint32_t timeout_ms;
	int err; /* the first error */
	struct azblob_blob_status *st;
	struct azblob_blob_status own_st;
	uint64_t done_bytes, total_bytes;
	const struct azblob_blob_xfer *x;
};

static void op_done(void *user, int err, uint32_t vsp_status, uint32_t response_len)
{
	struct op *op = user;

	op->err = err;
	op->vsp = vsp_status;
	op->resp_len = response_len;
	op->busy = false;
	op->completed = true;
	op->e->busy--;
}

static void eng_fini(struct eng *e)
{
	for (unsigned i = 0; e->ops && i < e->nops; i++)
		azblob_free(e->c, e->ops[i].buf);
	free(e->ops);
	e->ops = NULL;
}

/* The largest chunk a pool buffer and the channel allow. */
static uint32_t max_chunk(const struct azblob_client *c)
{
	uint64_t m = c->opts.pool_buf_size > HEADS ? c->opts.pool_buf_size - HEADS : 0;
	uint64_t pages = c->max_pages > 8 ? (uint64_t)c->max_pages - 8 : 0;

	if (m > pages * 4096)
		m = pages * 4096;
	if (m > MAX_CHUNK)
		m = MAX_CHUNK;
	if (m >= 65536)
		m &= ~(uint64_t)4095;
	return (uint32_t)m;
}

static int eng_init(struct eng *e, struct azblob_client *c, const struct azblob_blob_xfer *x,
		    unsigned want, struct azblob_blob_status *st)
{
	uint32_t maxc = max_chunk(c);
	unsigned qd = x && x->queue_depth ? x->queue_depth : c->qd;

	memset(e, 0, sizeof(*e));
	e->c = c;
	e->x = x;
	e->st = st ? st : &e->own_st;
	memset(e->st, 0, sizeof(*e->st));
	e->timeout_ms = x ? x->timeout_ms : 0;
	if (maxc < 4096) {
		az_log(c, UVMBUS_LOG_ERR,
		       "azblob: blob: pool_buf_size %u is too small (at least %u: 16 KiB of heads "
		       "and 4 KiB of data)",
		       c->opts.pool_buf_size, HEADS + 4096);
		return e->st->err = -EINVAL;
	}
	e->chunk = x && x->chunk_size ? x->chunk_size : maxc;
	if (e->chunk > maxc) {
		az_log(c, UVMBUS_LOG_ERR,
		       "azblob: blob: chunk_size %u is larger than a pool buffer allows (%u)",
		       e->chunk, maxc);
		return e->st->err = -EINVAL;
	}
	if (e->timeout_ms > AZBLOB_MAX_TIMEOUT_MS) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: blob: timeout_ms above AZBLOB_MAX_TIMEOUT_MS");
		return e->st->err = -EINVAL;
	}
	if (qd > c->qd)
		qd = c->qd;
	if (want > qd)
		want = qd;
	if (!want)
		want = 1;
	e->ops = calloc(want, sizeof(*e->ops));
	if (!e->ops)
		return e->st->err = -ENOMEM;
	for (unsigned i = 0; i < want; i++) {
		struct op *op = &e->ops[i];

		op->buf = azblob_alloc(c, c->opts.pool_buf_size);
		if (!op->buf)
			break;
		op->e = e;
		op->data = op->buf;
		op->req = op->buf + c->opts.pool_buf_size - HEADS;
		op->resp = op->req + HEAD_REQ;
		e->nops++;
	}
	if (!e->nops) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: blob: no free pool buffer");
		eng_fini(e);
		return e->st->err = -ENOMEM;
	}
	return 0;
}

static struct op *eng_free_op(struct eng *e)
{
	for (unsigned i = 0; i < e->nops; i++)
		if (!e->ops[i].busy && !e->ops[i].completed)
			return &e->ops[i];
	return NULL;
}

static void eng_fail(struct eng *e, int err)
{
	if (!e->err) {
		e->err = err;
		e->st->err = err;
	}
}

/* Wait until at least one op completed (or none is busy). */
static int eng_reap(struct eng *e)
{
	unsigned spins = 0;
	int rc;

	rc = azblob_flush(e->c);
	if (rc < 0)
		return rc;
	for (;;) {
		for (unsigned i = 0; i < e->nops; i++)
			if (e->ops[i].completed)
				return 0;
		if (!e->busy)
			return 0;
		rc = azblob_poll(e->c, 0);
		if (rc < 0) {
			/* Our requests have had their callbacks (ENODEV / EIO). */
			if (!e->busy)
				continue;
			return rc;
		}
		if (rc == 0 && ++spins > 256) {
			rc = azblob_wait(e->c, 1);
			if (rc < 0 && rc != -EINTR && rc != -ENODEV)
				return rc;
		}
	}
}

static int op_submit(struct eng *e, struct op *op, uint32_t req_len, uint32_t data_valid,
		     uint32_t data_len)
{
	struct azblob_request r = {
	    .request = op->req,
	    .request_len = req_len,
	    .response = op->resp,
	    .response_len = HEAD_RESP,
	    .data = data_len ? op->data : NULL,
	    .data_len = data_len,
	    .data_valid = data_valid,
	    .timeout_ms = e->timeout_ms,
	    .done = op_done,
	    .user = op,
	};
	int rc;

	uint32_t t = e->timeout_ms ? e->timeout_ms : e->c->opts.default_timeout_ms;

	/* The buffer served earlier requests: what the host does not write
	 * (it may claim bytes it never wrote) must read as zeros, never as
	 * another request's head or another blob's bytes. */
	memset(op->resp, 0, HEAD_RESP);
	if (data_len > data_valid)
		memset(op->data + data_valid, 0, data_len - data_valid);
	op->completed = false;
	op->busy = true;
	e->busy++;
	/* A queue full of unanswered requests: wait no longer than the
	 * request's own timeout for a slot. */
	rc = az_submit_until(e->c, &r, az_now(e->c) + (uint64_t)t * 1000000u);
	if (rc) {
		op->busy = false;
		e->busy--;
	}
	return rc;
}

/* The outcome of a completed op: 0 for a 2xx answer (r parsed). */
static int op_result(struct eng *e, struct op *op, struct azblob_blob_resp *r)
{
	struct azblob_blob_status *st = e->st;
	int rc;

	op->completed = false;
	memset(r, 0, sizeof(*r));
	if (op->err)
		return op->err;
	if (op->vsp) {
		if (!e->err)
			st->vsp_status = op->vsp;
		return op->vsp == 0xC0000023u ? -EMSGSIZE : -EIO;
	}
	rc = azblob_blob_parse_response(op->resp,
					op->resp_len < HEAD_RESP ? op->resp_len : HEAD_RESP, r);
	if (rc) {
		az_log(e->c, UVMBUS_LOG_WARN, "azblob: blob: malformed response head (%u bytes)",
		       op->resp_len);
		return rc;
	}
	rc = azblob_blob_http_errno(r->http_status);
	if (rc && !e->err) {
		size_t body = op->resp_len > r->head_len ? op->resp_len - r->head_len : 0;

		st->http_status = r->http_status;
		snprintf(st->error_code, sizeof(st->error_code), "%s", r->error_code);
		snprintf(st->request_id, sizeof(st->request_id), "%s", r->request_id);
		st->message[0] = 0;
		if (body) {
			char code[64] = "";

			if (!az_blob_parse_error(op->resp + r->head_len, body, code, sizeof(code),
						 st->message, sizeof(st->message)) &&
			    !st->error_code[0])
				snprintf(st->error_code, sizeof(st->error_code), "%s", code);
		}
	}
	if (rc == 0 && !e->err)
		st->http_status = r->http_status;
	return rc;
}

/* Build a head into op->req. */
static int op_head(struct eng *e, struct op *op, const char *method, const char *container,
		   const char *blob, const char *query, const char *const *headers)
{
	int n = azblob_blob_build_request((char *)op->req, HEAD_REQ, method, container, blob, query,
					  headers);

	if (n < 0)
		az_log(e->c, UVMBUS_LOG_ERR, "azblob: blob: cannot build %s /%s%s%s: %s", method,
		       container ? container : "(null)", blob ? "/" : "", blob ? blob : "",
		       n == -ENOSPC ? "head too long" : "bad container or blob name");
	return n;
}

/* One request, waited for. */
static int one(struct eng *e, struct op *op, uint32_t req_len, uint32_t data_valid,
	       uint32_t data_len, struct azblob_blob_resp *r)
{
	int rc = op_submit(e, op, req_len, data_valid, data_len);

	if (!rc)
		while (op->busy && !(rc = eng_reap(e)))
			;
	if (rc) {
		/* The client failed under us; the op's callback has run when
		 * busy is false. */
		eng_fail(e, rc);
		return rc;
	}
	rc = op_result(e, op, r);
	if (rc)
		eng_fail(e, rc);
	return rc;
}

static int finish(struct eng *e, int rc)
{
	/* Never leave with our requests in flight: their callbacks point here. */
	while (e->busy) {
		int r = eng_reap(e);

		for (unsigned i = 0; i < e->nops; i++)
			e->ops[i].completed = false;
		if (r < 0 && e->busy) {
			/* A failing client answers everything in flight; should any
			 * of ours be left, answer them now (their buffers stay held)
			 * so that no callback can reach e->ops once freed. */
			az_log(e->c, UVMBUS_LOG_WARN,
			       "azblob: blob: %u request(s) left in flight after %s: cancelled",
			       e->busy, strerror(-r));
			az_cancel_user(e->c, op_done, e->ops, e->ops + e->nops);
		}
	}
	if (rc && !e->err)
		eng_fail(e, rc);
	eng_fini(e);
	return e->err ? e->err : rc;
}

static void progress(struct eng *e, uint64_t n)
{
	e->done_bytes += n;
	if (e->x && e->x->progress)
		e->x->progress(e->x->progress_user, e->done_bytes, e->total_bytes);
}

/* ---- containers ---- */

static int container_op(struct azblob_client *c, const char *container, const char *method,
			struct azblob_blob_status *st)
{
	struct azblob_blob_resp r;
	struct eng e;
	int rc = eng_init(&e, c, NULL, 1, st);

	if (rc)
		return rc;
	rc = op_head(&e, &e.ops[0], method, container, NULL, "restype=container", NULL);
	if (rc >= 0)
		rc = one(&e, &e.ops[0], (uint32_t)rc, 0, 0, &r);
	return finish(&e, rc);
}

int azblob_container_create(struct azblob_client *c, const char *container,
			    struct azblob_blob_status *st)
{
	return container_op(c, container, "PUT", st);
}

int azblob_container_delete(struct azblob_client *c, const char *container,
			    struct azblob_blob_status *st)
{
	return container_op(c, container, "DELETE", st);
}

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

#define MD5_B64_LEN 24 /* base64 of 16 bytes */

/* The base64 MD5 of len bytes. 0, or -ENOMEM when libcrypto fails. */
static int md5_b64(const void *data, size_t len, char out[MD5_B64_LEN + 1])
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

static bool want_md5(const struct azblob_blob_xfer *x)
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
	bool md5_ok = want_md5(x);

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
	b64(hdr + sprintf(hdr, "%s: ", name), d, dn);
	return 0;
}

/* Read len bytes at off into buf, a piece at a time, each piece
 * checksummed while it is in the cache; hdr receives the body's header
 * ("" with AZBLOB_BLOB_CHECK_NONE). 0, the reader's error or -ENOMEM. */
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

		rc = rd(user, buf + done, n, off + done);
		if (rc)
			break;
		if (s->check == AZBLOB_BLOB_CHECK_CRC64)
			crc = azblob_crc64(crc, buf + done, n);
		if ((s->body && EVP_DigestUpdate(s->body, buf + done, n) != 1) ||
		    (s->whole && EVP_DigestUpdate(s->whole, buf + done, n) != 1))
			rc = -ENOMEM;
		done += n;
	}
	if (rc)
		return rc;
	if (s->check == AZBLOB_BLOB_CHECK_CRC64) {
		strcpy(hdr, "x-ms-content-crc64: ");
		azblob_crc64_b64(crc, hdr + strlen(hdr));
		return 0;
	}
	return s->body ? md5_hdr(s->body, "Content-MD5", hdr) : 0;
}

/* Block ids: base64 of "azblk%07u" (12 bytes): 16 characters, all alike in length. */
static void block_id(char out[BLOCK_ID_LEN + 1], uint32_t idx)
{
	char raw[16];

	snprintf(raw, sizeof(raw), "azblk%07" PRIu32, idx);
	b64(out, (const uint8_t *)raw, 12);
}

int azblob_blob_upload(struct azblob_client *c, const char *container, const char *blob,
		       uint64_t size, azblob_blob_read_fn rd, void *user,
		       const struct azblob_blob_xfer *x, struct azblob_blob_status *st)
{
	char ctype[128] = "", ctype_blob[140] = "";
	struct azblob_blob_resp r;
	uint64_t nblocks, next = 0;
	struct sums sm = {0};
	struct eng e;
	int rc;

	if (!rd || !azblob_container_name_ok(container) || !azblob_blob_name_ok(blob)) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: blob: upload: bad container or blob name");
		if (st) {
			memset(st, 0, sizeof(*st));
			st->err = -EINVAL;
		}
		return -EINVAL;
	}
	if (x && x->content_type) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", x->content_type);
		snprintf(ctype_blob, sizeof(ctype_blob), "x-ms-blob-content-type: %s",
			 x->content_type);
	}
	rc = eng_init(&e, c, x, 1, st);
	if (rc)
		return rc;
	e.total_bytes = size;
	rc = sums_init(&sm, x);
	if (rc) {
		sums_fini(&sm);
		az_log(c, UVMBUS_LOG_ERR, "azblob: blob: upload: %s",
		       rc == -EINVAL ? "bad body_check" : "cannot start an MD5");
		return finish(&e, rc);
	}
	if (size <= e.chunk) {
		/* One Put Blob. */
		char sum[32 + MD5_B64_LEN], md5[32 + MD5_B64_LEN];
		const char *h[5] = {"x-ms-blob-type: BlockBlob"};
		unsigned nh = 1;
		struct op *op = &e.ops[0];

		if (ctype[0])
			h[nh++] = ctype;
		rc = read_summed(&sm, rd, user, op->data, (size_t)size, 0, sum);
		if (!rc && sum[0])
			h[nh++] = sum;
		if (!rc && sm.whole && !(rc = md5_hdr(sm.whole, "x-ms-blob-content-md5", md5)))
			h[nh++] = md5;
		sums_fini(&sm);
		if (!rc)
			rc = op_head(&e, op, "PUT", container, blob, NULL, h);
		if (rc >= 0)
			rc = one(&e, op, (uint32_t)rc, (uint32_t)size, (uint32_t)size, &r);
		if (!rc)
			progress(&e, size);
		return finish(&e, rc);
	}
	nblocks = (size + e.chunk - 1) / e.chunk;
	if (nblocks > MAX_BLOCKS) {
		az_log(c, UVMBUS_LOG_ERR,
		       "azblob: blob: %" PRIu64 " bytes need %" PRIu64
		       " blocks of %u bytes (at most %u): use a larger chunk",
		       size, nblocks, e.chunk, MAX_BLOCKS);
		sums_fini(&sm);
		return finish(&e, -EFBIG);
	}
	/* The block list must fit one data buffer. */
	if (nblocks * (BLOCK_ID_LEN + 17) + 128 > e.chunk) {
		az_log(c, UVMBUS_LOG_ERR,
		       "azblob: blob: the block list of %" PRIu64
		       " blocks does not fit a %u-byte buffer",
		       nblocks, e.chunk);
		sums_fini(&sm);
		return finish(&e, -EFBIG);
	}
	/* More ops, up to the queue depth. */
	{
		const struct azblob_blob_xfer *xx = x;
		unsigned want = nblocks < 1024 ? (unsigned)nblocks : 1024;

		eng_fini(&e);
		rc = eng_init(&e, c, xx, want, st);
		if (rc) {
			sums_fini(&sm);
			return rc;
		}
		e.total_bytes = size;
	}
	/* Put Block, pipelined. */
	while ((next < nblocks && !e.err) || e.busy) {
		struct op *op;

		while (next < nblocks && !e.err && (op = eng_free_op(&e))) {
			char id[BLOCK_ID_LEN + 1], q[96], sum[32 + MD5_B64_LEN];
			const char *h[] = {sum, NULL};
			uint64_t off = next * e.chunk;
			uint32_t len = (uint32_t)(size - off < e.chunk ? size - off : e.chunk);

			block_id(id, (uint32_t)next);
			rc = read_summed(&sm, rd, user, op->data, len, off, sum);
			if (!sum[0])
				h[0] = NULL;
			if (!rc) {
				char enc[3 * BLOCK_ID_LEN + 1];

				azblob_blob_url_encode(enc, sizeof(enc), id, false);
				snprintf(q, sizeof(q), "comp=block&blockid=%s", enc);
				rc = op_head(&e, op, "PUT", container, blob, q, h);
			}
			if (rc >= 0)
				rc = op_submit(&e, op, (uint32_t)rc, len, len);
			if (rc) {
				eng_fail(&e, rc);
				break;
			}
			op->off = off;
			op->len = len;
			next++;
		}
		rc = eng_reap(&e);
		if (rc) {
			eng_fail(&e, rc);
			if (e.busy)
				break;
		}
		for (unsigned i = 0; i < e.nops; i++) {
			struct op *op2 = &e.ops[i];

			if (!op2->completed)
				continue;
			rc = op_result(&e, op2, &r);
			if (rc)
				eng_fail(&e, rc);
			else
				progress(&e, op2->len);
		}
	}
	if (e.err) {
		az_log(c, UVMBUS_LOG_INFO,
		       "azblob: blob: upload of %s/%s failed; its uncommitted blocks are "
		       "dropped by the service later",
		       container, blob);
		sums_fini(&sm);
		return finish(&e, e.err);
	}
	/* Put Block List. */
	{
		struct op *op = &e.ops[0];
		char *p = (char *)op->data;
		char md5[32 + MD5_B64_LEN];
		const char *h[4] = {"Content-Type: application/xml"};
		unsigned nh = 1;
		size_t n;

		if (ctype_blob[0])
			h[nh++] = ctype_blob;
		if (sm.whole) {
			rc = md5_hdr(sm.whole, "x-ms-blob-content-md5", md5);
			sums_fini(&sm);
			if (rc) {
				az_log(c, UVMBUS_LOG_ERR, "azblob: blob: upload: MD5 failed");
				return finish(&e, rc);
			}
			h[nh++] = md5;
		}
		sums_fini(&sm);

		n = (size_t)sprintf(p, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
		for (uint64_t i = 0; i < nblocks; i++) {
			char id[BLOCK_ID_LEN + 1];

			block_id(id, (uint32_t)i);
			n += (size_t)sprintf(p + n, "<Latest>%s</Latest>", id);
		}
		n += (size_t)sprintf(p + n, "</BlockList>");
		rc = op_head(&e, op, "PUT", container, blob, "comp=blocklist", h);
		if (rc >= 0)
			rc = one(&e, op, (uint32_t)rc, (uint32_t)n, (uint32_t)n, &r);
	}
	return finish(&e, rc);
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
	return azblob_blob_upload(c, container, blob, len, mem_read, &m, x, st);
}

/* ---- properties, delete ---- */

static void props_from(struct azblob_blob_props *p, const struct azblob_blob_resp *r)
{
	memset(p, 0, sizeof(*p));
	p->size = r->content_length > 0 ? (uint64_t)r->content_length : 0;
	snprintf(p->etag, sizeof(p->etag), "%s", r->etag);
	snprintf(p->last_modified, sizeof(p->last_modified), "%s", r->last_modified);
	snprintf(p->content_type, sizeof(p->content_type), "%s", r->content_type);
	snprintf(p->content_md5, sizeof(p->content_md5), "%s", r->content_md5);
	snprintf(p->blob_type, sizeof(p->blob_type), "%s", r->blob_type);
}

static int head_in(struct eng *e, const char *container, const char *blob,
		   struct azblob_blob_props *p)
{
	struct azblob_blob_resp r;
	int rc = op_head(e, &e->ops[0], "HEAD", container, blob, NULL, NULL);

	if (rc >= 0)
		rc = one(e, &e->ops[0], (uint32_t)rc, 0, 0, &r);
	if (rc)
		return rc;
	if (r.content_length < 0) {
		az_log(e->c, UVMBUS_LOG_WARN, "azblob: blob: HEAD answer without Content-Length");
		eng_fail(e, -EPROTO);
		return -EPROTO;
	}
	props_from(p, &r);
	return 0;
}

int azblob_blob_get_properties(struct azblob_client *c, const char *container, const char *blob,
			       struct azblob_blob_props *p, struct azblob_blob_status *st)
{
	struct azblob_blob_props tmp;
	struct eng e;
	int rc = eng_init(&e, c, NULL, 1, st);

	if (rc)
		return rc;
	rc = head_in(&e, container, blob, p ? p : &tmp);
	return finish(&e, rc);
}

int azblob_blob_delete(struct azblob_client *c, const char *container, const char *blob,
		       struct azblob_blob_status *st)
{
	struct azblob_blob_resp r;
	struct eng e;
	int rc = eng_init(&e, c, NULL, 1, st);

	if (rc)
		return rc;
	rc = op_head(&e, &e.ops[0], "DELETE", container, blob, NULL, NULL);
	if (rc >= 0)
		rc = one(&e, &e.ops[0], (uint32_t)rc, 0, 0, &r);
	return finish(&e, rc);
}

/* ---- download ---- */

/* Check a Get's answer: want bytes at off (ranged: a 206 with that range). */
static int check_get(struct eng *e, const struct azblob_blob_resp *r, bool ranged, uint64_t off,
		     uint32_t want, uint64_t size)
{
	if (r->content_length != (int64_t)want) {
		az_log(e->c, UVMBUS_LOG_WARN,
		       "azblob: blob: Get answered %" PRId64 " bytes, expected %u",
		       r->content_length, want);
		return -EPROTO;
	}
	if (ranged && (r->http_status != 206 || !r->has_range || r->range_first != off ||
		       r->range_last != off + want - 1 ||
		       (r->range_total != UINT64_MAX && r->range_total != size))) {
		az_log(e->c, UVMBUS_LOG_WARN,
		       "azblob: blob: ranged Get: unexpected answer %d (Content-Range %s)",
		       r->http_status, r->has_range ? "not the range asked" : "missing");
		return -EPROTO;
	}
	return 0;
}

int azblob_blob_download(struct azblob_client *c, const char *container, const char *blob,
			 uint64_t off, uint64_t len, azblob_blob_write_fn wr, void *user,
			 const struct azblob_blob_xfer *x, struct azblob_blob_props *props,
			 struct azblob_blob_status *st)
{
	struct azblob_blob_props p;
	struct azblob_blob_resp r;
	char ifmatch[100] = "";
	uint64_t end, next, total, nchunks;
	struct eng e;
	int rc;

	if (!wr)
		return -EINVAL;
	rc = eng_init(&e, c, x, 1, st);
	if (rc)
		return rc;
	rc = head_in(&e, container, blob, &p);
	if (rc)
		return finish(&e, rc);
	if (props)
		*props = p;
	if (off > p.size) {
		e.st->http_status = 0;
		return finish(&e, -ERANGE);
	}
	end = len == UINT64_MAX || len > p.size - off ? p.size : off + len;
	total = end - off;
	e.total_bytes = total;
	if (!total)
		return finish(&e, 0);
	if (p.etag[0])
		snprintf(ifmatch, sizeof(ifmatch), "If-Match: %s", p.etag);
	if (off == 0 && end == p.size && total <= e.chunk) {
		/* One plain Get. */
		const char *h[] = {ifmatch[0] ? ifmatch : NULL, NULL};
		struct op *op = &e.ops[0];

		rc = op_head(&e, op, "GET", container, blob, NULL, h);
		if (rc >= 0)
			rc = one(&e, op, (uint32_t)rc, 0, e.chunk, &r);
		if (!rc)
			rc = check_get(&e, &r, false, 0, (uint32_t)total, p.size);
		if (!rc && want_md5(x) && r.content_md5[0]) {
			char md5[MD5_B64_LEN + 1];

			rc = md5_b64(op->data, (size_t)total, md5);
			if (!rc && strcmp(md5, r.content_md5)) {
				az_log(
				    c, UVMBUS_LOG_WARN,
				    "azblob: blob: %s/%s: Content-MD5 %s, the bytes read have %s",
				    container, blob, r.content_md5, md5);
				rc = -EBADMSG;
			}
		}
		if (!rc)
			rc = wr(user, op->data, (size_t)total, 0);
		if (!rc)
			progress(&e, total);
		return finish(&e, rc);
	}
	nchunks = (total + e.chunk - 1) / e.chunk;
	eng_fini(&e);
	rc = eng_init(&e, c, x, nchunks < 1024 ? (unsigned)nchunks : 1024, st);
	if (rc)
		return rc;
	e.total_bytes = total;
	next = off;
	while ((next < end && !e.err) || e.busy) {
		struct op *op;

		while (next < end && !e.err && (op = eng_free_op(&e))) {
			uint32_t n = (uint32_t)(end - next < e.chunk ? end - next : e.chunk);
			char range[64];
			const char *h[] = {range, ifmatch[0] ? ifmatch : NULL, NULL};

			snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-%" PRIu64, next,
				 next + n - 1);
			rc = op_head(&e, op, "GET", container, blob, NULL, h);
			if (rc >= 0)
				rc = op_submit(&e, op, (uint32_t)rc, 0, n);
			if (rc) {
				eng_fail(&e, rc);
				break;
			}
			op->off = next;
			op->len = n;
			next += n;
		}
		rc = eng_reap(&e);
		if (rc) {
			eng_fail(&e, rc);
			if (e.busy)
				break;
		}
		for (unsigned i = 0; i < e.nops; i++) {
			struct op *op2 = &e.ops[i];

			if (!op2->completed)
				continue;
			rc = op_result(&e, op2, &r);
			if (!rc)
				rc = check_get(&e, &r, true, op2->off, op2->len, p.size);
			if (!rc && !e.err)
				rc = wr(user, op2->data, op2->len, op2->off - off);
			if (rc)
				eng_fail(&e, rc);
			else
				progress(&e, op2->len);
		}
	}
	return finish(&e, e.err);
}

struct mem_dst {
	uint8_t *p;
	size_t cap, got;
};

static int mem_write(void *user, const void *buf, size_t len, uint64_t off)
{
	struct mem_dst *m = user;

	if (off + len > m->cap)
		return -EOVERFLOW;
	memcpy(m->p + off, buf, len);
	if (off + len > m->got)
		m->got = off + len;
	return 0;
}

int azblob_blob_get(struct azblob_client *c, const char *container, const char *blob, uint64_t off,
		    void *buf, size_t cap, size_t *got, const struct azblob_blob_xfer *x,
		    struct azblob_blob_status *st)
{
	struct mem_dst m = {buf, cap, 0};
	int rc;

	if (!buf && cap)
		return -EINVAL;
	rc = azblob_blob_download(c, container, blob, off, cap, mem_write, &m, x, NULL, st);
	if (got)
		*got = rc ? 0 : m.got;
	return rc;
}

/* ---- list ---- */

static int append_param(char *q, size_t cap, const char *name, const char *v)
{
	size_t n = strlen(q);
	int k;

	if (!v)
		return 0;
	k = snprintf(q + n, cap - n, "&%s=", name);
	if (k < 0 || (size_t)k >= cap - n)
		return -ENOSPC;
	n += (size_t)k;
	return azblob_blob_url_encode(q + n, cap - n, v, false) < 0 ? -ENOSPC : 0;
}

int azblob_blob_list(struct azblob_client *c, const char *container,
		     const struct azblob_blob_list_opts *lo, azblob_blob_list_fn cb, void *user,
		     struct azblob_blob_status *st)
{
	static const struct azblob_blob_list_opts none;
	char marker[1100] = "", asked[sizeof(marker)], q[4096];
	struct azblob_blob_resp r;
	uint32_t maxr, pages = 0;
	struct eng e;
	int rc;

	if (!lo)
		lo = &none;
	rc = eng_init(&e, c, NULL, 1, st);
	if (rc)
		return rc;
	/* An entry of Azurite's or Azure's answer is about 1 KiB. */
	maxr = lo->max_results ? lo->max_results : e.chunk / 1536;
	if (maxr < 1)
		maxr = 1;
	if (maxr > 5000)
		maxr = 5000;
	if (lo->marker)
		snprintf(marker, sizeof(marker), "%s", lo->marker);
	for (;;) {
		struct op *op = &e.ops[0];
		char mr[16];

		snprintf(mr, sizeof(mr), "%" PRIu32, maxr);
		snprintf(q, sizeof(q), "restype=container&comp=list");
		rc = append_param(q, sizeof(q), "prefix", lo->prefix);
		if (!rc)
			rc = append_param(q, sizeof(q), "delimiter", lo->delimiter);
		if (!rc && marker[0])
			rc = append_param(q, sizeof(q), "marker", marker);
		if (!rc)
			rc = append_param(q, sizeof(q), "maxresults", mr);
		if (rc) {
			az_log(c, UVMBUS_LOG_ERR, "azblob: blob: list: prefix or marker too long");
			return finish(&e, -EINVAL);
		}
		rc = op_head(&e, op, "GET", container, NULL, q, NULL);
		if (rc < 0)
			return finish(&e, rc);
		rc = op_submit(&e, op, (uint32_t)rc, 0, e.chunk);
		while (!rc && op->busy)
			rc = eng_reap(&e);
		if (rc)
			return finish(&e, rc);
		rc = op_result(&e, op, &r);
		if (rc == -EMSGSIZE && maxr > 1) {
			/* The page did not fit: ask for fewer. */
			e.st->vsp_status = 0;
			maxr /= 2;
			continue;
		}
		if (rc)
			return finish(&e, rc);
		if (r.content_length < 0 || (uint64_t)r.content_length > e.chunk) {
			az_log(c, UVMBUS_LOG_WARN, "azblob: blob: list: bad Content-Length");
			return finish(&e, -EPROTO);
		}
		memcpy(asked, marker, sizeof(marker));
		rc = azblob_blob_parse_list(op->data, (size_t)r.content_length, cb, user, marker,
					    sizeof(marker));
		if (rc == -EBADMSG)
			az_log(c, UVMBUS_LOG_WARN,
			       "azblob: blob: list: the EnumerationResults XML is malformed");
		else if (rc == -EPROTO)
			az_log(c, UVMBUS_LOG_WARN,
			       "azblob: blob: list: a blob's Content-Length is not a size");
		if (rc)
			return finish(&e, rc);
		if (lo->next_marker && lo->next_marker_cap)
			snprintf(lo->next_marker, lo->next_marker_cap, "%s", marker);
		if (!marker[0] || lo->one_page)
			break;
		if (!strcmp(marker, asked)) {
			az_log(c, UVMBUS_LOG_WARN,
			       "azblob: blob: list: the host's NextMarker does not advance (the "
			       "page asked with it gave it again)");
			return finish(&e, -EPROTO);
		}
		if (++pages == AZBLOB_BLOB_LIST_MAX_PAGES) {
			az_log(c, UVMBUS_LOG_WARN,
			       "azblob: blob: list: still more after %u pages: stopped (go on from "
			       "next_marker)",
			       pages);
			return finish(&e, -E2BIG);
		}
	}
	return finish(&e, 0);
}
