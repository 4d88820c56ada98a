/* Queues on one client (azblob_queue_*): routing of each answer to the
 * queue and thread that submitted it, the client's own calls in shared
 * mode, timeouts, rescind, a broken channel, close and destroy rules, the
 * no-lost-wake-up wait, and the memory calls from several threads. */
#include <pthread.h>
#include <stdatomic.h>

#include "azblob_fixture.h"

TestSuite(queue, .fini = stop);

struct tdone {
	struct done d;
	pthread_t thread;
};

static void on_tdone(void *user, int err, uint32_t status, uint32_t len)
{
	struct tdone *t = user;

	t->thread = pthread_self();
	on_done(&t->d, err, status, len);
}

static struct azblob_request tnoop(char *req, char *resp, struct tdone *t)
{
	struct azblob_request r = noop(req, resp, &t->d);

	r.done = on_tdone;
	r.user = t;
	return r;
}

/* Poll the queue until `d` has been called (~10 s at most). */
static void qreap(struct azblob_queue *q, struct done *d)
{
	for (int i = 0; i < 1000 && !d->calls; i++) {
		if (azblob_queue_poll(q, 0) < 0 || d->calls)
			break;
		azblob_queue_wait(q, 10);
	}
}

Test(queue, answers_go_to_the_submitting_queue_only)
{
	struct azblob_queue *a, *b;
	struct tdone da = {0}, db = {0};
	struct done dc = {0};
	char req[64];

	start(0, 0, 0, 64, -1);
	cr_assert_eq(azblob_queue_create(cl, 8, &a), 0, "%s", sink.text);
	cr_assert_eq(azblob_queue_create(cl, 8, &b), 0);
	struct azblob_request ra = tnoop(req, azblob_alloc(cl, 512), &da);
	struct azblob_request rb = tnoop(req, azblob_alloc(cl, 512), &db);

	cr_assert_eq(azblob_queue_submit(a, &ra), 0);
	cr_assert_eq(azblob_queue_submit(b, &rb), 0);
	cr_assert_eq(azblob_queue_flush(a), 0);
	cr_expect_eq(azblob_queue_inflight(a), 1u);
	/* Poll a until its answer came: b's answer is routed, not run. */
	qreap(a, &da.d);
	cr_assert_eq(da.d.calls, 1);
	cr_expect_eq(da.d.err, 0);
	for (int i = 0; i < 100; i++) {
		azblob_queue_poll(a, 0);
		azblob_queue_wait(a, 1);
	}
	cr_expect_eq(db.d.calls, 0, "b's callback never runs in a's poll");
	cr_expect_eq(azblob_queue_inflight(b), 1u);
	cr_expect_eq(azblob_queue_poll(b, 0), 1);
	cr_expect_eq(db.d.calls, 1);
	cr_expect_eq(db.d.err, 0);
	cr_expect_eq(azblob_queue_inflight(b), 0u);

	/* The client's own calls keep working in shared mode. */
	struct azblob_request rc = noop(req, azblob_alloc(cl, 512), &dc);

	cr_assert_eq(azblob_submit(cl, &rc), 0);
	cr_expect_eq(azblob_inflight(cl), 1u);
	cr_assert_eq(azblob_flush(cl), 0);
	reap(&dc);
	cr_expect_eq(dc.calls, 1);
	cr_expect_eq(dc.err, 0);
	cr_expect_eq(azblob_inflight(cl), 0u);
	/* And the original driver's sync call (plain memory, copied). */
	char sreq[64], sresp[512];
	struct azblob_request_sync_abi sa = {.request_buffer = (uintptr_t)sreq,
					     .request_len = sizeof(noop_head) - 1,
					     .response_buffer = (uintptr_t)sresp,
					     .response_len = sizeof(sresp),
					     .timeout = 5000};

	memcpy(sreq, noop_head, sizeof(noop_head) - 1);
	cr_expect_eq(azblob_request_sync(cl, &sa), 0, "%s", sink.text);
	cr_expect_eq(sa.response.status, 0u);
	cr_expect(!strncmp(sresp, "HTTP/1.1 200 OK", 15), "%.20s", sresp);
	cr_expect_eq(cstats().completed, 4u);
	cr_expect_eq(azblob_queue_destroy(a), 0);
	cr_expect_eq(azblob_queue_destroy(b), 0);
}

