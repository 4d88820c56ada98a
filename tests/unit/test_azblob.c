/* libazblob through the in-process simulator: round trips, the packet
 * bytes the host receives, every -EINVAL, queue and ring full, each fault
 * of the sim and the client's reaction, close, rescind, sync call. */
#include "azblob_fixture.h"
#include "fake_sysfs.h"

#include <azblob/blob.h>
#include <azblob/vsp_wire.h>

TestSuite(azblob, .fini = stop);

Test(azblob, round_trip_pool_buffers)
{
	struct done d = {0};

	start(0, 0, 0, 0, -1);
	char *req = azblob_alloc(cl, 4096), *resp = azblob_alloc(cl, 4096);
	struct azblob_request r = noop(req, resp, &d);

	cr_assert_eq(azblob_submit(cl, &r), 0, "%s", sink.text);
	cr_expect_eq(azblob_inflight(cl), 1u);
	cr_assert_eq(azblob_flush(cl), 0);
	reap(&d);
	cr_assert_eq(d.calls, 1);
	cr_expect_eq(d.err, 0);
	cr_expect_eq(d.status, 0u);
	cr_expect(!strncmp(resp, "HTTP/1.1 200 OK", 15), "%.20s", resp);
	cr_expect_eq(d.len, (uint32_t)strlen(resp));
	cr_expect_eq(azblob_inflight(cl), 0u);
	cr_expect_eq(cstats().completed, 1u);
	cr_expect_eq(cstats().copied, 0u, "pool buffers: no copy");
	cr_expect_eq(sstats().violations_total, 0u);
	azblob_free(cl, req);
	azblob_free(cl, resp);
}

/* The host sees exactly the packet docs/WIRE.md describes: checked field by
 * field from the host's copy, and every pfn maps back to the right bytes
 * of the right buffer in the host's view of guest RAM. */
Test(azblob, packet_bytes_as_the_host_sees_them)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct done d = {0};
	uint8_t guid[16];

	start(0, 0, 256 * 1024, 8, -1);
	azblob_sim_set_faults(sim, &f);
	uint8_t *data = (uint8_t *)azblob_alloc(cl, 200000) + 1000; /* unaligned, 49 pages */
	char *req = (char *)azblob_alloc(cl, 4096) + 4080;	    /* straddles a page */
	char *resp = (char *)azblob_alloc(cl, 4096) + 8;

	for (int i = 0; i < 16; i++)
		guid[i] = (uint8_t)(0xc0 + i);
	for (int i = 0; i < 150000; i++)
		data[i] = (uint8_t)(i / 4096 + 1);
	memcpy(req, noop_head, sizeof(noop_head) - 1);
	struct azblob_request r = {.request = req,
				   .request_len = sizeof(noop_head) - 1,
				   .response = resp,
				   .response_len = 300,
				   .data = data,
				   .data_len = 150000,
				   .data_valid = 150000,
				   .timeout_ms = 1234,
				   .guid = guid,
				   .done = on_done,
				   .user = &d};

	cr_assert_eq(azblob_submit(cl, &r), 0, "%s", sink.text);
	cr_assert_eq(azblob_flush(cl), 0);

	/* The host's copy of TX: the sim's ring file, start of the data area. */
	char path[1024];
	uint64_t ram_len;
	uint8_t *ram = azblob_sim_ram(sim, &ram_len);

	snprintf(path, sizeof(path), "%s/sys/bus/vmbus/devices/%s/channels/14/ring",
		 azblob_sim_root(sim), azblob_sim_guid(sim));
	size_t flen;
	uint8_t *ring = fake_map(path, &flen);
	uint8_t *pkt = ring + 4096;
	uint32_t dp = (1000 + 150000 + 4095) / 4096, qp = 2, sp = 1, n = dp + qp + sp;
	struct vmbus_gpa_direct_hdr h;
	struct azblob_vsp_request v;

	cr_assert_eq(dp, 37u);
	memcpy(&h, pkt, sizeof(h));
	cr_expect_eq(h.desc.type, 9);
	cr_expect_eq(h.desc.offset8, 4 + n);
	cr_expect_eq(h.desc.len8, 11 + n);
	cr_expect_eq(h.desc.flags, 1);
	cr_expect_neq(h.desc.trans_id, 0u);
	cr_expect_eq(h.rangecount, 1u);
	cr_expect_eq(h.range.offset, 0u);
	cr_expect_eq(h.range.len, n * 4096u);
	memcpy(&v, pkt + 32 + 8 * n, sizeof(v));
	cr_expect_eq(v.version, 0u);
	cr_expect_eq(v.timeout_ms, 1234u);
	cr_expect_eq(v.operation_type, 0x100u);
	cr_expect_eq(v.data_buffer_offset, ((uintptr_t)data) % 4096);
	cr_expect_eq(v.data_buffer_length, 150000u);
	cr_expect_eq(v.data_buffer_valid, 150000u);
	cr_expect_eq(v.request_buffer_offset, dp * 4096 + ((uintptr_t)req) % 4096);
	cr_expect_eq(v.request_buffer_length, (uint32_t)sizeof(noop_head) - 1);
	cr_expect_eq(v.response_buffer_offset, (dp + qp) * 4096 + ((uintptr_t)resp) % 4096);
	cr_expect_eq(v.response_buffer_length, 300u);
	cr_expect_arr_eq(v.transaction_id, guid, 16);
	/* pfns: the host's view of each page holds the guest's bytes */
	for (uint32_t i = 0; i < n; i++) {
		uint64_t pfn;

		memcpy(&pfn, pkt + 32 + 8 * i, 8);
		cr_assert_lt(pfn, ram_len / 4096);
		const uint8_t *host = ram + pfn * 4096;
		const uint8_t *guest =
		    i < dp	  ? data - v.data_buffer_offset + i * 4096
		    : i < dp + qp ? (uint8_t *)req - (uintptr_t)req % 4096 + (i - dp) * 4096
				  : (uint8_t *)resp - (uintptr_t)resp % 4096;

		cr_assert_arr_eq(host, guest, 4096, "page %u", i);
	}
	munmap(ring, flen);
	f.stop_draining = false;
	azblob_sim_set_faults(sim, &f);
	reap(&d);
	cr_expect_eq(d.calls, 1);
	cr_expect_eq(sstats().violations_total, 0u);
}

