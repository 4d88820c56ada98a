// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * epoll_daemon: how a daemon embeds libazblob in its event loop (docs/CLI.md,
 * "Embedding libazblob"). One thread, one client, one epoll set with:
 *   - the client's fd (azblob_fd): readable = call azblob_poll; hang-up =
 *     the device was rescinded (exit 3);
 *   - a signalfd for SIGTERM/SIGINT/SIGHUP: a clean stop (exit 0);
 *   - a timerfd: the daemon's own work, here "start the next burst".
 * While requests are in flight the loop busy-polls; when the host is slow or
 * the burst is done it sleeps in epoll_wait: an idle daemon costs no CPU.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <azblob.h>
#include <azblob/sim.h>

#define PROG	  "epoll_daemon"
#define QD	  32u	/* requests in flight at most */
#define BURST	  256u	/* requests per burst */
#define IDLE_MS	  2	/* the gap between bursts */
#define SPIN_IDLE 1000u /* polls without progress, then sleep 1 ms per poll */
#define BUF_SIZE  4096u /* request and response buffers */
#define NOOP	  "GET /$sim/noop HTTP/1.1\r\n\r\n" /* the simulator answers 200 */

enum { EXIT_DONE, EXIT_FAILED, EXIT_USAGE, EXIT_RESCINDED };

static const char usage[] =
    "Usage: " PROG " [--sim | --sim-root DIR] [-n N]\n"
    "Sends N no-op requests (default 10000) to the first Azure Blob device or to a\n"
    "simulator: in-process (--sim) or azblob-vspd's (--sim-root). See docs/CLI.md.\n"
    "Exit status: 0 done or stopped by a signal, 1 failure, 2 usage, 3 rescinded.\n";

/* One request slot; its buffers come from the client's pool. */
struct op {
	struct daemon *d;
	char *req, *resp;
};

struct daemon {
	struct azblob_client *c;
	int ep, sfd, tfd, cfd;
	struct op ops[QD], *free_ops[QD];
	uint32_t nfree;
	uint64_t target, submitted, burst_left;
	uint64_t ok, failed, polls, sleeps;
	int stop_signal, end; /* end: the error that ended the loop */
};

/* The library never prints: its messages come here. */
static void log_cb(void *arg, enum uvmbus_log_level lvl, const char *msg)
{
	(void)arg;
	fprintf(stderr, PROG ": lib: %s: %s\n", lvl <= UVMBUS_LOG_ERR ? "error" : "warning", msg);
}

/* Completion callback: runs inside azblob_poll, azblob_wait or azblob_close. */
static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct op *o = user;
	struct daemon *d = o->d;

	if (!err && !status && len >= 12 && !memcmp(o->resp, "HTTP/1.1 2", 10))
		d->ok++;
	else if (d->failed++ == 0 && err != -ENODEV && err != -ECANCELED)
		fprintf(stderr, PROG ": request failed: err %d (%s), VSP status 0x%08x\n", err,
			err ? strerror(-err) : "none", status);
	d->free_ops[d->nfree++] = o;
}

/* A negative return from the client ends the loop. -ENODEV: the device was
 * rescinded, and every request in flight has had its -ENODEV callback. */
static void client_error(struct daemon *d, const char *call, int rc)
{
	if (d->end)
		return;
	d->end = rc;
	fprintf(stderr, PROG ": %s: %s\n", call,
		rc == -ENODEV ? "the Azure Blob device was rescinded (ENODEV); closing the client"
			      : strerror(-rc));
}

/* Submit what the burst and the free slots allow, then flush once for the
 * batch. -EAGAIN (the queue or the ring is full) is no error: poll, retry. */
static void refill(struct daemon *d)
{
	bool any = false;
	int rc = 0;

	while (d->burst_left && d->nfree && d->submitted < d->target) {
		struct op *o = d->free_ops[d->nfree - 1];
		struct azblob_request r = {.request = o->req,
					   .request_len = sizeof(NOOP) - 1,
					   .response = o->resp,
					   .response_len = BUF_SIZE,
					   .done = on_done,
					   .user = o};

		if ((rc = azblob_submit(d->c, &r)))
			break;
		d->nfree--;
		d->submitted++;
		d->burst_left--;
		any = true;
	}
	if (any)
		azblob_flush(d->c);
	if (rc && rc != -EAGAIN)
		client_error(d, "azblob_submit", rc);
}

/* Reap completions (their callbacks run here): no system call, no lock. */
static int do_poll(struct daemon *d)
{
	int n = azblob_poll(d->c, 0);

	d->polls++;
	if (n < 0)
		client_error(d, "azblob_poll", n);
	return n;
}

/* The client's fd fired (EPOLLIN; EPOLLHUP at a rescind): reap, then let
 * azblob_wait(c, 0) consume the event without blocking (1: more came, poll
 * again). After a hang-up one of the two returns -ENODEV. */
static void client_event(struct daemon *d)
{
	int rc;

	while ((rc = do_poll(d)) >= 0 && (rc = azblob_wait(d->c, 0)) == 1)
		;
	if (rc < 0 && rc != -EINTR)
		client_error(d, "azblob_wait", rc);
}

/* One look at the epoll set (timeout_ms: -1 sleep, 1 a short nap). */
static void wait_events(struct daemon *d, int timeout_ms)
{
	struct epoll_event ev[3];
	int n = epoll_wait(d->ep, ev, 3, timeout_ms);

	if (n < 0 && errno != EINTR)
		client_error(d, "epoll_wait", -errno);
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;
		struct signalfd_siginfo si;
		uint64_t expirations;

		if (fd == d->cfd) {
			client_event(d);
		} else if (fd == d->sfd && read(fd, &si, sizeof(si)) > 0) {
			d->stop_signal = (int)si.ssi_signo;
			fprintf(stderr, PROG ": %s: stopping (%u request(s) in flight)\n",
				strsignal(d->stop_signal), azblob_inflight(d->c));
		} else if (fd == d->tfd && read(fd, &expirations, sizeof(expirations)) > 0) {
			d->burst_left = BURST; /* the next burst */
		}
	}
}

