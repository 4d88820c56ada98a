// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Backends: the request buffer holds an HTTP/1.1 request head in the
 * format of docs/FORMAT.md; this file parses it (untrusted bytes), routes
 * it and writes the response head. Storage is a small interface with two
 * implementations: memory (sim_store_mem.c) and a directory
 * (sim_store_dir.c). Special targets: /$sim/noop, /$sim/echo.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim_internal.h"
#include "sim_rest.h"
#include "sim_store.h"

#define MAX_NAME 1024

struct head {
	char method[16];
	char container[MAX_NAME];
	char blob[MAX_NAME];
	char query[256];
	char target[MAX_NAME * 2];
};

/* Parse "METHOD /container[/blob][?query] HTTP/1.1\r\n..." (the head must
 * end with an empty line inside request_len). 0 or -EINVAL. */
static int parse_head(const uint8_t *req, uint32_t len, struct head *h)
{
	const char *p = (const char *)req, *end = p + len, *sp1, *sp2, *eol, *q;
	size_t n;

	memset(h, 0, sizeof(*h));
	eol = memmem(p, len, "\r\n", 2);
	if (!eol || !memmem(p, len, "\r\n\r\n", 4))
		return -EINVAL;
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	if (!sp1 || (size_t)(sp1 - p) >= sizeof(h->method))
		return -EINVAL;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || (size_t)(eol - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.1", 8))
		return -EINVAL;
	memcpy(h->method, p, (size_t)(sp1 - p));
	n = (size_t)(sp2 - sp1 - 1);
	if (n == 0 || n >= sizeof(h->target) || sp1[1] != '/')
		return -EINVAL;
	memcpy(h->target, sp1 + 1, n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)h->target[i] < 0x21 || h->target[i] == 0x7f)
			return -EINVAL;
	q = strchr(h->target, '?');
	if (q) {
		snprintf(h->query, sizeof(h->query), "%s", q + 1);
		h->target[q - h->target] = 0;
	}
	const char *c = h->target + 1, *slash = strchr(c, '/');

	n = slash ? (size_t)(slash - c) : strlen(c);
	if (n >= MAX_NAME)
		return -EINVAL;
	memcpy(h->container, c, n);
	if (slash)
		snprintf(h->blob, sizeof(h->blob), "%s", slash + 1);
	if (q)
		h->target[q - h->target] = '?';
	(void)end;
	return 0;
}

static const char *reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	default:
		return "Error";
	}
}

/* Write the response head (+ an Azure-style error body) into r->response. */
static uint32_t respond(struct azblob_sim_req *r, uint32_t *rlen, int code, const char *err,
			uint64_t content_len)
{
	char body[256] = "";
	int n;

	if (err)
		snprintf(body, sizeof(body),
			 "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code>"
			 "<Message>%s</Message></Error>",
			 err, err);
	n = snprintf((char *)r->response, r->response_cap,
		     "HTTP/1.1 %d %s\r\nContent-Length: %llu\r\nx-ms-version: 2021-08-06\r\n"
		     "%s%s%s\r\n%s",
		     code, reason(code), (unsigned long long)(err ? strlen(body) : content_len),
		     err ? "x-ms-error-code: " : "", err ? err : "", err ? "\r\n" : "", body);
	if (n < 0 || (uint32_t)n >= r->response_cap) {
		*rlen = r->response_cap;
		return AZBLOB_SIM_STATUS_BUFFER_TOO_SMALL;
	}
	*rlen = (uint32_t)n;
	return AZBLOB_SIM_STATUS_OK;
}

static const char *store_error(int rc, int *code)
{
	switch (rc) {
	case -ENODEV:
		*code = 404;
		return "ContainerNotFound";
	case -ENOENT:
		*code = 404;
		return "BlobNotFound";
	case -EEXIST:
		*code = 409;
		return "ContainerAlreadyExists";
	case -EINVAL:
		*code = 400;
		return "InvalidResourceName";
	default:
		*code = 500;
		return "InternalError";
	}
}

struct backend {
	const struct sim_store_ops *ops;
	void *store;
};