Test(queue, depth_is_per_queue)
{
	struct azblob_queue *q;
	struct azblob_sim_faults f = {.stop_draining = true};
	static struct tdone d[3];
	char req[64], resp[512];

	start(0, 8, 0, 0, -1);
	cr_expect_eq(azblob_queue_create(cl, 9, &q), -EINVAL, "above the client's depth");
	cr_assert_eq(azblob_queue_create(cl, 2, &q), 0);
	azblob_sim_set_faults(sim, &f);
	for (int i = 0; i < 2; i++) {
		struct azblob_request r = tnoop(req, resp, &d[i]);

		cr_assert_eq(azblob_queue_submit(q, &r), 0);
	}
	struct azblob_request r = tnoop(req, resp, &d[2]);

	cr_expect_eq(azblob_queue_submit(q, &r), -EAGAIN);
	cr_expect_eq(azblob_queue_destroy(q), -EBUSY, "requests not reaped");
	f.stop_draining = false;
	azblob_sim_set_faults(sim, &f);
	azblob_queue_flush(q);
	qreap(q, &d[1].d);
	qreap(q, &d[0].d);
	cr_expect_eq(d[0].d.calls + d[1].d.calls, 2);
	cr_expect_eq(azblob_queue_destroy(q), 0);
}

/* ---- another thread drives the channel ---- */

struct driver {
	struct azblob_queue *q;
	atomic_bool stop;
};

static void *drive(void *arg)
{
	struct driver *dr = arg;

	while (!atomic_load(&dr->stop))
		azblob_queue_poll(dr->q, 0);
	return NULL;
}

Test(queue, another_thread_reaps_and_the_owner_runs_the_callback)
{
	struct driver dr = {0};
	struct azblob_queue *mine;
	struct tdone d = {0};
	pthread_t t;
	char req[64];

	start(0, 0, 0, 64, -1);
	cr_assert_eq(azblob_queue_create(cl, 4, &mine), 0);
	cr_assert_eq(azblob_queue_create(cl, 4, &dr.q), 0);
	pthread_create(&t, NULL, drive, &dr);
	struct azblob_request r = tnoop(req, azblob_alloc(cl, 512), &d);

	cr_assert_eq(azblob_queue_submit(mine, &r), 0);
	cr_assert_eq(azblob_queue_flush(mine), 0);
	/* Wait for the driver to have consumed the answer (host counts it
	 * completed and the client's counter moves) without polling here. */
	for (int i = 0; i < 10000 && cstats().completed == 0; i++)
		sched_yield();
	cr_assert_eq(cstats().completed, 1u);
	cr_expect_eq(d.d.calls, 0, "not called back outside the owner's poll");
	cr_expect_eq(azblob_queue_wait(mine, 5000), 1, "the routed answer is ready");
	cr_expect_eq(azblob_queue_poll(mine, 0), 1);
	cr_expect_eq(d.d.calls, 1);
	cr_expect(pthread_equal(d.thread, pthread_self()), "called back in the owner's thread");
	atomic_store(&dr.stop, true);
	pthread_join(t, NULL);
	cr_expect_eq(azblob_queue_destroy(dr.q), 0);
	cr_expect_eq(azblob_queue_destroy(mine), 0);
}

/* A queue asleep in azblob_queue_wait() while another thread reaps its
 * answer is woken (its eventfd): interrupt mode and a sleeping host, and
 * a wait far longer than the test takes, so a lost wake-up shows as 0. */
Test(queue, wait_is_woken_when_another_thread_reaps)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct driver dr = {0};
	struct azblob_queue *mine;
	struct azblob_opts o;
	struct tdone d = {0};
	pthread_t t;
	char req[64];

	start_sim(0, -1);
	client_opts(&o, 0, 0, 64);
	o.interrupt_mode = true;
	cr_assert_eq(azblob_open(&cl, &o), 0, "%s", sink.text);
	cr_assert_eq(azblob_queue_create(cl, 4, &mine), 0);
	cr_assert_eq(azblob_queue_create(cl, 4, &dr.q), 0);
	azblob_sim_set_faults(sim, &f);
	struct azblob_request r = tnoop(req, azblob_alloc(cl, 512), &d);

	cr_assert_eq(azblob_queue_submit(mine, &r), 0);
	cr_assert_eq(azblob_queue_flush(mine), 0);
	pthread_create(&t, NULL, drive, &dr);
	/* The host answers in 50 ms; the driver thread reaps it. */
	f.stop_draining = false;
	f.delay_us = 50000;
	azblob_sim_set_faults(sim, &f);
	int rc = azblob_queue_wait(mine, 20000);

	cr_expect_eq(rc, 1, "woken, not timed out");
	atomic_store(&dr.stop, true);
	pthread_join(t, NULL);
	cr_expect_eq(azblob_queue_poll(mine, 0), 1);
	cr_expect_eq(d.d.calls, 1);
	cr_expect_eq(d.d.err, 0);
	cr_expect_eq(azblob_queue_destroy(dr.q), 0);
	cr_expect_eq(azblob_queue_destroy(mine), 0);
}

