// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Blob helpers, the operations other than uploads (blob_upload.c):
 * container create/delete, ranged parallel Get Blob, Get Blob Properties,
 * Delete Blob, List Blobs. Synchronous from the caller's view, over the
 * request engine (blob_engine.c). A whole blob read with one Get is checked
 * against the Content-MD5 the service returns (unless x->no_md5).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob_engine.h"
#include "blob_internal.h"
#include "internal.h"

/* ---- containers ---- */

/* One request with no body, waited for: its outcome. */
static int one_request(struct azblob_client *c, const char *method, const char *container,
		       const char *blob, const char *query, struct azblob_blob_status *st)
{
	struct azblob_blob_resp r;
	struct eng e;
	int rc = az_eng_init(&e, c, NULL, 1, st);

	if (rc)
		return rc;
	rc = az_op_head(&e, &e.ops[0], method, container, blob, query, NULL);
	if (rc >= 0)
		rc = az_eng_one(&e, &e.ops[0], (uint32_t)rc, 0, 0, &r);
	return az_eng_finish(&e, rc);
}

static int container_op(struct azblob_client *c, const char *container, const char *method,
			struct azblob_blob_status *st)
{
	return one_request(c, method, container, NULL, "restype=container", st);
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
	int rc = az_op_head(e, &e->ops[0], "HEAD", container, blob, NULL, NULL);

	if (rc >= 0)
		rc = az_eng_one(e, &e->ops[0], (uint32_t)rc, 0, 0, &r);
	if (rc)
		return rc;
	if (r.content_length < 0) {
		az_log(e->c, UVMBUS_LOG_WARN, "azblob: blob: HEAD answer without Content-Length");
		az_eng_fail(e, -EPROTO);
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
	int rc = az_eng_init(&e, c, NULL, 1, st);

	if (rc)
		return rc;
	rc = head_in(&e, container, blob, p ? p : &tmp);
	return az_eng_finish(&e, rc);
}

int azblob_blob_delete(struct azblob_client *c, const char *container, const char *blob,
		       struct azblob_blob_status *st)
{
	return one_request(c, "DELETE", container, blob, NULL, st);
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

/* A download in ranged Gets (az_eng_run): chunk k is at off + k * chunk. */
struct ranged {
	const char *container, *blob, *ifmatch;
	uint64_t off, end, size;
	azblob_blob_write_fn wr;
	void *user;
	uint8_t *mem; /* non-NULL: the bytes from off go here in place (registered) */
	/* The Get's head without its Range, built once (0: not yet, -1: too
	 * long for the template); each chunk appends its Range to a copy. */
	int head_len;
	char head[HEAD_REQ];
};

/* The head of the Get of [first, last]: the template and a Range header
 * (no formatting but two numbers). Its length. */
static uint32_t ranged_head(const struct ranged *g, char *req, uint64_t first, uint64_t last)
{
	static const char range[] = "Range: bytes=";
	size_t n = (size_t)g->head_len;

	memcpy(req, g->head, n);
	memcpy(req + n, range, sizeof(range) - 1);
	n += sizeof(range) - 1;
	n += az_put_u64(req + n, first);
	req[n++] = '-';
	n += az_put_u64(req + n, last);
	memcpy(req + n, "\r\n\r\n", 4);
	return (uint32_t)(n + 4);
}

static int ranged_issue(struct eng *e, struct op *op, uint64_t k, void *arg)
{
	struct ranged *g = arg;
	uint64_t at = g->off + k * e->chunk;
	uint32_t n = (uint32_t)(g->end - at < e->chunk ? g->end - at : e->chunk);
	int rc;

	op->ext = g->mem ? g->mem + (at - g->off) : NULL;
	if (!g->head_len) {
		/* Once per download: the head without Range, its blank line cut
		 * off; room left for the Range header (13 + 2 x 20 + 1 + 4). */
		const char *h[] = {g->ifmatch[0] ? g->ifmatch : NULL, NULL};

		rc = az_op_head(e, op, "GET", g->container, g->blob, NULL, h);
		if (rc < 0)
			return rc;
		g->head_len = (size_t)rc + 64 <= HEAD_REQ ? rc - 2 : -1;
		if (g->head_len > 0)
			memcpy(g->head, op->req, (size_t)g->head_len);
	}
	if (g->head_len > 0) {
		rc = (int)ranged_head(g, (char *)op->req, at, at + n - 1);
	} else {
		char range[64] = "Range: bytes=";
		const char *h[] = {range, g->ifmatch[0] ? g->ifmatch : NULL, NULL};
		size_t k = sizeof("Range: bytes=") - 1;

		k += az_put_u64(range + k, at);
		range[k++] = '-';
		range[k + az_put_u64(range + k, at + n - 1)] = 0;
		rc = az_op_head(e, op, "GET", g->container, g->blob, NULL, h);
	}
	if (rc >= 0)
		rc = az_op_submit(e, op, (uint32_t)rc, 0, n);
	if (rc)
		return rc;
	op->off = at;
	op->len = n;
	return 0;
}

static int ranged_answer(struct eng *e, struct op *op, const struct azblob_blob_resp *r, void *arg)
{
	const struct ranged *g = arg;
	int rc = check_get(e, r, true, op->off, op->len, g->size);

	if (!rc && !e->err && !g->mem)
		rc = g->wr(g->user, op->data, op->len, op->off - g->off);
	return rc;
}

/* A download to wr, or in place into mem (registered, len bytes) when not
 * NULL. */
static int download(struct azblob_client *c, const char *container, const char *blob, uint64_t off,
		    uint64_t len, azblob_blob_write_fn wr, void *user, uint8_t *mem,
		    const struct azblob_blob_xfer *x, struct azblob_blob_props *props,
		    struct azblob_blob_status *st)
{
	struct azblob_blob_props p;
	struct azblob_blob_resp r;
	char ifmatch[100] = "";
	uint64_t end, total, nchunks;
	struct eng e;
	int rc;

