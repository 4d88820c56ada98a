// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblobd: the broker that owns the Azure Blob device (or a simulator)
 * and serves local processes through libazblob (docs/BROKER.md). This
 * file: the device, the loop and its modes, signals, drain and exit
 * (options.c: the command line).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "azd.h"

/* The in-process emulator (--sim): its guest RAM holds the copy pool. */
static int start_sim(struct azd *d)
{
	struct azblob_sim_opts so;
	char name[16];
	const char *eq = strchr(d->o.sim_backend, '=');
	int rc;

	azblob_sim_opts_init(&so);
	snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - d->o.sim_backend) : 15,
		 d->o.sim_backend);
	so.backend = name;
	so.backend_arg = eq ? eq + 1 : NULL;
	so.ram_bytes = d->o.sim_ram ? d->o.sim_ram
				    : (uint64_t)d->o.bounce_size * d->o.bounce_bufs + (64ull << 20);
	so.ram_bytes = (so.ram_bytes + (2u << 20) - 1) & ~((2ull << 20) - 1);
	so.poll = d->o.mode == AZD_POLL;
	so.log = azd_lib_log(d);
	rc = azblob_sim_create(&d->sim, &so);
	if (!rc)
		rc = azblob_sim_start(d->sim);
	if (rc)
		azd_log(d, 3, "cannot start the simulator: %s%s", strerror(-rc),
			rc == -ENOTSUP ? " (built without the in-process emulator: run "
					 "azblob-vspd and use --sim-root)"
				       : "");
	return rc;
}

/* The daemon's own client of the device: a small pool where the host
 * reaches the clients' arenas in place, the copy pool where it does not. */
static int open_client(struct azd *d, bool bounce)
{
	struct azblob_opts o;

	azblob_opts_init(&o);
	o.device_guid = d->o.device;
	o.sim_root = d->sim ? azblob_sim_root(d->sim) : d->o.sim_root;
	o.broker = NULL;
	o.queue_depth = d->o.device_qd;
	o.interrupt_mode = d->o.mode != AZD_POLL;
	o.log = azd_lib_log(d);
	o.pool_buf_size = bounce ? d->o.bounce_size : 4096;
	o.pool_bufs = bounce ? d->o.bounce_bufs : 8;
	int rc = azblob_open(&d->dev, &o);

	if (!rc) /* late answers to requests held on registered arenas */
		azblob_set_release(d->dev, azd_on_release, d);
	return rc;
}

static int open_device(struct azd *d)
{
	int rc;

	if (d->o.sim && (rc = start_sim(d)))
		return rc;
	/* The daemon's own client never attaches to a broker. */
	unsetenv(AZBLOB_BROKER_ENV);
	/* Ask the device whether the host reaches registered memory in
	 * place; where it does not, copy through a pool of its own. */
	rc = d->o.copy ? 0 : open_client(d, false);
	if (d->o.copy || (!rc && !azblob_registers_in_place(d->dev))) {
		if (d->dev)
			azblob_close(d->dev);
		d->dev = NULL;
		d->bounce = true;
		/* An emulator notices the first client's hang-up on its own
		 * thread: until then it refuses a second guest (ECONNREFUSED).
		 * 10 s at most: under emulation (QEMU TCG) it can take long. */
		rc = open_client(d, true);
		for (int i = 0; rc == -ECONNREFUSED && i < 1000; i++) {
			struct timespec t = {0, 10 * 1000 * 1000};

			nanosleep(&t, NULL);
			rc = open_client(d, true);
		}
	}
	if (rc) {
		azd_log(d, 3, "cannot open the device: %s", strerror(-rc));
		return rc;
	}
	if (d->o.sim_step)
		azblob_sim_join(d->sim); /* the loop steps the null host itself */
	return 0;
}

static void reload_allow(struct azd *d)
{
	struct azd_allow a = d->o.allow_cli, f;
	char err[512];

	if (d->o.allow_file) {
		if (azd_allow_load(&f, d->o.allow_file, err, sizeof(err))) {
			azd_log(d, 3, "allow-list not reloaded: %s", err);
			return;
		}
		for (size_t i = 0; i < f.nuids && a.nuids < AZD_ALLOW_MAX; i++)
			a.uids[a.nuids++] = f.uids[i];
		for (size_t i = 0; i < f.ngids && a.ngids < AZD_ALLOW_MAX; i++)
			a.gids[a.ngids++] = f.gids[i];
	}
	pthread_mutex_lock(&d->allow_mu);
	d->allow = a;
	pthread_mutex_unlock(&d->allow_mu);
	azd_log(d, 6, "allow-list: %zu user(s), %zu group(s) besides root", a.nuids, a.ngids);
	/* Revocation reaches live sessions: those of users no longer in the
	 * list take no new request; their requests at the host are answered
	 * to them, then they end (azd_revoke, azd_session_reap). */
	azd_revoke(d);
}

