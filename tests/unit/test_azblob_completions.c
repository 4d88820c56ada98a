/* Completions as real hosts send them, and the guest's deadline:
 *  - the original driver takes the VSP response at offset8 * 8 of any
 *    packet the host sends (hv_pkt_data), whatever its type or length:
 *    so must we, counting what came in rx_types[] (azblob_compl);
 *  - the guest gives up AZBLOB_GRACE_MS after the timeout it sent the
 *    host, so the host's own timeout answer arrives first (azblob_grace). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include <uvmbus/packet.h>
#include <uvmbus/ring.h>

#include "azblob_fixture.h"
#include "sim_client.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- completion packet types and shapes, through the sim ---- */

struct shape {
	uint16_t type, extra8;
	enum azblob_rx_type idx;
};

ParameterizedTestParameters(azblob_compl, host_variant)
{
	static struct shape rows[] = {
	    {6, 0, AZBLOB_RX_INBAND},	    /* VM_PKT_DATA_INBAND, 32 bytes */
	    {6, 3, AZBLOB_RX_INBAND},	    /* offset8 5: extra header, 56 bytes */
	    {6, 40, AZBLOB_RX_INBAND},	    /* 352 bytes: longer than the old 64-byte read */
	    {11, 40, AZBLOB_RX_COMPLETION}, /* the usual type, longer header */
	    {7, 0, AZBLOB_RX_XFER_PAGES},
	    {9, 2, AZBLOB_RX_GPA_DIRECT}, /* not parsed as a GPA-direct request */
	    {10, 0, AZBLOB_RX_CANCEL},
	    {1, 0, AZBLOB_RX_OTHER},
	    {200, 255, AZBLOB_RX_OTHER},
	};
	return cr_make_param_array(struct shape, rows, sizeof(rows) / sizeof(rows[0]));
}

/* Answers of the host variant complete their requests (no timeout), with
 * the status and response length a type-11 answer carries, and the
 * counters name the type. */
ParameterizedTest(struct shape *sh, azblob_compl, host_variant, .fini = stop)
{
	enum { N = 8 };
	struct azblob_sim_faults f = {.completion_type = sh->type, .completion_extra8 = sh->extra8};
	struct done base = {0}, d[N] = {{0}};
	char req[N][64], resp[N][512], resp0[512];

	start(0, 0, 0, 0, -1);
	/* A plain type-11 answer first: what the others must look like. */
	struct azblob_request r = noop(req[0], resp0, &base);

	r.timeout_ms = 5000;
	cr_assert_eq(azblob_submit(cl, &r), 0);
	cr_assert_eq(azblob_flush(cl), 0);
	reap(&base);
	cr_assert_eq(base.calls, 1);
	cr_assert_eq(base.err, 0);

	azblob_sim_set_faults(sim, &f);
	for (int i = 0; i < N; i++) {
		r = noop(req[i], resp[i], &d[i]);
		r.timeout_ms = 5000;
		cr_assert_eq(azblob_submit(cl, &r), 0);
	}
	cr_assert_eq(azblob_flush(cl), 0);
	for (int i = 0; i < N; i++)
		reap(&d[i]);

	struct azblob_stats st = cstats();

	for (int i = 0; i < N; i++) {
		cr_expect_eq(d[i].calls, 1, "type %u extra8 %u: request %d answered %d time(s)",
			     sh->type, sh->extra8, i, d[i].calls);
		cr_expect_eq(d[i].err, 0, "type %u extra8 %u: request %d err %d", sh->type,
			     sh->extra8, i, d[i].err);
		cr_expect_eq(d[i].status, base.status);
		cr_expect_eq(d[i].len, base.len);
		cr_expect_arr_eq(resp[i], resp0, base.len);
	}
	cr_expect_eq(st.rx_types[sh->idx], N + (sh->idx == AZBLOB_RX_COMPLETION),
		     "type %u: rx_types[%d] = %llu", sh->type, sh->idx,
		     (unsigned long long)st.rx_types[sh->idx]);
	cr_expect_eq(st.rx_types[AZBLOB_RX_COMPLETION], 1u + (sh->idx == AZBLOB_RX_COMPLETION) * N,
		     "type-11 packets: %llu",
		     (unsigned long long)st.rx_types[AZBLOB_RX_COMPLETION]);
	cr_expect_eq(st.completed, N + 1u);
	cr_expect_eq(sstats().completions, N + 1u, "one answer per request");
	cr_expect_eq(st.timeouts, 0u);
	cr_expect_eq(st.bad_packets, 0u);
	cr_expect_eq(st.unknown + st.duplicates, 0u);
	cr_expect_eq(st.held_slots, 0u);
}

/* ---- hand-made packets: the strict checks stay ---- */