/* No data buffer, and the largest request: header fields and page count. */
static void check_header(const uint8_t *pkt, uint32_t n, uint32_t data_len, uint32_t resp_off)
{
	struct vmbus_gpa_direct_hdr h;
	struct azblob_vsp_request v;

	memcpy(&h, pkt, sizeof(h));
	cr_expect_eq(h.desc.offset8, 4 + n);
	cr_expect_eq(h.desc.len8, 11 + n);
	cr_expect_eq(h.range.len, n * 4096u);
	memcpy(&v, pkt + 32 + 8 * n, sizeof(v));
	cr_expect_eq(v.data_buffer_length, data_len);
	cr_expect_eq(v.response_buffer_offset, resp_off);
}

Test(azblob, packet_without_data_and_with_8192_pages)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct done d = {0}, d2 = {0};
	char path[1024];
	size_t flen;

	start(0, 0, 33u << 20, 3, -1);
	azblob_sim_set_faults(sim, &f);
	char *req = azblob_alloc(cl, 4096), *resp = azblob_alloc(cl, 4096);
	struct azblob_request r = noop(req, resp, &d);

	cr_assert_eq(azblob_submit(cl, &r), 0);
	/* data of 8190 pages: with 1 request and 1 response page, 8192 */
	uint8_t *data = azblob_alloc(cl, 8190u * 4096u);

	r.user = &d2;
	r.data = data;
	r.data_len = 8190u * 4096u;
	cr_assert_eq(azblob_submit(cl, &r), 0, "%s", sink.text);
	azblob_flush(cl);
	snprintf(path, sizeof(path), "%s/sys/bus/vmbus/devices/%s/channels/14/ring",
		 azblob_sim_root(sim), azblob_sim_guid(sim));
	uint8_t *ring = fake_map(path, &flen);

	check_header(ring + 4096, 2, 0, 4096);
	cr_expect_eq(AZBLOB_VSP_PKT_LEN(2) + 8, 112u);
	check_header(ring + 4096 + 112, 8192, 8190u * 4096u, 8191u * 4096u);
	uint64_t first, last;

	memcpy(&first, ring + 4096 + 112 + 32, 8);
	memcpy(&last, ring + 4096 + 112 + 32 + 8 * 8189, 8);
	cr_expect_eq(last, first + 8189, "a pool buffer is contiguous guest RAM in the sim");
	munmap(ring, flen);
	f.stop_draining = false;
	azblob_sim_set_faults(sim, &f);
	reap(&d);
	reap(&d2);
	cr_expect(d.calls == 1 && d2.calls == 1 && !d.err && !d2.err);
	cr_expect_eq(sstats().violations_total, 0u);
}

