// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_max_clients: sessions of killed clients that still wait for a
 * slow host (answers 3 s late) count against --max-clients and
 * --max-clients-per-uid: their arenas are still there.
 * 1. --max-clients 2: two clients killed with requests out; a third
 *    attach gets EBUSY naming the 2 sessions waiting for the host; once
 *    the host has answered, attaches work again.
 * 2. --max-clients-per-uid 1: a user's killed client waiting for the host
 *    keeps that user's next attach out (EBUSY) while root attaches.
 * Before issue 22 only active sessions counted: every attach succeeded
 * and the arenas piled up.
 */
#include "harness.h"

#define QD   2
#define HEAD "GET /$sim/noop HTTP/1.1\r\n\r\n"

static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	(void)user, (void)err, (void)status, (void)len;
}

/* A client with QD requests at the host; tells, then waits to be killed. */
static void victim(const struct bh *h, uid_t uid, int tell)
{
	struct azblob_client *c;

	if (uid)
		bh_become(uid, uid);
	c = bh_client(h, QD, 64 * 1024);
	for (int i = 0; i < QD; i++) {
		uint8_t *req = azblob_alloc(c, 4096), *resp = azblob_alloc(c, 4096);
		struct azblob_request r = {.request = req,
					   .request_len = sizeof(HEAD) - 1,
					   .response = resp,
					   .response_len = 4096,
					   .done = on_done};

		BH_CHECK(req && resp, "alloc");
		memcpy(req, HEAD, sizeof(HEAD) - 1);
		BH_CHECK(azblob_submit(c, &r) == 0, "submit");
	}
	azblob_flush(c);
	BH_CHECK(write(tell, "x", 1) == 1, "tell");
	for (;;)
		pause();
}

/* Spawn a victim, wait until the daemon has its requests at the host
 * (`inflight` in all), kill it. */
static void killed_client(const struct bh *h, uid_t uid, unsigned inflight)
{
	char text[8192], want[32];
	int p[2];
	pid_t v;
	char x;

	BH_CHECK(pipe(p) == 0, "pipe");
	v = bh_fork();
	if (v == 0)
		victim(h, uid, p[1]);
	close(p[1]);
	BH_CHECK(read(p[0], &x, 1) == 1, "the victim attached and submitted");
	close(p[0]);
	snprintf(want, sizeof(want), " in flight %u ", inflight); /* the device line */
	for (int t = 0; t < 200; t++) {
		bh_stats(h, text, sizeof(text));
		if (strstr(text, want))
			break;
		bh_sleep_ms(5);
	}
	BH_CHECK(strstr(text, want), "%u requests at the host:\n%s", inflight, text);
	kill(v, SIGKILL);
	waitpid(v, NULL, 0);
}

/* A raw attach: its status, the message printed; the session closed. */
static int try_attach(const struct bh *h, const char *who, char *msg, size_t cap)
{
	struct azblob_broker_welcome w;
	int fd = bh_raw_attach(h->sock, &w, NULL);

	printf("%s: attach: %s%s%s\n", who,
	       fd < 0	  ? strerror(-fd)
	       : w.status ? "refused"
			  : "ok",
	       w.status ? ": " : "", w.status ? w.message : "");
	if (msg)
		snprintf(msg, cap, "%s", w.message);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? fd : w.status;
}

int main(int argc, char **argv)
{
	struct azblob_sim_faults f = {.delay_us = 3000000};
	const char *one[] = {"--max-clients", "2", NULL};
	const char *two[] = {"--max-clients", "4", "--max-clients-per-uid", "1", "--allow-user",
			     "65534",	      NULL};
	char text[8192], msg[128];
	int status, rc;
	struct bh h;

	BH_CHECK(argc == 2, "usage: %s AZBLOBD", argv[0]);

	/* 1. the total */
	bh_start(&h, argv[1], one, &f);
	killed_client(&h, 0, QD);
	killed_client(&h, 0, 2 * QD);
	bh_stats(&h, text, sizeof(text));
	printf("two clients killed:\n%s", text);
	rc = try_attach(&h, "a third client", msg, sizeof(msg));
	bh_stats(&h, text, sizeof(text));
	printf("then:\n%s", text);
	BH_CHECK(rc == -EBUSY, "the third attach: %d, expected EBUSY", rc);
	BH_CHECK(strstr(msg, "2 waiting for the host"), "the message names them: %s", msg);
	BH_CHECK(!bh_wait_idle(&h, 10000), "the host answered: sessions freed");
	BH_CHECK(try_attach(&h, "after the host answered", NULL, 0) == 0, "attach again");
	status = bh_stop(&h);
	BH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "azblobd exit %#x", status);

	/* 2. per uid */
	bh_start(&h, argv[1], two, &f);
	chmod(h.dir, 0755);
	killed_client(&h, 65534, QD);
	pid_t p = bh_fork();

	if (p == 0) {
		bh_become(65534, 65534);
		bh_exit(try_attach(&h, "uid 65534 again", msg, sizeof(msg)) == -EBUSY &&
				strstr(msg, "1 waiting for the host")
			    ? 0
			    : 1);
	}
	BH_CHECK(waitpid(p, &status, 0) == p && WIFEXITED(status) && !WEXITSTATUS(status),
		 "uid 65534's second session: EBUSY naming the 1 waiting");
	BH_CHECK(try_attach(&h, "root", NULL, 0) == 0, "root attaches meanwhile");
	BH_CHECK(!bh_wait_idle(&h, 10000), "sessions freed");
	status = bh_stop(&h);
	BH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "azblobd exit %#x", status);
	printf("ok\n");
	return 0;
}
