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
 * (every SPIN_CHECK polls, or after --spin-us without progress, with a 1 ms
 * sleep: a slow host does not cost a whole CPU). When nothing is in flight it
 * sleeps in epoll_wait until the timer, a signal or the device wakes it.
 *
 * The work: -n N requests (no-ops, or put-then-get pairs with the content
 * checked) in bursts of --burst, at most --qd in flight, --idle-ms apart, so
 * both the busy and the sleeping paths run. Counters are printed at exit.
 *
 * Exit status: 0 all requests answered (or stopped by a signal), 1 failure
 * (open, a request that failed), 2 usage, 3 the device was rescinded
 * (ENODEV): reported, the client closed, nothing left in flight.
 *
 * Build: see examples/CMakeLists.txt; docs/CLI.md, "Embedding".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
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

#define PROG "epoll_daemon"

enum {
	EXIT_DONE = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_RESCINDED = 3,
};

#define SPIN_CHECK 4096u /* polls between looks at the epoll set while busy */
#define BUF_SIZE   4096u /* request/response buffers */
#define CONTAINER  "epoll-daemon"

static const char usage_text[] =
    "Usage: " PROG " [--sim | --sim-root DIR | --device GUID] [-n N] [--burst N]\n"
    "                    [--qd N] [--idle-ms MS] [--op noop|putget] [--blob-size N]\n"
    "                    [--timeout MS] [--spin-us US] [--rescind-after N] [-v]\n"
    "\n"
    "A daemon-style loop embedding libazblob: busy-polls while requests are in\n"
    "flight, sleeps in epoll_wait on the client's fd (azblob_fd) when idle,\n"
    "handles rescind (ENODEV) and SIGTERM (signalfd).\n"
    "\n"
    "Target (default: the first Azure Blob device):\n"
    "  --sim              start an in-process simulator (memory backend) and use it\n"
    "  --sim-root DIR     a running simulator (azblob-vspd) published in DIR\n"
    "  --device GUID      this Azure Blob device\n"
    "Work:\n"
    "  -n, --requests N   requests to send in all (default 10000)\n"
    "  --burst N          requests per burst (default 256)\n"
    "  --qd N             at most N in flight, 1..1024 (default 32)\n"
    "  --idle-ms MS       idle gap between bursts (default 2)\n"
    "  --op noop|putget   GET /$sim/noop (default), or PUT a blob then GET it back\n"
    "                     and compare (a pair counts as two requests)\n"
    "  --blob-size N      putget blob size, 1..4096 (default 1000)\n"
    "  --timeout MS       per-request timeout (default 30000)\n"
    "  --spin-us US       busy-poll this long without progress before sleeping\n"
    "                     1 ms at a time (default 200)\n"
    "  --rescind-after N  with --sim: once N requests are answered the host stops\n"
    "                     answering, and rescinds the device when requests have\n"
    "                     waited 20 ms (a test of the ENODEV path)\n"
    "  -v, --verbose      library messages at info level; progress per burst\n"
    "  -h, --help         this help\n"
    "\n"
    "Exit status: 0 done (or stopped by SIGTERM/SIGINT/SIGHUP), 1 failure,\n"
    "2 usage, 3 the device was rescinded (ENODEV).\n"
    "The last line on standard output is the summary:\n"
    "  " PROG ": summary: result=done|stopped|rescinded|failed requests=N ...\n";

struct daemon;

/* One request in flight (or a put waiting for its get). */
struct op {
	struct daemon *d;
	uint32_t idx;
	char *req, *resp;
	uint8_t *data;
	uint64_t seq;
	bool is_get;
};

