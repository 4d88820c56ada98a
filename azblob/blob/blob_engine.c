// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The blob request engine (blob_engine.h): ops in flight on the client,
 * submitted, reaped and their answers parsed, for the blob verbs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob_engine.h"
#include "blob_internal.h"
#include "internal.h"

static void op_done(void *user, int err, uint32_t vsp_status, uint32_t response_len)
{
	struct op *op = user;

	op->err = err;
	op->vsp = vsp_status;
	op->resp_len = response_len;
	/* What the next parse could read of this answer: as far as it
	 * claims (at most the buffer: complete.c refuses more); all of it
	 * when the request failed (the host may still be writing). */
	op->resp_dirty = err || vsp_status || response_len > HEAD_RESP ? HEAD_RESP : response_len;
	op->busy = false;
	op->completed = true;
	op->e->busy--;
}

void az_eng_fini(struct eng *e)
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

int az_eng_init(struct eng *e, struct azblob_client *c, const struct azblob_blob_xfer *x,
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

		/* Not zeroed whole (4 MiB: 8 M instructions): see below. */
		op->buf = az_alloc_raw(c, c->opts.pool_buf_size);
		if (!op->buf)
			break;
		op->e = e;
		op->data = op->buf;
		op->req = op->buf + c->opts.pool_buf_size - HEADS;
		op->resp = op->req + HEAD_REQ;
		/* The heads: the last user's bytes never reach the host past a
		 * request head nor a parse past an answer's (resp_dirty keeps
		 * it so). The data part is zeroed before each Get into it. */
		memset(op->req, 0, HEADS);
		e->nops++;
	}
	if (!e->nops) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: blob: no free pool buffer");
		az_eng_fini(e);
		return e->st->err = -ENOMEM;
	}
	return 0;
}

void az_eng_zero_data(struct eng *e)
{
	for (unsigned i = 0; i < e->nops; i++)
		memset(e->ops[i].data, 0, (size_t)(e->ops[i].req - e->ops[i].data));
}

struct op *az_eng_free_op(struct eng *e)
{
	for (unsigned i = 0; i < e->nops; i++)
		if (!e->ops[i].busy && !e->ops[i].completed)
			return &e->ops[i];
	return NULL;
}

void az_eng_fail(struct eng *e, int err)
{
	if (!e->err) {
		e->err = err;
		e->st->err = err;
	}
}

/* Wait until at least one op completed (or none is busy). */
int az_eng_reap(struct eng *e)
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

