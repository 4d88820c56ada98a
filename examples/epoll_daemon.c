// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * epoll_daemon: how a daemon embeds libazblob in its event loop.
 *
 * One thread, one client, one epoll set holding three fds:
 *   - the client's interrupt fd (azblob_fd): hang-up = the device was
 *     rescinded; readable = call azblob_poll;
 *   - a signalfd for SIGTERM/SIGINT/SIGHUP: a clean stop;
 *   - a timerfd: the daemon's own work, here "send the next burst".
 *
 * While requests are in flight the loop busy-polls (azblob_poll: no system
 * call, no lock, no allocation) and looks at the epoll set only now and then
 * (every SPIN_CHECK polls, or after SPIN_US without progress, with a 1 ms
 * sleep: a slow host does not cost a whole CPU). When nothing is in flight it
 * sleeps in epoll_wait until the timer, a signal or the device wakes it.
 *
 * The work: -n N no-op requests in bursts of --burst, at most --qd in
 * flight, --idle-ms apart, so both the busy and the sleeping paths run.
 * (Blobs with data buffers: the CLI, tools/azblob/cmd_blob.c.)
 *
 * Exit status: 0 all requests answered (or stopped by a signal), 1 failure,
 * 2 usage, 3 the device was rescinded (ENODEV). docs/CLI.md, "Embedding".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <azblob.h>
#include <azblob/sim.h>

#define PROG	   "epoll_daemon"
#define SPIN_CHECK 4096u /* polls between looks at the epoll set while busy */
#define SPIN_US	   200u	 /* busy-poll this long without progress, then sleep 1 ms */
#define BUF_SIZE   4096u /* request/response buffers */

enum { EXIT_DONE, EXIT_FAILED, EXIT_USAGE, EXIT_RESCINDED };

static const char usage_text[] =
    "Usage: " PROG " [--sim | --sim-root DIR | --device GUID] [-n N] [--burst N]\n"
    "                    [--qd N] [--idle-ms MS]\n"
    "A daemon-style loop embedding libazblob (docs/CLI.md): busy-polls while\n"
    "requests are in flight, sleeps in epoll_wait when idle, handles rescind\n"
    "(ENODEV) and SIGTERM. Defaults: the first Azure Blob device, -n 10000,\n"
    "--burst 256, --qd 32 (1..1024), --idle-ms 2. --sim: an in-process simulator.\n"
    "Exit status: 0 done or stopped by a signal, 1 failure, 2 usage, 3 rescinded.\n"
    "The last line on standard output is the summary.\n";

struct daemon;

/* One request slot: its buffers come from the client's pool. */
struct op {
	struct daemon *d;
	uint32_t idx;
	char *req, *resp;
};

struct daemon {
	const char *sim_root, *device;
	bool use_sim;
	uint64_t target; /* requests in all */
	uint32_t burst, qd, idle_ms;
	struct azblob_sim *sim;
	struct azblob_client *c;
	int ep, sfd, tfd, cfd;
	struct op *ops;
	uint32_t *free_ops, nfree;
	uint64_t burst_left; /* requests of the current burst not yet started */
	bool stop, rescinded, timer_armed;
	int stop_signal;
	uint64_t submitted, answered, ok, failed, enodev;
	uint64_t bursts, polls, sleeps, timer_events;
};

static void log_cb(void *arg, enum uvmbus_log_level lvl, const char *msg)
{
	(void)arg;
	fprintf(stderr, PROG ": lib: %s: %s\n",
		lvl <= UVMBUS_LOG_ERR	 ? "error"
		: lvl == UVMBUS_LOG_WARN ? "warning"
					 : "info",
		msg);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- requests ---- */

/* Completion callback: runs inside azblob_poll/azblob_wait/azblob_close. */
static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct op *o = user;
	struct daemon *d = o->d;

	d->answered++;
	if (err == -ENODEV)
		d->enodev++;
	if (err || status || len < 12 || memcmp(o->resp, "HTTP/1.1 2", 10)) {
		if (d->failed++ == 0 && err != -ENODEV && err != -ECANCELED)
			fprintf(stderr, PROG ": request failed: err %d (%s), VSP status 0x%08x\n",
				err, err ? strerror(-err) : "none", status);
	} else {
		d->ok++;
	}
	d->free_ops[d->nfree++] = o->idx;
}

