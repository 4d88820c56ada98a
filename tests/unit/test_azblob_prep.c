/* Prepared requests (azblob_prep_*): the packet a template sends is the
 * one azblob_submit() sends (byte for byte but trans_id), every submit
 * passes the emulator's checks, and the attacker's cases: a template's
 * buffer unregistered or freed, lengths patched beyond the buffers,
 * destroy with requests out, another client's template, one template from
 * two queues at once. */
#include <pthread.h>

#include "azblob_fixture.h"
#include "fake_sysfs.h"

TestSuite(azblob_prep, .fini = stop);

static void on_count(void *user, int err, uint32_t status, uint32_t len)
{
	(void)len;
	if (!err && !status)
		__atomic_add_fetch((int *)user, 1, __ATOMIC_RELAXED);
}

static struct azblob_request noop_at(char *req, char *resp, struct done *d)
{
	struct azblob_request r = noop(req, resp, d);

	r.timeout_ms = 5000;
	return r;
}

static void no_violations(void)
{
	cr_expect_eq(sstats().violations_total, 0u, "every request passed the emulator's checks");
	cr_expect_eq(sstats().reused_buffers, 0u);
}

Test(azblob_prep, round_trip_and_user_per_submit)
{
	struct done d[3] = {{0}};
	struct azblob_prep *p;

	start(0, 0, 0, 0, -1);
	char *req = azblob_alloc(cl, 4096), *resp = azblob_alloc(cl, 4096);
	struct azblob_request r = noop_at(req, resp, &d[0]);

	cr_assert_eq(azblob_prep_create(cl, &r, &p), 0, "%s", sink.text);
	for (int i = 0; i < 3; i++) {
		memset(resp, 0, 512);
		cr_assert_eq(azblob_prep_submit(cl, p, AZBLOB_PREP_SAME, AZBLOB_PREP_SAME, &d[i]),
			     0, "%s", sink.text);
		cr_assert_eq(azblob_flush(cl), 0);
		reap(&d[i]);
		cr_assert_eq(d[i].calls, 1, "the callback gets the submit's user pointer");
		cr_expect_eq(d[i].err, 0);
		cr_expect_eq(d[i].status, 0u);
		cr_expect(!strncmp(resp, "HTTP/1.1 200 OK", 15), "%.20s", resp);
	}
	cr_expect_eq(cstats().completed, 3u);
	cr_expect_eq(cstats().copied, 0u);
	cr_expect_eq(azblob_prep_destroy(p), 0);
	cr_expect_eq(azblob_prep_destroy(NULL), 0);
	no_violations();
}

/* The host's copy of TX holds, for a template, what azblob_submit() writes
 * for the same request (a fixed GUID): only the trans_id differs. */