int az_op_submit(struct eng *e, struct op *op, uint32_t req_len, uint32_t data_valid,
		 uint32_t data_len)
{
	struct azblob_request r = {
	    .request = op->req,
	    .request_len = req_len,
	    .response = op->resp,
	    .response_len = HEAD_RESP,
	    .data = data_len ? az_op_data(op) : NULL,
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
	 * another request's head or another blob's bytes. The response head
	 * was zeroed when the op was made; since then only answers to this
	 * op wrote it, and the parse of the next one reads from its start up
	 * to what that one claims: the last answer's claimed bytes are
	 * zeroed (a host writing past its claim can show itself its own
	 * bytes again, nothing else; the head is parsed, never handed on). */
	if (op->resp_dirty) {
		memset(op->resp, 0, op->resp_dirty);
		op->resp_dirty = 0;
	}
	if (data_len > data_valid && !op->ext)
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

/* A ranged Get's answer through the lean parser: a 2xx into r (status,
 * Content-Length, Content-Range; the strings empty): 0. Another status:
 * 1, r untouched (the full parser then reads the error's codes). A
 * malformed head: -EPROTO (the full parser would refuse it as well). */
static int lean_get(struct eng *e, const struct op *op, struct azblob_blob_resp *r)
{
	struct az_get_head g;

	if (az_blob_parse_get(op->resp, op->resp_len < HEAD_RESP ? op->resp_len : HEAD_RESP, &g)) {
		az_log(e->c, UVMBUS_LOG_WARN, "azblob: blob: malformed response head (%u bytes)",
		       op->resp_len);
		return -EPROTO;
	}
	if (g.http_status < 200 || g.http_status >= 300)
		return 1;
	r->http_status = g.http_status;
	r->reason[0] = r->etag[0] = r->last_modified[0] = r->content_type[0] = 0;
	r->content_md5[0] = r->blob_type[0] = r->error_code[0] = r->request_id[0] = 0;
	r->content_length = g.content_length;
	r->has_range = g.has_range;
	r->range_first = g.range_first;
	r->range_last = g.range_last;
	r->range_total = g.range_total;
	r->head_len = g.head_len;
	if (!e->err)
		e->st->http_status = g.http_status;
	return 0;
}

/* The outcome of a completed op: 0 for a 2xx answer (r parsed). */
int az_op_result(struct eng *e, struct op *op, struct azblob_blob_resp *r)
{
	struct azblob_blob_status *st = e->st;
	int rc;

	op->completed = false;
	if (e->lean_get && !op->err && !op->vsp && (rc = lean_get(e, op, r)) <= 0)
		return rc;
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
int az_op_head(struct eng *e, struct op *op, const char *method, const char *container,
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

/* Submit op and wait for its answer. */
int az_op_wait(struct eng *e, struct op *op, uint32_t req_len, uint32_t data_valid,
	       uint32_t data_len)
{
	int rc = az_op_submit(e, op, req_len, data_valid, data_len);

	while (!rc && op->busy)
		rc = az_eng_reap(e);
	return rc;
}

/* One request, waited for. */
int az_eng_one(struct eng *e, struct op *op, uint32_t req_len, uint32_t data_valid,
	       uint32_t data_len, struct azblob_blob_resp *r)
{
	int rc = az_op_wait(e, op, req_len, data_valid, data_len);

	if (rc) {
		/* The client failed under us; the op's callback has run when
		 * busy is false. */
		az_eng_fail(e, rc);
		return rc;
	}
	rc = az_op_result(e, op, r);
	op->ext = NULL;
	if (rc)
		az_eng_fail(e, rc);
	return rc;
}

/* The completed ops' answers: checked, then the progress counted. */
static void eng_answers(struct eng *e, az_eng_answer_fn answer, void *arg)
{
	struct azblob_blob_resp r;

	for (unsigned i = 0; i < e->nops; i++) {
		struct op *op = &e->ops[i];
		int rc;

		if (!op->completed)
			continue;
		rc = az_op_result(e, op, &r);
		if (!rc && answer)
			rc = answer(e, op, &r, arg);
		op->ext = NULL;
		if (rc)
			az_eng_fail(e, rc);
		else
			az_eng_progress(e, op->len);
	}
}

int az_eng_run(struct eng *e, uint64_t count, az_eng_issue_fn issue, az_eng_answer_fn answer,
	       void *arg)
{
	uint64_t next = 0;

	while ((next < count && !e->err) || e->busy) {
		struct op *op;
		int rc;

		while (next < count && !e->err && (op = az_eng_free_op(e))) {
			rc = issue(e, op, next, arg);
			if (rc) {
				az_eng_fail(e, rc);
				break;
			}
			next++;
		}
		rc = az_eng_reap(e);
		if (rc) {
			az_eng_fail(e, rc);
			if (e->busy)
				break;
		}
		eng_answers(e, answer, arg);
	}
	return e->err;
}

int az_eng_finish(struct eng *e, int rc)
{
	/* Never leave with our requests in flight: their callbacks point here. */
	while (e->busy) {
		int r = az_eng_reap(e);

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
		az_eng_fail(e, rc);
	az_eng_fini(e);
	return e->err ? e->err : rc;
}

bool az_eng_in_place(struct azblob_client *c, const void *p, uint64_t len, const char *what)
{
	bool in = len && len <= SIZE_MAX && az_registered(c, p, (size_t)len);

	az_log(c, UVMBUS_LOG_DEBUG, "azblob: blob: %s of %" PRIu64 " bytes: %s", what, len,
	       in ? "in place (registered memory)" : "through pool buffers (copied)");
	return in;
}

void az_eng_progress(struct eng *e, uint64_t n)
{
	e->done_bytes += n;
	if (e->x && e->x->progress)
		e->x->progress(e->x->progress_user, e->done_bytes, e->total_bytes);
}