/* Start what the burst and the queue depth allow; flush once. -EAGAIN (the
 * queue or the ring is full) is no error: poll, then retry. */
static int refill(struct daemon *d)
{
	bool any = false;
	int rc = 0;

	while (d->burst_left && d->nfree && azblob_inflight(d->c) < d->qd) {
		struct op *o = &d->ops[d->free_ops[d->nfree - 1]];
		struct azblob_request r = {
		    .request = o->req,
		    .request_len = (uint32_t)strlen(o->req),
		    .response = o->resp,
		    .response_len = BUF_SIZE,
		    .done = on_done,
		    .user = o,
		};

		rc = azblob_submit(d->c, &r);
		if (rc)
			break;
		d->nfree--;
		d->submitted++;
		d->burst_left--;
		any = true;
	}
	if (any)
		azblob_flush(d->c);
	return rc == -EAGAIN ? 0 : rc;
}

/* ---- events ---- */

static void start_burst(struct daemon *d)
{
	uint64_t left = d->target - d->submitted;

	d->burst_left = left < d->burst ? left : d->burst;
	if (d->burst_left)
		d->bursts++;
}

/* The device went away: every request in flight has had its -ENODEV. */
static void rescinded(struct daemon *d)
{
	if (d->rescinded)
		return;
	d->rescinded = d->stop = true;
	fprintf(stderr,
		PROG ": the Azure Blob device was rescinded (ENODEV): %" PRIu64
		     " request(s) failed with ENODEV; closing the client\n",
		d->enodev);
}

/* Poll the client; -ENODEV / -EIO end the loop. */
static int do_poll(struct daemon *d)
{
	int n = azblob_poll(d->c, 0);

	d->polls++;
	if (n == -ENODEV) {
		rescinded(d);
	} else if (n < 0) {
		fprintf(stderr, PROG ": azblob_poll: %s: the channel is broken\n", strerror(-n));
		d->stop = true;
	}
	return n;
}

/* The client's fd fired: hang-up means rescind; else drain completions and
 * consume the event (azblob_wait with 0 reads it without blocking). */
static void client_event(struct daemon *d, uint32_t events)
{
	int rc;

	if (events & (EPOLLHUP | EPOLLERR)) {
		rc = azblob_wait(d->c, 0); /* notices the hang-up: fails what is in flight */
		if (rc == -ENODEV || azblob_poll(d->c, 0) == -ENODEV)
			rescinded(d);
		return;
	}
	do {
		if (do_poll(d) < 0)
			return;
		rc = azblob_wait(d->c, 0);
	} while (rc == 1);
	if (rc == -ENODEV)
		rescinded(d);
}