Test(azblob_prep, packet_identical_to_submit)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct done d1 = {0}, d2 = {0};
	struct azblob_prep *p;
	uint8_t guid[16];

	start(0, 0, 256 * 1024, 8, -1);
	azblob_sim_set_faults(sim, &f);
	uint8_t *data = (uint8_t *)azblob_alloc(cl, 200000) + 1000;
	char *req = (char *)azblob_alloc(cl, 4096) + 4080; /* straddles a page */
	char *resp = (char *)azblob_alloc(cl, 4096) + 8;

	for (int i = 0; i < 16; i++)
		guid[i] = (uint8_t)(0xa0 + i);
	memcpy(req, noop_head, sizeof(noop_head) - 1);
	struct azblob_request r = {.request = req,
				   .request_len = sizeof(noop_head) - 1,
				   .response = resp,
				   .response_len = 300,
				   .data = data,
				   .data_len = 150000,
				   .data_valid = 150000,
				   .timeout_ms = 4321,
				   .guid = guid,
				   .done = on_done,
				   .user = &d1};

	cr_assert_eq(azblob_submit(cl, &r), 0, "%s", sink.text);
	cr_assert_eq(azblob_prep_create(cl, &r, &p), 0, "%s", sink.text);
	cr_assert_eq(azblob_prep_submit(cl, p, AZBLOB_PREP_SAME, AZBLOB_PREP_SAME, &d2), 0);
	cr_assert_eq(azblob_flush(cl), 0);

	char path[1024];
	size_t flen;

	snprintf(path, sizeof(path), "%s/sys/bus/vmbus/devices/%s/channels/14/ring",
		 azblob_sim_root(sim), azblob_sim_guid(sim));
	uint8_t *ring = fake_map(path, &flen);
	uint8_t *a = ring + 4096;
	struct vmbus_pkt_desc da, db;

	memcpy(&da, a, sizeof(da));
	uint8_t *b = a + da.len8 * 8u + 8u; /* the next packet, after a's trailer */

	memcpy(&db, b, sizeof(db));
	cr_assert_eq(da.len8, db.len8);
	cr_expect_neq(da.trans_id, db.trans_id);
	cr_expect_arr_eq(a, b, 8, "descriptor");
	cr_expect_arr_eq(a + 16, b + 16, da.len8 * 8u - 16, "pfns and VSP request");
	f.stop_draining = false;
	azblob_sim_set_faults(sim, &f);
	reap(&d1);
	reap(&d2);
	cr_expect_eq(d1.calls, 1);
	cr_expect_eq(d2.calls, 1);
	cr_expect_eq(d2.err, 0);
	cr_expect_eq(azblob_prep_destroy(p), 0);
	/* (the two requests share buffers on purpose: not reused_buffers' rule) */
	cr_expect_eq(sstats().violations_total, 0u);
}

/* Lowered lengths: within the image's pages (patched) and fewer pages
 * (rebuilt) both pass the emulator's checks; beyond the buffers: refused. */
Test(azblob_prep, lengths_patched)
{
	struct azblob_prep *p, *q;
	struct done d = {0};
	uint32_t hl = sizeof(noop_head) - 1;

	start(0, 0, 0, 0, -1);
	char *req = azblob_alloc(cl, 12288), *resp = azblob_alloc(cl, 4096);
	char *data = azblob_alloc(cl, 8192);
	struct azblob_request r = noop_at(req, resp, &d);

	memset(req + hl, ' ', 12288 - hl);
	r.request_len = 200; /* one page */
	r.data = data;
	r.data_len = 8192;
	cr_assert_eq(azblob_prep_create(cl, &r, &p), 0, "%s", sink.text);
	r.request_len = 12288; /* three pages */
	cr_assert_eq(azblob_prep_create(cl, &r, &q), 0, "%s", sink.text);

	cr_expect_eq(azblob_prep_submit(cl, p, 201, AZBLOB_PREP_SAME, &d), -EINVAL);
	cr_expect_eq(azblob_prep_submit(cl, p, 0, AZBLOB_PREP_SAME, &d), -EINVAL);
	cr_expect_eq(azblob_prep_submit(cl, p, AZBLOB_PREP_SAME, 8193, &d), -EINVAL);
	cr_expect_eq(azblob_prep_submit(cl, q, 12289, 0, &d), -EINVAL);
	cr_expect_eq(azblob_prep_submit(cl, q, UINT32_MAX - 1, 0, &d), -EINVAL);
	cr_expect(strstr(sink.text, "beyond"), "%s", sink.text);
	cr_expect_eq(cstats().submitted, 0u, "nothing refused went out");

	struct azblob_prep *t[] = {p, q};

	for (int k = 0; k < 2; k++) {
		for (uint32_t dv = 0; dv <= 8192; dv += 8192) {
			memset(&d, 0, sizeof(d));
			cr_assert_eq(azblob_prep_submit(cl, t[k], hl, dv, &d), 0, "%s", sink.text);
			cr_assert_eq(azblob_flush(cl), 0);
			reap(&d);
			cr_expect_eq(d.calls, 1);
			cr_expect_eq(d.err, 0);
			cr_expect_eq(d.status, 0u, "template %d data_valid %u", k, dv);
		}
	}
	cr_expect_eq(sstats().bytes_in, 2 * 8192u, "data_valid patched");
	cr_expect_eq(azblob_prep_destroy(p), 0);
	cr_expect_eq(azblob_prep_destroy(q), 0);
	no_violations();
}