struct daemon {
	/* options */
	bool use_sim, putget, verbose;
	const char *sim_root, *device;
	uint64_t target; /* requests in all */
	uint32_t burst, qd, idle_ms, blob_size, timeout_ms, spin_us;
	uint64_t rescind_after;
	/* runtime */
	struct azblob_sim *sim;
	struct azblob_client *c;
	int ep, sfd, tfd, cfd;
	struct op *ops;
	uint32_t *free_ops, nfree;
	uint32_t *gets, ngets; /* puts answered, their get not yet submitted */
	uint64_t burst_left;   /* requests of the current burst not yet started */
	bool stop, rescinded, timer_armed;
	int stop_signal;
	/* counters */
	uint64_t submitted, answered, ok, failed, enodev, cancelled, timeouts, mismatches;
	uint64_t bursts, polls, empty_polls, sleeps, backoffs, checks;
	uint64_t fd_events, timer_events, eagain;
	uint64_t hold_since; /* --rescind-after: when the host stopped answering */
	uint64_t committed;  /* requests started or promised (a put's get) */
	uint64_t seq;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void log_cb(void *arg, enum uvmbus_log_level lvl, const char *msg)
{
	fprintf(stderr, PROG ": %s: %s: %s\n", (const char *)arg,
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

static void pattern(uint8_t *p, uint32_t len, uint64_t seq)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ull + 0x1234567;

	for (uint32_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static void on_done(void *user, int err, uint32_t status, uint32_t len);

static int submit_op(struct daemon *d, struct op *o)
{
	int n;
	struct azblob_request r = {
	    .request = o->req,
	    .response = o->resp,
	    .response_len = BUF_SIZE,
	    .timeout_ms = d->timeout_ms,
	    .done = on_done,
	    .user = o,
	};

	if (!d->putget) {
		n = snprintf(o->req, BUF_SIZE, "GET /$sim/noop HTTP/1.1\r\n\r\n");
	} else if (!o->is_get) {
		n = snprintf(o->req, BUF_SIZE, "PUT /" CONTAINER "/blob-%u HTTP/1.1\r\n\r\n",
			     o->idx);
		pattern(o->data, d->blob_size, o->seq);
		r.data = o->data;
		r.data_len = r.data_valid = d->blob_size;
	} else {
		n = snprintf(o->req, BUF_SIZE, "GET /" CONTAINER "/blob-%u HTTP/1.1\r\n\r\n",
			     o->idx);
		memset(o->data, 0, d->blob_size);
		r.data = o->data;
		r.data_len = d->blob_size;
	}
	r.request_len = (uint32_t)n;
	int rc = azblob_submit(d->c, &r);

	if (rc == 0)
		d->submitted++;
	else if (rc == -EAGAIN)
		d->eagain++;
	return rc;
}

static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct op *o = user;
	struct daemon *d = o->d;

	d->answered++;
	if (err == -ENODEV)
		d->enodev++;
	else if (err == -ECANCELED)
		d->cancelled++;
	else if (err == -ETIMEDOUT)
		d->timeouts++;
	if (err || status || len < 12 || memcmp(o->resp, "HTTP/1.1 2", 10)) {
		if (d->failed++ == 0 && err != -ENODEV && err != -ECANCELED)
			say("request failed: err %d (%s), VSP status 0x%08x, %.*s", err,
			    err ? strerror(-err) : "none", status, len > 40 ? 40 : (int)len,
			    o->resp);
		d->free_ops[d->nfree++] = o->idx;
		return;
	}
	if (d->putget && o->is_get) {
		uint8_t expect[BUF_SIZE];

		pattern(expect, d->blob_size, o->seq);
		if (memcmp(expect, o->data, d->blob_size)) {
			d->mismatches++;
			d->failed++;
			d->free_ops[d->nfree++] = o->idx;
			return;
		}
	}
	d->ok++;
	if (d->putget && !o->is_get) {
		o->is_get = true; /* its get goes out from the loop */
		d->gets[d->ngets++] = o->idx;
		return;
	}
	d->free_ops[d->nfree++] = o->idx;
}

/* Start what may start: pending gets first, then the burst's new requests. */
static int refill(struct daemon *d)
{
	bool any = false;
	int rc = 0;

	while (d->ngets) {
		struct op *o = &d->ops[d->gets[d->ngets - 1]];

		rc = submit_op(d, o);
		if (rc)
			break;
		d->ngets--;
		any = true;
	}
	while (!rc && d->burst_left && d->nfree && azblob_inflight(d->c) < d->qd) {
		struct op *o = &d->ops[d->free_ops[d->nfree - 1]];

		o->is_get = false;
		o->seq = ++d->seq;
		rc = submit_op(d, o);
		if (rc)
			break;
		d->nfree--;
		/* a put-get pair is two requests */
		d->committed += d->putget ? 2 : 1;
		d->burst_left -= d->putget && d->burst_left >= 2 ? 2 : 1;
		any = true;
	}
	if (any)
		azblob_flush(d->c);
	return rc == -EAGAIN ? 0 : rc;
}

/* ---- events ---- */

static void arm_timer(struct daemon *d, uint32_t ms)
{
	struct itimerspec it = {
	    .it_value = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 + 1}};

	timerfd_settime(d->tfd, 0, &it, NULL);
	d->timer_armed = true;
}

static void start_burst(struct daemon *d)
{
	uint64_t left = d->target > d->committed ? d->target - d->committed : 0;

	d->burst_left = left < d->burst ? left : d->burst;
	if (d->burst_left)
		d->bursts++;
	if (d->verbose)
		say("burst %" PRIu64 ": %" PRIu64 " requests (%" PRIu64 " answered so far)",
		    d->bursts, d->burst_left, d->answered);
}

/* The device went away: every request in flight has had its -ENODEV. */
static void rescinded(struct daemon *d)
{
	if (d->rescinded)
		return;
	d->rescinded = true;
	d->stop = true;
	say("the Azure Blob device was rescinded (ENODEV): %" PRIu64
	    " request(s) failed with ENODEV; closing the client",
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
		say("azblob_poll: %s: the channel is broken", strerror(-n));
		d->stop = true;
	} else if (n == 0) {
		d->empty_polls++;
	}
	return n;
}

/* The client's fd fired: hang-up means rescind; else drain completions and
 * consume the event (azblob_wait with 0 reads it without blocking). */
static void client_event(struct daemon *d, uint32_t events)
{
	int rc;

	d->fd_events++;
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
		say("epoll_wait: %s", strerror(errno));
		d->stop = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		if (ev[i].data.fd == d->sfd) {
			struct signalfd_siginfo si;

			if (read(d->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				d->stop_signal = (int)si.ssi_signo;
				d->stop = true;
				say("%s: stopping (%u request(s) in flight)",
				    strsignal(d->stop_signal), azblob_inflight(d->c));
			}
		} else if (ev[i].data.fd == d->tfd) {
			uint64_t exp;

			if (read(d->tfd, &exp, sizeof(exp)) == (ssize_t)sizeof(exp)) {
				d->timer_events++;
				d->timer_armed = false;
				start_burst(d);
			}
		} else if (ev[i].data.fd == d->cfd) {
			client_event(d, ev[i].events);
		}
	}
}

/*
 * --rescind-after N (with --sim): once N requests are answered, the host
 * stops answering; once requests have waited 20 ms for it, it removes the
 * device. What is in flight then can only end with ENODEV.
 */
static void rescind_test(struct daemon *d, uint64_t last_progress)
{
	uint64_t now = now_ns();

	if (!d->hold_since && d->answered >= d->rescind_after) {
		struct azblob_sim_faults f = {.stop_draining = true};

		azblob_sim_set_faults(d->sim, &f);
		d->hold_since = now;
	} else if (d->hold_since && azblob_inflight(d->c) && now - last_progress > 20000000 &&
		   now - d->hold_since > 20000000) {
		say("rescinding the simulated device after %" PRIu64
		    " answers, %u request(s) in flight",
		    d->answered, azblob_inflight(d->c));
		azblob_sim_rescind(d->sim);
		d->rescind_after = 0;
	}
}

static bool all_done(const struct daemon *d)
{
	return d->committed >= d->target && !azblob_inflight(d->c) && !d->ngets;
}

static int run(struct daemon *d)
{
	uint64_t last_progress = now_ns();
	uint32_t spins = 0;

	start_burst(d);
	while (!d->stop && !all_done(d)) {
		bool busy = azblob_inflight(d->c) || d->ngets || d->burst_left;

		if (!busy) {
			/* Idle: the burst is over. Sleep until the timer, a signal
			 * or the device (hang-up at rescind) wakes us. */
			if (!d->timer_armed)
				arm_timer(d, d->idle_ms);
			d->sleeps++;
			wait_events(d, -1);
			last_progress = now_ns();
			continue;
		}
		if (refill(d) < 0) {
			if (azblob_poll(d->c, 0) == -ENODEV)
				rescinded(d);
			else
				d->stop = true;
			break;
		}
		if (d->use_sim && d->rescind_after)
			rescind_test(d, last_progress);
		/* Busy: poll, no system call. */
		int n = do_poll(d);

		if (n > 0) {
			last_progress = now_ns();
		} else if (n == 0 && now_ns() - last_progress > (uint64_t)d->spin_us * 1000) {
			/* The host is slow: give the CPU back 1 ms at a time. */
			d->backoffs++;
			wait_events(d, 1);
		}
		if (++spins % SPIN_CHECK == 0) {
			/* signals and the device, now and then */
			d->checks++;
			wait_events(d, 0);
		}
	}
	if (d->rescinded)
		return EXIT_RESCINDED;
	if (d->stop_signal) {
		/* Clean stop: let what is in flight finish (briefly). */
		uint64_t until = now_ns() + 2000000000ull;

		while (azblob_inflight(d->c) && now_ns() < until)
			if (azblob_poll(d->c, 0) == 0)
				azblob_wait(d->c, 10);
		return EXIT_DONE;
	}
	if (d->stop)
		return EXIT_FAILED;
	return d->failed ? EXIT_FAILED : EXIT_DONE;
}

/* ---- set-up ---- */

static int parse_u(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		say("%s %s: expected a number in %" PRIu64 "..%" PRIu64, opt, s, min, max);
		fprintf(stderr, "Try '" PROG " --help'.\n");
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_args(struct daemon *d, int argc, char **argv)
{
	enum {
		O_SIM = 0x100,
		O_SIM_ROOT,
		O_DEVICE,
		O_BURST,
		O_QD,
		O_IDLE,
		O_OP,
		O_BLOB,
		O_TIMEOUT,
		O_SPIN,
		O_RESCIND,
	};
	static const struct option opts[] = {
	    {"sim", no_argument, NULL, O_SIM},
	    {"sim-root", required_argument, NULL, O_SIM_ROOT},
	    {"device", required_argument, NULL, O_DEVICE},
	    {"requests", required_argument, NULL, 'n'},
	    {"burst", required_argument, NULL, O_BURST},
	    {"qd", required_argument, NULL, O_QD},
	    {"idle-ms", required_argument, NULL, O_IDLE},
	    {"op", required_argument, NULL, O_OP},
	    {"blob-size", required_argument, NULL, O_BLOB},
	    {"timeout", required_argument, NULL, O_TIMEOUT},
	    {"spin-us", required_argument, NULL, O_SPIN},
	    {"rescind-after", required_argument, NULL, O_RESCIND},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_DONE);
		case 'v':
			d->verbose = true;
			break;
		case O_SIM:
			d->use_sim = true;
			break;
		case O_SIM_ROOT:
			d->sim_root = optarg;
			break;
		case O_DEVICE:
			d->device = optarg;
			break;
		case 'n':
			if (parse_u("-n", optarg, 1, UINT64_MAX / 2, &d->target))
				return -1;
			break;
		case O_BURST:
			if (parse_u("--burst", optarg, 1, 1u << 30, &v))
				return -1;
			d->burst = (uint32_t)v;
			break;
		case O_QD:
			if (parse_u("--qd", optarg, 1, AZBLOB_QUEUE_DEPTH, &v))
				return -1;
			d->qd = (uint32_t)v;
			break;
		case O_IDLE:
			if (parse_u("--idle-ms", optarg, 0, 3600000, &v))
				return -1;
			d->idle_ms = (uint32_t)v;
			break;
		case O_OP:
			if (strcmp(optarg, "noop") && strcmp(optarg, "putget")) {
				say("--op %s: noop or putget", optarg);
				fprintf(stderr, "Try '" PROG " --help'.\n");
				return -1;
			}
			d->putget = !strcmp(optarg, "putget");
			break;
		case O_BLOB:
			if (parse_u("--blob-size", optarg, 1, BUF_SIZE, &v))
				return -1;
			d->blob_size = (uint32_t)v;
			break;
		case O_TIMEOUT:
			if (parse_u("--timeout", optarg, 1, AZBLOB_MAX_TIMEOUT_MS, &v))
				return -1;
			d->timeout_ms = (uint32_t)v;
			break;
		case O_SPIN:
			if (parse_u("--spin-us", optarg, 0, 10000000, &v))
				return -1;
			d->spin_us = (uint32_t)v;
			break;
		case O_RESCIND:
			if (parse_u("--rescind-after", optarg, 1, UINT64_MAX / 2,
				    &d->rescind_after))
				return -1;
			break;
		case ':':
			say("option '%s' needs an argument", argv[optind - 1]);
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return -1;
		default:
			say("unknown option '%s'", argv[optind - 1]);
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		say("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (d->use_sim + !!d->sim_root > 1) {
		say("--sim and --sim-root exclude each other");
		return -1;
	}
	if (d->putget && d->target % 2)
		d->target++; /* whole put/get pairs */
	if (d->rescind_after && !d->use_sim) {
		say("--rescind-after needs --sim (rescind an external simulator with its own "
		    "controls, e.g. SIGUSR2 to azblob-vspd)");
		return -1;
	}
	return 0;
}

/* Container for putget, with the original driver's synchronous call. */
static int make_container(struct daemon *d)
{
	char req[128], resp[512];
	struct azblob_request_sync_abi a = {0};
	int n = snprintf(req, sizeof(req), "PUT /" CONTAINER "?restype=container HTTP/1.1\r\n\r\n");
	int rc;

	a.request_buffer = (uintptr_t)req;
	a.request_len = (uint32_t)n;
	a.response_buffer = (uintptr_t)resp;
	a.response_len = sizeof(resp);
	a.timeout = d->timeout_ms;
	rc = azblob_request_sync(d->c, &a);
	if (rc || a.response.status ||
	    (strncmp(resp, "HTTP/1.1 201", 12) && strncmp(resp, "HTTP/1.1 409", 12))) {
		say("creating container " CONTAINER ": err %d, status 0x%08x", rc,
		    a.response.status);
		return -1;
	}
	return 0;
}

static int setup(struct daemon *d)
{
	struct uvmbus_log log = {.fn = log_cb,
				 .arg = (void *)"lib",
				 .max_level = d->verbose ? UVMBUS_LOG_INFO : UVMBUS_LOG_WARN};
	struct azblob_opts o;
	struct epoll_event ev = {.events = EPOLLIN};
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
		say("signalfd/timerfd/epoll: %s", strerror(errno));
		return -1;
	}
	if (d->use_sim) {
		struct azblob_sim_opts so;

		azblob_sim_opts_init(&so);
		so.ram_bytes = 64u << 20;
		so.log = log;
		so.log.arg = (void *)"sim";
		rc = azblob_sim_create(&d->sim, &so);
		if (!rc)
			rc = azblob_sim_start(d->sim);
		if (rc) {
			say("starting the simulator: %s", strerror(-rc));
			return -1;
		}
		d->sim_root = azblob_sim_root(d->sim);
	}
	azblob_opts_init(&o);
	o.sim_root = d->sim_root;
	o.device_guid = d->device;
	o.queue_depth = d->qd;
	o.pool_buf_size = BUF_SIZE;
	/* per op: request, response (and data); +2 for the copies of the
	 * synchronous call's plain memory */
	o.pool_bufs = d->qd * (d->putget ? 3 : 2) + 2;
	if (d->timeout_ms)
		o.default_timeout_ms = d->timeout_ms;
	o.log = log;
	rc = azblob_open(&d->c, &o);
	if (rc) {
		say("cannot open the Azure Blob device: %s", strerror(-rc));
		return -1;
	}
	d->ops = calloc(d->qd, sizeof(*d->ops));
	d->free_ops = calloc(d->qd, sizeof(*d->free_ops));
	d->gets = calloc(d->qd, sizeof(*d->gets));
	if (!d->ops || !d->free_ops || !d->gets)
		return -1;
	for (uint32_t i = 0; i < d->qd; i++) {
		struct op *op = &d->ops[i];

		op->d = d;
		op->idx = i;
		op->req = azblob_alloc(d->c, BUF_SIZE);
		op->resp = azblob_alloc(d->c, BUF_SIZE);
		op->data = d->putget ? azblob_alloc(d->c, BUF_SIZE) : NULL;
		if (!op->req || !op->resp || (d->putget && !op->data)) {
			say("no buffers from the client's pool");
			return -1;
		}
		d->free_ops[d->nfree++] = d->qd - 1 - i;
	}
	/* The fd: EPOLLIN = completions may be there, EPOLLHUP = rescinded. */
	d->cfd = azblob_fd(d->c);
	ev.data.fd = d->cfd;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->cfd, &ev))
		goto fail;
	ev.data.fd = d->sfd;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->sfd, &ev))
		goto fail;
	ev.data.fd = d->tfd;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->tfd, &ev))
		goto fail;
	if (d->putget && make_container(d))
		return -1;
	return 0;
