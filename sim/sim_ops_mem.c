// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The "memory" backend: Azure Blob REST operations (docs/FORMAT.md) on the
 * memory store (sim_store_mem.c), answered with the service's status codes,
 * error codes and headers, so a client works the same against it and
 * against Azure or Azurite (the rest backend).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sim_ops.h"
#include "sim_store.h"

/* The benchmarks' no-op head, byte for byte (azblob-bench, azblob
 * --requests): answered from a copy of what the general path answers it. */
static const char noop_request[] = "GET /$sim/noop HTTP/1.1\r\n\r\n";

struct mem_backend {
	struct sim_mem *m;
	struct sim_http h;
	uint64_t req_seq, req_salt;
	char noop[128]; /* the answer to noop_request, with its NUL */
	uint32_t noop_len;
};

struct ctx {
	struct mem_backend *mb;
	struct sim_http *h;
	struct azblob_sim_req *r;
	uint32_t *rlen, *dout;
	struct sim_hdrs x;
	bool head;
};

static uint32_t fail(struct ctx *c, int code, const char *err)
{
	return sim_http_respond(c->r, c->rlen, code, err, 0, &c->x, c->head);
}

static uint32_t ok(struct ctx *c, int code, uint64_t content_len)
{
	return sim_http_respond(c->r, c->rlen, code, NULL, content_len, &c->x, false);
}

static void add_etag(struct ctx *c, const char *etag, int64_t mtime)
{
	char d[40];

	sim_http_date(mtime, d, sizeof(d));
	sim_hdr_add(&c->x, "ETag", "%s", etag);
	sim_hdr_add(&c->x, "Last-Modified", "%s", d);
}

/* Azure: 3-63 of [a-z0-9-], starting and ending with a letter or digit, no
 * "--". A length outside 3..63 is OutOfRangeInput, bad characters are
 * InvalidResourceName (as the service answers). */
#define CONTAINER_NAME_MIN 3

bool sim_container_name_len_ok(const char *n)
{
	size_t len = strlen(n);

	return len >= CONTAINER_NAME_MIN && len <= 63;
}

bool sim_container_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (!len || n[0] == '-' || n[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = n[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
			return false;
		if (ch == '-' && n[i + 1] == '-')
			return false;
	}
	return true;
}

/* Base64 of 1..64 bytes. */
static bool blockid_ok(const char *id)
{
	size_t n = strlen(id), pad = 0;

	if (!n || n % 4 || n > SIM_BLOCKID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];

		if (ch == '=') {
			if (i < n - 2)
				return false;
			pad++;
		} else if (pad || !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
				    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/')) {
			return false;
		}
	}
	return true;
}