Test(azblob, every_einval)
{
	struct done d = {0};
	char resp[512];

	start(0, 0, 34u << 20, 2, -1);
	char *req = azblob_alloc(cl, 4096);
	struct azblob_request ok = noop(req, resp, &d), r;

	r = ok;
	r.request_len = 0;
	cr_expect_eq(azblob_submit(cl, &r), -EINVAL);
	cr_expect_neq(strstr(sink.text, "request buffer and length must be non-zero"), NULL);
	r = ok;
	r.response_len = 0;
	cr_expect_eq(azblob_submit(cl, &r), -EINVAL);
	r = ok;
	r.data = req;
	r.data_len = 10;
	r.data_valid = 11;
	cr_expect_eq(azblob_submit(cl, &r), -EINVAL);
	cr_expect_neq(strstr(sink.text, "data_valid is larger than data_len"), NULL);
	r = ok;
	r.data_len = 10;
	cr_expect_eq(azblob_submit(cl, &r), -EINVAL, "data_len without a buffer");
	r = ok;
	r.done = NULL;
	cr_expect_eq(azblob_submit(cl, &r), -EINVAL);
	r = ok;
	r.timeout_ms = AZBLOB_MAX_TIMEOUT_MS + 1;
	cr_expect_eq(azblob_submit(cl, &r), -EINVAL);
	/* over 8192 pages: a 33 MiB data buffer from the pool */
	r = ok;
	r.data = azblob_alloc(cl, 33u << 20);
	cr_assert_not_null(r.data);
	r.data_len = 33u << 20;
	cr_expect_eq(azblob_submit(cl, &r), -EINVAL);
	cr_expect_neq(strstr(sink.text, "over the 8192-page limit"), NULL, "%s", sink.text);
	cr_expect_eq(azblob_inflight(cl), 0u, "nothing was queued");
	cr_expect_eq(azblob_submit(cl, NULL), -EINVAL);
}

Test(azblob, queue_full_and_ring_full)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	static struct done d[80];
	char *req, *resp;
	int rc = 0, n = 0;

	start(0, 8, 0, 0, -1);
	azblob_sim_set_faults(sim, &f);
	req = azblob_alloc(cl, 4096);
	resp = azblob_alloc(cl, 4096);
	for (n = 0; n < 20 && rc == 0; n++) {
		struct azblob_request r = noop(req, resp, &d[n]);

		rc = azblob_submit(cl, &r);
	}
	cr_expect_eq(rc, -EAGAIN);
	cr_expect_eq(n, 9, "8 slots, the 9th is refused");
	cr_expect_eq(cstats().queue_full, 1u);
	stop();
	memset(d, 0, sizeof(d));

	/* a TX ring with room for 4096 / 104 requests and a deep queue */
	start(2 * 4096, 64, 0, 0, -1);
	azblob_sim_set_faults(sim, &f);
	req = azblob_alloc(cl, 4096);
	resp = azblob_alloc(cl, 4096);
	rc = 0;
	for (n = 0; n < 80 && rc == 0; n++) {
		struct azblob_request r = noop(req, resp, &d[n]);

		rc = azblob_submit(cl, &r);
	}
	cr_expect_eq(rc, -EAGAIN);
	cr_expect_eq(n - 1, 4096 / 112);
	cr_expect_eq(cstats().ring_full, 1u);
	/* the host drains: everything completes */
	azblob_flush(cl);
	f.stop_draining = false;
	azblob_sim_set_faults(sim, &f);
	for (int i = 0; i < n - 1; i++)
		reap(&d[i]);
	for (int i = 0; i < n - 1; i++)
		cr_expect_eq(d[i].calls, 1, "request %d", i);
}

