/* libazblob against a hostile or broken host (the simulator's faults): a
 * broken TX ring, a queue full of unanswered requests, answers after
 * close, writes after a rescind, reads the host claims but never writes.
 * Each test failed on the code before its fix (see the note). */
#include <signal.h>
#include <unistd.h>

#include <azblob/blob.h>

#include "azblob_fixture.h"

TestSuite(azblob_hostile, .fini = stop);

/* A hang is a failure: no test here may wait forever (not a timing
 * assertion: the bound is far above any expected run). */
static void hang_guard(unsigned s)
{
	alarm(s);
}

static void wait_host_requests(uint64_t n)
{
	for (int i = 0; i < 2000 && sstats().requests < n; i++)
		usleep(1000);
	cr_assert_geq(sstats().requests, n, "the host read %llu of %llu requests",
		      (unsigned long long)sstats().requests, (unsigned long long)n);
}

/* 1. The host writes an impossible TX read index after taking three
 *    requests. The producer re-reads the index when its cached view says
 *    the ring is full: that submit finds it, and every request in flight
 *    completes with EIO at once, exactly once. */
Test(azblob_hostile, broken_tx_fails_everything_in_flight)
{
	struct azblob_sim_faults f = {.corrupt_tx_read = 1, .delay_us = 300000};
	static struct done d[64];
	int n, rc = 0;

	hang_guard(60);
	/* 4 KiB of TX data: room for 36 requests */
	start(2 * 4096, 64, 4096, 64, -1);
	azblob_sim_set_faults(sim, &f);
	for (n = 0; n < 64 && !rc; n++) {
		char *buf = azblob_alloc(cl, 4096); /* request at 0, response at 512 */
		struct azblob_request r = noop(buf, buf + 512, &d[n]);

		rc = azblob_submit(cl, &r);
		if (n == 2) {
			cr_assert_eq(azblob_flush(cl), 0);
			wait_host_requests(3);
		}
	}
	cr_expect_eq(rc, -EIO, "%s", sink.text);
	n--; /* the refused one */
	for (int i = 0; i < n; i++)
		cr_expect(d[i].calls == 1 && d[i].err == -EIO,
			  "request %d of %d: %d call(s), err %d", i, n, d[i].calls, d[i].err);
	cr_expect_eq(d[n].calls, 0, "refused, not called back");
	cr_expect_eq(azblob_inflight(cl), 0u);
	cr_expect_eq(cstats().broken, 1u);
	cr_expect_neq(strstr(sink.text, "corrupted the TX ring"), NULL, "%s", sink.text);
	cr_expect_eq(azblob_poll(cl, 0), -EIO);
	/* Never answered as far as we know: close keeps their memory. */
	cr_expect_eq(azblob_close(cl), -EBUSY);
	cl = NULL;
	for (int i = 0; i < n; i++)
		cr_expect_eq(d[i].calls, 1, "request %d: no second callback at close", i);
}

/* 1. A blob helper whose channel breaks mid-upload returns with nothing of
 *    its own in flight (its op state is freed: a callback into it would be
 *    a use-after-free at close, which ASan reports). */
Test(azblob_hostile, broken_tx_blob_helper_leaves_nothing_in_flight)
{
	static uint8_t blob[1 << 20];
	struct azblob_blob_xfer x = {.chunk_size = 32768};
	struct azblob_sim_faults f = {.corrupt_tx_read = 1, .delay_us = 20000};
	struct azblob_blob_status st;

	hang_guard(60);
	/* 4 KiB of TX data, a deep queue: the first batch fills the ring, and
	 * the producer re-reads the broken index right after the host took it */
	start(2 * 4096, 32, 0, 0, -1);
	cr_assert_eq(azblob_container_create(cl, "ctr", &st), 0, "%s", sink.text);
	memset(blob, 'x', sizeof(blob));
	azblob_sim_set_faults(sim, &f);
	int rc = azblob_blob_put(cl, "ctr", "big", blob, sizeof(blob), &x, &st);

	cr_expect_eq(rc, -EIO, "%s", sink.text);
	cr_expect_eq(azblob_inflight(cl), 0u, "the helper returned with requests in flight");
	azblob_close(cl);
	cl = NULL;
}

/* 2. Queue depth 2, a host that never answers: once both slots are held
 *    by timed-out requests, a sync call and a blob delete give up after
 *    their own timeouts instead of looping on EAGAIN. */