/* Interrupt mode, no other thread: the queue's own wait sleeps on the
 * channel and wakes for its answer. */
Test(queue, wait_alone_in_interrupt_mode)
{
	struct azblob_queue *q;
	struct azblob_opts o;
	struct tdone d = {0};
	char req[64];

	start_sim(0, -1);
	client_opts(&o, 0, 0, 64);
	o.interrupt_mode = true;
	cr_assert_eq(azblob_open(&cl, &o), 0, "%s", sink.text);
	cr_assert_eq(azblob_queue_create(cl, 4, &q), 0);
	struct azblob_request r = tnoop(req, azblob_alloc(cl, 512), &d);

	cr_assert_eq(azblob_queue_submit(q, &r), 0);
	cr_assert_eq(azblob_queue_flush(q), 0);
	for (int i = 0; i < 100 && !d.d.calls; i++) {
		int rc = azblob_queue_wait(q, 20000);

		cr_assert_geq(rc, 0);
		azblob_queue_poll(q, 0);
	}
	cr_expect_eq(d.d.calls, 1);
	cr_expect_eq(azblob_queue_destroy(q), 0);
}

Test(queue, timeout_on_a_queue_then_late_answer_absorbed)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct azblob_queue *q;
	struct tdone d = {0};
	char req[64], resp[512];

	start(0, 0, 0, 0, -1);
	cr_assert_eq(azblob_queue_create(cl, 4, &q), 0);
	azblob_sim_set_faults(sim, &f);
	struct azblob_request r = tnoop(req, resp, &d); /* plain memory: the copy path */

	r.timeout_ms = 30;
	cr_assert_eq(azblob_queue_submit(q, &r), 0);
	cr_assert_eq(azblob_queue_flush(q), 0);
	qreap(q, &d.d);
	cr_assert_eq(d.d.calls, 1);
	cr_expect_eq(d.d.err, -ETIMEDOUT);
	cr_expect_eq(cstats().timeouts, 1u);
	cr_expect_eq(azblob_queue_inflight(q), 0u);
	/* The queue can go: the held slot no longer names it. */
	cr_expect_eq(azblob_queue_destroy(q), 0);
	f.stop_draining = false;
	azblob_sim_set_faults(sim, &f);
	for (int i = 0; i < 1000 && cstats().late == 0; i++) {
		azblob_poll(cl, 0);
		azblob_wait(cl, 10);
	}
	cr_expect_eq(cstats().late, 1u);
	cr_expect_eq(d.d.calls, 1);
}

/* Requests out on two queues and the client itself: a rescind answers
 * every one with -ENODEV on its own queue. */
Test(queue, rescind_fails_every_queue)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct azblob_queue *q[2];
	static struct tdone d[2][3];
	static struct done dc;
	char req[64];

	start(0, 0, 0, 64, -1);
	for (int k = 0; k < 2; k++)
		cr_assert_eq(azblob_queue_create(cl, 4, &q[k]), 0);
	azblob_sim_set_faults(sim, &f);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 3; i++) {
			struct azblob_request r = tnoop(req, azblob_alloc(cl, 512), &d[k][i]);

			cr_assert_eq(azblob_queue_submit(q[k], &r), 0);
		}
	struct azblob_request rc = noop(req, azblob_alloc(cl, 512), &dc);

	cr_assert_eq(azblob_submit(cl, &rc), 0);
	azblob_flush(cl);
	azblob_sim_rescind(sim);
	int r0 = 0;

	for (int i = 0; i < 1000 && r0 != -ENODEV; i++) {
		r0 = azblob_queue_wait(q[0], 10);
		if (r0 != -ENODEV)
			r0 = azblob_queue_poll(q[0], 0);
	}
	cr_expect_eq(r0, -ENODEV);
	cr_expect_eq(azblob_queue_poll(q[1], 0), 3, "q1's answers wait in its ring");
	cr_expect_eq(azblob_queue_poll(q[1], 0), -ENODEV);
	cr_expect_eq(azblob_poll(cl, 0), 1);
	cr_expect_eq(dc.err, -ENODEV);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 3; i++)
			cr_expect(d[k][i].d.calls == 1 && d[k][i].d.err == -ENODEV,
				  "queue %d request %d: %d calls, err %d", k, i, d[k][i].d.calls,
				  d[k][i].d.err);
	cr_expect_eq(azblob_queue_submit(q[1], &rc), -ENODEV);
	for (int k = 0; k < 2; k++)
		cr_expect_eq(azblob_queue_destroy(q[k]), 0);
}