Test(azblob, timeout_then_late_completion_absorbed)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct done d = {0};
	char resp[512], req[64];

	start(0, 0, 0, 0, -1);
	azblob_sim_set_faults(sim, &f);
	struct azblob_request r = noop(req, resp, &d); /* plain memory: the copy path */

	r.timeout_ms = 30;
	cr_assert_eq(azblob_submit(cl, &r), 0);
	cr_assert_eq(azblob_flush(cl), 0);
	reap(&d);
	cr_assert_eq(d.calls, 1);
	cr_expect_eq(d.err, -ETIMEDOUT);
	cr_expect_eq(cstats().timeouts, 1u);
	char dump[1024];

	azblob_dump_pending(cl, dump, sizeof(dump));
	cr_expect_neq(strstr(dump, "timed out, held"), NULL, "buffers quarantined: %s", dump);
	/* The host wakes up and answers: absorbed, no second callback. */
	f.stop_draining = false;
	azblob_sim_set_faults(sim, &f);
	for (int i = 0; i < 1000 && cstats().late == 0; i++) {
		azblob_poll(cl, 0);
		azblob_wait(cl, 10);
	}
	cr_expect_eq(cstats().late, 1u);
	cr_expect_eq(d.calls, 1);
	azblob_dump_pending(cl, dump, sizeof(dump));
	cr_expect_eq(dump[0], 0, "slot free again: %s", dump);
}

Test(azblob, duplicate_unknown_oversize)
{
	struct azblob_sim_faults f = {.duplicate = 1};
	struct done d1 = {0}, d2 = {0}, d3 = {0};
	char req[64], resp[512];

	start(0, 0, 0, 0, -1);
	azblob_sim_set_faults(sim, &f);
	struct azblob_request r = noop(req, resp, &d1);

	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_flush(cl);
	reap(&d1);
	for (int i = 0; i < 100 && cstats().duplicates == 0; i++) {
		azblob_poll(cl, 0);
		azblob_wait(cl, 10);
	}
	cr_expect_eq(d1.calls, 1, "answered once");
	cr_expect_eq(cstats().duplicates, 1u);

	f.duplicate = 0;
	f.unknown_tid = 1;
	azblob_sim_set_faults(sim, &f);
	r.user = &d2;
	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_flush(cl);
	reap(&d2);
	azblob_poll(cl, 0);
	cr_expect_eq(d2.calls, 1);
	cr_expect_eq(cstats().unknown, 1u);

	f.unknown_tid = 0;
	f.oversize_response = 1;
	azblob_sim_set_faults(sim, &f);
	r.user = &d3;
	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_flush(cl);
	reap(&d3);
	cr_expect_eq(d3.err, -EPROTO);
	cr_expect_eq(cstats().oversize, 1u);
}

Test(azblob, corrupt_descriptor_breaks_channel)
{
	struct azblob_sim_faults f = {.corrupt = 1};
	struct done d = {0}, d2 = {0};
	char req[64], resp[512];

	start(0, 0, 0, 0, -1);
	azblob_sim_set_faults(sim, &f);
	struct azblob_request r = noop(req, resp, &d);

	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_flush(cl);
	reap(&d);
	cr_expect_eq(d.err, -EIO);
	cr_expect_neq(strstr(sink.text, "corrupted the RX ring"), NULL, "%s", sink.text);
	r.user = &d2;
	cr_expect_eq(azblob_submit(cl, &r), -EIO);
	cr_expect_eq(azblob_poll(cl, 0), -EIO);
}

Test(azblob, rescind_fails_everything_at_once)
{
	static struct done d[10];

	start(0, 0, 0, 64, -1);
	cr_expect_eq(rescind_with_requests_out(d, 10), -ENODEV);
	for (int i = 0; i < 10; i++)
		cr_expect(d[i].calls == 1 && d[i].err == -ENODEV, "request %d: %d calls, err %d", i,
			  d[i].calls, d[i].err);
	cr_expect_eq(azblob_submit(cl, &(struct azblob_request){0}), -ENODEV);
	cr_expect_eq(azblob_inflight(cl), 0u);
}

Test(azblob, close_cancels_in_flight)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	static struct done d[5];
	char req[64], resp[512];

	start(0, 0, 0, 0, -1);
	azblob_sim_set_faults(sim, &f);
	for (int i = 0; i < 5; i++) {
		struct azblob_request r = noop(req, resp, &d[i]);

		cr_assert_eq(azblob_submit(cl, &r), 0);
	}
	azblob_flush(cl);
	azblob_close(cl);
	cl = NULL;
	for (int i = 0; i < 5; i++)
		cr_expect(d[i].calls == 1 && d[i].err == -ECANCELED);
}

Test(azblob, slow_signals_through_the_monitor_page)
{
	struct azblob_sim_faults f = {.monitor_scan_us = 2000};
	struct done d = {0};
	char req[64], resp[512];

	start(0, 0, 0, 0, 7);
	azblob_sim_set_faults(sim, &f);
	struct azblob_request r = noop(req, resp, &d);

	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_flush(cl);
	reap(&d);
	cr_expect_eq(d.calls, 1);
	cr_expect_eq(d.err, 0);
}

