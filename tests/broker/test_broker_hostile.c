// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_hostile: a client that speaks the protocol by hand and lies.
 * Garbage instead of a hello, pfns outside its arena, scattered pages, a
 * bad layout: each gets INVALID_PARAMETER or a disconnect, never reaches
 * the host (the simulator counts no violation), and a request with any
 * trans_id the client likes is answered under that trans_id, to it only.
 * Its TX write index moved backwards, or garbage on its socket after the
 * hello: disconnected. A uid outside the allow-list: refused (EACCES).
 * The daemon serves a well-behaved client all along and afterwards.
 */
#include <sys/mman.h>
#include <sys/prctl.h>

#include <uvmbus/packet.h>
#include <uvmbus/ring.h>

#include "harness.h"

#define BAD_STATUS 0xC000000Du
#define NOOP	   "GET /$sim/noop HTTP/1.1\r\n\r\n"

struct raw {
	int fd;
	uint8_t *rings, *arena;
	struct azblob_broker_welcome w;
	struct uvmbus_ring *tx, *rx;
};

static int connect_to(const struct bh *h)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", h->sock);
	BH_CHECK(fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof(a)), "connect");
	return fd;
}

/* The daemon hangs up within 2 s: recv gives 0 (after any welcome). */
static bool hung_up(int fd)
{
	struct timeval tv = {2, 0};
	char buf[256];
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	do
		n = recv(fd, buf, sizeof(buf), 0);
	while (n > 0);
	return n == 0;
}

static void raw_attach(const struct bh *h, struct raw *r)
{
	int fds[2];

	r->fd = bh_raw_attach(h->sock, &r->w, fds);
	BH_CHECK(r->fd >= 0 && r->w.status == 0 && fds[0] >= 0 && fds[1] >= 0, "welcome");
	r->rings = mmap(NULL, 2 * r->w.ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	r->arena = mmap(NULL, r->w.arena_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1], 0);
	BH_CHECK(r->rings != MAP_FAILED && r->arena != MAP_FAILED, "map");
	/* The fds are sealed: the client cannot shrink them under the daemon. */
	BH_CHECK(ftruncate(fds[1], 4096) != 0, "arena shrink refused");
	close(fds[0]);
	close(fds[1]);
	BH_CHECK(
	    !uvmbus_ring_attach(&r->tx, r->rings, r->w.ring_bytes, 4096, UVMBUS_RING_PRODUCER) &&
		!uvmbus_ring_attach(&r->rx, r->rings + r->w.ring_bytes, r->w.ring_bytes, 4096,
				    UVMBUS_RING_CONSUMER),
	    "rings");
}

static void raw_close(struct raw *r)
{
	uvmbus_ring_detach(r->tx);
	uvmbus_ring_detach(r->rx);
	munmap(r->rings, 2 * r->w.ring_bytes);
	munmap(r->arena, r->w.arena_bytes);
	close(r->fd);
}

/* A request: `head` at pfn 600 (in-page 0), a response page at pfn 601,
 * with the pfns given (NULL: those). */
static void send_req(struct raw *r, uint64_t tid, const uint64_t *pfn, uint32_t npfn,
		     uint32_t resp_off, uint32_t resp_len)
{
	static const uint64_t good[2] = {600, 601};
	struct azblob_vsp_request q = {.operation_type = AZBLOB_VSP_OP_USER_REQUEST,
				       .timeout_ms = 5000,
				       .request_buffer_length = sizeof(NOOP) - 1,
				       .response_buffer_offset = resp_off,
				       .response_buffer_length = resp_len};

	memcpy(r->arena + 600 * 4096, NOOP, sizeof(NOOP) - 1);
	BH_CHECK(!uvmbus_pkt_write_gpa(r->tx, tid, 0, npfn * 4096, pfn ? pfn : good, npfn, &q,
				       sizeof(q), NULL),
		 "write");
}

/* The next answer (2 s at most). */
static struct azblob_vsp_response answer(struct raw *r, uint64_t *tid)
{
	struct azblob_vsp_response rsp = {0};
	struct vmbus_pkt_desc d;
	size_t plen;

	for (int i = 0; i < 2000; i++) {
		if (!uvmbus_ring_read_payload(r->rx, &d, &rsp, sizeof(rsp), &plen)) {
			uvmbus_ring_read_commit(r->rx, NULL);
			*tid = d.trans_id;
			return rsp;
		}
		bh_sleep_ms(1);
	}
	BH_FAIL("no answer");
}

static void expect(struct raw *r, uint64_t want_tid, uint32_t want_status)
{
	uint64_t tid;
	struct azblob_vsp_response rsp = answer(r, &tid);

	BH_CHECK(tid == want_tid && rsp.error == want_status,
		 "answer tid %#llx status %#x, expected %#llx %#x", (unsigned long long)tid,
		 rsp.error, (unsigned long long)want_tid, want_status);
}