static uint8_t *ring;
static size_t ring_len;
static struct uvmbus_ring *host_rx;
static struct vmbus_ring_hdr *rx_hdr;

/* The sim never reads TX (stop_draining): the test is the host on RX. */
static void start_host(void)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	size_t half;

	start(0, 0, 0, 0, -1);
	azblob_sim_set_faults(sim, &f);
	ring = sim_ring_map(sim, &ring_len);
	half = ring_len / 2;
	rx_hdr = (struct vmbus_ring_hdr *)(ring + half);
	cr_assert_eq(uvmbus_ring_attach(&host_rx, ring + half, half, 4096, UVMBUS_RING_PRODUCER),
		     0);
}

static void stop_host(void)
{
	uvmbus_ring_detach(host_rx);
	if (ring)
		munmap(ring, ring_len);
	host_rx = NULL;
	ring = NULL;
	stop();
}

/* Submit one request and return its trans_id, read from TX as the host
 * would (peeked, not consumed). */
static uint64_t submit_one(struct done *d, char *req, char *resp)
{
	struct uvmbus_ring *tx;
	struct vmbus_pkt_desc desc;
	struct azblob_request r = noop(req, resp, d);

	r.timeout_ms = 60000;
	cr_assert_eq(azblob_submit(cl, &r), 0);
	cr_assert_eq(azblob_flush(cl), 0);
	cr_assert_eq(uvmbus_ring_attach(&tx, ring, ring_len / 2, 4096, UVMBUS_RING_CONSUMER), 0);
	cr_assert_eq(uvmbus_ring_peek(tx, &desc), 0);
	uvmbus_ring_detach(tx);
	return desc.trans_id;
}

/* A packet of len8 units whose payload starts at offset8 and holds `rsp`
 * (as much of it as fits). */
static void host_write(uint16_t type, uint16_t offset8, uint16_t len8, uint64_t tid,
		       const struct azblob_vsp_response *rsp)
{
	static uint8_t pkt[65536];
	size_t len = (size_t)len8 * 8, off = (size_t)offset8 * 8;
	struct vmbus_pkt_desc d = {.type = type, .offset8 = offset8, .len8 = len8, .trans_id = tid};
	struct iovec iov = {.iov_base = pkt, .iov_len = len};

	cr_assert(len <= sizeof(pkt));
	memset(pkt, 0x5a, len);
	memcpy(pkt, &d, sizeof(d));
	if (off < len)
		memcpy(pkt + off, rsp, len - off < sizeof(*rsp) ? len - off : sizeof(*rsp));
	cr_assert_eq(uvmbus_ring_writev(host_rx, &iov, 1, NULL), 0);
}

/* Payloads that cannot hold the 12-byte response are dropped whatever the
 * packet's length (the original driver read past them); a long packet
 * with a usable payload completes without anything overflowing (ASan);
 * the response's own `length` field is not read (nor was it there). */
Test(azblob_compl, strict_lengths, .fini = stop_host)
{
	struct azblob_vsp_response rsp = {
	    .length = 0xdeadbeef, .error = 0xC0000001u, .response_len = 7};
	struct done d = {0};
	char req[64], resp[512];

	start_host();
	uint64_t tid = submit_one(&d, req, resp);

	host_write(6, 3, 3, tid, &rsp);	     /* offset8 == len8: no payload */
	host_write(6, 30, 31, tid, &rsp);    /* 248 bytes, 8 of payload */
	host_write(11, 2, 3, tid, &rsp);     /* 24 bytes: 8 of payload */
	host_write(42, 400, 401, tid, &rsp); /* 3208 bytes, 8 of payload */
	cr_expect_eq(azblob_poll(cl, 0), 0, "nothing usable");
	struct azblob_stats st = cstats();

	cr_expect_eq(d.calls, 0);
	cr_expect_eq(st.bad_packets, 4u);
	cr_expect_eq(st.rx_types[AZBLOB_RX_INBAND], 2u);
	cr_expect_eq(st.rx_types[AZBLOB_RX_COMPLETION], 1u);
	cr_expect_eq(st.rx_types[AZBLOB_RX_OTHER], 1u);
	cr_expect_eq(azblob_inflight(cl), 1u, "still in flight");
	cr_expect_eq(rx_hdr->read_index, rx_hdr->write_index, "all consumed and given back");

	/* 16,000 bytes, the response 80 bytes before the end. */
	host_write(6, 1990, 2000, tid, &rsp);
	cr_expect_eq(azblob_poll(cl, 0), 1);
	cr_expect_eq(d.calls, 1);
	cr_expect_eq(d.err, 0);
	cr_expect_eq(d.status, 0xC0000001u);
	cr_expect_eq(d.len, 7u);
	st = cstats();
	cr_expect_eq(st.rx_types[AZBLOB_RX_INBAND], 3u);
	cr_expect_eq(st.completed, 1u);
	cr_expect_eq(st.errors, 1u);
	cr_expect_eq(rx_hdr->read_index, rx_hdr->write_index);

	/* The same answer again, at the shortest usable length: a duplicate. */
	host_write(8, 2, 4, tid, &rsp);
	cr_expect_eq(azblob_poll(cl, 0), 1);
	st = cstats();
	cr_expect_eq(st.duplicates, 1u);
	cr_expect_eq(st.rx_types[AZBLOB_RX_GPADL], 1u);
	cr_expect_eq(d.calls, 1);
}