static void start_drain(struct azd *d)
{
	d->stopping = true;
	d->stop_ns = azd_now_ns();
}

/* --cuse: its callers' requests come through a session, which the drain
 * would stop taking requests from; so the CUSE side stops first (its
 * callers' ioctls in flight complete), then the drain begins. A front end
 * that ends by itself (no /dev/cuse, ...) stops the daemon, status 1. */
static void cuse_check(struct azd *d)
{
	if (!d->cuse || d->stopping)
		return;
	if (!d->cuse_stopping && azd_cuse_ended(d)) {
		azd_log(d, 3, "the CUSE front end ended: stopping");
		d->exit_status = 1;
		d->cuse_stopping = true;
	}
	if (d->cuse_stopping && azd_cuse_stop(d)) {
		azd_log(d, 6, "CUSE device gone: draining (no new clients)");
		start_drain(d);
	}
}

static void on_signal(struct azd *d)
{
	struct signalfd_siginfo si;
	char buf[AZBLOB_BROKER_STATS_MAX];

	while (read(d->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload_allow(d);
		} else if (si.ssi_signo == SIGUSR1) {
			azd_format_stats(d, buf, sizeof(buf));
			azd_log(d, 6, "counters:\n%s", buf);
		} else if (d->cuse && !d->cuse_stopping) {
			d->cuse_stopping = true; /* then the drain (serve()) */
			azd_log(d, 6, "signal %u: stopping the CUSE device first", si.ssi_signo);
		} else if (!d->stopping && !d->cuse) {
			start_drain(d);
			azd_log(d, 6, "signal %u: draining (no new clients)", si.ssi_signo);
		}
	}
}

/* Stop accepting; cut clients off once their answers are out. */
static bool drained(struct azd *d)
{
	bool all = true;

	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlinkat(d->sock_dirfd, d->sock_base, 0);
		d->listen_fd = -1;
	}
	for (struct azd_session *s = d->sessions; s; s = s->next) {
		/* Cut off once its answers are out and read (its RX ring
		 * drained: a client that sees the hang-up first fails what it
		 * has not read), or after AZD_DRAIN_READ_NS. */
		if (s->state == SESS_ACTIVE && s->inflight == s->held && !s->ans_count &&
		    (!uvmbus_ring_readable(s->rx) || azd_now_ns() - d->stop_ns > AZD_DRAIN_READ_NS))
			azd_session_close(s, "the daemon stops");
		if (s->state == SESS_HELLO)
			azd_session_close(s, "the daemon stops");
		all &= s->state == SESS_ZOMBIE || s->state == SESS_CLOSING;
	}
	azd_session_reap(d);
	return all && !azblob_inflight(d->dev);
}

/* The device's interrupt fd: take the event count (the completions are
 * reaped by the loop); a hang-up is left to the library to notice. */
static void device_event(struct azd *d, uint32_t events)
{
	uint32_t count;

	if (events & (EPOLLHUP | EPOLLERR) || read(azblob_fd(d->dev), &count, sizeof(count)) <= 0)
		azblob_wait(d->dev, 0);
}

static void events(struct azd *d, int timeout_ms)
{
	struct epoll_event ev[32];
	int n = epoll_wait(d->epoll_fd, ev, 32, timeout_ms);

	for (int i = 0; i < n; i++) {
		void *p = ev[i].data.ptr;

		if (!p)
			azd_accept(d);
		else if (p == d)
			on_signal(d);
		else if (p == &d->dev)
			device_event(d, ev[i].events);
		else
			azd_socket_event(d, p);
	}
}

/* Before a sleep: interrupts on everywhere, then one more look. */
static bool may_sleep(struct azd *d)
{
	bool busy = false;

	for (struct azd_session *s = d->sessions; s; s = s->next)
		busy |= azd_unmask_tx(s, true) || s->ans_count || s->have_pending;
	if (!busy && azblob_inflight(d->dev))
		busy = azblob_wait(d->dev, 0) != 0;
	return !busy;
}

static int serve(struct azd *d)
{
	uint64_t idle_since = azd_now_ns(), last_events = 0, idle_ns = d->o.idle_us * 1000ull;

	for (;;) {
		unsigned work = 0;
		uint64_t now;
		int rc = azblob_poll(d->dev, 0);

		if (rc < 0) {
			azd_log(d, 3, "the device failed (%s): stopping", strerror(-rc));
			return 1;
		}
		work += (unsigned)rc;
		work += azd_serve_all(d);
		if (d->submitted) {
			d->submitted = false;
			azblob_flush(d->dev);
		}
		if (d->o.sim_step && azblob_sim_step(d->sim) > 0)
			work++;
		now = azd_now_ns();
		if (work)
			idle_since = now;
		cuse_check(d);
		if (d->stopping && drained(d))
			return d->exit_status;
		bool sleep = d->o.mode != AZD_POLL && !work &&
			     (d->o.mode == AZD_INTERRUPT || now - idle_since >= idle_ns);

		if (sleep && may_sleep(d)) {
			events(d, 100);
			if (d->o.mode == AZD_HYBRID)
				for (struct azd_session *s = d->sessions; s; s = s->next)
					azd_unmask_tx(s, false);
			azd_session_reap(d);
			last_events = azd_now_ns();
			idle_since = last_events;
		} else if (now - last_events >= 1000000u) {
			/* Busy: sockets, signals and reaping once a millisecond. */
			events(d, 0);
			azd_session_reap(d);
			last_events = now;
		}
	}
}