Test(azblob_hostile, full_queue_of_unanswered_requests_times_out)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct azblob_request_sync_abi a = {0};
	struct azblob_blob_status st;
	static struct done d[2];
	struct azblob_opts o;
	char req[64], resp[512];

	hang_guard(60);
	start_sim(0, -1);
	client_opts(&o, 2, 0, 0);
	o.default_timeout_ms = 200;
	cr_assert_eq(azblob_open(&cl, &o), 0, "%s", sink.text);
	azblob_sim_set_faults(sim, &f);
	for (int i = 0; i < 2; i++) {
		struct azblob_request r = noop(req, resp, &d[i]);

		r.timeout_ms = 50;
		cr_assert_eq(azblob_submit(cl, &r), 0);
	}
	azblob_flush(cl);
	reap(&d[0]);
	reap(&d[1]);
	cr_assert(d[0].err == -ETIMEDOUT && d[1].err == -ETIMEDOUT);
	cr_expect_eq(cstats().held_slots, 2u);

	memcpy(req, noop_head, sizeof(noop_head) - 1);
	a.request_buffer = (uintptr_t)req;
	a.request_len = sizeof(noop_head) - 1;
	a.response_buffer = (uintptr_t)resp;
	a.response_len = sizeof(resp);
	a.timeout = 300;
	cr_expect_eq(azblob_request_sync(cl, &a), -ETIMEDOUT);
	cr_expect_neq(strstr(sink.text, "2 of 2 slots are held by requests the host has not "
					"answered"),
		      NULL, "%s", sink.text);
	cr_expect_eq(azblob_blob_delete(cl, "ctr", "blob", &st), -ETIMEDOUT, "%s", sink.text);
	cr_expect_geq(cstats().slot_timeouts, 2u);
	cr_expect_eq(cstats().held_slots, 2u);
}

/* 3. A host that writes after close and answers into the next channel: the
 *    next client's trans_ids differ (random first generation), so the late
 *    answer matches nothing there, and its pages are none of the closed
 *    client's (they stay with the closed client, unused). */
Test(azblob_hostile, late_answer_after_close_reaches_no_one)
{
	struct azblob_sim_faults f = {.delay_us = 300000, .dma_after_close = true};
	struct azblob_opts o;
	struct done d = {0};
	char *req, *resp;

	hang_guard(60);
	start(0, 8, 0, 0, -1);
	azblob_sim_set_faults(sim, &f);
	req = azblob_alloc(cl, 4096);
	resp = azblob_alloc(cl, 4096);
	struct azblob_request r = noop(req, resp, &d);

	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_flush(cl);
	wait_host_requests(1);
	/* close waits 100 ms (the fixture's close_timeout_ms), then gives up */
	cr_expect_eq(azblob_close(cl), -EBUSY, "%s", sink.text);
	cl = NULL;
	cr_expect_eq(d.err, -ECANCELED);
	cr_expect_neq(strstr(sink.text, "stays pinned and unused"), NULL, "%s", sink.text);

	f.delay_us = 0;
	azblob_sim_set_faults(sim, &f);
	client_opts(&o, 8, 0, 0);
	cr_assert_eq(azblob_open(&cl, &o), 0, "%s", sink.text);
	req = azblob_alloc(cl, 4096);
	resp = azblob_alloc(cl, 4096);
	/* Requests until the late answer (due 300 ms after it was taken) came. */
	for (int i = 0; i < 5000 && cstats().unknown + cstats().duplicates == 0; i++) {
		struct done d2 = {0};

		r = noop(req, resp, &d2);
		memset(resp, 0, 4096);
		cr_assert_eq(azblob_submit(cl, &r), 0, "%s", sink.text);
		azblob_flush(cl);
		reap(&d2);
		cr_assert_eq(d2.calls, 1);
		cr_assert_eq(d2.err, 0);
		cr_assert(!strncmp(resp, "HTTP/1.1 200", 12),
			  "request %d got another's answer: %.16s", i, resp);
		for (int k = 0; k < 4096; k++)
			cr_assert(req[k] != (char)0xa5 && resp[k] != (char)0xa5,
				  "request %d: the host's late write landed in our buffer", i);
		usleep(500);
	}
	cr_expect_eq(cstats().unknown + cstats().duplicates, 1u, "the late answer matched nothing");
	cr_expect_eq(sstats().reused_buffers, 0u);
}

