// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_drain: SIGTERM with a client's 8 requests at a slow host (every
 * answer 300 ms late). The daemon stops taking new clients and new
 * requests, delivers the 8 answers (status 0, the echoed bytes back),
 * then cuts the client off (its next call fails with ENODEV) and exits 0.
 */
#include <sys/prctl.h>

#include "harness.h"

#define QD   8
#define DATA 8192u
#define HEAD "POST /$sim/echo HTTP/1.1\r\n\r\n"

static int answered, failed;

static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	(void)user;
	(void)len;
	answered++;
	if (err || status)
		fprintf(stderr, "answer: err %d status %#x\n", err, status);
	failed += err || status;
}

static int client(const struct bh *h, int tell)
{
	struct azblob_client *c = bh_client(h, QD, 64 * 1024);
	uint8_t *data[QD];
	int rc = 0;

	for (int i = 0; i < QD; i++) {
		uint8_t *req = azblob_alloc(c, 4096), *resp = azblob_alloc(c, 4096);

		data[i] = azblob_alloc(c, DATA);
		BH_CHECK(req && resp && data[i], "alloc");
		memcpy(req, HEAD, sizeof(HEAD) - 1);
		memset(data[i], 0x30 + i, DATA);
		struct azblob_request r = {.request = req,
					   .request_len = sizeof(HEAD) - 1,
					   .response = resp,
					   .response_len = 4096,
					   .data = data[i],
					   .data_len = DATA,
					   .data_valid = DATA,
					   .done = on_done};

		BH_CHECK(azblob_submit(c, &r) == 0, "submit");
	}
	azblob_flush(c);
	BH_CHECK(write(tell, "x", 1) == 1, "tell");
	while (answered < QD && rc >= 0)
		if ((rc = azblob_poll(c, 0)) == 0)
			azblob_wait(c, 10);
	BH_CHECK(answered == QD && !failed, "%d answered, %d failed (rc %d)", answered, failed, rc);
	for (int i = 0; i < QD; i++)
		for (uint32_t k = 0; k < DATA; k++)
			BH_CHECK(data[i][k] == 0x30 + i, "echo %d byte %u", i, k);
	/* then the daemon hangs up */
	for (int t = 0; t < 500 && rc >= 0; t++) {
		rc = azblob_poll(c, 0);
		if (rc >= 0)
			rc = azblob_wait(c, 10);
	}
	BH_CHECK(rc == -ENODEV, "cut off after the drain: %d", rc);
	azblob_close(c);
	return 0;
}

int main(int argc, char **argv)
{
	struct azblob_sim_faults f = {.delay_us = 300000};
	int pipefd[2], status;
	struct bh h;
	pid_t p;
	char x;

	BH_CHECK(argc == 2, "usage: %s AZBLOBD", argv[0]);
	bh_start(&h, argv[1], NULL, &f);
	BH_CHECK(pipe(pipefd) == 0, "pipe");
	p = fork();
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pipefd[0]);
		_exit(client(&h, pipefd[1]));
	}
	close(pipefd[1]);
	BH_CHECK(read(pipefd[0], &x, 1) == 1, "the requests are out");
	char text[8192] = "";

	for (int t = 0; t < 400 && !strstr(text, "in flight 8"); t++) {
		bh_stats(&h, text, sizeof(text));
		bh_sleep_ms(5);
	}
	BH_CHECK(strstr(text, "in flight 8"), "8 requests at the device:\n%s", text);
	kill(h.pid, SIGTERM);
	BH_CHECK(waitpid(p, &status, 0) == p && WIFEXITED(status) && !WEXITSTATUS(status),
		 "the client (%#x)", status);
	status = -1;
	for (int i = 0; i < 500 && waitpid(h.pid, &status, WNOHANG) != h.pid; i++)
		bh_sleep_ms(10);
	BH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "azblobd drained and exited 0");
	h.pid = 0;
	bh_stop(&h);
	printf("ok\n");
	return 0;
}