static int setup(struct azd *d)
{
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t set;
	int rc;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->listen_fd = -1;
	/* The directories first: nothing is opened or started for a daemon
	 * that refuses where it would write. */
	if (d->o.ready_file &&
	    (rc = azd_open_dir(d, d->o.ready_file, "ready file", &d->ready_dirfd, &d->ready_base)))
		return rc;
	if ((rc = azd_open_dir(d, d->o.socket_path, "socket", &d->sock_dirfd, &d->sock_base)))
		return rc;
	close(d->sock_dirfd); /* azd_listen opens and checks it again */
	d->sock_dirfd = -1;
	d->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->signal_fd < 0 || d->epoll_fd < 0)
		return -errno;
	ev.data.ptr = d;
	epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->signal_fd, &ev);
	if (d->o.cpu >= 0) {
		cpu_set_t cs;

		CPU_ZERO(&cs);
		CPU_SET(d->o.cpu, &cs);
		if (sched_setaffinity(0, sizeof(cs), &cs))
			azd_log(d, 4, "cannot pin to CPU %d: %s", d->o.cpu, strerror(errno));
	}
	reload_allow(d);
	if (d->o.allow_file && !d->allow.nuids && !d->allow.ngids && !d->o.allow_cli.nuids &&
	    !d->o.allow_cli.ngids)
		azd_log(d, 4, "the allow-list admits root only");
	rc = open_device(d);
	if (!rc && d->o.mode != AZD_POLL) {
		ev.data.ptr = &d->dev;
		epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, azblob_fd(d->dev), &ev);
	}
	if (!rc)
		rc = azd_listen(d);
	if (!rc && d->o.cuse)
		rc = azd_cuse_start(d);
	if (rc)
		return rc;
	/* Closed before it appears (renamed into place): whoever waits for
	 * it sees a daemon with nothing transient open. */
	if (d->o.ready_file)
		azd_write_ready(d);
	azd_log(d, 6, "listening on %s (%s mode, %s)", d->o.socket_path,
		d->o.mode == AZD_POLL	  ? "poll"
		: d->o.mode == AZD_HYBRID ? "hybrid"
					  : "interrupt",
		!d->bounce  ? "arenas registered, in place"
		: d->o.copy ? "requests copied (--copy)"
			    : "the host reaches the device pool only: requests copied");
	return 0;
}

int main(int argc, char **argv)
{
	struct azd *d = calloc(1, sizeof(*d));
	char err[512];
	int rc;

	if (!d)
		return 1;
	pthread_mutex_init(&d->allow_mu, NULL);
	d->listen_fd = d->sock_dirfd = d->ready_dirfd = -1;
	rc = azd_parse_options(d, argc, argv);
	if (!rc && d->o.allow_file &&
	    azd_allow_load(&d->allow, d->o.allow_file, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		rc = 1;
	}
	if (rc) {
		free(d);
		return rc;
	}
	rc = setup(d);
	if (!rc)
		rc = serve(d);
	else
		rc = 1;
	/* Normally over by now; else its requests fail as the sessions go. */
	if (d->cuse) {
		for (struct azd_session *s = d->sessions; s; s = s->next)
			azd_session_close(s, "the daemon stops");
		azd_session_reap(d);
	}
	azd_cuse_free(d);
	/* The device first: a callback it still runs finds its session. */
	if (d->dev && azblob_close(d->dev) == -EBUSY)
		azd_log(d, 4, "closed with requests the host never answered");
	while (d->sessions) {
		struct azd_session *s = d->sessions;

		d->sessions = s->next;
		azd_session_free(s);
	}
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlinkat(d->sock_dirfd, d->sock_base, 0);
	}
	azblob_sim_destroy(d->sim);
	if (d->ready_dirfd >= 0 && d->ready_base)
		unlinkat(d->ready_dirfd, d->ready_base, 0);
	if (d->ready_dirfd >= 0)
		close(d->ready_dirfd);
	if (d->sock_dirfd >= 0)
		close(d->sock_dirfd);
	azd_log(d, 6, "stopped");
	free(d);
	return rc;
}
