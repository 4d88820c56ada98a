/* The memory backend's Azure Blob operations (docs/FORMAT.md): each
 * operation and error code, called directly on the backend, plus a block
 * upload and ranged reads through the whole guest path. Built a second
 * time with BLOB_OPS_DIR (test_sim_blob_ops_dir.c): the same on the dir
 * backend, on a new directory per test. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mem_fixture.h"
#include "sim_guest.h"

static const struct azblob_sim_backend *be;
static void *st;
static char R[8192];  /* the last response head (+ error body), NUL-terminated */
static uint32_t S, D; /* completion status, data bytes out */
static uint8_t out[(1 << 16) + 1];

#ifdef BLOB_OPS_DIR
#define BACKEND "dir"
static char dir[64]; /* the test's directory, removed at the end */

static const char *open_arg(const char *max)
{
	static char a[160];

	snprintf(a, sizeof(a), "%s%s%s", dir, max ? "," : "", max ? max : "");
	return a;
}
#else
#define BACKEND "memory"
static const char *open_arg(const char *max)
{
	return max;
}
#endif

static void init(void)
{
#ifdef BLOB_OPS_DIR
	snprintf(dir, sizeof(dir), "/tmp/sim-blob-ops-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
#endif
	be = azblob_sim_backend_find(BACKEND);
	cr_assert_not_null(be);
	cr_assert_eq(be->open(&st, open_arg(NULL), NULL), 0);
}

static void fini(void)
{
	be->close(st);
#ifdef BLOB_OPS_DIR
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
#endif
}

/* One request: head = fmt (without the final empty line), body (PUT) or
 * the out buffer (dst, cap) for reads. Returns the HTTP status. */
static int vreq(const void *body, uint32_t blen, void *dst, uint32_t cap, const char *fmt,
		va_list ap)
{
	char head[8192];
	int n = vsnprintf(head, sizeof(head) - 2, fmt, ap);
	struct azblob_sim_req r = {0};
	uint32_t rlen = 0;

	cr_assert(n > 0 && (size_t)n < sizeof(head) - 2);
	memcpy(head + n, "\r\n", 3);
	r.request = (const uint8_t *)head;
	r.request_len = (uint32_t)n + 2;
	r.response = (uint8_t *)R;
	r.response_cap = sizeof(R) - 1;
	if (body) {
		r.data = (uint8_t *)(uintptr_t)body;
		r.data_len = r.data_valid = blen;
	} else {
		r.data = dst;
		r.data_len = cap;
	}
	S = be->handle(st, &r, &rlen, &D);
	cr_assert_leq(rlen, r.response_cap);
	R[rlen] = 0;
	return rlen > 12 ? atoi(R + 9) : -1;
}

static int req(const char *fmt, ...)
{
	va_list ap;
	int c;

	va_start(ap, fmt);
	c = vreq(NULL, 0, out, sizeof(out) - 1, fmt, ap);
	out[D] = 0; /* for the XML checks */
	va_end(ap);
	return c;
}

static int put(const void *body, uint32_t len, const char *fmt, ...)
{
	va_list ap;
	int c;

	va_start(ap, fmt);
	c = vreq(body, len, NULL, 0, fmt, ap);
	va_end(ap);
	return c;
}

static int get_into(void *dst, uint32_t cap, const char *fmt, ...)
{
	va_list ap;
	int c;

	va_start(ap, fmt);
	c = vreq(NULL, 0, dst, cap, fmt, ap);
	va_end(ap);
	return c;
}

/* A header's value in R ("" when absent). */
static const char *hdr(const char *name)
{
	static char v[512];
	char key[128];
	const char *p, *e;

	snprintf(key, sizeof(key), "\r\n%s: ", name);
	p = strstr(R, key);
	if (!p)
		return "";
	p += strlen(key);
	e = strstr(p, "\r\n");
	snprintf(v, sizeof(v), "%.*s", (int)(e - p), p);
	return v;
}

static bool err_is(int code, const char *err)
{
	char b[128];

	snprintf(b, sizeof(b), "<Code>%s</Code>", err);
	return atoi(R + 9) == code && !strcmp(hdr("x-ms-error-code"), err) && strstr(R, b) &&
	       S == 0;
}

static bool etag_ok(const char *e)
{
	size_t n = strlen(e);

	if (n < 17 || e[0] != '"' || e[n - 1] != '"' || strncmp(e + 1, "0x", 2))
		return false;
	for (size_t i = 3; i < n - 1; i++)
		if (!strchr("0123456789ABCDEF", e[i]))
			return false;
	return true;
}

static bool date_ok(const char *d)
{
	struct tm tm = {0};
	const char *e = strptime(d, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	time_t now = time(NULL), t;

	if (!e || *e || strlen(d) != 29)
		return false;
	t = timegm(&tm);
	return t <= now + 1 && t >= now - 60;
}

TestSuite(blob_ops, .init = init, .fini = fini);

Test(blob_ops, containers)
{
	cr_expect_eq(req("PUT /box?restype=container HTTP/1.1\r\n"), 201);
	cr_expect(!strncmp(R, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n", 41), "%s", R);
	cr_expect(etag_ok(hdr("ETag")), "%s", R);
	cr_expect(date_ok(hdr("Last-Modified")), "%s", R);
	cr_expect_eq(strlen(hdr("x-ms-request-id")), 36u);
	cr_expect_str_eq(hdr("x-ms-version"), "2021-08-06");

	cr_expect_eq(req("PUT /box?restype=container HTTP/1.1\r\n"), 409);
	cr_expect(err_is(409, "ContainerAlreadyExists"), "%s", R);
	cr_expect(strstr(R, "\r\n\r\n<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>"));
	cr_expect_eq(req("HEAD /box?restype=container HTTP/1.1\r\n"), 200);
	cr_expect_eq(req("GET /box?restype=container HTTP/1.1\r\n"), 200);
	cr_expect(etag_ok(hdr("ETag")));
	cr_expect_eq(req("HEAD /nope?restype=container HTTP/1.1\r\n"), 404);
	cr_expect_str_eq(hdr("x-ms-error-code"), "ContainerNotFound");
	cr_expect(strstr(R, "Content-Length: 0\r\n") && !strstr(R, "<Error>"), "HEAD: no body");

	static const char *const bad[] = {"Box", "a--b", "-ab", "ab-", "a_b", "b%21x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(req("PUT /%s?restype=container HTTP/1.1\r\n", bad[i]), 400, "%s",
			     bad[i]);
		cr_expect(err_is(400, "InvalidResourceName"), "%s: %s", bad[i], R);
	}
	/* lengths outside 3..63: OutOfRangeInput, as Azure and Azurite answer */
	static const char *const len_bad[] = {
	    "ab", "0123456789012345678901234567890123456789012345678901234567890123"};
	for (size_t i = 0; i < sizeof(len_bad) / sizeof(len_bad[0]); i++) {
		cr_expect_eq(req("PUT /%s?restype=container HTTP/1.1\r\n", len_bad[i]), 400, "%s",
			     len_bad[i]);
		cr_expect(err_is(400, "OutOfRangeInput"), "%s: %s", len_bad[i], R);
	}
	cr_expect_eq(req("PUT /a-b-c?restype=container HTTP/1.1\r\n"), 201);

	cr_expect_eq(put("x", 1, "PUT /box/b HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\n"), 201);
	cr_expect_eq(req("DELETE /box?restype=container HTTP/1.1\r\n"), 202);
	cr_expect(!strncmp(R, "HTTP/1.1 202 Accepted\r\n", 23));
	cr_expect_eq(req("DELETE /box?restype=container HTTP/1.1\r\n"), 404);
	cr_expect(err_is(404, "ContainerNotFound"));
	cr_expect_eq(req("GET /box/b HTTP/1.1\r\n"), 404);
	cr_expect(err_is(404, "ContainerNotFound"));
	cr_expect_eq(put("x", 1, "PUT /box/b HTTP/1.1\r\n"), 404);
	cr_expect(err_is(404, "ContainerNotFound"));
	cr_expect_eq(req("PUT /box?restype=container HTTP/1.1\r\n"), 201,
		     "deleted: can be made again");
	cr_expect_eq(req("GET /box/b HTTP/1.1\r\n"), 404);
	cr_expect(err_is(404, "BlobNotFound"), "its blobs went with it");
}

Test(blob_ops, put_get_head_delete)
{
	uint8_t body[100];
	char etag[64], etag2[64];

	for (int i = 0; i < 100; i++)
		body[i] = (uint8_t)(i * 3 + 1);
	req("PUT /box?restype=container HTTP/1.1\r\n");
	cr_expect_eq(put(body, 100, "PUT /box/dir/a.bin HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\n"),
		     201);
	cr_expect(!strncmp(R, "HTTP/1.1 201 Created\r\n", 22), "%s", R);
	cr_expect(etag_ok(hdr("ETag")), "%s", R);
	cr_expect(date_ok(hdr("Last-Modified")));
	snprintf(etag, sizeof(etag), "%s", hdr("ETag"));

	memset(out, 0, sizeof(out));
	cr_expect_eq(req("GET /box/dir/a.bin HTTP/1.1\r\n"), 200);
	cr_expect(!strncmp(R, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n", 38), "%s", R);
	cr_expect_eq(D, 100u);
	cr_expect_arr_eq(out, body, 100);
	cr_expect_str_eq(hdr("ETag"), etag);
	cr_expect_str_eq(hdr("x-ms-blob-type"), "BlockBlob");
	cr_expect_str_eq(hdr("Accept-Ranges"), "bytes");
	cr_expect_str_eq(hdr("Content-Range"), "");
	cr_expect(date_ok(hdr("Last-Modified")));

	/* Overwrite: a new ETag. */
	body[0] ^= 0xff;
	cr_expect_eq(put(body, 100, "PUT /box/dir/a.bin HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\n"),
		     201);
	snprintf(etag2, sizeof(etag2), "%s", hdr("ETag"));
	cr_expect(etag_ok(etag2) && strcmp(etag, etag2), "%s %s", etag, etag2);

	/* HEAD: the properties, no data. */
	memset(out, 0xee, 16);
	cr_expect_eq(req("HEAD /box/dir/a.bin HTTP/1.1\r\n"), 200);
	cr_expect_str_eq(hdr("Content-Length"), "100");
	cr_expect_str_eq(hdr("ETag"), etag2);
	cr_expect_str_eq(hdr("x-ms-blob-type"), "BlockBlob");
	cr_expect_eq(D, 0u);
	cr_expect_eq(out[1], 0xee);
	cr_expect_eq(req("HEAD /box/nope HTTP/1.1\r\n"), 404);
	cr_expect_str_eq(hdr("x-ms-error-code"), "BlobNotFound");
	cr_expect(!strstr(R, "<Error>"));

	/* Content-MD5 of a Put Blob (and of a Put Block), as the service. */
	cr_expect_eq(put("hello world", 11, "PUT /box/h HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\n"),
		     201);
	cr_expect_str_eq(hdr("Content-MD5"), "XrY7u+Ae7tCTyyK7j1rNww==");
	cr_expect_eq(req("GET /box/h HTTP/1.1\r\n"), 200);
	cr_expect_str_eq(hdr("Content-MD5"), "XrY7u+Ae7tCTyyK7j1rNww==");
	cr_expect(date_ok(hdr("x-ms-creation-time")));
	cr_expect_str_eq(hdr("x-ms-lease-state"), "available");
	cr_expect_eq(req("GET /box/h HTTP/1.1\r\nRange: bytes=0-1\r\n"), 206);
	cr_expect_str_eq(hdr("Content-MD5"), "");
	cr_expect_str_eq(hdr("x-ms-blob-content-md5"), "XrY7u+Ae7tCTyyK7j1rNww==");
	cr_expect_eq(put("hello world", 11,
			 "PUT /box/h2?comp=block&blockid=QUJD HTTP/1.1\r\n"
			 "Content-MD5: XrY7u+Ae7tCTyyK7j1rNww==\r\n"),
		     201);
	cr_expect_str_eq(hdr("Content-MD5"), "XrY7u+Ae7tCTyyK7j1rNww==");
	cr_expect_str_eq(hdr("x-ms-content-crc64"), "");
	/* Without Content-MD5 the service answers the body's CRC-64. */
	cr_expect_eq(put("hello world", 11, "PUT /box/h2?comp=block&blockid=QUJD HTTP/1.1\r\n"),
		     201);
	cr_expect_str_eq(hdr("Content-MD5"), "");
	cr_expect_str_eq(hdr("x-ms-content-crc64"), "vo7q9sPVKY0=");

	/* Only block blobs; an empty blob. */
	cr_expect_eq(put(body, 100, "PUT /box/p HTTP/1.1\r\nx-ms-blob-type: PageBlob\r\n"), 400);
	cr_expect(err_is(400, "InvalidHeaderValue"));
	cr_expect_eq(put(body, 0, "PUT /box/empty HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\n"), 201);
	cr_expect_eq(req("GET /box/empty HTTP/1.1\r\n"), 200);
	cr_expect_str_eq(hdr("Content-Length"), "0");
	cr_expect_eq(req("GET /box/empty HTTP/1.1\r\nRange: bytes=0-\r\n"), 416);

	/* A data buffer too small: the size in Content-Length. */
	uint8_t small[10];

	cr_expect_eq(get_into(small, sizeof(small), "GET /box/dir/a.bin HTTP/1.1\r\n"), 200);
	cr_expect_eq(S, AZBLOB_VSP_STATUS_BUFFER_TOO_SMALL);
	cr_expect_str_eq(hdr("Content-Length"), "100");

	/* Delete. */
	cr_expect_eq(req("DELETE /box/dir/a.bin HTTP/1.1\r\n"), 202);
	cr_expect(!strncmp(R, "HTTP/1.1 202 Accepted\r\n", 23));
	cr_expect_eq(req("DELETE /box/dir/a.bin HTTP/1.1\r\n"), 404);
	cr_expect(err_is(404, "BlobNotFound"));
	cr_expect_eq(req("GET /box/dir/a.bin HTTP/1.1\r\n"), 404);
	cr_expect(err_is(404, "BlobNotFound"));
	cr_expect(strstr(R, "Content-Type: application/xml\r\n"));
}

/* Content-MD5 and x-ms-content-crc64 of a body are checked, as the service
 * checks them: a mismatch is 400 Md5Mismatch / Crc64Mismatch and nothing is
 * stored. */
Test(blob_ops, body_checksums)
{
	static const char *const puts[] = {
	    "PUT /box/c HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\n",
	    "PUT /box/c?comp=block&blockid=QUJD HTTP/1.1\r\n",
	};

	req("PUT /box?restype=container HTTP/1.1\r\n");
	for (int i = 0; i < 2; i++) {
		const char *p = puts[i];

		cr_expect_eq(put("hello world", 11, "%sx-ms-content-crc64: vo7q9sPVKY0=\r\n", p),
			     201);
		cr_expect_str_eq(hdr("x-ms-content-crc64"), "vo7q9sPVKY0=");
		cr_expect_eq(put("hello world", 11, "%sx-ms-content-crc64: DtjZpL9/o8c=\r\n", p),
			     400);
		cr_expect(err_is(400, "Crc64Mismatch"), "%s", R);
		cr_expect_eq(put("hello world", 11, "%sx-ms-content-crc64: vo7q9sPVKY0\r\n", p),
			     400);
		cr_expect(err_is(400, "InvalidHeaderValue"), "%s", R);
		cr_expect_eq(
		    put("hello world", 11, "%sContent-MD5: XrY7u+Ae7tCTyyK7j1rNwx==\r\n", p), 400);
		cr_expect(err_is(400, "Md5Mismatch"), "%s", R);
		cr_expect_eq(put("hello world", 11, "%sContent-MD5: XrY7u+Ae7tCTyyK7\r\n", p), 400);
		cr_expect(err_is(400, "InvalidMd5"), "%s", R);
		cr_expect_eq(put("hello world", 11,
				 "%sContent-MD5: XrY7u+Ae7tCTyyK7j1rNww==\r\n"
				 "x-ms-content-crc64: vo7q9sPVKY0=\r\n",
				 p),
			     400);
		cr_expect(err_is(400, "InvalidHeaderValue"), "%s", R);
	}
	/* The blob put whole with a good CRC is there; the bad ones stored nothing. */
	cr_expect_eq(put("HELLO WORLD", 11,
			 "PUT /box/c HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\n"
			 "x-ms-content-crc64: vo7q9sPVKY0=\r\n"),
		     400);
	cr_expect_eq(req("GET /box/c HTTP/1.1\r\n"), 200);
	cr_expect_str_eq((const char *)out, "hello world");
	cr_expect_str_eq(hdr("Content-MD5"), "XrY7u+Ae7tCTyyK7j1rNww==");
}

Test(blob_ops, ranges)
{
	uint8_t body[100];

	for (int i = 0; i < 100; i++)
		body[i] = (uint8_t)i;
	req("PUT /box?restype=container HTTP/1.1\r\n");
	put(body, 100, "PUT /box/r HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\n");

	cr_expect_eq(req("GET /box/r HTTP/1.1\r\nRange: bytes=10-19\r\n"), 206);
	cr_expect(!strncmp(R, "HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n", 50), "%s",
		  R);
	cr_expect_str_eq(hdr("Content-Range"), "bytes 10-19/100");
	cr_expect_eq(D, 10u);
	cr_expect_arr_eq(out, body + 10, 10);

	cr_expect_eq(req("GET /box/r HTTP/1.1\r\nRange: bytes=0-0\r\nx-ms-range: bytes=90-\r\n"),
		     206);
	cr_expect_str_eq(hdr("Content-Range"), "bytes 90-99/100", "x-ms-range wins");
	cr_expect_arr_eq(out, body + 90, 10);
	cr_expect_eq(req("GET /box/r HTTP/1.1\r\nx-ms-range: bytes=95-1000\r\n"), 206);
	cr_expect_str_eq(hdr("Content-Range"), "bytes 95-99/100");
	cr_expect_str_eq(hdr("Content-Length"), "5");
	cr_expect_eq(req("GET /box/r HTTP/1.1\r\nRange: bytes=99-99\r\n"), 206);
	cr_expect_eq(out[0], 99);

	cr_expect_eq(req("GET /box/r HTTP/1.1\r\nRange: bytes=100-\r\n"), 416);
	cr_expect(err_is(416, "InvalidRange"), "%s", R);
	cr_expect(!strncmp(R, "HTTP/1.1 416 Range Not Satisfiable\r\n", 36));
	cr_expect_str_eq(hdr("Content-Range"), "bytes */100");
	cr_expect_eq(D, 0u);

	/* Not a usable range: the whole blob, as HTTP says. */
	cr_expect_eq(req("GET /box/r HTTP/1.1\r\nRange: bytes=20-10\r\n"), 200);
	cr_expect_eq(req("GET /box/r HTTP/1.1\r\nRange: items=1-2\r\n"), 200);
	cr_expect_eq(D, 100u);
	cr_expect_eq(req("HEAD /box/r HTTP/1.1\r\nRange: bytes=0-9\r\n"), 200, "no ranges");
	cr_expect_str_eq(hdr("Content-Length"), "100");
	cr_expect_eq(D, 0u);
}

static const char *id(int i)
{
	static char b[4][16];
	char raw[7];

	/* base64 of "blk%03d" (6 bytes -> 8 chars, no padding). */
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = b[i & 3];

	snprintf(raw, sizeof(raw), "blk%03d", i);
	for (int k = 0; k < 2; k++) {
		uint32_t v = (uint32_t)(uint8_t)raw[3 * k] << 16 |
			     (uint32_t)(uint8_t)raw[3 * k + 1] << 8 | (uint8_t)raw[3 * k + 2];

		o[4 * k] = t[v >> 18];
		o[4 * k + 1] = t[(v >> 12) & 63];
		o[4 * k + 2] = t[(v >> 6) & 63];
		o[4 * k + 3] = t[v & 63];
	}
	o[8] = 0;
	return o;
}

static int commit(const char *xml)
{
	return put(xml, (uint32_t)strlen(xml), "PUT /box/big?comp=blocklist HTTP/1.1\r\n");
}

Test(blob_ops, blocks)
{
	char xml[1024], etag[64];

	req("PUT /box?restype=container HTTP/1.1\r\n");
	cr_expect_eq(put("AAAA", 4, "PUT /box/big?comp=block&blockid=%s HTTP/1.1\r\n", id(1)), 201);
	cr_expect(!strncmp(R, "HTTP/1.1 201 Created\r\n", 22));
	cr_expect_str_eq(hdr("ETag"), "", "Put Block: no ETag");
	cr_expect_eq(put("BB", 2, "PUT /box/big?comp=block&blockid=%s HTTP/1.1\r\n", id(2)), 201);
	/* Percent-encoded id ("=" as %3D would be too; '+' and '/' too). */
	cr_expect_eq(
	    put("C", 1, "PUT /box/big?comp=block&blockid=%.6s%%3D%%3D HTTP/1.1\r\n", id(3)), 201);

	/* Uncommitted: invisible. */
	cr_expect_eq(req("GET /box/big HTTP/1.1\r\n"), 404);
	cr_expect(err_is(404, "BlobNotFound"));
	cr_expect_eq(req("GET /box?restype=container&comp=list HTTP/1.1\r\n"), 200);
	cr_expect(!strstr((char *)out, "<Name>big</Name>"));
	cr_expect_eq(req("DELETE /box/big HTTP/1.1\r\n"), 404);

	/* Committed in another order: 3, 1, 2. */
	char id3[16];

	snprintf(id3, sizeof(id3), "%.6s==", id(3));
	snprintf(xml, sizeof(xml),
		 "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<BlockList>\n  <Latest>%s</Latest>\n"
		 "  <Uncommitted>%s</Uncommitted>\n  <Latest> %s </Latest>\n</BlockList>",
		 id3, id(1), id(2));
	cr_expect_eq(commit(xml), 201, "%s", R);
	cr_expect(etag_ok(hdr("ETag")));
	cr_expect(date_ok(hdr("Last-Modified")));
	snprintf(etag, sizeof(etag), "%s", hdr("ETag"));
	cr_expect_eq(req("GET /box/big HTTP/1.1\r\n"), 200);
	cr_expect_eq(D, 7u);
	cr_expect(!memcmp(out, "CAAAABB", 7));
	cr_expect_str_eq(hdr("ETag"), etag);
	cr_expect_eq(req("GET /box/big HTTP/1.1\r\nRange: bytes=3-5\r\n"), 206);
	cr_expect(!memcmp(out, "AAB", 3));

	/* The uncommitted list was cleared: 1 is only committed now. */
	snprintf(xml, sizeof(xml), "<BlockList><Uncommitted>%s</Uncommitted></BlockList>", id(1));
	cr_expect_eq(commit(xml), 400);
	cr_expect(err_is(400, "InvalidBlockList"), "%s", R);
	/* Committed blocks reused with a new one; a block twice. */
	cr_expect_eq(put("DDD", 3, "PUT /box/big?comp=block&blockid=%s HTTP/1.1\r\n", id(4)), 201);
	cr_expect_eq(req("GET /box/big HTTP/1.1\r\n"), 200);
	cr_expect_eq(D, 7u, "a staged block changes nothing");
	snprintf(xml, sizeof(xml),
		 "<BlockList><Committed>%s</Committed><Latest>%s</Latest>"
		 "<Committed>%s</Committed></BlockList>",
		 id(2), id(4), id(2));
	cr_expect_eq(commit(xml), 201);
	cr_expect(strcmp(hdr("ETag"), etag));
	cr_expect_eq(req("GET /box/big HTTP/1.1\r\n"), 200);
	cr_expect_eq(D, 7u);
	cr_expect(!memcmp(out, "BBDDDBB", 7), "%.7s", out);

	/* Errors. */
	snprintf(xml, sizeof(xml), "<BlockList><Latest>%s</Latest></BlockList>", id(9));
	cr_expect_eq(commit(xml), 400);
	cr_expect(err_is(400, "InvalidBlockList"));
	snprintf(xml, sizeof(xml), "<BlockList><Committed>%s</Committed></BlockList>", id(1));
	cr_expect_eq(commit(xml), 400, "1 left the committed list");
	cr_expect(err_is(400, "InvalidBlockList"));
	static const char *const bad_xml[] = {
	    "",
	    "<BlockList>",
	    "<BlockList><Latest>x</Latest>",
	    "<Other/>",
	    "<BlockList><Foo>QUJD</Foo></BlockList>",
	    "<BlockList><Latest><X/></Latest></BlockList>",
	    "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><BlockList/>",
	    "<BlockList>text<Latest>QUJD</Latest></BlockList>",
	    "not xml at all",
	    "<BlockList></BlockList><BlockList/>"};
	for (size_t i = 0; i < sizeof(bad_xml) / sizeof(bad_xml[0]); i++) {
		cr_expect_eq(commit(bad_xml[i]), 400, "%s", bad_xml[i]);
		cr_expect(err_is(400, "InvalidXmlDocument"), "%s: %s", bad_xml[i], R);
	}
	cr_expect_eq(req("GET /box/big HTTP/1.1\r\n"), 200);
	cr_expect(!memcmp(out, "BBDDDBB", 7), "failed commits change nothing");

	cr_expect_eq(put("x", 1, "PUT /box/big?comp=block&blockid=QUJD HTTP/1.1\r\n"), 400);
	cr_expect(err_is(400, "InvalidBlobOrBlock"), "ids of one blob have one length");
	cr_expect_eq(put("x", 1, "PUT /box/other?comp=block&blockid=QUJD HTTP/1.1\r\n"), 201);
	cr_expect_eq(put("x", 1, "PUT /box/other?comp=block&blockid=QU%%JD HTTP/1.1\r\n"), 400);
	cr_expect(err_is(400, "InvalidQueryParameterValue"));
	cr_expect_eq(put("x", 1, "PUT /box/other?comp=block&blockid=QUJ HTTP/1.1\r\n"), 400);
	cr_expect(err_is(400, "InvalidQueryParameterValue"));
	cr_expect_eq(put("x", 1, "PUT /box/other?comp=block&blockid=QU=D HTTP/1.1\r\n"), 400);
	cr_expect_eq(put("x", 1, "PUT /box/other?comp=block HTTP/1.1\r\n"), 400);
	cr_expect(err_is(400, "MissingRequiredQueryParameter"));
	cr_expect_eq(put("x", 1, "PUT /nobox/other?comp=block&blockid=QUJD HTTP/1.1\r\n"), 404);
	cr_expect(err_is(404, "ContainerNotFound"));
	/* Put Blob drops the staged blocks and the id length. */
	cr_expect_eq(put("z", 1, "PUT /box/other HTTP/1.1\r\n"), 201);
	cr_expect_eq(put("x", 1, "PUT /box/other?comp=block&blockid=%s HTTP/1.1\r\n", id(1)), 201);
	/* An empty list commits an empty blob. */
	cr_expect_eq(put("<BlockList/>", 12, "PUT /box/e?comp=blocklist HTTP/1.1\r\n"), 201);
	cr_expect_eq(req("HEAD /box/e HTTP/1.1\r\n"), 200);
	cr_expect_str_eq(hdr("Content-Length"), "0");
}

/* Names in <Name> elements of out (the last list), comma-joined. */
static const char *names(void)
{
	static char b[4096];
	size_t n = 0;

	b[0] = 0;
	for (const char *p = strstr((char *)out, "<Name>"); p; p = strstr(p, "<Name>")) {
		const char *e = strstr(p, "</Name>");

		p += 6;
		n +=
		    (size_t)snprintf(b + n, sizeof(b) - n, "%s%.*s", n ? "," : "", (int)(e - p), p);
	}
	return b;
}

static const char *next_marker(void)
{
	static char b[256];
	const char *p = strstr((char *)out, "<NextMarker>");

	b[0] = 0;
	if (p)
		snprintf(b, sizeof(b), "%.*s", (int)(strstr(p, "</NextMarker>") - p - 12), p + 12);
	for (char *a = strstr(b, "&amp;"); a; a = strstr(a + 1, "&amp;"))
		memmove(a + 1, a + 5, strlen(a + 5) + 1);
	return b;
}

Test(blob_ops, list)
{
	static const char *const all[] = {"a/1", "a/2", "a/3/x", "b", "c/x", "d", "e&f"};
	char got[4096] = "", marker[256] = "";

	req("PUT /box?restype=container HTTP/1.1\r\n");
	for (size_t i = 0; i < 7; i++) {
		char path[64];

		snprintf(path, sizeof(path), "%s", all[i]);
		if (!strcmp(all[i], "e&f"))
			snprintf(path, sizeof(path), "e%%26f");
		cr_expect_eq(put("xy", 2, "PUT /box/%s HTTP/1.1\r\n", path), 201);
	}
	cr_expect_eq(req("GET /box?restype=container&comp=list HTTP/1.1\r\n"), 200);
	cr_expect_str_eq(hdr("Content-Type"), "application/xml");
	cr_expect_eq((uint32_t)atoi(hdr("Content-Length")), D);
	cr_expect(!strncmp((char *)out,
			   "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ", 58));
	cr_expect(strstr((char *)out, "ContainerName=\"box\""));
	cr_expect_str_eq(names(), "a/1,a/2,a/3/x,b,c/x,d,e&amp;f");
	cr_expect(strstr((char *)out, "<Properties><Creation-Time>"));
	cr_expect(strstr((char *)out, "</Creation-Time><Last-Modified>"));
	cr_expect(strstr((char *)out, "<Content-Length>2</Content-Length>"));
	cr_expect(strstr((char *)out, "<BlobType>BlockBlob</BlobType>"));
	cr_expect(strstr((char *)out, "<Etag>0x"), "listed without quotes");
	cr_expect(strstr((char *)out, "</Blobs><NextMarker /></EnumerationResults>"));

	/* Paging by 2 with the marker. */
	for (int page = 0; page < 10; page++) {
		if (marker[0])
			cr_expect_eq(req("GET /box?restype=container&comp=list&maxresults=2"
					 "&marker=%s HTTP/1.1\r\n",
					 marker),
				     200);
		else
			cr_expect_eq(
			    req("GET /box?restype=container&comp=list&maxresults=2 HTTP/1.1\r\n"),
			    200);
		cr_expect(strstr((char *)out, "<MaxResults>2</MaxResults>"));
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", got[0] ? "|" : "",
			 names());
		snprintf(marker, sizeof(marker), "%s", next_marker());
		if (!marker[0])
			break;
		/* The marker goes back percent-encoded ("/" as %2F). */
		char enc[256];
		size_t k = 0;

		for (const char *p = marker; *p; p++)
			k += (size_t)snprintf(enc + k, sizeof(enc) - k,
					      *p == '/'	  ? "%%2F"
					      : *p == '&' ? "%%26"
							  : "%c",
					      *p);
		snprintf(marker, sizeof(marker), "%s", enc);
	}
	cr_expect_str_eq(got, "a/1,a/2|a/3/x,b|c/x,d|e&amp;f");

	/* Prefix and delimiter. */
	cr_expect_eq(req("GET /box?restype=container&comp=list&prefix=a%%2F HTTP/1.1\r\n"), 200);
	cr_expect_str_eq(names(), "a/1,a/2,a/3/x");
	cr_expect(strstr((char *)out, "<Prefix>a/</Prefix>"));
	cr_expect_eq(req("GET /box?restype=container&comp=list&delimiter=%%2F HTTP/1.1\r\n"), 200);
	cr_expect_str_eq(names(), "a/,b,c/,d,e&amp;f");
	cr_expect(strstr((char *)out, "<BlobPrefix><Name>a/</Name></BlobPrefix><Blob><Name>b<"));
	cr_expect(strstr((char *)out, "<Delimiter>/</Delimiter>"));
	cr_expect_eq(req("GET /box?restype=container&comp=list&prefix=a/&delimiter=/ "
			 "HTTP/1.1\r\n"),
		     200);
	cr_expect_str_eq(names(), "a/1,a/2,a/3/");
	/* Prefixes count against maxresults; the marker skips a listed prefix. */
	cr_expect_eq(req("GET /box?restype=container&comp=list&delimiter=/&maxresults=1 "
			 "HTTP/1.1\r\n"),
		     200);
	cr_expect_str_eq(names(), "a/");
	cr_expect_str_eq(next_marker(), "a/3/x", "the last name it covers");
	cr_expect_eq(req("GET /box?restype=container&comp=list&delimiter=/&maxresults=2"
			 "&marker=a/3/x HTTP/1.1\r\n"),
		     200);
	cr_expect_str_eq(names(), "b,c/");
	cr_expect_str_eq(next_marker(), "c/x");
	cr_expect(strstr((char *)out, "<Marker>a/3/x</Marker>"));
	cr_expect_eq(req("GET /box?restype=container&comp=list&maxresults=2&marker=a/2 "
			 "HTTP/1.1\r\n"),
		     200);
	cr_expect_str_eq(names(), "a/3/x,b", "after the marker");

	cr_expect_eq(req("GET /box?restype=container&comp=list&maxresults=0 HTTP/1.1\r\n"), 400);
	cr_expect(err_is(400, "OutOfRangeQueryParameterValue"));
	cr_expect_eq(req("GET /box?restype=container&comp=list&maxresults=x HTTP/1.1\r\n"), 400);
	cr_expect(err_is(400, "InvalidQueryParameterValue"));
	cr_expect_eq(req("GET /nobox?restype=container&comp=list HTTP/1.1\r\n"), 404);
	cr_expect(err_is(404, "ContainerNotFound"));

	/* Too small a data buffer: BUFFER_TOO_SMALL with the size. */
	uint8_t small[64];

	cr_expect_eq(
	    get_into(small, sizeof(small), "GET /box?restype=container&comp=list HTTP/1.1\r\n"),
	    200);
	cr_expect_eq(S, AZBLOB_VSP_STATUS_BUFFER_TOO_SMALL);
	cr_expect_gt(atoi(hdr("Content-Length")), 64);
}

Test(blob_ops, conditions)
{
	char etag[512], h[512]; /* as long as hdr() returns */

	req("PUT /box?restype=container HTTP/1.1\r\n");
	put("abc", 3, "PUT /box/c HTTP/1.1\r\n");
	snprintf(etag, sizeof(etag), "%s", hdr("ETag"));

	cr_expect_eq(req("GET /box/c HTTP/1.1\r\nIf-Match: %s\r\n", etag), 200);
	cr_expect_eq(req("GET /box/c HTTP/1.1\r\nIf-Match: \"0x1\"\r\n"), 412);
	cr_expect(err_is(412, "ConditionNotMet"), "%s", R);
	cr_expect(!strncmp(R, "HTTP/1.1 412 Precondition Failed\r\n", 34));
	cr_expect_eq(req("GET /box/c HTTP/1.1\r\nIf-None-Match: %s\r\n", etag), 304);
	cr_expect_eq(D, 0u);
	cr_expect(!strstr(R, "<Error>"));
	cr_expect_eq(req("GET /box/c HTTP/1.1\r\nIf-None-Match: \"0x1\"\r\n"), 200);
	cr_expect_eq(req("GET /box/c HTTP/1.1\r\nIf-Match: *\r\n"), 200);
	cr_expect_eq(req("GET /box/c HTTP/1.1\r\nIf-None-Match: *\r\n"), 400);
	cr_expect(err_is(400, "UnsatisfiableCondition"));

	cr_expect_eq(put("d", 1, "PUT /box/c HTTP/1.1\r\nIf-None-Match: *\r\n"), 409);
	cr_expect(err_is(409, "BlobAlreadyExists"));
	cr_expect_eq(put("d", 1, "PUT /box/new HTTP/1.1\r\nIf-None-Match: *\r\n"), 201);
	cr_expect_eq(put("d", 1, "PUT /box/c HTTP/1.1\r\nIf-Match: \"0x1\"\r\n"), 412);
	cr_expect(err_is(412, "ConditionNotMet"));
	cr_expect_eq(put("d", 1, "PUT /box/nope HTTP/1.1\r\nIf-Match: %s\r\n", etag), 412);
	cr_expect_eq(put("d", 1, "PUT /box/c HTTP/1.1\r\nIf-Match: %s\r\n", etag), 201);
	snprintf(h, sizeof(h), "%s", hdr("ETag"));
	cr_expect_eq(req("DELETE /box/c HTTP/1.1\r\nIf-Match: %s\r\n", etag), 412, "old ETag");
	cr_expect(err_is(412, "ConditionNotMet"));
	cr_expect_eq(req("DELETE /box/c HTTP/1.1\r\nIf-Match: %s\r\n", h), 202);
	/* On a block list commit too. */
	put("x", 1, "PUT /box/k?comp=block&blockid=QUJD HTTP/1.1\r\n");
	cr_expect_eq(put("<BlockList><Latest>QUJD</Latest></BlockList>", 44,
			 "PUT /box/k?comp=blocklist HTTP/1.1\r\nIf-Match: *\r\n"),
		     412);
	cr_expect_eq(put("<BlockList><Latest>QUJD</Latest></BlockList>", 44,
			 "PUT /box/k?comp=blocklist HTTP/1.1\r\nIf-None-Match: *\r\n"),
		     201);
}

Test(blob_ops, untrusted_heads)
{
	req("PUT /box?restype=container HTTP/1.1\r\n");
	cr_expect_eq(put("q", 1, "PUT /box/my%%20blob%%2Fx HTTP/1.1\r\n"), 201);
	cr_expect_eq(req("GET /box/my blob/x HTTP/1.1\r\n"), 400, "a blank in the target");
	cr_expect(err_is(400, "InvalidHttpRequest"));
	cr_expect_eq(req("GET /box/my%%20blob/x HTTP/1.1\r\n"), 200);
	cr_expect_eq(req("GET /box?restype=container&comp=list HTTP/1.1\r\n"), 200);
	cr_expect_str_eq(names(), "my blob/x");
	cr_expect_eq(req("GET /box/a%%zz HTTP/1.1\r\n"), 400);
	cr_expect_eq(req("GET /box/a%%00b HTTP/1.1\r\n"), 400);
	cr_expect_eq(req("GET /box/a%%2 HTTP/1.1\r\n"), 400);
	cr_expect_eq(req("GET /box/b HTTP/1.0\r\n"), 400);
	cr_expect_eq(req("GET /box/b HTTP/1.1\r\nno colon\r\n"), 400);
	cr_expect_eq(req("get /box/b HTTP/1.1\r\n"), 400);
	cr_expect_eq(req("GET /box HTTP/1.1\r\n"), 400);
	cr_expect(err_is(400, "InvalidUri"));
	cr_expect_eq(req("PATCH /box/b HTTP/1.1\r\n"), 405);
	cr_expect_eq(req("PUT /box/b?comp=appendblock HTTP/1.1\r\n"), 400);

	/* A 1025-byte blob name; 1024 is fine. */
	char name[1100];

	memset(name, 'n', 1025);
	name[1025] = 0;
	cr_expect_eq(put("q", 1, "PUT /box/%s HTTP/1.1\r\n", name), 400);
	name[1024] = 0;
#ifdef BLOB_OPS_DIR
	/* A file name holds 255 bytes: the dir backend refuses longer. */
	cr_expect_eq(put("q", 1, "PUT /box/%s HTTP/1.1\r\n", name), 400);
	cr_expect(err_is(400, "InvalidResourceName"));
	name[255] = 0;
#endif
	cr_expect_eq(put("q", 1, "PUT /box/%s HTTP/1.1\r\n", name), 201);

	/* Random bytes and mutations of a valid head: answers, no crash. */
	char good[] = "PUT /box/f?comp=block&blockid=QUJD HTTP/1.1\r\nRange: bytes=1-2\r\n"
		      "If-Match: *\r\n\r\n";
	uint8_t h[sizeof(good)];
	uint32_t seed = 12345;

	for (int i = 0; i < 20000; i++) {
		struct azblob_sim_req r = {0};
		uint32_t rlen, dout;

		memcpy(h, good, sizeof(good));
		for (int k = 0; k < 1 + i % 5; k++) {
			seed = seed * 1103515245u + 12345u;
			h[(seed >> 8) % (sizeof(good) - 1)] = (uint8_t)(seed >> 20);
		}
		r.request = h;
		r.request_len = (uint32_t)(sizeof(good) - 1 - (i % 7 == 0 ? (seed >> 3) % 20 : 0));
		r.response = (uint8_t *)R;
		r.response_cap = (i % 3) ? sizeof(R) : 40;
		r.data = out;
		r.data_len = sizeof(out);
		r.data_valid = i % 2 ? 3 : 0;
		be->handle(st, &r, &rlen, &dout);
		cr_assert_leq(rlen, r.response_cap);
		cr_assert_leq(dout, r.data_len);
	}
}

/* The exact no-op head is answered from a copy of the general path's
 * answer: the same bytes, length and status as the parsed path gives an
 * equivalent head (one header more), whatever the response buffer. */
Test(blob_ops, noop_shortcut_answers_as_the_parser)
{
	static const char *const heads[] = {
	    "GET /$sim/noop HTTP/1.1\r\n\r\n",				   /* the shortcut */
	    "GET /$sim/noop HTTP/1.1\r\nx-ms-version: 2021-08-06\r\n\r\n", /* parsed */
	    "GET /%24sim/noop HTTP/1.1\r\n\r\n",			   /* parsed */
	};
	static const uint32_t caps[] = {sizeof(R) - 1, 66, 65, 64, 10, 1};

	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		char got[3][sizeof(R)];
		uint32_t rlen[3], status[3], dout;

		for (size_t i = 0; i < 3; i++) {
			struct azblob_sim_req r = {0};

			memset(got[i], 0x5a, sizeof(got[i]));
			r.request = (const uint8_t *)heads[i];
			r.request_len = (uint32_t)strlen(heads[i]);
			r.response = (uint8_t *)got[i];
			r.response_cap = caps[c];
			status[i] = be->handle(st, &r, &rlen[i], &dout);
			cr_expect_eq(dout, 0u);
			cr_assert_leq(rlen[i], caps[c]);
		}
		for (size_t i = 1; i < 3; i++) {
			cr_expect_eq(status[i], status[0], "cap %u, head %zu", caps[c], i);
			cr_expect_eq(rlen[i], rlen[0], "cap %u, head %zu", caps[c], i);
			cr_expect(!memcmp(got[i], got[0], sizeof(got[0])), "cap %u, head %zu: %.*s",
				  caps[c], i, (int)rlen[i], got[i]);
		}
		if (c == 0) {
			cr_expect_eq(status[0], AZBLOB_VSP_STATUS_OK);
			cr_expect(!strncmp(got[0], "HTTP/1.1 200 OK\r\n", 17), "%s", got[0]);
		}
	}
}

Test(blob_ops, memory_cap)
{
	void *s2;
	static uint8_t big[600000];

	cr_expect_eq(be->open(&s2, open_arg("max_bytes=x"), NULL), -EINVAL);
	be->close(st); /* the dir backend: one at a time on a directory */
	cr_assert_eq(be->open(&s2, open_arg("max_bytes=1000000"), NULL), 0);
	st = s2;
	req("PUT /box?restype=container HTTP/1.1\r\n");
	cr_expect_eq(put(big, sizeof(big), "PUT /box/a HTTP/1.1\r\n"), 201);
	cr_expect_eq(put(big, sizeof(big), "PUT /box/b HTTP/1.1\r\n"), 500);
	cr_expect(err_is(500, "InternalError"));
	cr_expect_eq(put(big, sizeof(big), "PUT /box/b?comp=block&blockid=QUJD HTTP/1.1\r\n"), 500);
	cr_expect_eq(req("GET /box/b HTTP/1.1\r\n"), 404, "nothing left behind");
	cr_expect_eq(req("DELETE /box/a HTTP/1.1\r\n"), 202);
	cr_expect_eq(put(big, sizeof(big), "PUT /box/b HTTP/1.1\r\n"), 201, "freed again");
	cr_expect_eq(req("DELETE /box?restype=container HTTP/1.1\r\n"), 202);
	cr_expect_eq(req("PUT /box?restype=container HTTP/1.1\r\n"), 201);
	cr_expect_eq(put(big, sizeof(big), "PUT /box/c HTTP/1.1\r\n"), 201, "the container freed");

	/* Block list entries count too: one 1-byte block committed 50000 times. */
	static char xml[50001 * 21 + 64];
	size_t n = (size_t)sprintf(xml, "<BlockList>");

	for (int i = 0; i < 50000; i++)
		n += (size_t)sprintf(xml + n, "<Latest>QUJD</Latest>");
	n += (size_t)sprintf(xml + n, "</BlockList>");
	cr_expect_eq(put("x", 1, "PUT /box/k?comp=block&blockid=QUJD HTTP/1.1\r\n"), 201);
	cr_expect_eq(put(xml, (uint32_t)n, "PUT /box/k?comp=blocklist HTTP/1.1\r\n"), 500);
	cr_expect(err_is(500, "InternalError"));
	cr_expect_eq(req("DELETE /box/c HTTP/1.1\r\n"), 202);
	{
		size_t k = (size_t)sprintf(xml, "<BlockList>");

		for (int i = 0; i < 5000; i++)
			k += (size_t)sprintf(xml + k, "<Latest>QUJD</Latest>");
		k += (size_t)sprintf(xml + k, "</BlockList>");
		cr_expect_eq(put(xml, (uint32_t)k, "PUT /box/k?comp=blocklist HTTP/1.1\r\n"), 201,
			     "%s", R);
		cr_expect_eq(req("HEAD /box/k HTTP/1.1\r\n"), 200);
		cr_expect_str_eq(hdr("Content-Length"), "5000");
	}
	n = (size_t)sprintf(xml, "<BlockList>");
	for (int i = 0; i < 50000; i++)
		n += (size_t)sprintf(xml + n, "<Latest>QUJD</Latest>");
	n += (size_t)sprintf(xml + n, "</BlockList>");
	/* 50001 entries: too long. */
	n -= strlen("</BlockList>");
	n += (size_t)sprintf(xml + n, "<Latest>QUJD</Latest></BlockList>");
	cr_expect_eq(put(xml, (uint32_t)n, "PUT /box/k?comp=blocklist HTTP/1.1\r\n"), 400);
	cr_expect(err_is(400, "BlockListTooLong"));
	be->close(s2);
	cr_assert_eq(be->open(&st, open_arg(NULL), NULL), 0);
}

Test(blob_ops, forty_mib_in_ten_blocks)
{
	const uint32_t bs = 4u << 20, n = 10, chunk = 3u << 20;
	uint8_t *blk = malloc(bs), *back = malloc(chunk);
	char xml[2048] = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
	uint64_t total = (uint64_t)bs * n;

	cr_assert(blk && back);
	req("PUT /box?restype=container HTTP/1.1\r\n");
	/* Uploaded 9..0, committed 0..9. */
	for (int b = (int)n - 1; b >= 0; b--) {
		for (uint32_t i = 0; i < bs; i += 4) {
			uint32_t v = (uint32_t)b * bs + i;

			memcpy(blk + i, &v, 4);
		}
		cr_assert_eq(
		    put(blk, bs, "PUT /box/forty?comp=block&blockid=%s HTTP/1.1\r\n", id(b)), 201);
	}
	for (uint32_t b = 0; b < n; b++)
		snprintf(xml + strlen(xml), sizeof(xml) - strlen(xml), "<Latest>%s</Latest>",
			 id((int)b));
	strcat(xml, "</BlockList>");
	cr_assert_eq(put(xml, (uint32_t)strlen(xml), "PUT /box/forty?comp=blocklist HTTP/1.1\r\n"),
		     201, "%s", R);
	cr_expect_eq(req("HEAD /box/forty HTTP/1.1\r\n"), 200);
	cr_expect_eq(strtoull(hdr("Content-Length"), NULL, 10), total);
	for (uint64_t off = 0; off < total; off += chunk) {
		uint64_t end = off + chunk - 1 < total ? off + chunk - 1 : total - 1;
		char want[96];

		cr_assert_eq(get_into(back, chunk,
				      "GET /box/forty HTTP/1.1\r\nx-ms-range: bytes=%llu-%llu\r\n",
				      (unsigned long long)off, (unsigned long long)end),
			     206);
		snprintf(want, sizeof(want), "bytes %llu-%llu/%llu", (unsigned long long)off,
			 (unsigned long long)end, (unsigned long long)total);
		cr_assert_str_eq(hdr("Content-Range"), want);
		cr_assert_eq(D, end - off + 1);
		for (uint64_t i = 0; i < D; i += 4) {
			uint32_t v;

			memcpy(&v, back + i, 4);
			cr_assert_eq(v, (uint32_t)(off + i), "at %llu",
				     (unsigned long long)(off + i));
		}
	}
	free(blk);
	free(back);
}

/* Through the whole guest path: blocks, a commit, ranged reads, a list. */
static struct log_sink sink;
static struct tguest t;

static uint32_t guest(uint64_t tid, const char *head, uint32_t data_off, uint32_t data_len,
		      uint32_t data_valid, char **resp)
{
	struct treq q = {.tid = tid,
			 .data_off = data_off,
			 .data_len = data_len,
			 .data_valid = data_valid,
			 .req_off = 0,
			 .req_len = (uint32_t)strlen(head),
			 .resp_off = 4096,
			 .resp_len = 2048};
	struct tcompl c = {0};

	memcpy(t.buf, head, strlen(head));
	memset(t.buf + 4096, 0, 2049);
	cr_assert_eq(tsend(&t, &q), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_assert_eq(c.tid, tid);
	*resp = (char *)t.buf + 4096;
	return c.status;
}

Test(blob_ops, guest_path)
{
	struct azblob_sim_opts o;
	struct uvmbus_log log = sink_log(&sink);
	char *resp, head[256];
	const uint32_t D0 = 65536, BS = 300000;

	azblob_sim_opts_init(&o);
	o.ram_bytes = 32u << 20;
	o.no_hugetlb = true;
	o.log = log;
	o.backend = BACKEND;
	o.backend_arg = open_arg(NULL);
	cr_assert_eq(tguest_open(&t, &o, &log), 0, "%s", sink.text);
	cr_expect_eq(guest(1, "PUT /gpx?restype=container HTTP/1.1\r\n\r\n", 0, 0, 0, &resp), 0u);
	cr_expect(!strncmp(resp, "HTTP/1.1 201 Created\r\n", 22), "%s", resp);
	for (int b = 0; b < 3; b++) {
		for (uint32_t i = 0; i < BS; i++)
			t.buf[D0 + i] = (uint8_t)(b * 37 + i);
		snprintf(head, sizeof(head),
			 "PUT /gpx/blob%%201?comp=block&blockid=%s HTTP/1.1\r\n\r\n", id(b));
		cr_expect_eq(guest(2 + (uint64_t)b, head, D0, BS, BS, &resp), 0u);
		cr_expect(!strncmp(resp, "HTTP/1.1 201", 12), "%s", resp);
	}
	snprintf((char *)t.buf + D0, 4096,
		 "<BlockList><Latest>%s</Latest><Latest>%s</Latest><Latest>%s</Latest></BlockList>",
		 id(2), id(0), id(1));
	cr_expect_eq(guest(10, "PUT /gpx/blob%201?comp=blocklist HTTP/1.1\r\n\r\n", D0, 4096,
			   (uint32_t)strlen((char *)t.buf + D0), &resp),
		     0u);
	cr_expect(!strncmp(resp, "HTTP/1.1 201 Created\r\n", 22), "%s", resp);
	cr_expect(strstr(resp, "\r\nETag: \"0x"));

	/* Bytes 299990..300009: the end of block 2 and the start of block 0. */
	memset(t.buf + D0, 0, 64);
	cr_expect_eq(guest(11, "GET /gpx/blob%201 HTTP/1.1\r\nRange: bytes=299990-300009\r\n\r\n",
			   D0, 4096, 0, &resp),
		     0u);
	cr_expect(!strncmp(resp, "HTTP/1.1 206 Partial Content\r\nContent-Length: 20\r\n", 50),
		  "%s", resp);
	cr_expect(strstr(resp, "\r\nContent-Range: bytes 299990-300009/900000\r\n"));
	for (uint32_t i = 0; i < 20; i++) {
		uint32_t pos = 299990 + i, b = pos < BS ? 2 : 0, in = pos % BS;

		cr_expect_eq(t.buf[D0 + i], (uint8_t)(b * 37 + in), "%u", i);
	}
	cr_expect_eq(
	    guest(12, "GET /gpx?restype=container&comp=list HTTP/1.1\r\n\r\n", D0, 8192, 0, &resp),
	    0u);
	cr_expect(strstr((char *)t.buf + D0, "<Name>blob 1</Name>"));
	cr_expect(strstr((char *)t.buf + D0, "<Content-Length>900000</Content-Length>"));
	cr_expect_eq(guest(13, "GET /gpx/nope HTTP/1.1\r\n\r\n", D0, 4096, 0, &resp), 0u);
	cr_expect(strstr(resp, "HTTP/1.1 404 Not Found\r\n") &&
		  strstr(resp, "x-ms-error-code: BlobNotFound\r\n"));
	tguest_close(&t);
}