/* A response claiming more than the buffer: -EPROTO from any type too. */
Test(azblob_compl, oversize_from_inband, .fini = stop_host)
{
	struct azblob_vsp_response rsp = {.response_len = 513};
	struct done d = {0};
	char req[64], resp[512];

	start_host();
	uint64_t tid = submit_one(&d, req, resp);

	host_write(6, 2, 4, tid, &rsp);
	cr_expect_eq(azblob_poll(cl, 0), 1);
	cr_expect_eq(d.calls, 1);
	cr_expect_eq(d.err, -EPROTO);
	cr_expect_eq(cstats().oversize, 1u);
}

/* ---- the guest's deadline: the host's timeout plus a grace ---- */

TestSuite(azblob_grace, .fini = stop);

Test(azblob_grace, grace_values)
{
	cr_expect_eq(AZBLOB_GRACE_MS(0u), 1000u);
	cr_expect_eq(AZBLOB_GRACE_MS(30u), 1000u);
	cr_expect_eq(AZBLOB_GRACE_MS(10000u), 1000u);
	cr_expect_eq(AZBLOB_GRACE_MS(30000u), 3000u);
	cr_expect_eq(AZBLOB_GRACE_MS(AZBLOB_MAX_TIMEOUT_MS), 30000u);
}

/* One 100 ms request to a host slowed by `f`: it must get the host's
 * STATUS_IO_TIMEOUT answer (err 0), no -ETIMEDOUT, no slot held for an
 * answer that was on its way. */
static void expect_host_timeout_answer(const struct azblob_sim_faults *f)
{
	struct done d = {0};
	char req[64], resp[512];

	start(0, 0, 0, 0, -1);
	azblob_sim_set_faults(sim, f);
	struct azblob_request r = noop(req, resp, &d);

	r.timeout_ms = 100;
	cr_assert_eq(azblob_submit(cl, &r), 0);
	cr_assert_eq(azblob_flush(cl), 0);
	reap(&d);
	struct azblob_stats st = cstats();

	cr_assert_eq(d.calls, 1);
	cr_expect_eq(d.err, 0, "err %d: the host's timeout answer must reach the caller", d.err);
	cr_expect_eq(d.status, AZBLOB_VSP_STATUS_IO_TIMEOUT, "status %#x", d.status);
	cr_expect_eq(st.timeouts, 0u);
	cr_expect_eq(st.late, 0u);
	cr_expect_eq(st.held_slots, 0u, "no slot quarantined");
	cr_expect_eq(sstats().timeouts, 1u, "the host timed the request out");
}

/* The host reads the request late (it drains TX 300 ms later) and cannot
 * serve it within its 100 ms timeout: it answers STATUS_IO_TIMEOUT at its
 * deadline, ~400 ms after our submit. */
Test(azblob_grace, host_timeout_answer_after_late_read)
{
	struct azblob_sim_faults f = {.delay_us = 3000000, .pause_ms = 300};

	expect_host_timeout_answer(&f);
}

/* A host delay longer than the request's timeout: the sim answers at the
 * deadline with STATUS_IO_TIMEOUT, which must beat our give-up. */
Test(azblob_grace, host_timeout_answer)
{
	struct azblob_sim_faults f = {.delay_us = 3000000};

	expect_host_timeout_answer(&f);
}

/* Reap `d` (submitted at t0 with timeout_ms t to a silent host): it must
 * get -ETIMEDOUT, at t + AZBLOB_GRACE_MS(t), not before (nor much later). */
static void expect_timeout_after(struct done *d, uint64_t t0, uint32_t t)
{
	reap(d);
	uint64_t el = now_ms() - t0;

	cr_assert_eq(d->calls, 1);
	cr_expect_eq(d->err, -ETIMEDOUT);
	cr_expect_geq(el, t + AZBLOB_GRACE_MS(t), "gave up after %llu ms", (unsigned long long)el);
	cr_expect_lt(el, t + AZBLOB_GRACE_MS(t) + 2000u, "gave up after %llu ms",
		     (unsigned long long)el);
}