static void run(struct daemon *d)
{
	uint32_t idle = 0;

	while (!d->end && !d->stop_signal && (d->submitted < d->target || azblob_inflight(d->c))) {
		if (!d->burst_left && !azblob_inflight(d->c)) {
			/* Idle: sleep until the timer, a signal or the device
			 * (hang-up at a rescind) wakes us. */
			struct itimerspec it = {.it_value.tv_nsec = IDLE_MS * 1000000L};

			timerfd_settime(d->tfd, 0, &it, NULL);
			d->sleeps++;
			wait_events(d, -1);
			continue;
		}
		/* Busy: submit and poll. Signals wait for the end of the burst;
		 * a rescind makes azblob_poll return -ENODEV. */
		refill(d);
		idle = do_poll(d) > 0 ? 0 : idle + 1;
		if (idle > SPIN_IDLE)
			wait_events(d, 1); /* the host is slow: give the CPU back */
	}
}

int main(int argc, char **argv)
{
	struct daemon d = {.target = 10000, .ep = -1, .sfd = -1, .tfd = -1};
	struct uvmbus_log log = {.fn = log_cb, .max_level = UVMBUS_LOG_WARN};
	struct azblob_sim *sim = NULL;
	struct azblob_opts o;
	const char *result = "failed";
	bool use_sim = false;
	sigset_t sigs;
	int rc, status = EXIT_FAILED;

	azblob_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		char *end = "";

		if (!strcmp(argv[i], "--sim"))
			use_sim = true;
		else if (!strcmp(argv[i], "--sim-root") && i + 1 < argc)
			o.sim_root = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			d.target = strtoull(argv[++i], &end, 10);
		else
			end = "?"; /* --help, or a bad argument */
		if (*end || !d.target || d.target > UINT32_MAX || (use_sim && o.sim_root)) {
			bool help = !strcmp(argv[i], "--help");

			fputs(usage, help ? stdout : stderr);
			return help ? EXIT_DONE : EXIT_USAGE;
		}
	}

	/* Only the signalfd takes these: block them before any thread starts. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	/* A simulator's fd is a socket: after a hang-up, EPIPE instead of death. */
	signal(SIGPIPE, SIG_IGN);
	d.sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	d.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d.ep = epoll_create1(EPOLL_CLOEXEC);
	if (d.sfd < 0 || d.tfd < 0 || d.ep < 0) {
		perror(PROG ": signalfd/timerfd/epoll");
		goto out;
	}
	if (use_sim) { /* the host's side, on a thread of this process */
		if ((rc = azblob_sim_create(&sim, NULL)) || (rc = azblob_sim_start(sim))) {
			fprintf(stderr, PROG ": starting the simulator: %s\n", strerror(-rc));
			goto out;
		}
		o.sim_root = azblob_sim_root(sim);
	}
	o.queue_depth = QD;
	o.pool_buf_size = BUF_SIZE;
	o.pool_bufs = 2 * QD; /* per slot: request, response */
	o.log = log;
	if ((rc = azblob_open(&d.c, &o))) {
		fprintf(stderr, PROG ": cannot open the Azure Blob device: %s\n", strerror(-rc));
		goto out;
	}
	for (uint32_t i = 0; i < QD; i++) {
		struct op *op = &d.ops[i];

		op->d = &d;
		op->req = azblob_alloc(d.c, BUF_SIZE);
		op->resp = azblob_alloc(d.c, BUF_SIZE);
		if (!op->req || !op->resp) {
			fprintf(stderr, PROG ": no buffers from the client's pool\n");
			goto out;
		}
		memcpy(op->req, NOOP, sizeof(NOOP) - 1);
		d.free_ops[d.nfree++] = op;
	}
	/* The client's fd: EPOLLIN = completions may be there, EPOLLHUP = rescinded. */
	d.cfd = azblob_fd(d.c);
	int fds[] = {d.cfd, d.sfd, d.tfd};

	for (int i = 0; i < 3 && !rc; i++)
		rc = epoll_ctl(d.ep, EPOLL_CTL_ADD, fds[i],
			       &(struct epoll_event){.events = EPOLLIN, .data.fd = fds[i]});
	if (rc) {
		perror(PROG ": epoll_ctl");
		goto out;
	}
	printf(PROG ": started: %" PRIu64 " no-op requests, bursts of %u\n", d.target, BURST);
	fflush(stdout);
	run(&d);
	/* After the loop nothing is in flight unless a signal stopped it. */
	if (d.end == -ENODEV)
		status = EXIT_RESCINDED, result = "rescinded";
	else if (!d.end && (d.stop_signal || !d.failed))
		status = EXIT_DONE, result = d.stop_signal ? "stopped" : "done";
out:
	/* Close before freeing what the callbacks use: azblob_close waits for
	 * the answers still out (after a signal), cancels the rest. */
	if (d.c)
		azblob_close(d.c);
	if (sim)
		azblob_sim_destroy(sim);
	printf(PROG ": summary: result=%s requests=%" PRIu64 " ok=%" PRIu64 " failed=%" PRIu64
		    " polls=%" PRIu64 " idle_sleeps=%" PRIu64 " exit=%d\n",
	       result, d.target, d.ok, d.failed, d.polls, d.sleeps, status);
	close(d.ep); /* close(-1) fails harmlessly */
	close(d.sfd);
	close(d.tfd);
	return status;
}