Test(azblob_prep, refused_at_create)
{
	struct azblob_client *other;
	struct azblob_opts o;
	struct azblob_prep *p = (void *)1;
	struct done d = {0};
	char plain_req[64], plain_resp[512];

	start(0, 0, 0, 0, -1);
	char *req = azblob_alloc(cl, 4096), *resp = azblob_alloc(cl, 4096);
	struct azblob_request r = noop_at(plain_req, plain_resp, &d);

	cr_expect_eq(azblob_prep_create(cl, &r, &p), -EINVAL, "plain memory");
	cr_expect_null(p);
	r = noop_at(req, resp, &d);
	r.response_len = 5000; /* past its azblob_alloc() buffer (4096 asked, 64 KiB apart) */
	r.response = resp + 65536 - 100;
	cr_expect_eq(azblob_prep_create(cl, &r, &p), -EINVAL, "spans two pool buffers");
	r = noop_at(req, resp, &d);
	r.done = NULL;
	cr_expect_eq(azblob_prep_create(cl, &r, &p), -EINVAL, "no callback");
	r = noop_at(req, resp, &d);
	cr_expect_eq(azblob_prep_create(cl, NULL, &p), -EINVAL);
	cr_expect_eq(azblob_prep_create(cl, &r, NULL), -EINVAL);

	/* another client's template (on a second emulator) */
	struct azblob_sim *sim2;
	struct azblob_sim_opts so;

	azblob_sim_opts_init(&so);
	so.ram_bytes = 64u << 20;
	so.no_hugetlb = true;
	so.log = sink_log(&sink);
	cr_assert_eq(azblob_sim_create(&sim2, &so), 0, "%s", sink.text);
	cr_assert_eq(azblob_sim_start(sim2), 0);
	client_opts(&o, 0, 0, 0);
	o.sim_root = azblob_sim_root(sim2);
	cr_assert_eq(azblob_open(&other, &o), 0, "%s", sink.text);
	cr_assert_eq(azblob_prep_create(cl, &r, &p), 0, "%s", sink.text);
	cr_expect_eq(azblob_prep_submit(other, p, AZBLOB_PREP_SAME, AZBLOB_PREP_SAME, &d), -EINVAL);
	cr_expect_eq(azblob_prep_submit(cl, NULL, AZBLOB_PREP_SAME, AZBLOB_PREP_SAME, &d), -EINVAL);
	azblob_close(other);
	azblob_sim_destroy(sim2);
	cr_expect_eq(azblob_prep_destroy(p), 0);
}

/* The template holds registered memory: unregister is refused for its
 * life, and allowed once it is destroyed. */
Test(azblob_prep, unregister_refused_while_held)
{
	struct azblob_prep *p;
	struct done d = {0};

	start(0, 0, 256 * 1024, 4, -1);
	char *mem = azblob_alloc(cl, 200000);

	cr_assert_eq(azblob_register(cl, mem, 200000), 0, "%s", sink.text);
	struct azblob_request r = noop_at(mem, mem + 100000, &d);

	cr_assert_eq(azblob_prep_create(cl, &r, &p), 0, "%s", sink.text);
	cr_expect_eq(azblob_unregister(cl, mem), -EBUSY, "the template holds it");
	cr_assert_eq(azblob_prep_submit(cl, p, AZBLOB_PREP_SAME, AZBLOB_PREP_SAME, &d), 0);
	azblob_flush(cl);
	reap(&d);
	cr_expect_eq(d.err, 0);
	cr_expect_eq(azblob_unregister(cl, mem), -EBUSY, "answered, still held by the template");
	cr_expect_eq(azblob_prep_destroy(p), 0);
	cr_expect_eq(azblob_unregister(cl, mem), 0);
	no_violations();
}