static bool etag_in(const char *list, const char *etag)
{
	size_t el = strlen(etag);

	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		while (n && *p == ' ')
			p++, n--;
		while (n && p[n - 1] == ' ')
			n--;
		if ((n == 1 && *p == '*') || (n == el && !memcmp(p, etag, n)))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

/* If-Match / If-None-Match against blob b (NULL: none). 0 when they hold,
 * else the answer's code and error. */
static int conditions(struct ctx *c, const struct sim_mblob *b, bool write, const char **err)
{
	const char *im = sim_http_header(c->h, "If-Match");
	const char *inm = sim_http_header(c->h, "If-None-Match");

	*err = "ConditionNotMet";
	if (!write && inm && !strcmp(inm, "*")) {
		*err = "UnsatisfiableCondition";
		return 400;
	}
	if (im && (!b || !etag_in(im, b->etag)))
		return 412;
	if (inm && b && etag_in(inm, b->etag)) {
		if (!write)
			return 304;
		if (!strcmp(inm, "*")) {
			*err = "BlobAlreadyExists";
			return 409;
		}
		return 412;
	}
	return 0;
}

/* "bytes=a-b" or "bytes=a-": 1 (set), 0 (no usable range: whole blob). */
static int parse_range(const char *v, uint64_t *a, uint64_t *b)
{
	char *e;

	if (!v || strncmp(v, "bytes=", 6) || v[6] < '0' || v[6] > '9')
		return 0;
	errno = 0;
	*a = strtoull(v + 6, &e, 10);
	if (errno || *e != '-')
		return 0;
	if (!e[1]) {
		*b = UINT64_MAX;
		return 1;
	}
	if (e[1] < '0' || e[1] > '9')
		return 0;
	*b = strtoull(e + 1, &e, 10);
	if (errno || *e || *b < *a)
		return 0;
	return 1;
}

static uint32_t op_container(struct ctx *c, const char *comp)
{
	struct sim_mem *m = c->mb->m;
	const char *meth = c->h->method;
	struct sim_mcontainer *ct;
	int rc;

	if (!strcmp(meth, "PUT") && !comp[0]) {
		rc = sim_mem_container_create(m, c->h->container);
		if (rc == -EEXIST)
			return fail(c, 409, "ContainerAlreadyExists");
		if (rc)
			return fail(c, 500, "InternalError");
		ct = sim_mem_container(m, c->h->container);
		add_etag(c, ct->etag, ct->mtime);
		return ok(c, 201, 0);
	}
	if (!strcmp(meth, "DELETE") && !comp[0]) {
		rc = sim_mem_container_delete(m, c->h->container);
		if (rc == -ENOENT)
			return fail(c, 404, "ContainerNotFound");
		if (rc) /* the dir backend could not remove it: still there */
			return fail(c, 500, "InternalError");
		return ok(c, 202, 0);
	}
	if ((!strcmp(meth, "GET") || !strcmp(meth, "HEAD")) && !comp[0]) {
		ct = sim_mem_container(m, c->h->container);
		if (!ct)
			return fail(c, 404, "ContainerNotFound");
		add_etag(c, ct->etag, ct->mtime);
		return ok(c, 200, 0);
	}
	if (!strcmp(meth, "GET") && !strcmp(comp, "list"))
		return sim_ops_list(c->h, c->mb->m, c->r, c->rlen, c->dout, &c->x);
	if (comp[0])
		return fail(c, 400, "InvalidQueryParameterValue");
	return fail(c, 405, "UnsupportedHttpVerb");
}

static uint32_t op_get(struct ctx *c, struct sim_mblob *b)
{
	uint64_t a = 0, z = 0, len;
	const char *rv = sim_http_header(c->h, "x-ms-range"), *err;
	char date[40];
	int code = 200, cc;
	uint32_t st;

	if (!rv)
		rv = sim_http_header(c->h, "Range");
	if (!b || !b->committed)
		return fail(c, 404, "BlobNotFound");
	cc = conditions(c, b, false, &err);
	if (cc) {
		add_etag(c, b->etag, b->mtime);
		if (cc == 400)
			return fail(c, cc, err);
		return sim_http_respond(c->r, c->rlen, cc, err, 0, &c->x, cc == 304 || c->head);
	}
	if (!c->head && parse_range(rv, &a, &z)) {
		if (a >= b->size) {
			sim_hdr_add(&c->x, "Content-Range", "bytes */%llu",
				    (unsigned long long)b->size);
			return fail(c, 416, "InvalidRange");
		}
		if (z >= b->size)
			z = b->size - 1;
		code = 206;
	} else {
		a = 0;
		z = b->size ? b->size - 1 : 0;
	}
	len = b->size ? z - a + 1 : 0;
	sim_hdr_add(&c->x, "Content-Type", "%s",
		    b->ctype[0] ? b->ctype : "application/octet-stream");
	if (code == 206)
		sim_hdr_add(&c->x, "Content-Range", "bytes %llu-%llu/%llu", (unsigned long long)a,
			    (unsigned long long)z, (unsigned long long)b->size);
	add_etag(c, b->etag, b->mtime);
	if (b->md5[0])
		sim_hdr_add(&c->x, code == 206 ? "x-ms-blob-content-md5" : "Content-MD5", "%s",
			    b->md5);
	sim_http_date(b->ctime, date, sizeof(date));
	sim_hdr_add(&c->x, "x-ms-creation-time", "%s", date);
	sim_hdr_add(&c->x, "Accept-Ranges", "bytes");
	sim_hdr_add(&c->x, "x-ms-blob-type", "BlockBlob");
	sim_hdr_add(&c->x, "x-ms-lease-state", "available");
	sim_hdr_add(&c->x, "x-ms-lease-status", "unlocked");
	if (c->head)
		return ok(c, code, len);
	st = ok(c, code, len);
	if (st)
		return st;
	if (len > c->r->data_len)
		return AZBLOB_VSP_STATUS_BUFFER_TOO_SMALL; /* Content-Length says how big */
	if (len)
		sim_mem_read(b, a, len, c->r->data);
	*c->dout = (uint32_t)len;
	return st;
}

/* A commit's error: an unknown block is the client's, the rest (memory,
 * the cap, the dir backend's write) are the server's. */
static uint32_t mem_error(struct ctx *c, int rc)
{
	if (rc == -EINVAL)
		return fail(c, 400, "InvalidBlockList");
	return fail(c, 500, "InternalError");
}

static uint32_t op_put(struct ctx *c, struct sim_mcontainer *ct, struct sim_mblob *b,
		       const char *comp)
{
	struct sim_mem *m = c->mb->m;
	struct sim_body_sums sums;
	const char *err;
	char id[SIM_BLOCKID_MAX + 8];
	int rc, cc;

	if (!strcmp(comp, "block")) {
		rc = sim_http_query(c->h, "blockid", id, sizeof(id));
		if (rc == 0)
			return fail(c, 400, "MissingRequiredQueryParameter");
		if (rc < 0 || !blockid_ok(id))
			return fail(c, 400, "InvalidQueryParameterValue");
		/* The body as sent: Content-MD5 or x-ms-content-crc64, and the
		 * service answers the one (Content-MD5 when it came, else its
		 * CRC-64). */
		err = sim_http_check_body(c->h, c->r->data, c->r->data_valid, &sums);
		if (err)
			return fail(c, 400, err);
		rc = sim_mem_put_block(m, ct, c->h->blob, id, c->r->data, c->r->data_valid);
		if (rc == -EINVAL)
			return fail(c, 400, "InvalidBlobOrBlock");
		if (rc == -E2BIG)
			return fail(c, 409, "BlockCountExceedsLimit");
		if (rc)
			return fail(c, 500, "InternalError");
		sim_hdr_add_body_sums(&c->x, &sums);
		return ok(c, 201, 0);
	}
	if (b && !b->committed)
		b = NULL;
	cc = conditions(c, b, true, &err);
	if (cc)
		return fail(c, cc, err);
	if (!strcmp(comp, "blocklist")) {
		struct sim_blockref *refs;
		int n = sim_blocklist_parse(c->r->data, c->r->data_valid, SIM_MAX_COMMITTED, &refs);

		if (n == -E2BIG)
			return fail(c, 400, "BlockListTooLong");
		if (n == -ENOMEM)
			return fail(c, 500, "InternalError");
		if (n < 0)
			return fail(c, 400, "InvalidXmlDocument");
		/* The blob's properties given with the list (the caller's MD5 of
		 * the whole blob and its type), kept as the service keeps them. */
		struct sim_mprops p = {sim_http_header(c->h, "x-ms-blob-content-md5"),
				       sim_http_header(c->h, "x-ms-blob-content-type")};

		rc = sim_mem_commit(m, ct, c->h->blob, refs, (size_t)n, &p, &b);
		free(refs);
		if (rc)
			return mem_error(c, rc);
		/* The MD5 of the request's body (the list), as the service. */
		sim_md5_b64(c->r->data, c->r->data_valid, id);
		sim_hdr_add(&c->x, "Content-MD5", "%s", id);
	} else if (!comp[0]) {
		const char *type = sim_http_header(c->h, "x-ms-blob-type");

		/* Azure requires the header (400 MissingRequiredHeader); absent
		 * means BlockBlob here, for clients of format 1 that never sent it. */
		if (type && strcmp(type, "BlockBlob"))
			return fail(c, 400, "InvalidHeaderValue");
		err = sim_http_check_body(c->h, c->r->data, c->r->data_valid, &sums);
		if (err)
			return fail(c, 400, err);
		/* The service keeps the MD5 of a blob put whole (and answers it),
		 * with the CRC-64 when no Content-MD5 came. */
		char md5[SIM_MD5_B64_LEN + 1];
		struct sim_mprops p = {md5, sim_http_header(c->h, "Content-Type")};

		if (sums.has_md5)
			snprintf(md5, sizeof(md5), "%s", sums.md5);
		else
			sim_md5_b64(c->r->data, c->r->data_valid, md5);
		rc = sim_mem_put_blob(m, ct, c->h->blob, c->r->data, c->r->data_valid, &p, &b);
		if (rc)
			return fail(c, 500, "InternalError");
		sim_hdr_add(&c->x, "Content-MD5", "%s", b->md5);
		if (sums.has_crc) {
			sums.has_md5 = false;
			sim_hdr_add_body_sums(&c->x, &sums);
		}
	} else {
		return fail(c, 400, "InvalidQueryParameterValue");
	}
	add_etag(c, b->etag, b->mtime);
	return ok(c, 201, 0);
}

static uint32_t op_blob(struct ctx *c, const char *comp)
{
	struct sim_mem *m = c->mb->m;
	const char *meth = c->h->method, *err;
	struct sim_mcontainer *ct = sim_mem_container(m, c->h->container);
	struct sim_mblob *b;
	int cc;

	if (!ct)
		return fail(c, 404, "ContainerNotFound");
	/* A name the dir backend cannot store as a file (too long). */
	if (m->hooks && !m->hooks->blob_name_ok(m->hooks->arg, c->h->blob))
		return fail(c, 400, "InvalidResourceName");
	b = sim_mem_blob(ct, c->h->blob, NULL);
	if (!strcmp(meth, "PUT"))
		return op_put(c, ct, b, comp);
	if (comp[0])
		return fail(c, 400, "InvalidQueryParameterValue");
	if (!strcmp(meth, "GET") || !strcmp(meth, "HEAD"))
		return op_get(c, b);
	if (!strcmp(meth, "DELETE")) {
		if (!b || !b->committed)
			return fail(c, 404, "BlobNotFound");
		cc = conditions(c, b, true, &err);
		if (cc)
			return fail(c, cc == 409 ? 412 : cc, "ConditionNotMet");
		if (sim_mem_blob_delete(m, ct, c->h->blob))
			return fail(c, 500, "InternalError"); /* the dir backend's unlink */
		return ok(c, 202, 0);
	}
	return fail(c, 405, "UnsupportedHttpVerb");
}

uint32_t sim_mem_backend_handle(void *state, struct azblob_sim_req *r, uint32_t *rlen,
				uint32_t *dout)
{
	struct mem_backend *mb = state;
	struct ctx c; /* not zeroed whole: x.buf is 2 KiB, x.n says what is used */
	char restype[32], comp[32];
	uint64_t id = ++mb->req_seq ^ mb->req_salt;
	int rc;

	*dout = 0;
	*rlen = 0;
	/* The no-op, exactly: the bytes sim_http_parse() + sim_http_special()
	 * would write (copied from them at open), without parsing. */
	if (r->request_len == sizeof(noop_request) - 1 && mb->noop_len &&
	    mb->noop_len < r->response_cap && !memcmp(r->request, noop_request, r->request_len)) {
		memcpy(r->response, mb->noop, mb->noop_len + 1);
		*rlen = mb->noop_len;
		return AZBLOB_VSP_STATUS_OK;
	}
	rc = sim_http_parse(r->request, r->request_len, &mb->h);
	/* The simulator's own targets (no-op, echo) answer a bare head: no
	 * request id to format on the benchmarks' path. */
	if (!rc && !strcmp(mb->h.container, "$sim"))
		return sim_http_special(&mb->h, r, rlen, dout);
	c.mb = mb;
	c.h = &mb->h;
	c.r = r;
	c.rlen = rlen;
	c.dout = dout;
	c.x.n = 0;
	restype[0] = comp[0] = 0;
	c.head = mb->h.method && !strcmp(mb->h.method, "HEAD");
	sim_hdr_add(&c.x, "x-ms-request-id", "%08x-%04x-%04x-%04x-%012llx", (unsigned)(id >> 32),
		    (unsigned)(id >> 16) & 0xffff, (unsigned)id & 0xffff,
		    (unsigned)(mb->req_seq & 0xffff), (unsigned long long)(mb->req_salt >> 16));
	if (rc == -ENAMETOOLONG)
		return fail(&c, 400, "InvalidUri");
	if (rc)
		return fail(&c, 400, "InvalidHttpRequest");
	if (sim_http_query(&mb->h, "restype", restype, sizeof(restype)) < 0 ||
	    sim_http_query(&mb->h, "comp", comp, sizeof(comp)) < 0)
		return fail(&c, 400, "InvalidQueryParameterValue");
	if (!mb->h.container[0] || (!mb->h.blob[0] && strcmp(restype, "container")))
		return fail(&c, 400, "InvalidUri");
	if (!sim_container_name_len_ok(mb->h.container))
		return fail(&c, 400, "OutOfRangeInput");
	if (!sim_container_name_ok(mb->h.container))
		return fail(&c, 400, "InvalidResourceName");
	if (!mb->h.blob[0])
		return op_container(&c, comp);
	return op_blob(&c, comp);
}

int sim_mem_parse_max(const char *arg, uint64_t *max)
{
	char *e;

	if (strncmp(arg, "max_bytes=", 10) || arg[10] < '0' || arg[10] > '9')
		return -EINVAL;
	errno = 0;
	*max = strtoull(arg + 10, &e, 10);
	return *e || !*max || errno ? -EINVAL : 0;
}

int sim_mem_backend_open(void **state, const char *arg, const struct uvmbus_log *log)
{
	struct sim_mem *m;
	uint64_t max = 0;
	int rc;

	(void)log;
	if (arg && arg[0] && sim_mem_parse_max(arg, &max))
		return -EINVAL;
	m = sim_mem_new(max);
	if (!m)
		return -ENOMEM;
	rc = sim_mem_backend_wrap(state, m);
	if (rc)
		sim_mem_free(m);
	return rc;
}

struct sim_mem *sim_mem_backend_store(void *state)
{
	return ((struct mem_backend *)state)->m;
}

int sim_mem_backend_wrap(void **state, struct sim_mem *m)
{
	struct mem_backend *mb = calloc(1, sizeof(*mb));
	struct timespec ts;

	if (!mb)
		return -ENOMEM;
	mb->m = m;
	clock_gettime(CLOCK_REALTIME, &ts);
	mb->req_salt = ((uint64_t)ts.tv_nsec << 32 ^ (uint64_t)ts.tv_sec) * 0x9E3779B97F4A7C15ull;
	/* The no-op's answer, as the general path gives it. */
	struct azblob_sim_req q = {.response = (uint8_t *)mb->noop,
				   .response_cap = sizeof(mb->noop)};
	uint32_t n = 0, dout;

	if (!sim_http_parse((const uint8_t *)noop_request, sizeof(noop_request) - 1, &mb->h) &&
	    sim_http_special(&mb->h, &q, &n, &dout) == AZBLOB_VSP_STATUS_OK && !dout &&
	    n < sizeof(mb->noop))
		mb->noop_len = n;
	*state = mb;
	return 0;
}

void sim_mem_backend_close(void *state)
{
	struct mem_backend *mb = state;

	sim_mem_free(mb->m);
	free(mb);
}
