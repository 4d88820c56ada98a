// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Fuzz target: malformed response heads and List Blobs XML given to
 * libazblob's parsers, and malformed request heads / Put Block List bodies
 * given to the simulator's memory backend. Contract under test: no crash,
 * no out-of-bounds access, no leak; the parsers return 0 or their
 * documented errors, and what they fill is bounded and NUL-terminated;
 * the backend's response and data lengths stay inside the buffers.
 *
 * Input: [0] mode (mod 6), [1] a parameter, then the bytes:
 *   0  response head                    -> azblob_blob_parse_response, and
 *      the ranged Get's lean parser (az_blob_parse_get), which must agree
 *      with it: same result, same status, length, range and head length
 *   1  EnumerationResults XML           -> azblob_blob_parse_list
 *   2  a valid response head, mutated   -> azblob_blob_parse_response
 *   3  a valid EnumerationResults, mutated -> azblob_blob_parse_list
 *   4  request head                     -> memory backend handle()
 *   5  Put Block List body              -> memory backend handle()
 * Mutations (modes 2, 3): the bytes are (u16 offset, u8 value) triples
 * applied to the template ([1] picks it), value 0 truncating there.
 * Deterministic inputs such as replay_main.c's random bytes thus mostly
 * exercise the parsers past their first line.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azblob/blob.h>
#include <azblob/sim.h>

#include "../../azblob/blob/blob_internal.h"

#define MAX_IN 8192

static const char *const heads[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"0x8DC1\"\r\n"
    "Last-Modified: Wed, 25 Nov 2026 14:25:23 GMT\r\nContent-Type: text/plain\r\n"
    "Content-MD5: rO2M/yWmDYnYDx2TdMYdIg==\r\nx-ms-blob-type: BlockBlob\r\n"
    "x-ms-request-id: 1d8e0a3c-0001\r\n\r\n",
    "HTTP/1.1 206 Partial Content\r\nContent-Length: 32\r\n"
    "Content-Range: bytes 1000-1031/100000\r\nETag: \"0x1\"\r\n\r\n",
    "HTTP/1.1 416 The range specified is invalid for the current size of the resource.\r\n"
    "Content-Length: 0\r\nContent-Range: bytes */5000\r\nx-ms-error-code: InvalidRange\r\n\r\n",
    "HTTP/1.1 404 The specified blob does not exist.\r\nContent-Length: 215\r\n"
    "x-ms-error-code: BlobNotFound\r\nx-ms-request-id: abc\r\n\r\n<?xml version=\"1.0\" "
    "encoding=\"utf-8\"?><Error><Code>BlobNotFound</Code><Message>The specified blob does "
    "not exist.</Message></Error>",
};

static const char *const lists[] = {
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<EnumerationResults "
    "ServiceEndpoint=\"http://127.0.0.1/devstoreaccount1\" ContainerName=\"c\">"
    "<Prefix>dir/</Prefix><MaxResults>2</MaxResults><Delimiter>/</Delimiter><Blobs>"
    "<Blob><Name>dir/a</Name><Properties><Last-Modified>Wed, 25 Nov 2026 14:25:23 "
    "GMT</Last-Modified><Etag>0x8DC1</Etag><Content-Length>100</Content-Length>"
    "<Content-Type>text/plain</Content-Type><BlobType>BlockBlob</BlobType></Properties></Blob>"
    "<BlobPrefix><Name>dir/sub/</Name></BlobPrefix></Blobs>"
    "<NextMarker>2!12!ZGlyL2I-</NextMarker></EnumerationResults>",
    "<?xml version=\"1.0\"?><EnumerationResults><Blobs><Blob><Name>&amp;&#x41;&lt;</Name>"
    "<Properties><Content-Length>18446744073709551615</Content-Length></Properties></Blob>"
    "</Blobs><NextMarker/></EnumerationResults>",
};

static void check_str(const char *s, size_t cap)
{
	if (strnlen(s, cap) >= cap)
		abort();
}

static void fuzz_head(const uint8_t *b, size_t n)
{
	struct azblob_blob_resp r;
	struct az_get_head g;
	int rc = azblob_blob_parse_response(b, n, &r);

	if (az_blob_parse_get(b, n, &g) != rc ||
	    (!rc && (g.http_status != r.http_status || g.content_length != r.content_length ||
		     g.has_range != r.has_range || g.range_first != r.range_first ||
		     g.range_last != r.range_last || g.range_total != r.range_total ||
		     g.head_len != r.head_len)))
		abort();
	if (rc && rc != -EPROTO)
		abort();
	if (rc)
		return;
	if (r.head_len > n || r.http_status < 0 || r.content_length < -1)
		abort();
	check_str(r.reason, sizeof(r.reason));
	check_str(r.etag, sizeof(r.etag));
	check_str(r.last_modified, sizeof(r.last_modified));
	check_str(r.content_type, sizeof(r.content_type));
	check_str(r.content_md5, sizeof(r.content_md5));
	check_str(r.blob_type, sizeof(r.blob_type));
	check_str(r.error_code, sizeof(r.error_code));
	check_str(r.request_id, sizeof(r.request_id));
	if (r.has_range && r.range_last < r.range_first)
		abort();
}

struct list_ctx {
	unsigned items, stop_after;
};

static int list_cb(void *user, const struct azblob_blob_item *it)
{
	struct list_ctx *x = user;
	volatile size_t sink = 0;

	if (!it->name)
		abort();
	sink += strlen(it->name);
	if (!it->is_prefix) {
		if (it->etag)
			sink += strlen(it->etag);
		if (it->last_modified)
			sink += strlen(it->last_modified);
		if (it->content_type)
			sink += strlen(it->content_type);
		if (it->blob_type)
			sink += strlen(it->blob_type);
	}
	(void)sink;
	return ++x->items == x->stop_after ? 77 : 0;
}

