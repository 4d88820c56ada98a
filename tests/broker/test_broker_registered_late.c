// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_registered_late: on the registered path a request that times out
 * leaves its record held in the daemon (the host may still write the
 * client's arena pages). When the host answers at last, the daemon must
 * hear it (libazblob's release callback) and give the record back, with
 * the late answer for the client, whose libazblob then frees its own slot.
 * A session of queue depth 8 sees 1,000 timeouts, each answered late by
 * the host (the emulator's late_ms fault: after the guest's grace), and
 * still has its 8 slots; the daemon's held records return to 0.
 * BROKER_LATE_TIMEOUTS sets the count (default 1000: ~2.5 min, the
 * guest's grace is at least 1 s).
 */
#include "harness.h"

#define QD 8

struct lreq {
	struct bh_req b;
	bool busy; /* the host may write its buffers */
};

static struct lreq q[QD];
static unsigned timeouts, answered, released, released_err;

static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct lreq *x = user;

	bh_on_done(&x->b, err, status, len);
	if (err == -ETIMEDOUT) {
		timeouts++; /* held until the release */
		return;
	}
	answered++;
	x->busy = false;
}

static void on_release(void *arg, void *user, int err, uint32_t status, uint32_t len)
{
	struct lreq *x = user;

	(void)arg;
	(void)status;
	(void)len;
	if (err) {
		released_err++;
		return;
	}
	released++;
	x->busy = false;
}

static int submit(struct azblob_client *c, struct lreq *x, uint32_t timeout_ms)
{
	static const char noop[] = "GET /$sim/noop HTTP/1.1\r\n\r\n";
	struct azblob_request r = {.request = x->b.req,
				   .request_len = sizeof(noop) - 1,
				   .response = x->b.resp,
				   .response_len = 512,
				   .timeout_ms = timeout_ms,
				   .done = on_done,
				   .user = x};
	int rc;

	memcpy(x->b.req, noop, sizeof(noop) - 1);
	x->busy = true;
	rc = azblob_submit(c, &r);
	if (rc)
		x->busy = false;
	return rc;
}

static void show(const struct bh *h, struct azblob_client *c)
{
	static char text[AZBLOB_BROKER_STATS_MAX];
	struct azblob_stats st;

	azblob_get_stats(c, &st);
	printf("client: timeouts %u late answers %u (released %u, released with an error %u) "
	       "held_slots %llu\n",
	       timeouts, (unsigned)st.late, released, released_err,
	       (unsigned long long)st.held_slots);
	if (bh_stats(h, text, sizeof(text)) > 0)
		printf("%s", text);
}

int main(int argc, char **argv)
{
	const char *env = getenv("BROKER_LATE_TIMEOUTS");
	unsigned want = env ? (unsigned)strtoul(env, NULL, 10) : 1000, sent = 0, seen = 0;
	struct azblob_sim_faults f = {.late_ms = 1150}; /* past the guest's grace (1 s) */
	static char text[AZBLOB_BROKER_STATS_MAX];
	struct azblob_client *c;
	struct azblob_stats st;
	uint64_t last;
	struct bh h;
	int status;

	BH_CHECK(argc == 2, "usage: %s AZBLOBD", argv[0]);
	bh_start(&h, argv[1], NULL, &f);
	c = bh_client(&h, QD, 4096);
	azblob_set_release(c, on_release, NULL);
	for (int i = 0; i < QD; i++)
		bh_alloc(c, &q[i].b, 1, 0);
	last = bh_now_ns();
	while (timeouts < want || released + released_err < timeouts) {
		for (int i = 0; i < QD && sent < want; i++) {
			if (q[i].busy)
				continue;
			int rc = submit(c, &q[i], 1);

			BH_CHECK(!rc || rc == -EAGAIN, "submit: %s", strerror(-rc));
			sent += !rc;
		}
		azblob_flush(c);
		BH_CHECK(azblob_poll(c, 0) >= 0, "poll");
		azblob_wait(c, 10);
		if (timeouts + released != seen) {
			seen = timeouts + released;
			last = bh_now_ns();
		}
		if (bh_now_ns() - last > 10000000000ull) {
			show(&h, c);
			BH_FAIL("no progress for 10 s after %u timeouts and %u late answers: the "
				"session's slots stay held",
				timeouts, released);
		}
	}
	BH_CHECK(!answered && !released_err,
		 "every request timed out, then was answered late "
		 "(%u answered in time, %u released with an error)",
		 answered, released_err);
	show(&h, c);
	/* The host answers in time again: the session still has its 8 slots. */
	memset(&f, 0, sizeof(f));
	azblob_sim_set_faults(h.sim, &f);
	for (int i = 0; i < QD; i++)
		BH_CHECK(submit(c, &q[i], 5000) == 0, "slot %d of %d after %u timeouts", i + 1, QD,
			 timeouts);
	azblob_flush(c);
	for (int i = 0; i < 1000 && answered < QD; i++) {
		azblob_poll(c, 0);
		azblob_wait(c, 10);
	}
	BH_CHECK(answered == QD, "%u of %d answered", answered, QD);
	azblob_get_stats(c, &st);
	BH_CHECK(st.held_slots == 0 && st.late == want, "client: held_slots %llu, late %llu",
		 (unsigned long long)st.held_slots, (unsigned long long)st.late);
	BH_CHECK(bh_stats(&h, text, sizeof(text)) > 0, "stats");
	printf("%s", text);
	BH_CHECK(bh_num(text, "records") == 0, "the daemon's held records: %lld",
		 bh_num(text, "records"));
	BH_CHECK(bh_num(text, "returned") == (long long)want, "late answers returned: %lld",
		 bh_num(text, "returned"));
	printf("session of queue depth %d: %u timeouts answered late, %d slots after, daemon "
	       "held records 0\n",
	       QD, timeouts, QD);
	BH_CHECK(azblob_close(c) == 0, "close");
	status = bh_stop(&h);
	BH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "azblobd exit %#x", status);
	printf("ok\n");
	return 0;
}
