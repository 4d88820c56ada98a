// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_revoke: a user (65534) attached through the allow-list file is
 * removed from it, with 4 requests at a slow host (every answer 500 ms
 * late), and the daemon reloads (SIGHUP). From the reload no request of it
 * is read any more ("revoked" in the stats); the 4 at the host are
 * answered to it, then the session ends (as at a drain) and its arena is
 * freed: no answer dropped. A request it sends after the reload is never
 * served (the hang-up fails it with ENODEV), a new attach gets EACCES.
 * Root's session, attached before, goes on. Before issue 22 the revoked
 * user's session stayed usable.
 */
#include "harness.h"

#define QD   4
#define HEAD "GET /$sim/noop HTTP/1.1\r\n\r\n"

struct one {
	uint8_t *req, *resp;
	int err;
	bool done;
};

static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct one *o = user;

	(void)status;
	(void)len;
	o->err = err;
	o->done = true;
}

static int submit(struct azblob_client *c, struct one *o)
{
	struct azblob_request r = {.request = o->req,
				   .request_len = sizeof(HEAD) - 1,
				   .response = o->resp,
				   .response_len = 4096,
				   .done = on_done,
				   .user = o};

	memcpy(o->req, HEAD, sizeof(HEAD) - 1);
	o->done = false;
	return azblob_submit(c, &r);
}

static int wait_all(struct azblob_client *c, struct one *o, int n, unsigned ms)
{
	double end = bh_ms() + ms;

	for (int i = 0; i < n; i++)
		while (!o[i].done && bh_ms() < end)
			if (azblob_poll(c, 0) == 0)
				azblob_wait(c, 10);
	for (int i = 0; i < n; i++)
		if (!o[i].done)
			return -ETIMEDOUT;
	return 0;
}

/* The user: attach, 4 requests out, tell; after the parent's go, see
 * what happened to them, try one more and a new attach. */
static int user(const struct bh *h, int tell, int go)
{
	struct azblob_client *c, *c2 = NULL;
	struct azblob_opts o;
	struct one r[QD + 1];
	char x;
	int rc;

	bh_become(65534, 65534);
	c = bh_client(h, QD + 1, 64 * 1024);
	for (int i = 0; i <= QD; i++) {
		r[i].req = azblob_alloc(c, 4096);
		r[i].resp = azblob_alloc(c, 4096);
		BH_CHECK(r[i].req && r[i].resp, "alloc");
	}
	for (int i = 0; i < QD; i++)
		BH_CHECK(submit(c, &r[i]) == 0, "submit");
	azblob_flush(c);
	BH_CHECK(write(tell, "x", 1) == 1, "tell");
	BH_CHECK(read(go, &x, 1) == 1, "go");
	rc = wait_all(c, r, QD, 5000);
	printf("revoked user: its 4 requests in flight: %s, errors",
	       rc ? "not all answered" : "over");
	bool delivered = !rc;

	for (int i = 0; i < QD; i++) {
		printf(" %d", r[i].done ? r[i].err : 1);
		delivered &= r[i].done && !r[i].err;
	}
	printf("\n");
	rc = submit(c, &r[QD]);
	if (!rc) {
		azblob_flush(c);
		rc = wait_all(c, &r[QD], 1, 2000);
		if (!rc)
			rc = r[QD].err;
	}
	printf("revoked user: a new request on the old session: %s\n", rc == -ETIMEDOUT
									   ? "no answer in 2 s"
								       : rc ? strerror(-rc)
									    : "served");
	bool still_served = !rc;

	azblob_close(c);
	azblob_opts_init(&o);
	o.broker = h->sock;
	o.queue_depth = 4;
	o.pool_bufs = 4;
	rc = azblob_open(&c2, &o);
	printf("revoked user: a new attach: %d (%s)\n", rc, strerror(-rc));
	if (!rc)
		azblob_close(c2);
	fflush(stdout);
	return still_served ? 2 : !delivered ? 4 : rc == -EACCES ? 0 : 3;
}

static void write_allow(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	BH_CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0, "write %s", path);
}

int main(int argc, char **argv)
{
	struct azblob_sim_faults f = {.delay_us = 500000};
	char allow[] = "/tmp/broker-revoke-allow-XXXXXX", text[8192];
	const char *extra[] = {"--allow", allow, NULL};
	int tell[2], go[2], status, fd = mkstemp(allow);
	struct azblob_blob_status st;
	struct azblob_client *root;
	struct bh h;
	pid_t u;
	char x;

	BH_CHECK(argc == 2 && fd >= 0, "usage: %s AZBLOBD", argv[0]);
	close(fd);
	write_allow(allow, "user 65534\n");
	bh_start(&h, argv[1], extra, &f);
	chmod(h.dir, 0755);
	root = bh_client(&h, 4, 64 * 1024);
	BH_CHECK(pipe(tell) == 0 && pipe(go) == 0, "pipe");
	u = bh_fork();
	if (u == 0)
		bh_exit(user(&h, tell[1], go[0]));
	BH_CHECK(read(tell[0], &x, 1) == 1, "the user's requests are out");
	for (int t = 0; t < 200; t++) {
		bh_stats(&h, text, sizeof(text));
		if (strstr(text, "in flight 4"))
			break;
		bh_sleep_ms(5);
	}
	BH_CHECK(strstr(text, "in flight 4"), "4 requests at the host:\n%s", text);

	write_allow(allow, "# 65534 removed\n");
	kill(h.pid, SIGHUP);
	for (int t = 0; t < 100; t++) {
		bh_stats(&h, text, sizeof(text));
		if (strstr(text, "uid 65534 state revoked"))
			break;
		bh_sleep_ms(5);
	}
	printf("after the reload:\n%s", text);
	BH_CHECK(write(go[1], "x", 1) == 1, "go");
	BH_CHECK(waitpid(u, &status, 0) == u && WIFEXITED(status), "the user");
	BH_CHECK(WEXITSTATUS(status) != 2, "the revoked user's session is still served");
	BH_CHECK(strstr(text, "uid 65534 state revoked"), "its session is revoked at the reload");
	BH_CHECK(strstr(strstr(text, "uid 65534 state revoked"), "in_flight 4"),
		 "kept with its 4 requests at the host");
	BH_CHECK(WEXITSTATUS(status) != 4, "the answers of its requests at the host delivered");
	BH_CHECK(WEXITSTATUS(status) == 0, "a new attach by the revoked user: EACCES");
	BH_CHECK(!azblob_container_create(root, "still-served", &st), "root goes on");
	azblob_close(root);
	BH_CHECK(!bh_wait_idle(&h, 5000), "sessions freed");
	bh_stats(&h, text, sizeof(text));
	printf("at the end:\n%s", text);
	BH_CHECK(bh_num(text, "arenas") == 0, "no arena left");
	BH_CHECK(bh_num(text, "dropped") == 0, "no answer of the revoked session dropped");
	status = bh_stop(&h);
	unlink(allow);
	BH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "azblobd exit %#x", status);
	printf("ok\n");
	return 0;
}
