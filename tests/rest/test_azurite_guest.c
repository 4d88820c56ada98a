// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azurite_e2e's guest: an in-process simulator with the rest backend
 * pointed at a running Azurite (URL in argv[1], Shared Key with the
 * emulator's well-known account), driven through the real guest device and
 * memory layers (tests/common/sim_guest.h). run_azurite_e2e.sh starts and
 * stops Azurite around it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_guest.h"

#define ACCOUNT "devstoreaccount1"
#define KEY                                                                                        \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define BLOB_SIZE 100000u

#define REQ_OFF	 0
#define RESP_OFF 4096
#define RESP_CAP 4096
#define DATA_OFF 65536

static int failures;
static char logbuf[16384];
static size_t loglen;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static void on_log(void *arg, enum uvmbus_log_level lvl, const char *msg)
{
	(void)arg;
	if (loglen < sizeof(logbuf) - 1)
		loglen += (size_t)snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "[%d] %s\n",
					   (int)lvl, msg);
	if (loglen >= sizeof(logbuf))
		loglen = sizeof(logbuf) - 1;
}

static struct tguest t;
static uint64_t tid;

struct result {
	int rc;
	uint32_t status;
	char resp[RESP_CAP + 1]; /* NUL-terminated copy */
	uint32_t resp_len;
};

/* One request: head at REQ_OFF, data buffer at DATA_OFF (data_len bytes,
 * data_valid of them sent), response at RESP_OFF. */
static struct result req(const char *head, uint32_t data_len, uint32_t data_valid)
{
	struct result res = {0};
	struct tcompl c = {0};
	struct treq q = {.tid = ++tid,
			 .data_off = DATA_OFF,
			 .data_len = data_len,
			 .data_valid = data_valid,
			 .req_off = REQ_OFF,
			 .req_len = (uint32_t)strlen(head),
			 .resp_off = RESP_OFF,
			 .resp_len = RESP_CAP,
			 .timeout_ms = 20000};

	memcpy(t.buf + REQ_OFF, head, strlen(head));
	memset(t.buf + RESP_OFF, 0, RESP_CAP);
	res.rc = tsend(&t, &q);
	if (!res.rc)
		res.rc = trecv(&t, &c, 30000);
	if (!res.rc && c.tid != q.tid)
		res.rc = -EPROTO;
	if (!res.rc) {
		res.status = c.status;
		res.resp_len = c.response_len < RESP_CAP ? c.response_len : RESP_CAP;
		memcpy(res.resp, t.buf + RESP_OFF, res.resp_len);
		res.resp[res.resp_len] = 0;
	}
	return res;
}

static bool has(const struct result *r, const char *s)
{
	return strstr(r->resp, s) != NULL;
}

static int open_rest(const char *arg)
{
	struct azblob_sim_opts o;
	struct uvmbus_log log = {.fn = on_log, .arg = NULL, .max_level = UVMBUS_LOG_DEBUG};

	azblob_sim_opts_init(&o);
	o.ram_bytes = 32u << 20;
	o.no_hugetlb = true;
	o.backend = "rest";
	o.backend_arg = arg;
	o.log = log;
	return tguest_open(&t, &o, &log);
}