fail:
	say("epoll_ctl: %s", strerror(errno));
	return -1;
}

int main(int argc, char **argv)
{
	struct daemon d = {
	    .target = 10000,
	    .burst = 256,
	    .qd = 32,
	    .idle_ms = 2,
	    .blob_size = 1000,
	    .spin_us = 200,
	    .ep = -1,
	    .sfd = -1,
	    .tfd = -1,
	};
	struct azblob_stats st = {0};
	const char *result;
	uint64_t t0;
	int status;

	if (parse_args(&d, argc, argv))
		return EXIT_USAGE;
	if (setup(&d)) {
		status = EXIT_FAILED;
		result = "failed";
		goto out;
	}
	printf(PROG ": %s, %" PRIu64 " %s requests in bursts of %u, QD %u, %u ms apart\n",
	       d.sim	    ? "in-process simulator"
	       : d.sim_root ? d.sim_root
			    : "Azure Blob device",
	       d.target, d.putget ? "put/get" : "no-op", d.burst, d.qd, d.idle_ms);
	fflush(stdout);
	t0 = now_ns();
	status = run(&d);
	azblob_get_stats(d.c, &st);
	result = status == EXIT_RESCINDED ? "rescinded"
		 : d.stop_signal	  ? "stopped"
		 : status == EXIT_DONE	  ? "done"
					  : "failed";
	printf(PROG ": %.3f s, %.0f requests/s; library: submitted=%" PRIu64 " completed=%" PRIu64
		    " signals=%" PRIu64 " rescinded=%" PRIu64 "\n",
	       (double)(now_ns() - t0) / 1e9,
	       (double)d.answered * 1e9 / (double)(now_ns() - t0 + 1), st.submitted, st.completed,
	       st.signals, st.rescinded);
out:
	/* Close: anything still in flight is cancelled (its callback runs), the
	 * channel closes, then the memory goes. */
	if (d.c)
		azblob_close(d.c);
	d.c = NULL;
	if (d.sim)
		azblob_sim_destroy(d.sim);
	printf(PROG ": summary: result=%s requests=%" PRIu64 " submitted=%" PRIu64
		    " answered=%" PRIu64 " ok=%" PRIu64 " failed=%" PRIu64 " enodev=%" PRIu64
		    " cancelled=%" PRIu64 " timeouts=%" PRIu64 " mismatches=%" PRIu64
		    " bursts=%" PRIu64 " polls=%" PRIu64 " empty_polls=%" PRIu64
		    " idle_sleeps=%" PRIu64 " backoffs=%" PRIu64 " fd_events=%" PRIu64
		    " timer_events=%" PRIu64 " eagain=%" PRIu64 " exit=%d\n",
	       result, d.target, d.submitted, d.answered, d.ok, d.failed, d.enodev, d.cancelled,
	       d.timeouts, d.mismatches, d.bursts, d.polls, d.empty_polls, d.sleeps, d.backoffs,
	       d.fd_events, d.timer_events, d.eagain, status);
	free(d.ops);
	free(d.free_ops);
	free(d.gets);
	if (d.ep >= 0)
		close(d.ep);
	if (d.sfd >= 0)
		close(d.sfd);
	if (d.tfd >= 0)
		close(d.tfd);
	return status;
}