Test(queue, broken_channel_fails_every_queue)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct azblob_queue *q[2];
	static struct tdone d[2][2];
	char req[64];

	start(0, 0, 0, 64, -1);
	for (int k = 0; k < 2; k++)
		cr_assert_eq(azblob_queue_create(cl, 4, &q[k]), 0);
	azblob_sim_set_faults(sim, &f);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 2; i++) {
			struct azblob_request r = tnoop(req, azblob_alloc(cl, 512), &d[k][i]);

			cr_assert_eq(azblob_queue_submit(q[k], &r), 0);
		}
	f.stop_draining = false;
	f.corrupt = 1;
	azblob_sim_set_faults(sim, &f);
	azblob_queue_flush(q[0]);
	qreap(q[0], &d[0][1].d);
	cr_expect_neq(strstr(sink.text, "corrupted the RX ring"), NULL, "%s", sink.text);
	cr_expect_eq(azblob_queue_poll(q[1], 0), 2);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 2; i++)
			cr_expect(d[k][i].d.calls == 1 && d[k][i].d.err == -EIO,
				  "queue %d request %d: %d calls, err %d", k, i, d[k][i].d.calls,
				  d[k][i].d.err);
	cr_expect_eq(azblob_queue_poll(q[0], 0), -EIO);
	cr_expect_eq(azblob_queue_poll(q[1], 0), -EIO);
	for (int k = 0; k < 2; k++)
		cr_expect_eq(azblob_queue_destroy(q[k]), 0);
}

Test(queue, close_with_queues_open_is_refused)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct azblob_queue *q;
	struct done dc = {0};
	char req[64], resp[512];

	start(0, 0, 0, 0, -1);
	cr_assert_eq(azblob_queue_create(cl, 4, &q), 0);
	cr_expect_eq(azblob_close(cl), -ENOTEMPTY);
	cr_expect_neq(strstr(sink.text, "still open"), NULL, "%s", sink.text);
	/* The client is untouched: still usable. */
	struct azblob_request r = noop(req, resp, &dc);

	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_flush(cl);
	reap(&dc);
	cr_expect_eq(dc.calls, 1);
	cr_expect_eq(azblob_queue_destroy(q), 0);
	/* A request of the client's own out at close: cancelled, called back
	 * once (from the queue machinery's ring or inline). */
	memset(&dc, 0, sizeof(dc));
	azblob_sim_set_faults(sim, &f);
	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_flush(cl);
	/* -EBUSY: the host never answered, its memory is left behind. */
	cr_expect_eq(azblob_close(cl), -EBUSY);
	cl = NULL;
	cr_expect_eq(dc.calls, 1);
	cr_expect_eq(dc.err, -ECANCELED);
}

/* ---- memory calls from several threads ---- */

struct memw {
	int got, bad;
};

static void *mem_worker(void *arg)
{
	struct memw *m = arg;
	static char plain[4096];

	for (int i = 0; i < 20000; i++) {
		char *p = azblob_alloc(cl, 256);

		if (!p)
			continue;
		m->got++;
		if (p[0] || p[255])
			m->bad++; /* handed out zeroed */
		p[0] = p[255] = 1;
		azblob_free(cl, p);
		if (i % 1000 == 0) {
			struct azblob_stats st;

			azblob_get_stats(cl, &st);
			if (azblob_register(cl, plain, sizeof(plain)) == 0)
				azblob_unregister(cl, plain);
		}
	}
	return NULL;
}

Test(queue, memory_calls_from_several_threads)
{
	struct azblob_queue *q;
	struct memw m[4] = {0};
	pthread_t t[4];
	void *all[16];

	start(0, 0, 0, 16, -1);
	cr_assert_eq(azblob_queue_create(cl, 4, &q), 0);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, mem_worker, &m[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++) {
		cr_expect_gt(m[i].got, 0);
		cr_expect_eq(m[i].bad, 0);
	}
	/* Nothing lost or handed out twice: the whole pool comes back. */
	for (int i = 0; i < 16; i++) {
		all[i] = azblob_alloc(cl, 256);
		cr_assert_not_null(all[i], "buffer %d", i);
		for (int k = 0; k < i; k++)
			cr_assert_neq(all[i], all[k]);
	}
	cr_expect_null(azblob_alloc(cl, 256));
	for (int i = 0; i < 16; i++)
		azblob_free(cl, all[i]);
	cr_expect_eq(azblob_queue_destroy(q), 0);
}
