// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_kill_client: a client is killed (SIGKILL) with 8 requests in
 * flight at a slow host (every answer 400 ms late). The daemon keeps the
 * dead client's session (its arena mapped, its requests' buffers held)
 * until the host has answered each of them, drops those answers, then
 * frees everything. Meanwhile a second client runs echo requests with
 * their own patterns and gets back exactly its own bytes. At the end:
 * no session, no arena, no extra file descriptor in the daemon, the
 * dead client's 8 answers counted as dropped, and the host saw no buffer
 * reused while it could still write it.
 */
#include <sys/prctl.h>

#include "harness.h"

#define QD   8
#define DATA 16384u
static void submit(struct azblob_client *c, struct bh_req *o, uint8_t pattern)
{
	BH_CHECK(bh_submit(c, o, DATA, pattern) == 0, "submit");
}

/* The victim: 8 requests out, then tell the parent and wait to die. */
static void victim(const struct bh *h, int tell)
{
	struct azblob_client *c = bh_client(h, QD, 64 * 1024);
	struct bh_req o[QD];

	bh_alloc(c, o, QD, DATA);
	for (int i = 0; i < QD; i++)
		submit(c, &o[i], 0xAA);
	azblob_flush(c);
	BH_CHECK(write(tell, "x", 1) == 1, "tell");
	for (;;)
		pause();
}

/* The survivor: rounds of 8 echoes, each with its own pattern. */
static int survivor(const struct bh *h)
{
	struct azblob_client *c = bh_client(h, QD, 64 * 1024);
	struct bh_req o[QD];

	bh_alloc(c, o, QD, DATA);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < QD; i++)
			submit(c, &o[i], (uint8_t)(round * QD + i + 1));
		azblob_flush(c);
		for (int i = 0; i < QD; i++)
			bh_expect_echo(c, &o[i], DATA, (uint8_t)(round * QD + i + 1), "echo");
	}
	BH_CHECK(azblob_close(c) == 0, "close");
	return 0;
}

int main(int argc, char **argv)
{
	struct azblob_sim_faults f = {.delay_us = 400000};
	struct azblob_sim_stats ss;
	char text[8192], want[64];
	int pipefd[2], fds0, status;
	struct bh h;
	pid_t a, b;
	char x;

	BH_CHECK(argc == 2, "usage: %s AZBLOBD", argv[0]);
	bh_start(&h, argv[1], NULL, &f);
	fds0 = bh_fds(h.pid);
	BH_CHECK(pipe(pipefd) == 0, "pipe");
	a = fork();
	if (a == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		victim(&h, pipefd[1]);
	}
	close(pipefd[1]);
	BH_CHECK(read(pipefd[0], &x, 1) == 1, "the victim's requests are out");
	/* wait until the daemon has them all at the device */
	for (int t = 0; t < 200; t++) {
		bh_stats(&h, text, sizeof(text));
		if (strstr(text, "in flight 8"))
			break;
		bh_sleep_ms(5);
	}
	BH_CHECK(strstr(text, "in flight 8"), "8 requests at the device:\n%s", text);
	kill(a, SIGKILL);
	waitpid(a, &status, 0);
	b = bh_spawn(survivor, &h);
	/* The dead client's session stays, with its 8 requests, until the
	 * host answers them. */
	snprintf(want, sizeof(want), "pid %d uid 0 state closing", (int)a);
	for (int t = 0; t < 100 && !strstr(text, want); t++) {
		bh_stats(&h, text, sizeof(text));
		bh_sleep_ms(2);
	}
	printf("after the kill:\n%s", text);
	BH_CHECK(strstr(text, want), "the dead client's session is held");
	BH_CHECK(strstr(strstr(text, want), "in_flight 8"), "with its 8 requests");
	BH_CHECK(bh_num(text, "arenas") > 0, "and its arena");

	BH_CHECK(waitpid(b, &status, 0) == b && WIFEXITED(status) && !WEXITSTATUS(status),
		 "the survivor failed (%#x)", status);
	BH_CHECK(!bh_wait_idle(&h, 5000), "sessions not freed");
	bh_stats(&h, text, sizeof(text));
	printf("at the end:\n%s", text);
	BH_CHECK(bh_num(text, "total") == 2, "two sessions");
	BH_CHECK(bh_num(text, "arenas") == 0, "no arena left");
	BH_CHECK(bh_num(text, "dropped") == QD, "the dead client's answers dropped");
	BH_CHECK(strstr(text, "in flight 0"), "nothing in flight");
	BH_CHECK(bh_fds_settle(h.pid, fds0) == fds0, "daemon fds %d, %d before", bh_fds(h.pid),
		 fds0);
	azblob_sim_get_stats(h.sim, &ss);
	printf("sim: requests %llu reused_buffers %llu violations %llu\n",
	       (unsigned long long)ss.requests, (unsigned long long)ss.reused_buffers,
	       (unsigned long long)ss.violations_total);
	BH_CHECK(ss.requests == QD + 3 * QD, "every request reached the host");
	BH_CHECK(!ss.reused_buffers && !ss.violations_total, "no buffer reused at the host");
	status = bh_stop(&h);
	BH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "azblobd exit %#x", status);
	printf("ok\n");
	return 0;
}