/* 3. Generations start at random: two clients do not share trans_ids. */
Test(azblob_hostile, first_generation_is_random)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	uint8_t tid_pkt[2][16];

	for (int k = 0; k < 2; k++) {
		struct done d = {0};
		char req[64], resp[512];

		start(0, 8, 0, 0, -1);
		azblob_sim_set_faults(sim, &f);
		struct azblob_request r = noop(req, resp, &d);

		cr_assert_eq(azblob_submit(cl, &r), 0);
		azblob_flush(cl);
		/* The host's view: the first TX packet's trans_id, through the
		 * ring file of the simulated device. */
		char path[1024];

		snprintf(path, sizeof(path), "%s/sys/bus/vmbus/devices/%s/channels/14/ring",
			 azblob_sim_root(sim), azblob_sim_guid(sim));
		FILE *fp = fopen(path, "rb");

		cr_assert(fp, "%s", path);
		cr_assert_eq(fseek(fp, 4096, SEEK_SET), 0); /* the descriptor */
		cr_assert_eq(fread(tid_pkt[k], 1, 16, fp), 16u);
		fclose(fp);
		stop();
	}
	cr_expect(memcmp(tid_pkt[0] + 8, tid_pkt[1] + 8, 8),
		  "two clients sent the same trans_id for their first request");
}

/* 6. An idle client (one round trip, then silence), optionally with one
 *    request staged, and then the device is rescinded without the client
 *    polling: its next write to the rings must be preceded by a look at
 *    the fd. */
static struct azblob_request quiet_then_rescinded(struct done *d, char *req, char *resp,
						  bool stage_one)
{
	struct azblob_request r = noop(req, resp, d);

	hang_guard(60);
	start(0, 8, 0, 0, -1);
	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_flush(cl);
	reap(d);
	cr_assert_eq(d->err, 0);
	*d = (struct done){0};
	if (stage_one)
		cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_sim_rescind(sim);
	usleep(100000); /* longer than rescind_check_ms (20) */
	return r;
}

Test(azblob_hostile, submit_after_rescind_writes_nothing)
{
	struct done d = {0};
	char req[64], resp[512];
	struct azblob_request r = quiet_then_rescinded(&d, req, resp, false);

	cr_expect_eq(azblob_submit(cl, &r), -ENODEV, "%s", sink.text);
	cr_expect_eq(sstats().writes_after_rescind, 0u, "wrote into the rescinded rings");
	cr_expect_eq(cstats().fd_checks, 1u, "one look at the fd");
}

/* The same through a prepared request and through a queue: a submit
 * reads no clock (AZBLOB.md "When a request's clock starts"), its guard is
 * a counter compare armed by the last answer or look at the fd; after a
 * silence longer than rescind_check_ms it must still look before writing.
 * rc: the submit's. */
static void expect_nothing_written(int rc)
{
	cr_expect_eq(rc, -ENODEV, "%s", sink.text);
	cr_expect_eq(sstats().writes_after_rescind, 0u, "wrote into the rescinded rings");
	cr_expect_eq(cstats().fd_checks, 1u, "one look at the fd");
}

Test(azblob_hostile, prep_submit_after_rescind_writes_nothing)
{
	struct done d = {0};
	char req[64], resp[512];
	struct azblob_prep *p;
	struct azblob_request r = quiet_then_rescinded(&d, req, resp, false);

	r.request = memcpy(azblob_alloc(cl, 4096), req, r.request_len);
	r.response = azblob_alloc(cl, 4096);
	cr_assert_eq(azblob_prep_create(cl, &r, &p), 0, "%s", sink.text);
	expect_nothing_written(azblob_prep_submit(cl, p, AZBLOB_PREP_SAME, AZBLOB_PREP_SAME, &d));
	cr_expect_eq(azblob_prep_destroy(p), 0);
}

Test(azblob_hostile, queue_submit_after_rescind_writes_nothing)
{
	struct done d = {0};
	char req[64], resp[512];
	struct azblob_queue *q;
	struct azblob_request r = quiet_then_rescinded(&d, req, resp, false);

	cr_assert_eq(azblob_queue_create(cl, 4, &q), 0, "%s", sink.text);
	expect_nothing_written(azblob_queue_submit(q, &r));
	cr_expect_eq(azblob_queue_destroy(q), 0);
}