/* A template's azblob_alloc() buffer freed: the template refuses to
 * submit; the buffer goes back to the pool only once it is destroyed (no
 * other request, nor the pool, gets it meanwhile). */
Test(azblob_prep, freed_buffer_refused)
{
	struct azblob_prep *p;
	struct done d = {0};
	void *got[4];
	int n = 0;

	start(0, 0, 0, 3, -1);
	char *req = azblob_alloc(cl, 4096), *resp = azblob_alloc(cl, 4096);
	struct azblob_request r = noop_at(req, resp, &d);

	cr_assert_eq(azblob_prep_create(cl, &r, &p), 0, "%s", sink.text);
	azblob_free(cl, resp);
	cr_expect_eq(azblob_prep_submit(cl, p, AZBLOB_PREP_SAME, AZBLOB_PREP_SAME, &d), -EINVAL);
	cr_expect(strstr(sink.text, "freed"), "%s", sink.text);
	cr_expect_eq(cstats().submitted, 0u);
	while (n < 4 && (got[n] = azblob_alloc(cl, 4096)))
		n++;
	cr_expect_eq(n, 1, "the freed buffer stays out of the pool while the template lives");
	cr_expect_eq(azblob_prep_destroy(p), 0);
	got[n] = azblob_alloc(cl, 4096);
	cr_expect_eq((void *)got[n], (void *)resp, "handed back at destroy");
	cr_expect_eq(azblob_prep_create(cl, &r, &p), 0, "%s", sink.text);
	azblob_free(cl, got[0]);
	azblob_free(cl, req);
	cr_expect_eq(azblob_prep_create(cl, &r, &p), -EINVAL, "a freed buffer");
}

/* Destroy refused while a request of the template is out (also one timed
 * out and held); allowed once the host answered. */
Test(azblob_prep, destroy_with_requests_out)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct azblob_prep *p;
	struct done d = {0};

	start(0, 0, 0, 0, -1);
	char *req = azblob_alloc(cl, 4096), *resp = azblob_alloc(cl, 4096);
	struct azblob_request r = noop_at(req, resp, &d);

	r.timeout_ms = 1; /* the client gives up after the 1 s grace */
	cr_assert_eq(azblob_prep_create(cl, &r, &p), 0, "%s", sink.text);
	azblob_sim_set_faults(sim, &f);
	cr_assert_eq(azblob_prep_submit(cl, p, AZBLOB_PREP_SAME, AZBLOB_PREP_SAME, &d), 0);
	azblob_flush(cl);
	cr_expect_eq(azblob_prep_destroy(p), -EBUSY, "in flight");
	reap(&d);
	cr_assert_eq(d.err, -ETIMEDOUT);
	cr_expect_eq(azblob_prep_destroy(p), -EBUSY, "held: the host may still write");
	f.stop_draining = false;
	azblob_sim_set_faults(sim, &f);
	for (int i = 0; i < 1000 && cstats().late == 0; i++) {
		azblob_poll(cl, 0);
		azblob_wait(cl, 10);
	}
	cr_assert_eq(cstats().late, 1u);
	cr_expect_eq(azblob_prep_destroy(p), 0);
}

/* Templates left at close are destroyed by it (ASan: nothing leaks). */
Test(azblob_prep, close_destroys_templates)
{
	struct azblob_prep *p;
	struct done d = {0};

	start(0, 0, 0, 0, -1);
	char *req = azblob_alloc(cl, 4096), *resp = azblob_alloc(cl, 4096);
	struct azblob_request r = noop_at(req, resp, &d);

	cr_assert_eq(azblob_prep_create(cl, &r, &p), 0, "%s", sink.text);
	cr_assert_eq(azblob_prep_submit(cl, p, AZBLOB_PREP_SAME, AZBLOB_PREP_SAME, &d), 0);
	azblob_flush(cl);
	reap(&d);
	cr_assert_eq(azblob_prep_create(cl, &r, &p), 0, "%s", sink.text);
	cr_expect_eq(azblob_close(cl), 0);
	cl = NULL;
}

