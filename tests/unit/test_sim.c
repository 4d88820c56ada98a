/* The simulator from the guest's side: golden packets both ways, each
 * validation rule, each fault knob, signals and interrupts, backends. */
#include <criterion/criterion.h>
#include <unistd.h>
#include <errno.h>
#include <sched.h>
#include <time.h>

#include "mem_fixture.h"
#include "sim_guest.h"

static struct log_sink sink;
static struct tguest t;

static void open_sim(int monitor, bool poll, uint32_t ring_bytes)
{
	struct azblob_sim_opts o;
	struct uvmbus_log log = sink_log(&sink);

	azblob_sim_opts_init(&o);
	o.ram_bytes = 32u << 20;
	o.no_hugetlb = true;
	o.monitor_id = monitor;
	o.poll = poll;
	if (ring_bytes)
		o.ring_bytes = ring_bytes;
	o.log = log;
	cr_assert_eq(tguest_open(&t, &o, &log), 0, "%s", sink.text);
}

static void fini(void)
{
	tguest_close(&t);
}

static struct azblob_sim_stats stats(void)
{
	struct azblob_sim_stats st;

	azblob_sim_get_stats(t.sim, &st);
	return st;
}

/* A no-op request: head in the request buffer at 0, response at 8192. */
static struct treq noop(uint64_t tid)
{
	static const char head[] = "GET /$sim/noop HTTP/1.1\r\nx-ms-version: 2021-08-06\r\n\r\n";

	memcpy(t.buf, head, sizeof(head) - 1);
	return (struct treq){.tid = tid,
			     .req_off = 0,
			     .req_len = sizeof(head) - 1,
			     .resp_off = 8192,
			     .resp_len = 512,
			     .timeout_ms = 30000};
}

TestSuite(sim, .fini = fini);

Test(sim, golden_both_ways)
{
	/* Hand-derived completion the sim must write for trans_id 0x1122334455667788,
	 * status 0 and a response length of 89 bytes. */
	static const uint8_t want[32] = {
	    0x0b, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, /* type 11, off8 2, len8 4 */
	    0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* trans_id */
	    0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* length 12, error 0 */
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* response_len (below), pad */
	};
	uint8_t pkt[200], got[64];
	size_t len;

	open_sim(-1, false, 0);
	/* A request written byte by byte from docs/WIRE.md, pfns from guest RAM. */
	struct treq q = noop(0x1122334455667788ull);
	uint64_t pfn[2];
	uint32_t n = uvmbus_region_pfns(t.ram, 0, 4096, pfn, NULL) ? 0 : 1;

	cr_assert_eq(n, 1u);
	uvmbus_region_pfns(t.ram, 8192, 4096, pfn + 1, NULL);
	uint8_t raw[104] = {
	    0x09, 0x00, 0x06, 0x00, 0x0d, 0x00, 0x01, 0x00, /* type 9, off8 6, len8 13, flags 1 */
	    0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* trans_id */
	    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* reserved, rangecount 1 */
	    0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* range len 8192, offset 0 */
	};
	memcpy(raw + 32, &pfn[0], 8);
	memcpy(raw + 40, &pfn[1], 8);
	struct azblob_vsp_request v = {.timeout_ms = 1000,
				       .operation_type = 0x100,
				       .request_buffer_offset = 0,
				       .request_buffer_length = q.req_len,
				       .response_buffer_offset = 4096,
				       .response_buffer_length = 512};

	memcpy(raw + 48, &v, 56);
	cr_assert_eq(traw_send(&t, raw, sizeof(raw), true), 0);
	/* The same request from the guest's builder is the same bytes. */
	cr_assert_eq(treq_build(&t, &q, pkt), 104u);
	memcpy(pkt + 48 + 40, raw + 48 + 40, 16); /* the GUID is the builder's choice */
	((struct azblob_vsp_request *)(pkt + 48))->timeout_ms = 1000;
	cr_expect_arr_eq(pkt, raw, 104);

	struct uvmbus_ring *rx = uvmbus_chan_rx(t.ch);

	for (int i = 0; i < 2000 && uvmbus_ring_read(rx, got, sizeof(got), &len) == -EAGAIN; i++)
		uvmbus_chan_wait(t.ch, 10);
	cr_assert_eq(len, 32u, "%s", sink.text);
	uint8_t expect[32];

	memcpy(expect, want, 32);
	uint32_t rlen;

	memcpy(&rlen, got + 24, 4);
	cr_assert_gt(rlen, 0u, "the head was answered");
	memcpy(expect + 24, &rlen, 4);
	cr_expect_arr_eq(got, expect, 32);
	cr_expect(!strncmp((char *)t.buf + 8192, "HTTP/1.1 200 OK\r\n", 17), "%.40s",
		  (char *)t.buf + 8192);
	cr_expect_eq(stats().violations_total, 0u);
	cr_expect_eq(stats().requests, 1u);
}