/* One look at the epoll set (timeout_ms: 0 peek, -1 sleep). */
static void wait_events(struct daemon *d, int timeout_ms)
{
	struct epoll_event ev[4];
	int n = epoll_wait(d->ep, ev, 4, timeout_ms);

	if (n < 0 && errno != EINTR) {
		fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
		d->stop = true;
	}
	for (int i = 0; i < n; i++) {
		struct signalfd_siginfo si;
		uint64_t exp;

		if (ev[i].data.fd == d->cfd) {
			client_event(d, ev[i].events);
		} else if (ev[i].data.fd == d->sfd &&
			   read(d->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			d->stop_signal = (int)si.ssi_signo;
			d->stop = true;
			fprintf(stderr, PROG ": %s: stopping (%u request(s) in flight)\n",
				strsignal(d->stop_signal), azblob_inflight(d->c));
		} else if (ev[i].data.fd == d->tfd &&
			   read(d->tfd, &exp, sizeof(exp)) == (ssize_t)sizeof(exp)) {
			d->timer_events++;
			d->timer_armed = false;
			start_burst(d);
		}
	}
}

static int run(struct daemon *d)
{
	uint64_t last_progress = now_ns();
	uint32_t spins = 0;

	start_burst(d);
	while (!d->stop && (d->submitted < d->target || azblob_inflight(d->c))) {
		if (!azblob_inflight(d->c) && !d->burst_left) {
			/* Idle: sleep until the timer, a signal or the device
			 * (hang-up at rescind) wakes us. */
			struct itimerspec it = {
			    .it_value = {.tv_sec = d->idle_ms / 1000,
					 .tv_nsec = (long)(d->idle_ms % 1000) * 1000000 + 1}};

			if (!d->timer_armed)
				d->timer_armed = !timerfd_settime(d->tfd, 0, &it, NULL);
			d->sleeps++;
			wait_events(d, -1);
			last_progress = now_ns();
			continue;
		}
		if (refill(d) < 0) {
			if (azblob_poll(d->c, 0) == -ENODEV)
				rescinded(d);
			d->stop = true;
			break;
		}
		/* Busy: poll, no system call. */
		int n = do_poll(d);

		if (n > 0)
			last_progress = now_ns();
		else if (n == 0 && now_ns() - last_progress > SPIN_US * 1000ull)
			wait_events(d, 1); /* the host is slow: give the CPU back */
		if (++spins % SPIN_CHECK == 0)
			wait_events(d, 0); /* signals and the device, now and then */
	}
	if (d->rescinded)
		return EXIT_RESCINDED;
	if (d->stop_signal) {
		/* Clean stop: let what is in flight finish (2 s at most). */
		uint64_t until = now_ns() + 2000000000ull;

		while (azblob_inflight(d->c) && now_ns() < until)
			if (azblob_poll(d->c, 0) == 0)
				azblob_wait(d->c, 10);
		return EXIT_DONE;
	}
	return d->stop || d->failed ? EXIT_FAILED : EXIT_DONE;
}

/* ---- set-up ---- */

static int parse_u32(const char *opt, const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		fprintf(stderr, PROG ": %s %s: expected a number in %u..%u\n", opt, s, min, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_args(struct daemon *d, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"sim", no_argument, NULL, 's'},
	    {"sim-root", required_argument, NULL, 'r'},
	    {"device", required_argument, NULL, 'd'},
	    {"requests", required_argument, NULL, 'n'},
	    {"burst", required_argument, NULL, 'b'},
	    {"qd", required_argument, NULL, 'q'},
	    {"idle-ms", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	uint32_t n;
	int c, rc = 0;

	while (!rc && (c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_DONE);
		case 's':
			d->use_sim = true;
			break;
		case 'r':
			d->sim_root = optarg;
			break;
		case 'd':
			d->device = optarg;
			break;
		case 'n':
			rc = parse_u32("-n", optarg, 1, UINT32_MAX, &n);
			d->target = n;
			break;
		case 'b':
			rc = parse_u32("--burst", optarg, 1, 1u << 30, &d->burst);
			break;
		case 'q':
			rc = parse_u32("--qd", optarg, 1, AZBLOB_QUEUE_DEPTH, &d->qd);
			break;
		case 'i':
			rc = parse_u32("--idle-ms", optarg, 0, 3600000, &d->idle_ms);
			break;
		default:
			rc = -1;
		}
	}
	if (!rc && optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		rc = -1;
	}
	if (!rc && d->use_sim && d->sim_root) {
		fprintf(stderr, PROG ": --sim and --sim-root exclude each other\n");
		rc = -1;
	}
	if (rc)
		fprintf(stderr, "Try '" PROG " --help'.\n");
	return rc;
}

static int setup(struct daemon *d)
{
	struct uvmbus_log log = {.fn = log_cb, .max_level = UVMBUS_LOG_WARN};
	struct epoll_event ev = {.events = EPOLLIN};
	struct azblob_opts o;
	sigset_t sigs;
	int rc;

	/* Signals: taken by the signalfd only. Blocked before the simulator's
	 * thread starts so that it inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	/* The simulator's event fd is a socket: after a rescind a write to it
	 * must fail with EPIPE, not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	d->sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->sfd < 0 || d->tfd < 0 || d->ep < 0) {
		fprintf(stderr, PROG ": signalfd/timerfd/epoll: %s\n", strerror(errno));
		return -1;
	}
	if (d->use_sim) {
		struct azblob_sim_opts so;

		azblob_sim_opts_init(&so);
		so.ram_bytes = 64u << 20;
		so.log = log;
		rc = azblob_sim_create(&d->sim, &so);
		if (!rc)
			rc = azblob_sim_start(d->sim);
		if (rc) {
			fprintf(stderr, PROG ": starting the simulator: %s\n", strerror(-rc));
			return -1;
		}
		d->sim_root = azblob_sim_root(d->sim);
	}
	azblob_opts_init(&o);
	o.sim_root = d->sim_root;
	o.device_guid = d->device;
	o.queue_depth = d->qd;
	o.pool_buf_size = BUF_SIZE;
	o.pool_bufs = d->qd * 2; /* per op: request, response */
	o.log = log;
	rc = azblob_open(&d->c, &o);
	if (rc) {
		fprintf(stderr, PROG ": cannot open the Azure Blob device: %s\n", strerror(-rc));
		return -1;
	}
	d->ops = calloc(d->qd, sizeof(*d->ops));
	d->free_ops = calloc(d->qd, sizeof(*d->free_ops));
	if (!d->ops || !d->free_ops)
		return -1;
	for (uint32_t i = 0; i < d->qd; i++) {
		struct op *op = &d->ops[i];

		op->d = d;
		op->idx = i;
		op->req = azblob_alloc(d->c, BUF_SIZE);
		op->resp = azblob_alloc(d->c, BUF_SIZE);
		if (!op->req || !op->resp) {
			fprintf(stderr, PROG ": no buffers from the client's pool\n");
			return -1;
		}
		strcpy(op->req, "GET /$sim/noop HTTP/1.1\r\n\r\n");
		d->free_ops[d->nfree++] = d->qd - 1 - i;
	}
	/* The fd: EPOLLIN = completions may be there, EPOLLHUP = rescinded. */
	d->cfd = azblob_fd(d->c);
	for (int i = 0; i < 3; i++) {
		ev.data.fd = i == 0 ? d->cfd : i == 1 ? d->sfd : d->tfd;
		if (epoll_ctl(d->ep, EPOLL_CTL_ADD, ev.data.fd, &ev)) {
			fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon d = {
	    .target = 10000, .burst = 256, .qd = 32, .idle_ms = 2, .ep = -1, .sfd = -1, .tfd = -1};
	const char *result = "failed";
	int status = EXIT_FAILED;

	if (parse_args(&d, argc, argv))
		return EXIT_USAGE;
	if (!setup(&d)) {
		printf(PROG ": %s, %" PRIu64
			    " no-op requests in bursts of %u, QD %u, %u ms apart\n",
		       d.sim	    ? "in-process simulator"
		       : d.sim_root ? d.sim_root
				    : "Azure Blob device",
		       d.target, d.burst, d.qd, d.idle_ms);
		fflush(stdout);
		status = run(&d);
		result = status == EXIT_RESCINDED ? "rescinded"
			 : d.stop_signal	  ? "stopped"
			 : status == EXIT_DONE	  ? "done"
						  : "failed";
	}
	/* Close: anything still in flight is cancelled (its callback runs), the
	 * channel closes, then the memory goes. */
	if (d.c)
		azblob_close(d.c);
	if (d.sim)
		azblob_sim_destroy(d.sim);
	printf(PROG ": summary: result=%s requests=%" PRIu64 " submitted=%" PRIu64
		    " answered=%" PRIu64 " ok=%" PRIu64 " failed=%" PRIu64 " enodev=%" PRIu64
		    " bursts=%" PRIu64 " polls=%" PRIu64 " idle_sleeps=%" PRIu64
		    " timer_events=%" PRIu64 " exit=%d\n",
	       result, d.target, d.submitted, d.answered, d.ok, d.failed, d.enodev, d.bursts,
	       d.polls, d.sleeps, d.timer_events, status);
	free(d.ops);
	free(d.free_ops);
	if (d.ep >= 0)
		close(d.ep);
	if (d.sfd >= 0)
		close(d.sfd);
	if (d.tfd >= 0)
		close(d.tfd);
	return status;
}
