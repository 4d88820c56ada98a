// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_copy: the daemon with --copy copies each request through its
 * bounce pool (libazblob's copy of plain memory) instead of registering
 * the client's arena (the default, also under the emulator). The copy must not change
 * what the request means: (a) a request at the 8192-page limit in the
 * client's arena (request, response, data each at its own page offset)
 * still fits after the copy; (b) bytes of the data buffer the host does
 * not write come back as the client's own, not as zeros.
 */
#include "harness.h"

#define PAGE 4096u

static const char echo[] = "POST /$sim/echo HTTP/1.1\r\n\r\n";

static void fill(struct azblob_request_sync_abi *r, uint8_t *rq, uint8_t *rs, uint32_t rs_len,
		 uint8_t *d, uint32_t d_len, uint32_t d_valid)
{
	memset(r, 0, sizeof(*r));
	memcpy(rq, echo, sizeof(echo) - 1);
	r->timeout = 30000;
	r->request_len = sizeof(echo) - 1;
	r->response_len = rs_len;
	r->data_len = d_len;
	r->data_valid = d_valid;
	r->request_buffer = (uintptr_t)rq;
	r->response_buffer = (uintptr_t)rs;
	r->data_buffer = (uintptr_t)d;
}

int main(int argc, char **argv)
{
	const char *extra[] = {"--copy", "--bounce-bufs", "2", "--bounce-size", "33M", NULL};
	struct azblob_request_sync_abi r;
	struct azblob_opts o;
	struct azblob_client *c;
	struct bh h;
	uint8_t *a, *rq, *rs, *d;
	uint32_t dlen = 8190 * PAGE;
	int rc, status, bad = 0;

	BH_CHECK(argc >= 2, "usage: %s AZBLOBD", argv[0]);
	bh_start(&h, argv[1], extra, NULL);
	azblob_opts_init(&o);
	o.broker = h.sock;
	o.pool_buf_size = 33u << 20;
	o.pool_bufs = 1;
	rc = azblob_open(&c, &o);
	BH_CHECK(!rc, "attach: %s", strerror(-rc));
	a = azblob_alloc(c, 33u << 20);
	BH_CHECK(a && !((uintptr_t)a % PAGE), "a page-aligned arena buffer");

	/* (a) 1 + 1 + 8190 pages: the limit exactly, in the arena. */
	rq = a;
	rs = a + PAGE;
	d = a + 2 * PAGE;
	for (uint32_t i = 0; i < dlen; i++)
		d[i] = (uint8_t)(i * 7 + 1);
	fill(&r, rq, rs, PAGE, d, dlen, dlen);
	rc = azblob_request_sync(c, &r);
	printf("(a) 8192 pages: rc %d status %#x response_len %u\n", rc, r.response.status,
	       r.response.response_len);
	BH_CHECK(rc == 0 && r.response.status == 0, "a request at the page limit is served");
	for (uint32_t i = 0; i < dlen; i++)
		bad += d[i] != (uint8_t)(i * 7 + 1);
	BH_CHECK(!bad, "(a) %d data bytes differ after the echo", bad);

	/* (b) 8 KiB of data, 100 valid: the host writes back 100 bytes. */
	d = a + 3 * PAGE + 123;
	memset(d, 0xab, 2 * PAGE);
	fill(&r, rq, rs, PAGE, d, 2 * PAGE, 100);
	rc = azblob_request_sync(c, &r);
	BH_CHECK(rc == 0 && r.response.status == 0, "(b) echo: rc %d status %#x", rc,
		 r.response.status);
	for (uint32_t i = 0; i < 2 * PAGE; i++)
		bad += d[i] != 0xab;
	printf("(b) data_valid 100 of 8192: %d bytes differ from the client's own\n", bad);
	BH_CHECK(!bad, "(b) bytes the host did not write must round-trip");

	azblob_free(c, a);
	BH_CHECK(azblob_close(c) == 0, "close");
	status = bh_stop(&h);
	BH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "azblobd exit %#x", status);
	printf("ok\n");
	return 0;
}