/* Mutate a valid packet and expect one violation of `rule`. */
struct mut {
	const char *what;
	enum azblob_sim_violation rule;
	uint32_t status; /* 0: no completion expected */
	void (*apply)(uint8_t *pkt, size_t *len);
};

static void m_type(uint8_t *p, size_t *l)
{
	(void)l;
	p[0] = 6;
}
static void m_flags(uint8_t *p, size_t *l)
{
	(void)l;
	p[6] = 0;
}
static void m_tid(uint8_t *p, size_t *l)
{
	(void)l;
	memset(p + 8, 0, 8);
}
static void m_rangecount(uint8_t *p, size_t *l)
{
	(void)l;
	p[20] = 2;
}
static void m_range_off(uint8_t *p, size_t *l)
{
	(void)l;
	p[28] = 1;
}
static void m_range_len(uint8_t *p, size_t *l)
{
	(void)l;
	p[24] = 1;
}
static void m_pfn(uint8_t *p, size_t *l)
{
	(void)l;
	memset(p + 32, 0x7f, 8);
}
static void m_version(uint8_t *p, size_t *l)
{
	(void)l;
	p[48] = 1;
}
static void m_op(uint8_t *p, size_t *l)
{
	(void)l;
	p[48 + 20] = 0x01;
	p[48 + 21] = 0x01;
}
static void m_op_unknown(uint8_t *p, size_t *l)
{
	(void)l;
	p[48 + 21] = 0x7;
}
static void m_zero_req(uint8_t *p, size_t *l)
{
	(void)l;
	memset(p + 48 + 28, 0, 4);
}
static void m_valid(uint8_t *p, size_t *l)
{
	(void)l;
	p[48 + 16] = 1; /* data_valid 1 > data_len 0 */
}
static void m_layout(uint8_t *p, size_t *l)
{
	(void)l;
	p[48 + 32 + 1] = 0x30; /* response offset 0x3000: beyond its page */
}
static void m_short(uint8_t *p, size_t *l)
{
	/* Shrink the in-band payload to 48 bytes (len8 12). */
	p[4] = 12;
	*l = 96;
}

