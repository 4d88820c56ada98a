// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azurite_fastpath's helper (tests/rest/azurite_fastpath.sh): ranged reads
 * through the fast path (an in-process simulator with the rest backend).
 *
 *   azurite_range REST_ARG get CONTAINER BLOB OFF LEN OUT
 *       azblob_blob_get() of up to LEN bytes from OFF into the file OUT;
 *       prints the bytes read. Errors: exit 1, "error: ERRNO HTTP CODE" on
 *       standard error.
 *   azurite_range REST_ARG raw CONTAINER BLOB RANGE
 *       one GET with "Range: bytes=RANGE" (no Get Blob Properties first):
 *       prints "HTTP_STATUS ERROR_CODE" ("-" when none) on standard output.
 *
 * REST_ARG: the rest backend's argument (URL;account=NAME;key=KEY).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azblob.h>
#include <azblob/blob.h>
#include <azblob/sim.h>

#define CHUNK (1u << 20)
#define HEADS 16384u

struct done {
	int finished, err;
	uint32_t vsp, len;
};

static void on_done(void *user, int err, uint32_t vsp_status, uint32_t response_len)
{
	struct done *d = user;

	d->err = err;
	d->vsp = vsp_status;
	d->len = response_len;
	d->finished = 1;
}

static int raw_range(struct azblob_client *c, const char *ct, const char *blob, const char *range)
{
	uint8_t *buf = azblob_alloc(c, CHUNK + HEADS);
	uint8_t *req = buf + CHUNK, *resp = req + HEADS / 2;
	char rh[96];
	const char *h[] = {rh, NULL};
	struct azblob_blob_resp r;
	struct done d = {0};
	struct azblob_request q = {0};
	int n, rc;

	if (!buf) {
		fprintf(stderr, "error: no pool buffer\n");
		return 1;
	}
	snprintf(rh, sizeof(rh), "Range: bytes=%s", range);
	n = azblob_blob_build_request((char *)req, HEADS / 2, "GET", ct, blob, NULL, h);
	if (n < 0) {
		fprintf(stderr, "error: cannot build the request: %s\n", strerror(-n));
		return 1;
	}
	q.request = req;
	q.request_len = (uint32_t)n;
	q.response = resp;
	q.response_len = HEADS / 2;
	q.data = buf;
	q.data_len = CHUNK;
	q.done = on_done;
	q.user = &d;
	rc = azblob_submit(c, &q);
	if (!rc)
		rc = azblob_flush(c);
	while (!rc && !d.finished) {
		rc = azblob_poll(c, 0);
		if (rc > 0)
			rc = 0;
		else if (rc == 0 && !d.finished)
			azblob_wait(c, 10);
	}
	if (rc || d.err || d.vsp) {
		fprintf(stderr, "error: rc %d err %d vsp 0x%08" PRIx32 "\n", rc, d.err, d.vsp);
		return 1;
	}
	rc = azblob_blob_parse_response(resp, d.len < HEADS / 2 ? d.len : HEADS / 2, &r);
	if (rc) {
		fprintf(stderr, "error: malformed response head (%" PRIu32 " bytes):\n", d.len);
		fwrite(resp, 1, d.len < HEADS / 2 ? d.len : HEADS / 2, stderr);
		return 1;
	}
	printf("%d %s\n", r.http_status, r.error_code[0] ? r.error_code : "-");
	return 0;
}

static int get_range(struct azblob_client *c, const char *ct, const char *blob, uint64_t off,
		     size_t len, const char *out)
{
	struct azblob_blob_status st;
	struct azblob_blob_xfer x = {.chunk_size = 256u << 10, .queue_depth = 4};
	uint8_t *buf = malloc(len ? len : 1);
	size_t got = 0;
	FILE *f;
	int rc;

	if (!buf)
		return 1;
	rc = azblob_blob_get(c, ct, blob, off, buf, len, &got, &x, &st);
	if (rc) {
		fprintf(stderr, "error: %s %d %s\n", strerror(-rc), st.http_status,
			st.error_code[0] ? st.error_code : "-");
		free(buf);
		return 1;
	}
	f = fopen(out, "wb");
	if (!f || fwrite(buf, 1, got, f) != got || fclose(f)) {
		fprintf(stderr, "error: cannot write %s\n", out);
		free(buf);
		return 1;
	}
	printf("%zu\n", got);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	struct azblob_sim_opts so;
	struct azblob_opts o;
	struct azblob_sim *s = NULL;
	struct azblob_client *c = NULL;
	int rc, ret;

	if (argc < 3 ||
	    !((!strcmp(argv[2], "get") && argc == 8) || (!strcmp(argv[2], "raw") && argc == 6))) {
		fprintf(stderr, "usage: azurite_range REST_ARG get CONTAINER BLOB OFF LEN OUT\n"
				"       azurite_range REST_ARG raw CONTAINER BLOB RANGE\n");
		return 2;
	}
	azblob_sim_opts_init(&so);
	so.ram_bytes = 64u << 20;
	so.backend = "rest";
	so.backend_arg = argv[1];
	rc = azblob_sim_create(&s, &so);
	if (!rc)
		rc = azblob_sim_start(s);
	if (rc) {
		fprintf(stderr, "error: cannot start the simulator: %s\n", strerror(-rc));
		azblob_sim_destroy(s);
		return 1;
	}
	azblob_opts_init(&o);
	o.sim_root = azblob_sim_root(s);
	o.queue_depth = 4;
	o.pool_buf_size = CHUNK + HEADS;
	o.pool_bufs = 6;
	rc = azblob_open(&c, &o);
	if (rc) {
		fprintf(stderr, "error: azblob_open: %s\n", strerror(-rc));
		azblob_sim_destroy(s);
		return 1;
	}
	if (!strcmp(argv[2], "raw"))
		ret = raw_range(c, argv[3], argv[4], argv[5]);
	else
		ret = get_range(c, argv[3], argv[4], strtoull(argv[5], NULL, 0),
				(size_t)strtoull(argv[6], NULL, 0), argv[7]);
	azblob_close(c);
	azblob_sim_destroy(s);
	return ret;
}
