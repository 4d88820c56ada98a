// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Backends: the request buffer holds an HTTP/1.1 request head in the
 * format of docs/FORMAT.md (parsed by sim_ops_http.c). "memory" is
 * sim_ops_mem.c (the Azure Blob operations on sim_store_mem.c); "dir" is
 * routed here onto the small store interface of sim_store_dir.c; "rest" is
 * sim_backend_rest.c. Special targets: /$sim/noop, /$sim/echo.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim_internal.h"
#include "sim_ops.h"
#include "sim_rest.h"
#include "sim_store.h"

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
	struct sim_http h;
};

static uint32_t respond(struct azblob_sim_req *r, uint32_t *rlen, int code, const char *err,
			uint64_t content_len)
{
	return sim_http_respond(r, rlen, code, err, content_len, NULL, false);
}

static uint32_t handle(void *state, struct azblob_sim_req *r, uint32_t *rlen, uint32_t *dout)
{
	struct backend *b = state;
	struct sim_http *h = &b->h;
	bool is_container;
	uint64_t size = 0;
	char restype[32] = "";
	int rc, code;

	*dout = 0;
	rc = sim_http_parse(r->request, r->request_len, h);
	if (rc == -ENAMETOOLONG)
		return respond(r, rlen, 400, "InvalidUri", 0);
	if (rc)
		return respond(r, rlen, 400, "InvalidHttpRequest", 0);
	if (!strcmp(h->container, "$sim"))
		return sim_http_special(h, r, rlen, dout);
	sim_http_query(h, "restype", restype, sizeof(restype));
	is_container = !h->blob[0] && !strcmp(restype, "container");
	if (!h->container[0] || (!h->blob[0] && !is_container))
		return respond(r, rlen, 400, "InvalidUri", 0);

	if (is_container) {
		if (!strcmp(h->method, "PUT"))
			rc = b->ops->container(b->store, h->container, SIM_CONTAINER_CREATE);
		else if (!strcmp(h->method, "DELETE"))
			rc = b->ops->container(b->store, h->container, SIM_CONTAINER_DELETE);
		else if (!strcmp(h->method, "HEAD") || !strcmp(h->method, "GET"))
			rc = b->ops->container(b->store, h->container, SIM_CONTAINER_EXISTS);
		else
			return respond(r, rlen, 405, "UnsupportedHttpVerb", 0);
		if (rc == -ENOENT)
			rc = -ENODEV;
		if (rc) {
			const char *e = store_error(rc, &code);

			return respond(r, rlen, code, e, 0);
		}
		code = !strcmp(h->method, "PUT") ? 201 : !strcmp(h->method, "DELETE") ? 202 : 200;
		return respond(r, rlen, code, NULL, 0);
	}
	if (!strcmp(h->method, "PUT")) {
		struct sim_body_sums sums;
		const char *bad = sim_http_check_body(h, r->data, r->data_valid, &sums);

		if (bad) /* Content-MD5 / x-ms-content-crc64 as the service checks them */
			return respond(r, rlen, 400, bad, 0);
		rc = b->ops->put(b->store, h->container, h->blob, r->data, r->data_valid);
		code = 201;
	} else if (!strcmp(h->method, "GET")) {
		rc = b->ops->get(b->store, h->container, h->blob, r->data, r->data_len, &size);
		if (rc == -ENOSPC) {
			/* The blob does not fit the data buffer: say how big it is. */
			uint32_t st = respond(r, rlen, 200, NULL, size);

			return st ? st : AZBLOB_VSP_STATUS_BUFFER_TOO_SMALL;
		}
		*dout = rc ? 0 : (uint32_t)size;
		code = 200;
	} else if (!strcmp(h->method, "HEAD")) {
		rc = b->ops->get(b->store, h->container, h->blob, NULL, 0, &size);
		if (rc == -ENOSPC)
			rc = 0;
		code = 200;
	} else if (!strcmp(h->method, "DELETE")) {
		rc = b->ops->del(b->store, h->container, h->blob);
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
    {"memory", sim_mem_backend_open, sim_mem_backend_handle, sim_mem_backend_close},
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