Test(sim, each_validation_rule)
{
	static const struct mut muts[] = {
	    {"type 6", AZBLOB_SIM_V_NOT_GPA_DIRECT, AZBLOB_VSP_STATUS_INVALID_PARAMETER, m_type},
	    {"no completion flag", AZBLOB_SIM_V_NO_COMPLETION, 0, m_flags},
	    {"trans_id 0", AZBLOB_SIM_V_ZERO_TRANS_ID, 0, m_tid},
	    {"rangecount 2", AZBLOB_SIM_V_RANGECOUNT, AZBLOB_VSP_STATUS_INVALID_PARAMETER,
	     m_rangecount},
	    {"range offset 1", AZBLOB_SIM_V_RANGE, AZBLOB_VSP_STATUS_INVALID_PARAMETER,
	     m_range_off},
	    {"range len not pages", AZBLOB_SIM_V_RANGE, AZBLOB_VSP_STATUS_INVALID_PARAMETER,
	     m_range_len},
	    {"pfn outside RAM", AZBLOB_SIM_V_PFN_OUTSIDE_RAM, AZBLOB_VSP_STATUS_INVALID_PARAMETER,
	     m_pfn},
	    {"version 1", AZBLOB_SIM_V_VERSION, AZBLOB_VSP_STATUS_INVALID_PARAMETER, m_version},
	    {"register buffer op", AZBLOB_SIM_V_OPERATION, AZBLOB_VSP_STATUS_NOT_SUPPORTED, m_op},
	    {"unknown op", AZBLOB_SIM_V_OPERATION, AZBLOB_VSP_STATUS_INVALID_PARAMETER,
	     m_op_unknown},
	    {"zero request length", AZBLOB_SIM_V_LENGTHS, AZBLOB_VSP_STATUS_INVALID_PARAMETER,
	     m_zero_req},
	    {"data_valid > data_len", AZBLOB_SIM_V_LENGTHS, AZBLOB_VSP_STATUS_INVALID_PARAMETER,
	     m_valid},
	    {"response beyond its page", AZBLOB_SIM_V_LAYOUT, AZBLOB_VSP_STATUS_INVALID_PARAMETER,
	     m_layout},
	    {"payload shorter than 56", AZBLOB_SIM_V_SHORT_PAYLOAD,
	     AZBLOB_VSP_STATUS_INVALID_PARAMETER, m_short},
	};
	uint8_t pkt[256];
	struct tcompl c;

	open_sim(-1, false, 0);
	for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		struct treq q = noop(100 + i);
		size_t len = treq_build(&t, &q, pkt);
		uint64_t before = stats().violations[muts[i].rule];

		muts[i].apply(pkt, &len);
		cr_assert_eq(traw_send(&t, pkt, len, true), 0);
		if (muts[i].status) {
			cr_assert_eq(trecv(&t, &c, 5000), 0, "%s: no completion", muts[i].what);
			cr_expect_eq(c.tid, 100 + i);
			cr_expect_eq(c.status, muts[i].status, "%s: status %#x", muts[i].what,
				     c.status);
		} else {
			/* No answer is owed: a valid request behind it is answered first. */
			struct treq ok = noop(900 + i);

			cr_assert_eq(tsend(&t, &ok), 0);
			cr_assert_eq(trecv(&t, &c, 5000), 0);
			cr_expect_eq(c.tid, 900 + i, "%s: answered nonetheless", muts[i].what);
		}
		cr_expect_eq(stats().violations[muts[i].rule], before + 1, "%s not counted as %s",
			     muts[i].what, azblob_sim_violation_name(muts[i].rule));
		/* and the unmodified packet is accepted */
		struct treq good = noop(500 + i);

		cr_assert_eq(tsend(&t, &good), 0);
		cr_assert_eq(trecv(&t, &c, 5000), 0);
		cr_expect_eq(c.status, 0u, "good packet after %s", muts[i].what);
	}
	cr_expect_eq(stats().violations_total, sizeof(muts) / sizeof(muts[0]));
}