static void fuzz_list(const uint8_t *b, size_t n, uint8_t param)
{
	struct list_ctx x = {.stop_after = param & 0x0f};
	char next[64];
	size_t cap = (param & 0x10) ? 4 : sizeof(next);
	int rc;

	memset(next, 0x5a, sizeof(next));
	rc = azblob_blob_parse_list(b, n, list_cb, &x, (param & 0x20) ? NULL : next, cap);
	if (rc && rc != -EBADMSG && rc != -EPROTO && rc != -ENAMETOOLONG && rc != 77)
		abort();
	if (!(param & 0x20) && !rc)
		check_str(next, cap);
}

/* The template [param] with the triples of b applied. */
static size_t mutate(const char *const *tpl, size_t ntpl, uint8_t param, const uint8_t *b, size_t n,
		     uint8_t *out)
{
	const char *t = tpl[param % ntpl];
	size_t len = strlen(t);

	memcpy(out, t, len);
	for (size_t i = 0; i + 3 <= n; i += 3) {
		size_t off = ((size_t)b[i] | (size_t)b[i + 1] << 8) % len;

		if (!b[i + 2]) {
			len = off;
			if (!len)
				break;
		} else {
			out[off] = b[i + 2];
		}
	}
	return len;
}

/* ---- the memory backend ---- */

struct be {
	const struct azblob_sim_backend *ops;
	void *state;
};

static uint8_t resp[4096], data[MAX_IN + 4096];

static uint32_t be_req(struct be *be, const void *head, size_t hlen, uint32_t resp_cap,
		       uint32_t data_len, uint32_t data_valid)
{
	struct azblob_sim_req r;
	uint32_t rlen = 0, dout = 0, st;

	memset(&r, 0, sizeof(r));
	r.trans_id = 1;
	r.timeout_ms = 1000;
	r.request = head;
	r.request_len = (uint32_t)hlen;
	r.response = resp;
	r.response_cap = resp_cap;
	r.data = data;
	r.data_len = data_len;
	r.data_valid = data_valid;
	st = be->ops->handle(be->state, &r, &rlen, &dout);
	if (rlen > resp_cap || dout > data_len)
		abort();
	return st;
}

static void be_str(struct be *be, const char *head, const char *body)
{
	size_t bl = body ? strlen(body) : 0;

	if (bl)
		memcpy(data, body, bl);
	be_req(be, head, strlen(head), sizeof(resp), sizeof(data), (uint32_t)bl);
}

static void fuzz_backend(const uint8_t *b, size_t n, uint8_t param, bool blocklist)
{
	static uint8_t head[MAX_IN];
	struct be be = {.ops = azblob_sim_backend_find("memory")};
	uint32_t resp_cap = (param & 1) ? 64u + (uint32_t)(param >> 1) : (uint32_t)sizeof(resp);

	if (!be.ops || be.ops->open(&be.state, NULL, NULL))
		abort();
	/* Something to find: a container, a blob, an uncommitted block. */
	be_str(&be, "PUT /c?restype=container HTTP/1.1\r\nx-ms-version: 2021-08-06\r\n\r\n", NULL);
	be_str(&be, "PUT /c/b HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\n\r\n", "hello, world");
	be_str(&be, "PUT /c/d/e HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\n\r\n", "x");
	be_str(&be, "PUT /c/k?comp=block&blockid=QUFBQQ%3D%3D HTTP/1.1\r\n\r\n", "block");
	if (blocklist) {
		static const char h[] = "PUT /c/k?comp=blocklist HTTP/1.1\r\n"
					"Content-Type: application/xml\r\n\r\n";

		memcpy(data, b, n);
		be_req(&be, h, sizeof(h) - 1, resp_cap, sizeof(data), (uint32_t)n);
		be_str(&be, "GET /c/k HTTP/1.1\r\n\r\n", NULL);
	} else {
		/* The head in a buffer of exactly its length (ASan sees any
		 * read past it); a small data buffer when param says so. */
		uint32_t dl = (param & 2) ? 3 : sizeof(data);

		memcpy(head, b, n);
		memset(data, 0x61, 64);
		be_req(&be, head, n, resp_cap, dl, (param & 4) ? (dl < 64 ? dl : 64) : 0);
		be_str(&be, "GET /c?restype=container&comp=list HTTP/1.1\r\n\r\n", NULL);
	}
	be.ops->close(be.state);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	static uint8_t buf[MAX_IN];
	const uint8_t *b;
	uint8_t mode, param;
	size_t len;

	if (n < 2)
		return 0;
	mode = in[0] % 6;
	param = in[1];
	b = in + 2;
	n -= 2;
	if (n > MAX_IN)
		n = MAX_IN;
	switch (mode) {
	case 0:
		/* A copy of exactly n bytes: no terminator to lean on. */
		len = n;
		memcpy(buf, b, len);
		fuzz_head(buf, len);
		break;
	case 1:
		memcpy(buf, b, n);
		fuzz_list(buf, n, param);
		break;
	case 2:
		len = mutate(heads, sizeof(heads) / sizeof(heads[0]), param, b, n, buf);
		fuzz_head(buf, len);
		break;
	case 3:
		len = mutate(lists, sizeof(lists) / sizeof(lists[0]), param, b, n, buf);
		fuzz_list(buf, len, (uint8_t)(param >> 1));
		break;
	case 4:
		if (n)
			fuzz_backend(b, n, param, false);
		break;
	default:
		fuzz_backend(b, n, param, true);
		break;
	}
	return 0;
}
