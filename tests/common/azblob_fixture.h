/* libazblob tests through the in-process simulator: one sim, one client,
 * a completion recorder and a no-op request. */
#ifndef TEST_AZBLOB_FIXTURE_H
#define TEST_AZBLOB_FIXTURE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <time.h>

#include <azblob.h>
#include <azblob/sim.h>

#include "mem_fixture.h"

static struct log_sink sink;
static struct azblob_sim *sim;
static struct azblob_client *cl;

struct done {
	int calls, err;
	uint32_t status, len;
};

static inline void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct done *d = user;

	d->calls++;
	d->err = err;
	d->status = status;
	d->len = len;
}

/* Client options of the tests: small pools; a close that waits at most
 * 100 ms for unanswered requests (tests that test close set their own). */
static inline void client_opts(struct azblob_opts *o, uint32_t qd, uint32_t pool_buf,
			       uint32_t pool_bufs)
{
	azblob_opts_init(o);
	o->sim_root = azblob_sim_root(sim);
	o->queue_depth = qd ? qd : 64;
	o->pool_buf_size = pool_buf ? pool_buf : 64 * 1024;
	o->pool_bufs = pool_bufs ? pool_bufs : 16;
	o->close_timeout_ms = 100;
	o->log = (struct uvmbus_log){.fn = sink_fn, .arg = &sink, .max_level = UVMBUS_LOG_DEBUG};
}

static inline void start_sim(uint32_t ring, int monitor)
{
	struct azblob_sim_opts so;

	azblob_sim_opts_init(&so);
	so.ram_bytes = 128u << 20;
	so.no_hugetlb = true;
	so.monitor_id = monitor;
	if (ring)
		so.ring_bytes = ring;
	/* a kernel profile (its rings and monitor) when the test names one */
	so.kernel = getenv("AZBLOB_SIM_KERNEL");
	so.log = sink_log(&sink);
	cr_assert_eq(azblob_sim_create(&sim, &so), 0, "%s", sink.text);
	cr_assert_eq(azblob_sim_start(sim), 0);
}

static inline void start(uint32_t ring, uint32_t qd, uint32_t pool_buf, uint32_t pool_bufs,
			 int monitor)
{
	struct azblob_opts o;

	start_sim(ring, monitor);
	client_opts(&o, qd, pool_buf, pool_bufs);
	cr_assert_eq(azblob_open(&cl, &o), 0, "%s", sink.text);
}

static inline void stop(void)
{
	azblob_close(cl);
	azblob_sim_destroy(sim);
	cl = NULL;
	sim = NULL;
}

/* Poll (and wait) until `d` has been called or ~10 s of waiting passed. */
static inline void reap(struct done *d)
{
	for (int i = 0; i < 1000 && !d->calls; i++) {
		int n = azblob_poll(cl, 0);

		if (n < 0 || d->calls)
			break;
		azblob_wait(cl, 10);
	}
}

static const char noop_head[] = "GET /$sim/noop HTTP/1.1\r\n\r\n";

static inline struct azblob_request noop(char *req, char *resp, struct done *d)
{
	memcpy(req, noop_head, sizeof(noop_head) - 1);
	return (struct azblob_request){.request = req,
				       .request_len = sizeof(noop_head) - 1,
				       .response = resp,
				       .response_len = 512,
				       .done = on_done,
				       .user = d};
}

static inline struct azblob_sim_stats sstats(void)
{
	struct azblob_sim_stats st;

	azblob_sim_get_stats(sim, &st);
	return st;
}

static inline struct azblob_stats cstats(void)
{
	struct azblob_stats st;

	azblob_get_stats(cl, &st);
	return st;
}

/* n no-op requests out (each its own response buffer) on a host that
 * stopped reading, then a rescind: poll and wait until the client says
 * -ENODEV (returned; anything else after ~10 s). */
static inline int rescind_with_requests_out(struct done *d, int n)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	char req[64];
	int rc = 0;

	azblob_sim_set_faults(sim, &f);
	for (int i = 0; i < n; i++) {
		struct azblob_request r = noop(req, azblob_alloc(cl, 512), &d[i]);

		cr_assert_eq(azblob_submit(cl, &r), 0);
	}
	azblob_flush(cl);
	azblob_sim_rescind(sim);
	for (int i = 0; i < 1000 && rc != -ENODEV; i++) {
		rc = azblob_wait(cl, 10);
		if (rc != -ENODEV)
			rc = azblob_poll(cl, 0);
	}
	return rc;
}

#endif