Test(azblob, plain_memory_and_sync_call)
{
	char req[128], resp[512], data[3000], back[3000];
	struct azblob_request_sync_abi a = {0};

	start(0, 0, 0, 0, -1);
	/* put then get through the sync call, plain (copied) memory */
	const char *mk = "PUT /ctr?restype=container HTTP/1.1\r\n\r\n";

	strcpy(req, mk);
	a.request_buffer = (uintptr_t)req;
	a.request_len = (uint32_t)strlen(mk);
	a.response_buffer = (uintptr_t)resp;
	a.response_len = sizeof(resp);
	a.timeout = 5000;
	cr_assert_eq(azblob_request_sync(cl, &a), 0, "%s", sink.text);
	cr_expect_eq(a.response.status, 0u);
	cr_expect(!strncmp(resp, "HTTP/1.1 201", 12));
	for (int i = 0; i < 3000; i++)
		data[i] = (char)(i * 13);
	strcpy(req, "PUT /ctr/blob HTTP/1.1\r\n\r\n");
	a.request_len = (uint32_t)strlen(req);
	a.data_buffer = (uintptr_t)data;
	a.data_len = a.data_valid = sizeof(data);
	cr_assert_eq(azblob_request_sync(cl, &a), 0);
	strcpy(req, "GET /ctr/blob HTTP/1.1\r\n\r\n");
	a.request_len = (uint32_t)strlen(req);
	a.data_buffer = (uintptr_t)back;
	a.data_valid = 0;
	memset(resp, 0, sizeof(resp));
	cr_assert_eq(azblob_request_sync(cl, &a), 0);
	cr_expect_eq(a.response.response_len, (uint32_t)strlen(resp), "only the answer is copied");
	cr_expect(strstr(resp, "Content-Length: 3000"), "%s", resp);
	cr_expect_arr_eq(back, data, sizeof(data));
	cr_expect_geq(cstats().copied, 3u);
	a.reserved = 1;
	cr_expect_eq(azblob_request_sync(cl, &a), -EINVAL, "explicit padding must be 0");
}

Test(azblob, registered_memory_refcounted)
{
	struct done d = {0};

	start(0, 0, 256 * 1024, 4, -1);
	char *mem = azblob_alloc(cl, 200000); /* stand-in for caller memory in guest RAM */
	struct azblob_sim_faults f = {.stop_draining = true};

	cr_assert_eq(azblob_register(cl, mem, 200000), 0, "%s", sink.text);
	azblob_sim_set_faults(sim, &f);
	struct azblob_request r = noop(mem, mem + 100000, &d);

	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_flush(cl);
	cr_expect_eq(azblob_unregister(cl, mem), -EBUSY, "a request uses it");
	f.stop_draining = false;
	azblob_sim_set_faults(sim, &f);
	reap(&d);
	cr_expect_eq(d.calls, 1);
	cr_expect_eq(azblob_unregister(cl, mem), 0);
	cr_expect_eq(azblob_unregister(cl, mem), -EINVAL);
}

struct rel {
	int calls, err;
	void *user;
	uint32_t status;
};

static void on_rel(void *arg, void *user, int err, uint32_t status, uint32_t len)
{
	struct rel *r = arg;

	(void)len;
	r->calls++;
	r->err = err;
	r->user = user;
	r->status = status;
}

/* A no-op with a 1 ms timeout at a host that answers `late_ms` after it:
 * returns once the client answered it -ETIMEDOUT. */
static void timed_out_noop(uint32_t late_ms, char *req, struct done *d)
{
	struct azblob_sim_faults f = {.late_ms = late_ms};

	azblob_sim_set_faults(sim, &f);
	struct azblob_request r = noop(req, azblob_alloc(cl, 512), d);

	r.timeout_ms = 1;
	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_flush(cl);
	reap(d);
	cr_expect_eq(d->err, -ETIMEDOUT);
}

/* The release callback: a request answered with -ETIMEDOUT is released
 * (err 0, the host's late status) when the host answers at last; one
 * still held at close is released with -ECANCELED. */