Test(azblob_hostile, flush_after_rescind_publishes_nothing)
{
	struct done d = {0};
	char req[64], resp[512];

	quiet_then_rescinded(&d, req, resp, true);
	cr_expect_eq(azblob_flush(cl), -ENODEV, "%s", sink.text);
	cr_expect_eq(sstats().writes_after_rescind, 0u, "published into the rescinded rings");
	cr_expect_eq(d.err, -ENODEV);
}

/* 8. A GET whose answer claims data the host never wrote: the caller sees
 *    zeros, never the bytes of an earlier request in the same pool buffer:
 *    one op (queue depth 1) reads two chunks, the host skips the second. */
static void skip_next_data_write(void *user, uint64_t done, uint64_t total)
{
	struct azblob_sim_faults f = {.skip_data_write = 1};

	(void)user;
	if (done < total)
		azblob_sim_set_faults(sim, &f);
}

Test(azblob_hostile, blob_read_never_shows_earlier_bytes)
{
	static char put[8192], got[8192];
	struct azblob_blob_xfer x = {.no_md5 = true, .chunk_size = 4096, .queue_depth = 1};
	struct azblob_blob_status st;
	size_t n = 0;

	start(0, 8, 0, 0, -1);
	memset(put, 'A', 4096);
	memset(put + 4096, 'B', 4096);
	cr_assert_eq(azblob_container_create(cl, "ctr", &st), 0, "%s", sink.text);
	cr_assert_eq(azblob_blob_put(cl, "ctr", "ab", put, sizeof(put), &x, &st), 0);
	x.progress = skip_next_data_write;
	cr_assert_eq(azblob_blob_get(cl, "ctr", "ab", 0, got, sizeof(got), &n, &x, &st), 0);
	cr_expect_eq(n, sizeof(got));
	cr_expect_eq(got[0], 'A');
	for (size_t i = 4096; i < n; i++)
		cr_assert_eq(got[i], 0, "byte %zu is %#x: the earlier chunk's content", i,
			     (unsigned)(uint8_t)got[i]);
}

/* 8. The same through the copy path (plain memory, a pool bounce buffer)
 *    and through azblob_alloc() of a buffer returned by an earlier user. */
Test(azblob_hostile, bounce_and_alloc_never_show_earlier_bytes)
{
	struct azblob_sim_faults f = {.skip_data_write = 1};
	static char data[4096], put[4096];
	struct azblob_request_sync_abi s = {0};
	struct azblob_blob_status st;
	char req[128], resp[1024];

	start(0, 8, 0, 0, -1);
	cr_assert_eq(azblob_container_create(cl, "ctr", &st), 0, "%s", sink.text);
	memset(put, 'A', sizeof(put));
	struct azblob_blob_xfer x = {.no_md5 = true};

	cr_assert_eq(azblob_blob_put(cl, "ctr", "a", put, sizeof(put), &x, &st), 0);
	s.request_buffer = (uintptr_t)req;
	s.request_len = (uint32_t)snprintf(req, sizeof(req), "GET /ctr/a HTTP/1.1\r\n\r\n");
	s.response_buffer = (uintptr_t)resp;
	s.response_len = sizeof(resp);
	s.data_buffer = (uintptr_t)data;
	s.data_len = sizeof(data);
	s.timeout = 5000;
	cr_assert_eq(azblob_request_sync(cl, &s), 0, "%s", sink.text);
	cr_assert_eq(data[0], 'A');
	azblob_sim_set_faults(sim, &f);
	memset(data, 0, sizeof(data));
	cr_assert_eq(azblob_request_sync(cl, &s), 0, "%s", sink.text);
	for (size_t i = 0; i < sizeof(data); i++)
		cr_assert_eq(data[i], 0, "bounce byte %zu is %#x", i, (unsigned)(uint8_t)data[i]);

	char *p = azblob_alloc(cl, 4096);

	memset(p, 'S', 4096);
	azblob_free(cl, p);
	p = azblob_alloc(cl, 4096);
	for (size_t i = 0; i < 4096; i++)
		cr_assert_eq(p[i], 0, "alloc byte %zu is %#x", i, (unsigned)(uint8_t)p[i]);
}
