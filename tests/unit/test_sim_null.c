/* The null host (opts.backend "null"): every request answered at once with
 * status 0 whatever its VSP fields, in one batch per pass; a corrupt
 * descriptor breaks the channel; azblob_sim_step() serves in the caller's
 * thread (the normal host's too). */
#include <criterion/criterion.h>
#include <errno.h>

#include "mem_fixture.h"
#include "sim_guest.h"

static struct log_sink sink;
static struct tguest t;

static void null_opts(struct azblob_sim_opts *o, struct uvmbus_log *log)
{
	azblob_sim_opts_init(o);
	o->ram_bytes = 32u << 20;
	o->no_hugetlb = true;
	o->backend = "null";
	o->log = *log;
}

static void fini(void)
{
	tguest_close(&t);
}

#define stats() tguest_stats(&t)

/* A request the normal host would reject (version 7, an unknown
 * operation, no HTTP head): the null host does not look. */
static size_t odd_request(uint64_t tid, uint8_t *pkt)
{
	struct treq q = {
	    .tid = tid, .req_off = 0, .req_len = 16, .resp_off = 8192, .resp_len = 512};
	size_t len = treq_build(&t, &q, pkt);
	struct azblob_vsp_request *v = (struct azblob_vsp_request *)(pkt + len - sizeof(*v));

	v->version = 7;
	v->operation_type = 0x999;
	return len;
}

TestSuite(sim_null, .fini = fini);

Test(sim_null, answers_a_batch_at_once)
{
	struct azblob_sim_opts o;
	struct uvmbus_log log = sink_log(&sink);
	uint8_t pkt[256];
	bool seen[41] = {0};

	null_opts(&o, &log);
	cr_assert_eq(tguest_open(&t, &o, &log), 0, "%s", sink.text);
	for (uint64_t tid = 1; tid <= 40; tid++)
		cr_assert_eq(traw_send(&t, pkt, odd_request(tid, pkt), false), 0);
	cr_assert_eq(tflush(&t), 0);
	for (int i = 0; i < 40; i++) {
		struct tcompl c = {0};

		cr_assert_eq(trecv(&t, &c, 5000), 0, "%d: %s", i, sink.text);
		cr_assert(c.tid >= 1 && c.tid <= 40 && !seen[c.tid]);
		seen[c.tid] = true;
		cr_expect_eq(c.status, 0u);
		cr_expect_eq(c.response_len, 0u);
	}
	struct azblob_sim_stats st = stats();

	cr_expect_eq(st.requests, 40u);
	cr_expect_eq(st.completions, 40u);
	cr_expect_eq(st.violations_total, 0u);
	cr_expect_leq(st.interrupts, 1u, "one batch, one interrupt decision");
}

Test(sim_null, corrupt_descriptor_breaks_the_channel)
{
	struct azblob_sim_opts o;
	struct uvmbus_log log = sink_log(&sink);
	uint8_t pkt[256];
	struct tcompl c;

	null_opts(&o, &log);
	cr_assert_eq(tguest_open(&t, &o, &log), 0, "%s", sink.text);
	size_t len = odd_request(5, pkt);

	pkt[2] = 1; /* offset8 1: shorter than the descriptor */
	cr_assert_eq(traw_send(&t, pkt, len, true), 0);
	cr_assert_eq(traw_send(&t, pkt, odd_request(6, pkt), true), 0);
	cr_expect_eq(trecv(&t, &c, 300), -ETIMEDOUT);
	cr_expect_eq(stats().violations[AZBLOB_SIM_V_DESCRIPTOR], 1u, "%s", sink.text);
	cr_expect_eq(stats().completions, 0u);
}

Test(sim_null, stepped_in_the_callers_thread)
{
	struct azblob_sim_opts o;
	struct uvmbus_log log = sink_log(&sink);
	uint8_t pkt[256];

	/* the normal host steps too, validation included */
	azblob_sim_opts_init(&o);
	o.ram_bytes = 32u << 20;
	o.no_hugetlb = true;
	o.log = log;
	cr_assert_eq(tguest_open(&t, &o, &log), 0, "%s", sink.text);
	azblob_sim_join(t.sim);
	cr_expect_eq(azblob_sim_step(t.sim), 0, "nothing queued");
	static const char noop[] = "GET /$sim/noop HTTP/1.1\r\n\r\n";
	struct treq q = {.tid = 1, .req_len = sizeof(noop) - 1, .resp_off = 8192, .resp_len = 512};

	memcpy(t.buf, noop, sizeof(noop) - 1);
	cr_assert_eq(traw_send(&t, pkt, treq_build(&t, &q, pkt), false), 0);
	cr_assert_eq(traw_send(&t, pkt, odd_request(2, pkt), false), 0);
	cr_assert_eq(tflush(&t), 0);
	cr_expect_eq(azblob_sim_step(t.sim), 2);
	for (uint64_t tid = 1; tid <= 2; tid++) {
		struct tcompl c = {0};

		cr_assert_eq(trecv(&t, &c, 0), 0, "answered by the step: no wait");
		cr_expect_eq(c.tid, tid);
		cr_expect_eq(c.status, tid == 1 ? 0 : AZBLOB_VSP_STATUS_INVALID_PARAMETER);
		if (tid == 1)
			cr_expect(c.response_len > 0 &&
				      !memcmp(t.buf + 8192, "HTTP/1.1 200 OK\r\n", 17),
				  "the no-op's answer");
	}
	cr_expect_eq(stats().violations[AZBLOB_SIM_V_VERSION], 1u, "%s", sink.text);
	cr_expect_eq(azblob_sim_step(t.sim), 0);
	tguest_close(&t);

	/* the guest's open waits for the host's hello: a thread serves until
	 * then, and hands over */
	null_opts(&o, &log);
	cr_assert_eq(tguest_open(&t, &o, &log), 0, "%s", sink.text);
	azblob_sim_join(t.sim);
	cr_expect_eq(azblob_sim_step(t.sim), 0, "nothing queued");
	for (uint64_t tid = 1; tid <= 5; tid++)
		cr_assert_eq(traw_send(&t, pkt, odd_request(tid, pkt), false), 0);
	cr_assert_eq(tflush(&t), 0);
	cr_expect_eq(azblob_sim_step(t.sim), 5);
	for (int i = 0; i < 5; i++) {
		struct tcompl c = {0};

		cr_assert_eq(trecv(&t, &c, 0), 0, "answered by the step: no wait");
		cr_expect_eq(c.tid, (uint64_t)i + 1);
	}
	cr_expect_eq(azblob_sim_step(t.sim), 0);
}