/* One request of a template out at a time: its buffers are the host's
 * until it answers. */
Test(azblob_prep, one_request_out_at_a_time)
{
	struct azblob_prep *p;
	struct done d = {0}, e = {0};

	start(0, 0, 0, 0, -1);
	char *req = azblob_alloc(cl, 4096), *resp = azblob_alloc(cl, 4096);
	struct azblob_request r = noop_at(req, resp, &d);

	cr_assert_eq(azblob_prep_create(cl, &r, &p), 0, "%s", sink.text);
	cr_assert_eq(azblob_prep_submit(cl, p, AZBLOB_PREP_SAME, AZBLOB_PREP_SAME, &d), 0);
	cr_expect_eq(azblob_prep_submit(cl, p, AZBLOB_PREP_SAME, AZBLOB_PREP_SAME, &e), -EBUSY);
	azblob_flush(cl);
	reap(&d);
	cr_expect_eq(d.err, 0);
	cr_expect_eq(azblob_prep_submit(cl, p, AZBLOB_PREP_SAME, AZBLOB_PREP_SAME, &e), 0);
	azblob_flush(cl);
	reap(&e);
	cr_expect_eq(e.calls, 1);
	cr_expect_eq(cstats().submitted, 2u);
	cr_expect_eq(azblob_prep_destroy(p), 0);
	no_violations();
}

/* ---- one template, two queues, two threads ---- */

struct qthread {
	struct azblob_queue *q;
	struct azblob_prep *p;
	int answered, want, sent, busy;
	int err;
};

static void *qrun(void *arg)
{
	struct qthread *t = arg;

	for (long spins = 0; t->answered < t->want && spins < 20000000; spins++) {
		if (t->sent < t->want) {
			int rc = azblob_queue_prep_submit(t->q, t->p, AZBLOB_PREP_SAME,
							  AZBLOB_PREP_SAME, &t->answered);

			if (!rc)
				t->sent++;
			else if (rc == -EBUSY)
				t->busy++;
			else if (rc != -EAGAIN) {
				t->err = rc;
				return NULL;
			}
		}
		azblob_queue_flush(t->q);
		if (azblob_queue_poll(t->q, 0) < 0)
			break;
	}
	return NULL;
}

/* Both threads submit the one template as fast as they can: every submit
 * either goes out alone (0) or is refused (-EBUSY); all that went out are
 * answered, and the host never sees two requests on the same buffers. */
Test(azblob_prep, one_template_from_two_queues)
{
	struct qthread t[2] = {{0}};
	pthread_t th[2];
	struct azblob_prep *p;
	struct done d = {0};

	start(0, 0, 0, 0, -1);
	char *req = azblob_alloc(cl, 4096), *resp = azblob_alloc(cl, 4096);
	struct azblob_request r = noop_at(req, resp, &d);

	r.done = on_count;
	cr_assert_eq(azblob_prep_create(cl, &r, &p), 0, "%s", sink.text);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(azblob_queue_create(cl, 16, &t[i].q), 0);
		t[i].p = p;
		t[i].want = 500;
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, qrun, &t[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++) {
		cr_expect_eq(t[i].err, 0);
		cr_expect_eq(t[i].answered, 500, "queue %d", i);
		cr_expect_eq(t[i].sent, 500, "queue %d", i);
		cr_expect_eq(azblob_queue_destroy(t[i].q), 0);
	}
	cr_expect_eq(azblob_prep_destroy(p), 0, "nothing left in flight");
	no_violations();
}