Test(azblob, release_after_late_answer_and_at_close)
{
	struct done d = {0}, d2 = {0};
	struct rel rl = {0};
	char req[64];

	start(0, 0, 0, 0, -1);
	azblob_set_release(cl, on_rel, &rl);
	timed_out_noop(1200, req, &d); /* past the grace (1 s) */
	cr_expect_eq(rl.calls, 0, "not before the host answers");
	for (int i = 0; i < 300 && !rl.calls; i++) {
		azblob_poll(cl, 0);
		azblob_wait(cl, 10);
	}
	cr_expect_eq(rl.calls, 1);
	cr_expect_eq(rl.err, 0);
	cr_expect_eq(rl.user, &d, "the request's user pointer");
	cr_expect_eq(rl.status, AZBLOB_VSP_STATUS_IO_TIMEOUT);
	cr_expect_eq(cstats().held_slots, 0u);

	/* held at close: released with -ECANCELED */
	timed_out_noop(60000, req, &d2);
	azblob_close(cl);
	cl = NULL;
	cr_expect_eq(rl.calls, 2);
	cr_expect_eq(rl.err, -ECANCELED);
	cr_expect_eq(rl.user, &d2);
	azblob_sim_destroy(sim);
	sim = NULL;
}

/* Put Block heads patched from the first block's (blob_upload.c): every
 * block of an upload, with each body check (CRC-64, MD5, none), reaches
 * the emulator with its own id and checksum (a wrong one is its 400
 * Crc64Mismatch / Md5Mismatch, a wrong id a block list it refuses), and
 * the blob reads back as written. 13 blocks: ids of several digits. */
Test(azblob, blob_put_blocks_every_check)
{
	static const enum azblob_blob_check chk[] = {AZBLOB_BLOB_CHECK_CRC64, AZBLOB_BLOB_CHECK_MD5,
						     AZBLOB_BLOB_CHECK_NONE};
	static uint8_t put[13 * 4096 - 100], got[sizeof(put)];
	struct azblob_blob_status st;

	start(0, 8, 0, 0, -1);
	cr_assert_eq(azblob_container_create(cl, "ctr", &st), 0, "%s", sink.text);
	for (size_t i = 0; i < sizeof(put); i++)
		put[i] = (uint8_t)(i * 7 + i / 4096);
	for (size_t k = 0; k < sizeof(chk) / sizeof(chk[0]); k++) {
		struct azblob_blob_xfer x = {
		    .chunk_size = 4096, .queue_depth = 3, .body_check = chk[k], .blob_md5 = k == 1};
		size_t n = 0;

		put[0] = (uint8_t)k;
		cr_assert_eq(azblob_blob_put(cl, "ctr", "dir/b l+b", put, sizeof(put), &x, &st), 0,
			     "check %zu: http %d %s: %s", k, st.http_status, st.error_code,
			     sink.text);
		memset(got, 0, sizeof(got));
		cr_assert_eq(
		    azblob_blob_get(cl, "ctr", "dir/b l+b", 0, got, sizeof(got), &n, &x, &st), 0,
		    "%s", sink.text);
		cr_expect_eq(n, sizeof(put));
		cr_expect_arr_eq(got, put, sizeof(put), "check %zu", k);
	}
}

/* azblob_free() of azblob_alloc() buffers a request in flight uses is
 * deferred until the host answers: the pool (a LIFO) never hands them out
 * meanwhile, and has them back after the answer. */
Test(azblob, free_while_in_flight_is_deferred)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct done d = {0};

	start(0, 0, 0, 0, -1);
	char *req = azblob_alloc(cl, 4096), *resp = azblob_alloc(cl, 4096),
	     *data = azblob_alloc(cl, 4096);
	struct azblob_request r = noop(req, resp, &d);

	r.data = data;
	r.data_len = 4096;
	azblob_sim_set_faults(sim, &f);
	cr_assert_eq(azblob_submit(cl, &r), 0, "%s", sink.text);
	cr_assert_eq(azblob_flush(cl), 0);
	azblob_free(cl, data);
	azblob_free(cl, resp);
	azblob_free(cl, req);
	for (int i = 0; i < 3; i++) {
		char *x = azblob_alloc(cl, 4096);

		cr_expect(x && x != req && x != resp && x != data,
			  "buffer %d of the request in flight handed out again", i);
	}
	f.stop_draining = false;
	azblob_sim_set_faults(sim, &f);
	reap(&d);
	cr_assert_eq(d.calls, 1);
	cr_expect_eq(d.err, 0);
	char *y = azblob_alloc(cl, 4096);

	cr_expect(y == req || y == resp || y == data, "the freed buffers are not back");
}