static void blob_ops(const char *url)
{
	static uint8_t blob[BLOB_SIZE];
	char arg[1024];
	struct result r;

	snprintf(arg, sizeof(arg), "%s;account=%s;key=%s", url, ACCOUNT, KEY);
	int rc = open_rest(arg);

	CHECK(rc == 0, "sim with rest backend: %d\n%s", rc, logbuf);
	if (rc)
		return;

	r = req("PUT /ctr?restype=container HTTP/1.1\r\nx-ms-version: 2021-08-06\r\n\r\n", 0, 0);
	CHECK(r.rc == 0 && r.status == 0, "create container: rc %d status %#x", r.rc, r.status);
	CHECK(!strncmp(r.resp, "HTTP/1.1 201 ", 13), "create container:\n%s\n%s", r.resp, logbuf);
	CHECK(has(&r, "ETag: ") && has(&r, "x-ms-request-id: "), "create container:\n%s", r.resp);

	r = req("PUT /ctr?restype=container HTTP/1.1\r\n\r\n", 0, 0);
	CHECK(!strncmp(r.resp, "HTTP/1.1 409 ", 13) &&
		  has(&r, "x-ms-error-code: ContainerAlreadyExists\r\n") &&
		  has(&r, "\r\n\r\n<?xml") && has(&r, "<Code>ContainerAlreadyExists</Code>"),
	      "create again:\n%s", r.resp);

	for (uint32_t i = 0; i < BLOB_SIZE; i++)
		blob[i] = (uint8_t)(i * 131u + (i >> 9));
	memcpy(t.buf + DATA_OFF, blob, BLOB_SIZE);
	r = req("PUT /ctr/dir/b HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\n"
		"Content-Type: application/octet-stream\r\nx-ms-meta-Test:  azurite  e2e \r\n\r\n",
		BLOB_SIZE, BLOB_SIZE);
	CHECK(r.rc == 0 && r.status == 0, "put blob: rc %d status %#x", r.rc, r.status);
	CHECK(!strncmp(r.resp, "HTTP/1.1 201 ", 13) && has(&r, "ETag: ") &&
		  has(&r, "Last-Modified: "),
	      "put blob:\n%s\n%s", r.resp, logbuf);

	memset(t.buf + DATA_OFF, 0, BLOB_SIZE + 4096);
	r = req("GET /ctr/dir/b HTTP/1.1\r\n\r\n", BLOB_SIZE + 4096, 0);
	CHECK(r.rc == 0 && r.status == 0, "get blob: rc %d status %#x", r.rc, r.status);
	CHECK(!strncmp(r.resp, "HTTP/1.1 200 ", 13) && has(&r, "Content-Length: 100000\r\n") &&
		  has(&r, "ETag: ") && has(&r, "Last-Modified: ") && has(&r, "x-ms-request-id: ") &&
		  has(&r, "x-ms-meta-test: azurite e2e\r\n") &&
		  has(&r, "x-ms-blob-type: BlockBlob"),
	      "get blob:\n%s", r.resp);
	CHECK(!memcmp(t.buf + DATA_OFF, blob, BLOB_SIZE), "get blob: content differs");

	/* Ranged read: 206 with Content-Range. */
	memset(t.buf + DATA_OFF, 0, 64);
	r = req("GET /ctr/dir/b HTTP/1.1\r\nRange: bytes=1000-1031\r\n\r\n", 4096, 0);
	CHECK(!strncmp(r.resp, "HTTP/1.1 206 ", 13) && has(&r, "Content-Length: 32\r\n") &&
		  has(&r, "Content-Range: bytes 1000-1031/100000\r\n"),
	      "ranged get:\n%s", r.resp);
	CHECK(!memcmp(t.buf + DATA_OFF, blob + 1000, 32), "ranged get: content differs");

	/* Properties: the size, no data. */
	r = req("HEAD /ctr/dir/b HTTP/1.1\r\n\r\n", 0, 0);
	CHECK(r.status == 0 && !strncmp(r.resp, "HTTP/1.1 200 ", 13) &&
		  has(&r, "Content-Length: 100000\r\n") && has(&r, "ETag: "),
	      "head blob:\n%s", r.resp);

	/* A data buffer too small: BUFFER_TOO_SMALL with the size. */
	r = req("GET /ctr/dir/b HTTP/1.1\r\n\r\n", 1000, 0);
	CHECK(r.rc == 0 && r.status == AZBLOB_VSP_STATUS_BUFFER_TOO_SMALL,
	      "small buffer: rc %d status %#x", r.rc, r.status);
	CHECK(has(&r, "Content-Length: 100000\r\n"), "small buffer:\n%s", r.resp);

	/* List Blobs: a signed request with several query parameters; XML in
	 * the data buffer. */
	memset(t.buf + DATA_OFF, 0, 65536);
	r = req("GET /ctr?restype=container&comp=list&prefix=dir%2F HTTP/1.1\r\n\r\n", 65536, 0);
	CHECK(r.status == 0 && !strncmp(r.resp, "HTTP/1.1 200 ", 13), "list:\n%s\n%s", r.resp,
	      logbuf);
	CHECK(strstr((char *)t.buf + DATA_OFF, "<Name>dir/b</Name>"), "list body: %.300s",
	      (char *)t.buf + DATA_OFF);

	r = req("GET /ctr/missing HTTP/1.1\r\n\r\n", 4096, 0);
	CHECK(r.rc == 0 && r.status == 0, "missing blob: rc %d status %#x", r.rc, r.status);
	CHECK(!strncmp(r.resp, "HTTP/1.1 404 ", 13) &&
		  has(&r, "x-ms-error-code: BlobNotFound\r\n") &&
		  has(&r, "<Code>BlobNotFound</Code>"),
	      "missing blob:\n%s", r.resp);

	/* Answered locally: a bad head and one that tries to leave the URL. */
	r = req("GET /ctr/../x HTTP/1.1\r\n\r\n", 0, 0);
	CHECK(!strncmp(r.resp, "HTTP/1.1 400 ", 13) &&
		  has(&r, "x-ms-error-code: InvalidHttpRequest"),
	      "dot segment:\n%s", r.resp);
	r = req("GET /$sim/noop HTTP/1.1\r\n\r\n", 0, 0);
	CHECK(!strncmp(r.resp, "HTTP/1.1 200 ", 13), "noop:\n%s", r.resp);

	r = req("DELETE /ctr/dir/b HTTP/1.1\r\n\r\n", 0, 0);
	CHECK(r.status == 0 && !strncmp(r.resp, "HTTP/1.1 202 ", 13), "delete blob:\n%s", r.resp);
	r = req("GET /ctr/dir/b HTTP/1.1\r\n\r\n", 4096, 0);
	CHECK(!strncmp(r.resp, "HTTP/1.1 404 ", 13) && has(&r, "x-ms-error-code: BlobNotFound"),
	      "deleted blob:\n%s", r.resp);
	r = req("DELETE /ctr?restype=container HTTP/1.1\r\n\r\n", 0, 0);
	CHECK(r.status == 0 && !strncmp(r.resp, "HTTP/1.1 202 ", 13), "delete container:\n%s",
	      r.resp);
	r = req("DELETE /ctr?restype=container HTTP/1.1\r\n\r\n", 0, 0);
	CHECK(!strncmp(r.resp, "HTTP/1.1 404 ", 13) &&
		  has(&r, "x-ms-error-code: ContainerNotFound"),
	      "delete container again:\n%s", r.resp);
	tguest_close(&t);
}