Test(sim, one_signal_per_batch_and_interrupts)
{
	static uint8_t pkt[256];
	struct tcompl c;

	open_sim(-1, false, 0);
	/* Let the sim go idle (TX unmasked), then a batch of 10: staged,
	 * published once, one signal. */
	struct uvmbus_ring_state ts;

	for (long i = 0; i < 100000000; i++) {
		uvmbus_ring_get_state(uvmbus_chan_tx(t.ch), &ts);
		if (!ts.interrupt_mask)
			break;
		sched_yield();
	}
	cr_assert_eq(ts.interrupt_mask, 0u, "the sim went idle and unmasked TX");
	uint64_t sig0 = stats().signals;

	for (int i = 0; i < 10; i++) {
		struct treq q = noop(1 + i);
		size_t len = treq_build(&t, &q, pkt);

		cr_assert_eq(traw_send(&t, pkt, len, false), 0);
	}
	cr_assert_eq(tflush(&t), 0);
	/* Spin for the answers (no interrupt-mode waits: they write the fd). */
	struct uvmbus_ring *rx = uvmbus_chan_rx(t.ch);
	int got = 0;

	for (long spins = 0; got < 10 && spins < 200000000; spins++) {
		uint8_t b[64];
		size_t len;

		if (uvmbus_ring_read(rx, b, sizeof(b), &len) == 0)
			got++;
		else
			sched_yield();
	}
	uvmbus_ring_read_commit(rx, NULL);
	cr_expect_eq(got, 10);
	cr_expect_eq(stats().signals - sig0, 1u, "one signal for the batch");
	cr_expect_eq(stats().requests, 10u);
	struct uvmbus_chan_stats cs;

	uvmbus_chan_get_stats(t.ch, &cs);
	cr_expect_eq(cs.signals, 1u);

	/* Interrupt mode: the guest sleeps, the sim's completion wakes it. */
	struct treq q = noop(77);

	cr_assert_eq(tsend(&t, &q), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_expect_eq(c.tid, 77u);
}

Test(sim, monitor_page_signalling)
{
	struct azblob_sim_faults f = {.monitor_scan_us = 200};
	struct tcompl c;

	open_sim(21, false, 0);
	azblob_sim_set_faults(t.sim, &f); /* slow signal delivery */
	for (int i = 0; i < 5; i++) {
		struct treq q = noop(10 + i);

		cr_assert_eq(tsend(&t, &q), 0);
		cr_assert_eq(trecv(&t, &c, 5000), 0);
		cr_expect_eq(c.tid, 10u + i);
	}
	/* The host scans the page on its own schedule: wait for the scan. */
	for (int i = 0; i < 2000 && stats().signals == 0; i++) {
		struct timespec ts = {0, 1000000};

		nanosleep(&ts, NULL);
	}
	cr_expect_geq(stats().signals, 1u, "signals arrive through the monitor page");
}

Test(sim, rx_full_waits_for_guest_signal)
{
	struct tcompl c;
	int n = 0;

	/* RX data area 4096: 102 completions of 40 bytes fit. */
	open_sim(-1, true, 2 * 4096);
	for (int i = 0; i < 150;) {
		struct treq q = noop(1 + i);
		int rc = tsend(&t, &q);

		if (rc == -EAGAIN) {
			sched_yield();
			continue;
		}
		cr_assert_eq(rc, 0);
		i++;
	}
	while (stats().rx_full == 0)
		sched_yield();
	while (n < 150) {
		cr_assert_eq(trecv(&t, &c, 5000), 0, "got %d", n);
		cr_assert_eq(c.tid, (uint64_t)n + 1);
		n++;
	}
	cr_expect_geq(stats().rx_full, 1u);
	cr_expect_eq(stats().completions, 150u);
}

static void send_and_expect(uint64_t tid, uint32_t status, int timeout_ms)
{
	struct treq q = noop(tid);
	struct tcompl c;

	cr_assert_eq(tsend(&t, &q), 0);
	cr_assert_eq(trecv(&t, &c, timeout_ms), 0, "tid %llu", (unsigned long long)tid);
	cr_expect_eq(c.tid, tid);
	cr_expect_eq(c.status, status);
}

Test(sim, faults_delay_timeout_drop_duplicate_unknown_oversize)
{
	struct azblob_sim_faults f = {0};
	struct tcompl c;

	open_sim(-1, false, 0);
	/* delay beyond the request's timeout: completes with IO_TIMEOUT */
	f.delay_us = 400000;
	azblob_sim_set_faults(t.sim, &f);
	struct treq q = noop(1);

	q.timeout_ms = 20;
	cr_assert_eq(tsend(&t, &q), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_expect_eq(c.status, AZBLOB_VSP_STATUS_IO_TIMEOUT);
	cr_expect_eq(stats().timeouts, 1u);
	f.delay_us = 0;

	f.drop = 1;
	azblob_sim_set_faults(t.sim, &f);
	q = noop(2);
	cr_assert_eq(tsend(&t, &q), 0);
	send_and_expect(3, 0, 5000); /* 2 was dropped: 3 is the next thing to arrive */

	f.drop = 0;
	f.duplicate = 1;
	azblob_sim_set_faults(t.sim, &f);
	send_and_expect(4, 0, 5000);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_expect_eq(c.tid, 4u, "the duplicate");

	f.duplicate = 0;
	f.unknown_tid = 1;
	azblob_sim_set_faults(t.sim, &f);
	q = noop(5);
	cr_assert_eq(tsend(&t, &q), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_expect_geq(c.tid, 0x7fff000000000000ull, "an id nobody used");
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_expect_eq(c.tid, 5u);

	f.unknown_tid = 0;
	f.oversize_response = 1;
	azblob_sim_set_faults(t.sim, &f);
	q = noop(6);
	cr_assert_eq(tsend(&t, &q), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_expect_gt(c.response_len, q.resp_len, "response_len beyond the buffer");
	cr_expect_geq(stats().faults, 4u);
}

Test(sim, faults_corrupt_stop_pause_rescind)
{
	struct azblob_sim_faults f = {0};
	struct tcompl c;

	open_sim(-1, false, 2 * 4096);
	/* stop draining: the guest's TX fills up */
	f.stop_draining = true;
	azblob_sim_set_faults(t.sim, &f);
	int sent = 0, rc;

	for (;;) {
		struct treq q = noop(1 + sent);

		rc = tsend(&t, &q);
		if (rc)
			break;
		sent++;
	}
	cr_expect_eq(rc, -EAGAIN, "TX full");
	cr_expect_eq(sent, 4096 / 112, "as many 104-byte requests as fit");
	f.stop_draining = false;
	f.pause_ms = 30; /* then a short pause before reading again */
	azblob_sim_set_faults(t.sim, &f);
	for (int i = 0; i < sent; i++) {
		cr_assert_eq(trecv(&t, &c, 5000), 0);
		cr_assert_eq(c.tid, (uint64_t)i + 1);
	}
	f.pause_ms = 0;

	/* a corrupt descriptor in RX: the guest sees -EIO */
	f.corrupt = 1;
	azblob_sim_set_faults(t.sim, &f);
	struct treq q = noop(99);

	cr_assert_eq(tsend(&t, &q), 0);
	cr_expect_eq(trecv(&t, &c, 5000), -EIO);

	/* rescind: the guest's wait fails with ENODEV */
	azblob_sim_rescind(t.sim);
	rc = 0;
	for (int i = 0; i < 500 && rc != -ENODEV; i++) {
		rc = uvmbus_chan_wait(t.ch, 10);
		if (rc == 1) /* the corrupt packet is still there: wait returns at once */
			usleep(10000);
	}
	cr_expect_eq(rc, -ENODEV);
	cr_expect(uvmbus_chan_dead(t.ch));
}

static void put_head(uint32_t off, const char *head)
{
	memcpy(t.buf + off, head, strlen(head));
}

Test(sim, memory_backend_blobs)
{
	struct tcompl c;

	open_sim(-1, false, 0);
	const char *mk = "PUT /photos?restype=container HTTP/1.1\r\n\r\n";
	struct treq q = {.tid = 1,
			 .req_off = 0,
			 .req_len = (uint32_t)strlen(mk),
			 .resp_off = 4096,
			 .resp_len = 1024};

	put_head(0, mk);
	cr_assert_eq(tsend(&t, &q), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_expect(!strncmp((char *)t.buf + 4096, "HTTP/1.1 201 Created", 20));

	/* Put a 3-page blob from an unaligned data buffer. */
	const char *put = "PUT /photos/a/b.jpg HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\n\r\n";

	for (int i = 0; i < 10000; i++)
		t.buf[65536 + 100 + i] = (uint8_t)(i * 7);
	put_head(0, put);
	q = (struct treq){.tid = 2,
			  .data_off = 65536 + 100,
			  .data_len = 10000,
			  .data_valid = 10000,
			  .req_off = 0,
			  .req_len = (uint32_t)strlen(put),
			  .resp_off = 4096,
			  .resp_len = 1024};
	cr_assert_eq(tsend(&t, &q), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_expect_eq(c.status, 0u);
	cr_expect(!strncmp((char *)t.buf + 4096, "HTTP/1.1 201", 12), "%.30s",
		  (char *)t.buf + 4096);

	/* Get it back into another buffer. */
	const char *get = "GET /photos/a/b.jpg HTTP/1.1\r\n\r\n";

	put_head(0, get);
	memset(t.buf + 200000, 0, 20000);
	q = (struct treq){.tid = 3,
			  .data_off = 200000,
			  .data_len = 20000,
			  .req_off = 0,
			  .req_len = (uint32_t)strlen(get),
			  .resp_off = 4096,
			  .resp_len = 1024};
	cr_assert_eq(tsend(&t, &q), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_expect(strstr((char *)t.buf + 4096, "Content-Length: 10000"), "%.100s",
		  (char *)t.buf + 4096);
	cr_expect_arr_eq(t.buf + 200000, t.buf + 65536 + 100, 10000);

	/* Missing blob: 404 BlobNotFound, transport status 0. */
	const char *miss = "GET /photos/nope HTTP/1.1\r\n\r\n";

	put_head(0, miss);
	q.tid = 4;
	q.req_len = (uint32_t)strlen(miss);
	cr_assert_eq(tsend(&t, &q), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_expect_eq(c.status, 0u);
	cr_expect(strstr((char *)t.buf + 4096, "404") &&
		  strstr((char *)t.buf + 4096, "x-ms-error-code: BlobNotFound"));
	cr_expect_eq(stats().bytes_in, 10000u);
	cr_expect_eq(stats().bytes_out, 10000u);
}

Test(sim, dir_backend_stores_files)
{
	char dir[] = "/tmp/sim-dir-XXXXXX";
	struct azblob_sim_opts o;
	struct uvmbus_log log = sink_log(&sink);
	struct tcompl c;

	cr_assert_not_null(mkdtemp(dir));
	azblob_sim_opts_init(&o);
	o.ram_bytes = 32u << 20;
	o.no_hugetlb = true;
	o.backend = "dir";
	o.backend_arg = dir;
	o.log = log;
	cr_assert_eq(tguest_open(&t, &o, &log), 0, "%s", sink.text);
	const char *mk = "PUT /cc1?restype=container HTTP/1.1\r\n\r\n";
	const char *put = "PUT /cc1/x/y HTTP/1.1\r\n\r\n";

	put_head(0, mk);
	struct treq q = {
	    .tid = 1, .req_len = (uint32_t)strlen(mk), .resp_off = 4096, .resp_len = 1024};

	cr_assert_eq(tsend(&t, &q), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	put_head(0, put);
	memcpy(t.buf + 8192, "hello", 5);
	q = (struct treq){.tid = 2,
			  .data_off = 8192,
			  .data_len = 5,
			  .data_valid = 5,
			  .req_len = (uint32_t)strlen(put),
			  .resp_off = 4096,
			  .resp_len = 1024};
	cr_assert_eq(tsend(&t, &q), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	char path[256], got[16] = {0};

	snprintf(path, sizeof(path), "%s/cc1/x%%2Fy", dir);
	FILE *f = fopen(path, "r");

	cr_assert_not_null(f, "blob file %s", path);
	cr_expect_eq(fread(got, 1, sizeof(got), f), 5u);
	fclose(f);
	cr_expect_str_eq(got, "hello");
	tguest_close(&t);
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

Test(sim, tree_removed_on_destroy)
{
	char root[600];

	open_sim(-1, false, 0);
	snprintf(root, sizeof(root), "%s", azblob_sim_root(t.sim));
	cr_expect_eq(access(root, F_OK), 0);
	tguest_close(&t);
	cr_expect_neq(access(root, F_OK), 0, "no leftover files in %s", root);
}