	rc = az_eng_init(&e, c, x, 1, st);
	if (rc)
		return rc;
	rc = head_in(&e, container, blob, &p);
	if (rc)
		return az_eng_finish(&e, rc);
	if (props)
		*props = p;
	if (off > p.size) {
		e.st->http_status = 0;
		return az_eng_finish(&e, -ERANGE);
	}
	end = len == UINT64_MAX || len > p.size - off ? p.size : off + len;
	total = end - off;
	e.total_bytes = total;
	if (!total)
		return az_eng_finish(&e, 0);
	if (p.etag[0])
		az_put_hdr(ifmatch, sizeof(ifmatch), "If-Match", p.etag);
	if (off == 0 && end == p.size && total <= e.chunk) {
		/* One plain Get. */
		const char *h[] = {ifmatch[0] ? ifmatch : NULL, NULL};
		struct op *op = &e.ops[0];
		uint8_t *d = mem ? mem : op->data;

		op->ext = mem;
		rc = az_op_head(&e, op, "GET", container, blob, NULL, h);
		if (rc >= 0)
			rc = az_eng_one(&e, op, (uint32_t)rc, 0, mem ? (uint32_t)total : e.chunk,
					&r);
		if (!rc)
			rc = check_get(&e, &r, false, 0, (uint32_t)total, p.size);
		if (!rc && az_blob_want_md5(x) && r.content_md5[0]) {
			char md5[MD5_B64_LEN + 1];

			rc = az_blob_md5_b64(d, (size_t)total, md5);
			if (!rc && strcmp(md5, r.content_md5)) {
				az_log(
				    c, UVMBUS_LOG_WARN,
				    "azblob: blob: %s/%s: Content-MD5 %s, the bytes read have %s",
				    container, blob, r.content_md5, md5);
				rc = -EBADMSG;
			}
		}
		if (!rc && !mem)
			rc = wr(user, d, (size_t)total, 0);
		if (!rc)
			az_eng_progress(&e, total);
		return az_eng_finish(&e, rc);
	}
	nchunks = (total + e.chunk - 1) / e.chunk;
	az_eng_fini(&e);
	rc = az_eng_init(&e, c, x, nchunks < 1024 ? (unsigned)nchunks : 1024, st);
	if (rc)
		return rc;
	e.total_bytes = total;
	e.lean_get = true; /* ranged_answer needs the status, length and range only */
	struct ranged *rg = malloc(sizeof(*rg)); /* the head template: 8 KiB, off the stack */

