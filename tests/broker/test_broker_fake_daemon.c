// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_fake_daemon: a user (65534) stands in for azblobd: it listens on
 * the socket path a root client uses. The client checks the server's
 * credentials (SO_PEERCRED) before it sends anything: it refuses the
 * fake (EPERM, with a message) and the fake never sees a hello. With
 * AZBLOB_BROKER_UID=65534 (a daemon run as that user) the same server is
 * accepted. Before issue 22 the root client's hello went to the fake.
 */
#include <poll.h>

#include "harness.h"

/* As 65534: listen at path; for each connection report over `tell` how
 * many bytes arrived before it closed (a hello is 24+), then close. */
static void fake(const char *path, int tell)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int l;

	bh_become(65534, 65534);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	BH_CHECK(l >= 0 && !bind(l, (struct sockaddr *)&a, sizeof(a)) && !listen(l, 8),
		 "fake listen: %s", strerror(errno));
	chmod(path, 0666);
	BH_CHECK(write(tell, "L", 1) == 1, "tell");
	for (;;) {
		int c = accept(l, NULL, NULL);
		struct pollfd p = {.fd = c, .events = POLLIN};
		char buf[256];
		int n = 0;

		if (c < 0)
			continue;
		if (poll(&p, 1, 1000) == 1)
			n = (int)recv(c, buf, sizeof(buf), MSG_DONTWAIT);
		close(c);
		BH_CHECK(write(tell, &n, sizeof(n)) == sizeof(n), "tell");
	}
}

static int attach(const char *path)
{
	struct azblob_client *c = NULL;
	struct azblob_opts o;

	azblob_opts_init(&o);
	o.broker = path;
	o.queue_depth = 4;
	o.pool_buf_size = 64 * 1024;
	o.pool_bufs = 4;
	int rc = azblob_open(&c, &o);

	if (!rc)
		azblob_close(c);
	return rc;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/broker-fake-XXXXXX", path[64], l;
	int pipefd[2], got, rc;
	struct pollfd p;
	pid_t f;

	(void)argc;
	(void)argv;
	BH_CHECK(mkdtemp(dir) && chmod(dir, 0777) == 0, "dir");
	snprintf(path, sizeof(path), "%s/azblobd.sock", dir);
	BH_CHECK(pipe(pipefd) == 0, "pipe");
	f = bh_fork();
	if (f == 0)
		fake(path, pipefd[1]);
	BH_CHECK(read(pipefd[0], &l, 1) == 1, "the fake listens");

	/* a root client (no AZBLOB_BROKER_UID): refused before its hello */
	unsetenv("AZBLOB_BROKER_UID");
	rc = attach(path);
	BH_CHECK(read(pipefd[0], &got, sizeof(got)) == sizeof(got), "the fake's report");
	printf("root client -> fake daemon of uid 65534: azblob_open %d (%s); the fake "
	       "received %d byte(s)\n",
	       rc, strerror(-rc), got);
	BH_CHECK(got <= 0, "the fake got the client's hello");
	BH_CHECK(rc == -EPERM, "the client refuses a server of uid 65534");

	/* the daemon's user configured: the same server accepted */
	setenv("AZBLOB_BROKER_UID", "65534", 1);
	rc = attach(path);
	BH_CHECK(read(pipefd[0], &got, sizeof(got)) == sizeof(got), "the fake's report");
	printf("with AZBLOB_BROKER_UID=65534: azblob_open %d (%s); the fake received %d "
	       "byte(s)\n",
	       rc, strerror(-rc), got);
	BH_CHECK(got > 0, "the client trusts the configured daemon user");

	/* a malformed value refuses everything but root */
	setenv("AZBLOB_BROKER_UID", "nobody?", 1);
	rc = attach(path);
	p = (struct pollfd){.fd = pipefd[0], .events = POLLIN};
	if (poll(&p, 1, 2000) == 1)
		BH_CHECK(read(pipefd[0], &got, sizeof(got)) == sizeof(got), "the fake's report");
	printf("with AZBLOB_BROKER_UID=nobody?: azblob_open %d (%s)\n", rc, strerror(-rc));
	BH_CHECK(rc == -EPERM && got <= 0, "a bad AZBLOB_BROKER_UID trusts root only");

	kill(f, SIGKILL);
	waitpid(f, NULL, 0);
	unlink(path);
	rmdir(dir);
	printf("ok\n");
	return 0;
}