/* A host that never answers: -ETIMEDOUT, but only after timeout + grace. */
Test(azblob_grace, silent_host_times_out_after_grace)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct done d = {0};
	char req[64], resp[512];

	start(0, 0, 0, 0, -1);
	azblob_sim_set_faults(sim, &f);
	struct azblob_request r = noop(req, resp, &d);

	r.timeout_ms = 100;
	uint64_t t0 = now_ms();

	cr_assert_eq(azblob_submit(cl, &r), 0);
	cr_assert_eq(azblob_flush(cl), 0);
	expect_timeout_after(&d, t0, 100);
	cr_expect_eq(cstats().timeouts, 1u);
	cr_expect_eq(cstats().held_slots, 1u, "held until the host answers");
}

/* A request's clock starts at the flush that publishes it (AZBLOB.md
 * "When a request's clock starts"), not at its submit: submitted, then
 * flushed 1.3 s later, with timeout_ms 100 (1,100 ms with its grace), it
 * is not timed out at the flush, and its latency is counted from there. */
Test(azblob_grace, clock_starts_at_flush)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct done d = {0};
	char req[64], resp[512], pend[512];

	start(0, 0, 0, 0, -1);
	azblob_sim_set_faults(sim, &f);
	struct azblob_request r = noop(req, resp, &d);

	r.timeout_ms = 100;
	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_dump_pending(cl, pend, sizeof(pend));
	cr_expect(strstr(pend, "staged (not flushed)"), "%s", pend);
	usleep(1300000); /* past timeout and grace, counted from the submit */
	cr_assert_eq(azblob_flush(cl), 0);
	cr_expect_geq(azblob_poll(cl, 0), 0);
	cr_expect_eq(d.calls, 0, "timed out at once (err %d): its clock started at the submit",
		     d.err);
	azblob_dump_pending(cl, pend, sizeof(pend));
	cr_expect(strstr(pend, "in flight"), "%s", pend);
	f.stop_draining = false; /* the host answers now */
	azblob_sim_set_faults(sim, &f);
	reap(&d);
	cr_expect_eq(d.calls, 1);
	cr_expect_eq(d.err, 0);
	cr_expect_eq(cstats().timeouts, 0u);
	/* 2^30 ns is 1.07 s: from the submit it would be at least 1.3 s */
	struct azblob_stats st = cstats();

	for (int b = 30; b < 40; b++)
		cr_expect_eq(st.latency_hist[b], 0u, "latency of 2^%d ns: counted from the submit",
			     b);
}

/* A request never flushed (the caller's mistake: the host never sees it)
 * still times out: its clock starts at the first poll instead. */
Test(azblob_grace, unflushed_request_times_out_from_first_poll)
{
	struct done d = {0};
	char req[64], resp[512];

	start(0, 0, 0, 0, -1);
	struct azblob_request r = noop(req, resp, &d);

	r.timeout_ms = 100;
	cr_assert_eq(azblob_submit(cl, &r), 0);
	uint64_t t0 = now_ms();

	expect_timeout_after(&d, t0, 100);
	cr_expect_eq(cstats().timeouts, 1u);
	cr_expect_eq(sstats().requests, 0u, "the host saw a request never flushed");
}

/* timeout_ms 0: the client's default is what the host gets, and the
 * deadline is that plus its grace. */
Test(azblob_grace, zero_timeout_sends_default)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct azblob_opts o;
	struct done d = {0};
	char req[64], resp[512];

	start_sim(0, -1);
	client_opts(&o, 0, 0, 0);
	o.default_timeout_ms = 150;
	cr_assert_eq(azblob_open(&cl, &o), 0, "%s", sink.text);
	azblob_sim_set_faults(sim, &f);
	struct azblob_request r = noop(req, resp, &d);
	uint64_t t0 = now_ms();

	cr_assert_eq(azblob_submit(cl, &r), 0);
	cr_assert_eq(azblob_flush(cl), 0);

	/* The request as the host reads it (TX not drained: peeked here). */
	struct uvmbus_ring *tx;
	struct vmbus_pkt_desc desc;
	struct azblob_vsp_request v;
	size_t plen;

	ring = sim_ring_map(sim, &ring_len);
	cr_assert_eq(uvmbus_ring_attach(&tx, ring, ring_len / 2, 4096, UVMBUS_RING_CONSUMER), 0);
	cr_assert_eq(uvmbus_ring_read_payload(tx, &desc, &v, sizeof(v), &plen), 0);
	uvmbus_ring_detach(tx); /* not committed */
	munmap(ring, ring_len);
	ring = NULL;
	cr_expect_eq(plen, sizeof(v));
	cr_expect_eq(v.timeout_ms, 150u, "the host was sent timeout_ms %u", v.timeout_ms);
	expect_timeout_after(&d, t0, 150);
}
