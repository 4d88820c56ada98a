/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The blob request engine (blob_engine.c), shared by the blob verbs
 * (blob_ops.c, blob_upload.c). Not exported.
 *
 * An engine keeps up to queue_depth requests ("ops") in flight on the
 * client and drives submit/flush/poll/wait until the operation is done.
 * Each op owns one pool buffer laid out as
 * [data: chunk bytes | request head: 8 KiB | response head: 8 KiB], the
 * order the VSP wants its buffers in. An op whose ext is set sends and
 * receives its data in the caller's registered memory there instead (in
 * place: no copy in the guest, docs/BLOB.md); the heads stay in the pool
 * buffer.
 */
#ifndef AZBLOB_BLOB_ENGINE_H
#define AZBLOB_BLOB_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <azblob.h>
#include <azblob/blob.h>

#define HEAD_REQ  8192u
#define HEAD_RESP 8192u
#define HEADS	  (HEAD_REQ + HEAD_RESP)
#define MAX_CHUNK (32u << 20)

struct eng;

struct op {
	struct eng *e;
	uint8_t *buf, *data, *req, *resp;
	/* NULL: the data is at data (the pool buffer). Else the data buffer
	 * of the op's request: caller memory inside an azblob_register()ed
	 * range, not zeroed at submit (the caller's bytes, as in place).
	 * Cleared once the op's answer is taken (az_eng_one, az_eng_run). */
	uint8_t *ext;
	bool busy, completed;
	int err;
	uint32_t vsp, resp_len;
	/* Bytes of resp the last answer may have left where the next answer's
	 * parse would read them: zeroed before the op's next request. */
	uint32_t resp_dirty;
	uint64_t off;
	uint32_t len;
};

struct eng {
	struct azblob_client *c;
	struct op *ops;
	unsigned nops, busy;
	uint32_t chunk;
	uint32_t timeout_ms;
	/* The answers are ranged Gets': a 2xx head is read by the lean parser
	 * (az_blob_parse_get: status, Content-Length, Content-Range only);
	 * anything else by the full one. */
	bool lean_get;
	int err; /* the first error */
	struct azblob_blob_status *st;
	struct azblob_blob_status own_st;
	uint64_t done_bytes, total_bytes;
	const struct azblob_blob_xfer *x;
};

/* Set e up with up to want ops (at most the queue depth), st (or e's own)
 * zeroed. Each op's heads are zeroed, its data part is not (the last
 * user's bytes): a Get zeroes it before each request (az_op_submit), a
 * Put fills it, or az_eng_zero_data zeroes it. 0, or -EINVAL / -ENOMEM
 * (st->err set, e holds nothing). */
int az_eng_init(struct eng *e, struct azblob_client *c, const struct azblob_blob_xfer *x,
		unsigned want, struct azblob_blob_status *st);
/* Zero every op's data part (an upload whose reader might fill less than
 * it says). */
void az_eng_zero_data(struct eng *e);
/* Free e's buffers (no op may be in flight). */
void az_eng_fini(struct eng *e);
/* An op neither busy nor completed, or NULL. */
struct op *az_eng_free_op(struct eng *e);
/* Record err as the operation's first error. */
void az_eng_fail(struct eng *e, int err);
/* Wait until at least one op completed (or none is busy). */
int az_eng_reap(struct eng *e);
/* Submit op: req_len bytes of head, data_len bytes of data (at op->ext,
 * else op->data) of which data_valid are filled. */
int az_op_submit(struct eng *e, struct op *op, uint32_t req_len, uint32_t data_valid,
		 uint32_t data_len);
/* The outcome of a completed op: 0 for a 2xx answer (r parsed). */
int az_op_result(struct eng *e, struct op *op, struct azblob_blob_resp *r);
/* Build a head into op->req: its length, or a negative errno. */
int az_op_head(struct eng *e, struct op *op, const char *method, const char *container,
	       const char *blob, const char *query, const char *const *headers);
/* Submit op and wait until it is answered (0), or the client's error. */
int az_op_wait(struct eng *e, struct op *op, uint32_t req_len, uint32_t data_valid,
	       uint32_t data_len);
/* One request, submitted and waited for; its outcome as az_op_result. */
int az_eng_one(struct eng *e, struct op *op, uint32_t req_len, uint32_t data_valid,
	       uint32_t data_len, struct azblob_blob_resp *r);
/* A pipelined verb's steps: issue item k (0..count-1) on a free op (build
 * the head, az_op_submit, set op->off / op->len): 0 or an errno; answer a
 * completed op whose answer is a 2xx (r parsed): 0 or an errno. */
typedef int (*az_eng_issue_fn)(struct eng *e, struct op *op, uint64_t k, void *arg);
typedef int (*az_eng_answer_fn)(struct eng *e, struct op *op, const struct azblob_blob_resp *r,
				void *arg);
/* The one reap loop of the verbs: count items, as many in flight as e has
 * ops, until all are answered or the first error (every op reaped or the
 * client failed). Each answered op's len is counted as progress. The
 * first error, or 0. answer may be NULL. */
int az_eng_run(struct eng *e, uint64_t count, az_eng_issue_fn issue, az_eng_answer_fn answer,
	       void *arg);
/* The op's data buffer: op->ext, else op->data. */
static inline uint8_t *az_op_data(const struct op *op)
{
	return op->ext ? op->ext : op->data;
}
/* Whether the blob helpers may use [p, p + len) in place: registered with
 * the client (logged at debug level either way). */
bool az_eng_in_place(struct azblob_client *c, const void *p, uint64_t len, const char *what);
/* Wait for every op in flight, free e: the first error, or rc. */
int az_eng_finish(struct eng *e, int rc);
/* n more bytes done: call the caller's progress callback. */
void az_eng_progress(struct eng *e, uint64_t n);

#define MD5_B64_LEN 24 /* base64 of 16 bytes */

/* The base64 MD5 of len bytes (blob_upload.c). 0, or -ENOMEM when
 * libcrypto fails. */
int az_blob_md5_b64(const void *data, size_t len, char out[MD5_B64_LEN + 1]);
/* Whether x lets the helpers compute and check MD5s. */
bool az_blob_want_md5(const struct azblob_blob_xfer *x);

#endif