static uint32_t handle(void *state, struct azblob_sim_req *r, uint32_t *rlen, uint32_t *dout)
{
	struct backend *b = state;
	struct head h;
	bool is_container;
	uint64_t size = 0;
	int rc, code;

	*dout = 0;
	if (parse_head(r->request, r->request_len, &h))
		return respond(r, rlen, 400, "InvalidHttpRequest", 0);
	if (!strcmp(h.container, "$sim")) {
		if (!strcmp(h.blob, "noop"))
			return respond(r, rlen, 200, NULL, 0);
		if (!strcmp(h.blob, "echo")) {
			/* The data comes back as it went (in place); the head is
			 * copied into the response after ours. */
			*dout = r->data_valid;
			uint32_t st = respond(r, rlen, 200, NULL, r->data_valid);
			uint32_t k = r->request_len < r->response_cap - *rlen
					 ? r->request_len
					 : r->response_cap - *rlen;

			if (st)
				return st;
			memcpy(r->response + *rlen, r->request, k);
			*rlen += k;
			return st;
		}
		return respond(r, rlen, 404, "ResourceNotFound", 0);
	}
	is_container = !h.blob[0] && strstr(h.query, "restype=container");
	if (!h.container[0] || (!h.blob[0] && !is_container))
		return respond(r, rlen, 400, "InvalidUri", 0);

	if (is_container) {
		if (!strcmp(h.method, "PUT"))
			rc = b->ops->container(b->store, h.container, SIM_CONTAINER_CREATE);
		else if (!strcmp(h.method, "DELETE"))
			rc = b->ops->container(b->store, h.container, SIM_CONTAINER_DELETE);
		else if (!strcmp(h.method, "HEAD") || !strcmp(h.method, "GET"))
			rc = b->ops->container(b->store, h.container, SIM_CONTAINER_EXISTS);
		else
			return respond(r, rlen, 405, "UnsupportedHttpVerb", 0);
		if (rc == -ENOENT)
			rc = -ENODEV;
		if (rc) {
			const char *e = store_error(rc, &code);

			return respond(r, rlen, code, e, 0);
		}
		code = !strcmp(h.method, "PUT") ? 201 : !strcmp(h.method, "DELETE") ? 202 : 200;
		return respond(r, rlen, code, NULL, 0);
	}
	if (!strcmp(h.method, "PUT")) {
		rc = b->ops->put(b->store, h.container, h.blob, r->data, r->data_valid);
		code = 201;
	} else if (!strcmp(h.method, "GET")) {
		rc = b->ops->get(b->store, h.container, h.blob, r->data, r->data_len, &size);
		if (rc == -ENOSPC) {
			/* The blob does not fit the data buffer: say how big it is. */
			uint32_t st = respond(r, rlen, 200, NULL, size);

			return st ? st : AZBLOB_SIM_STATUS_BUFFER_TOO_SMALL;
		}
		*dout = rc ? 0 : (uint32_t)size;
		code = 200;
	} else if (!strcmp(h.method, "HEAD")) {
		rc = b->ops->get(b->store, h.container, h.blob, NULL, 0, &size);
		if (rc == -ENOSPC)
			rc = 0;
		code = 200;
	} else if (!strcmp(h.method, "DELETE")) {
		rc = b->ops->del(b->store, h.container, h.blob);
		code = 202;
	} else {
		return respond(r, rlen, 405, "UnsupportedHttpVerb", 0);
	}
	if (rc) {
		const char *e = store_error(rc, &code);

		return respond(r, rlen, code, e, 0);
	}
	return respond(r, rlen, code, NULL, size);
}

static int open_with(const struct sim_store_ops *ops, void **state, const char *arg,
		     const struct uvmbus_log *log)
{
	struct backend *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return -ENOMEM;
	b->ops = ops;
	rc = ops->open(&b->store, arg, log);
	if (rc) {
		free(b);
		return rc;
	}
	*state = b;
	return 0;
}

static int open_mem(void **state, const char *arg, const struct uvmbus_log *log)
{
	return open_with(&sim_store_mem, state, arg, log);
}

static int open_dir(void **state, const char *arg, const struct uvmbus_log *log)
{
	return open_with(&sim_store_dir, state, arg, log);
}

static void close_backend(void *state)
{
	struct backend *b = state;

	b->ops->close(b->store);
	free(b);
}

static const struct azblob_sim_backend backends[] = {
    {"memory", open_mem, handle, close_backend},
    {"dir", open_dir, handle, close_backend},
    {"rest", sim_rest_open, sim_rest_handle, sim_rest_close},
};

const struct azblob_sim_backend *azblob_sim_backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strcmp(backends[i].name, name))
			return &backends[i];
	return NULL;
}