/* The signature is checked: another key gives 403. */
static void wrong_key(const char *url)
{
	char arg[1024];
	struct result r;

	snprintf(arg, sizeof(arg), "%s;account=%s;key=%s", url, ACCOUNT,
		 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		 "AAAAA==");
	if (open_rest(arg)) {
		CHECK(0, "sim with rest backend\n%s", logbuf);
		return;
	}
	r = req("PUT /kkk?restype=container HTTP/1.1\r\n\r\n", 0, 0);
	CHECK(r.status == 0 && !strncmp(r.resp, "HTTP/1.1 403 ", 13) &&
		  has(&r, "x-ms-error-code: AuthorizationFailure"),
	      "wrong key:\n%s", r.resp);
	tguest_close(&t);
}

/* Nothing listens: INTERNAL_ERROR, the curl error logged. */
static void refused(void)
{
	struct result r;

	if (open_rest("http://127.0.0.1:1/devstoreaccount1")) {
		CHECK(0, "sim with rest backend\n%s", logbuf);
		return;
	}
	loglen = 0;
	r = req("GET /ctr/b HTTP/1.1\r\n\r\n", 4096, 0);
	CHECK(r.rc == 0 && r.status == AZBLOB_VSP_STATUS_INTERNAL_ERROR,
	      "refused: rc %d status %#x", r.rc, r.status);
	CHECK(strstr(logbuf, "rest: GET /ctr/b"), "refused: log:\n%s", logbuf);
	tguest_close(&t);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s http://127.0.0.1:PORT/devstoreaccount1\n", argv[0]);
		return 2;
	}
	blob_ops(argv[1]);
	wrong_key(argv[1]);
	refused();
	if (failures) {
		fprintf(stderr, "azurite_e2e: %d check(s) failed\n", failures);
		return 1;
	}
	printf("azurite_e2e: all checks passed\n");
	return 0;
}