static int denied_child(const struct bh *h)
{
	struct azblob_client *c = NULL;
	struct azblob_opts o;

	BH_CHECK(setgid(65534) == 0 && setuid(65534) == 0, "drop to nobody");
	azblob_opts_init(&o);
	o.broker = h->sock;
	o.queue_depth = 4;
	o.pool_bufs = 4;
	int rc = azblob_open(&c, &o);

	if (rc != -EACCES)
		fprintf(stderr, "uid 65534: azblob_open: %d (%s)\n", rc, strerror(-rc));
	return rc == -EACCES ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct azblob_sim_stats ss;
	struct bh h;
	struct raw r;
	char text[8192];
	int fd, status, rc;

	BH_CHECK(argc == 2, "usage: %s AZBLOBD", argv[0]);
	bh_start(&h, argv[1], NULL, NULL);
	chmod(h.dir, 0755);

	/* 1. garbage instead of a hello */
	fd = connect_to(&h);
	BH_CHECK(send(fd, "hello", 5, 0) == 5, "send");
	BH_CHECK(hung_up(fd), "garbage hello: disconnected");
	close(fd);

	/* 2. lies in the TX ring, each answered with INVALID_PARAMETER */
	raw_attach(&h, &r);
	uint64_t outside[2] = {600, r.w.arena_bytes / 4096};
	uint64_t far[2] = {600, 1ull << 40};
	uint64_t scattered[3] = {600, 601, 700};

	send_req(&r, 1, outside, 2, 4096, 4096);
	expect(&r, 1, BAD_STATUS);
	send_req(&r, 2, far, 2, 4096, 4096);
	expect(&r, 2, BAD_STATUS);
	send_req(&r, 3, scattered, 3, 4096, 8192); /* the response on 601 and 700 */
	uvmbus_ring_publish(r.tx, NULL);
	expect(&r, 3, BAD_STATUS);
	send_req(&r, 4, NULL, 2, 4096 + 5000, 4096); /* response offset past its page */
	expect(&r, 4, BAD_STATUS);
	/* any trans_id is the client's own label: answered under it */
	send_req(&r, 0xfeedfacecafebeefull, NULL, 2, 4096, 4096);
	expect(&r, 0xfeedfacecafebeefull, 0);
	BH_CHECK(!memcmp(r.arena + 601 * 4096, "HTTP/1.1 200", 12), "the noop's answer");

	/* 3. the TX write index moved backwards: disconnected */
	send_req(&r, 5, NULL, 2, 4096, 4096);
	expect(&r, 5, 0);
	struct vmbus_ring_hdr *th = (void *)r.rings;

	__atomic_store_n(&th->write_index, th->write_index - 8, __ATOMIC_RELEASE);
	BH_CHECK(hung_up(r.fd), "backwards index: disconnected");
	raw_close(&r);

	/* 4. garbage on the socket after the hello: disconnected */
	raw_attach(&h, &r);
	BH_CHECK(send(r.fd, "1234567", 7, 0) == 7, "send");
	BH_CHECK(hung_up(r.fd), "garbage doorbell: disconnected");
	raw_close(&r);

	/* 5. a uid outside the allow-list */
	pid_t p = fork();

	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(denied_child(&h));
	}
	BH_CHECK(waitpid(p, &status, 0) == p && WIFEXITED(status) && !WEXITSTATUS(status),
		 "uid 65534 refused with EACCES");

	/* 6. a normal client is served */
	struct azblob_client *c = bh_client(&h, 4, 64 * 1024);
	struct azblob_blob_status st;

	rc = azblob_container_create(c, "after-the-storm", &st);
	BH_CHECK(!rc, "a normal client works: %s (http %d, vsp status %#x, %s)", strerror(-rc),
		 st.http_status, st.vsp_status, st.error_code);
	azblob_close(c);

	BH_CHECK(!bh_wait_idle(&h, 5000), "sessions freed");
	bh_stats(&h, text, sizeof(text));
	printf("%s", text);
	BH_CHECK(bh_num(text, "refused") == 1, "one refused");
	BH_CHECK(bh_num(text, "errors") >= 1, "protocol errors counted");
	azblob_sim_get_stats(h.sim, &ss);
	printf("sim: requests %llu violations %llu\n", (unsigned long long)ss.requests,
	       (unsigned long long)ss.violations_total);
	BH_CHECK(ss.violations_total == 0, "nothing bad reached the host");
	BH_CHECK(ss.requests == 3, "only the 3 good requests reached the host");
	status = bh_stop(&h);
	BH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "azblobd exit %#x", status);
	printf("ok\n");
	return 0;
}