	if (!rg)
		return az_eng_finish(&e, -ENOMEM);
	*rg = (struct ranged){container, blob, ifmatch, off, end, p.size, wr, user, mem, 0, ""};
	rc = az_eng_run(&e, nchunks, ranged_issue, ranged_answer, rg);
	free(rg);
	return az_eng_finish(&e, rc);
}

int azblob_blob_download(struct azblob_client *c, const char *container, const char *blob,
			 uint64_t off, uint64_t len, azblob_blob_write_fn wr, void *user,
			 const struct azblob_blob_xfer *x, struct azblob_blob_props *props,
			 struct azblob_blob_status *st)
{
	if (!wr)
		return -EINVAL;
	return download(c, container, blob, off, len, wr, user, NULL, x, props, st);
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
	struct azblob_blob_props p;
	int rc;

	if (!buf && cap)
		return -EINVAL;
	if (az_eng_in_place(c, buf, cap, "get")) {
		rc = download(c, container, blob, off, cap, NULL, NULL, buf, x, &p, st);
		/* In place: the bytes delivered, min(cap, size - off). */
		if (!rc)
			m.got = p.size - off < cap ? (size_t)(p.size - off) : cap;
	} else {
		rc = download(c, container, blob, off, cap, mem_write, &m, NULL, x, NULL, st);
	}
	if (got)
		*got = rc ? 0 : m.got;
	return rc;
}

/* ---- list ---- */

static int append_param(char *q, size_t cap, const char *name, const char *v)
{
	size_t n = strlen(q), k = strlen(name);

	if (!v)
		return 0;
	if (k + 2 >= cap - n)
		return -ENOSPC;
	q[n++] = '&';
	memcpy(q + n, name, k);
	n += k;
	q[n++] = '=';
	q[n] = 0;
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
	rc = az_eng_init(&e, c, NULL, 1, st);
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
		char mr[24];

		mr[az_put_u64(mr, maxr)] = 0;
		strcpy(q, "restype=container&comp=list");
		rc = append_param(q, sizeof(q), "prefix", lo->prefix);
		if (!rc)
			rc = append_param(q, sizeof(q), "delimiter", lo->delimiter);
		if (!rc && marker[0])
			rc = append_param(q, sizeof(q), "marker", marker);
		if (!rc)
			rc = append_param(q, sizeof(q), "maxresults", mr);
		if (rc) {
			az_log(c, UVMBUS_LOG_ERR, "azblob: blob: list: prefix or marker too long");
			return az_eng_finish(&e, -EINVAL);
		}
		rc = az_op_head(&e, op, "GET", container, NULL, q, NULL);
		if (rc < 0)
			return az_eng_finish(&e, rc);
		rc = az_op_wait(&e, op, (uint32_t)rc, 0, e.chunk);
		if (rc)
			return az_eng_finish(&e, rc);
		rc = az_op_result(&e, op, &r);
		if (rc == -EMSGSIZE && maxr > 1) {
			/* The page did not fit: ask for fewer. */
			e.st->vsp_status = 0;
			maxr /= 2;
			continue;
		}
		if (rc)
			return az_eng_finish(&e, rc);
		if (r.content_length < 0 || (uint64_t)r.content_length > e.chunk) {
			az_log(c, UVMBUS_LOG_WARN, "azblob: blob: list: bad Content-Length");
			return az_eng_finish(&e, -EPROTO);
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
			return az_eng_finish(&e, rc);
		if (lo->next_marker && lo->next_marker_cap)
			snprintf(lo->next_marker, lo->next_marker_cap, "%s", marker);
		if (!marker[0] || lo->one_page)
			break;
		if (!strcmp(marker, asked)) {
			az_log(c, UVMBUS_LOG_WARN,
			       "azblob: blob: list: the host's NextMarker does not advance (the "
			       "page asked with it gave it again)");
			return az_eng_finish(&e, -EPROTO);
		}
		if (++pages == AZBLOB_BLOB_LIST_MAX_PAGES) {
			az_log(c, UVMBUS_LOG_WARN,
			       "azblob: blob: list: still more after %u pages: stopped (go on from "
			       "next_marker)",
			       pages);
			return az_eng_finish(&e, -E2BIG);
		}
	}
	return az_eng_finish(&e, 0);
}
