// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblobd --cuse: the CUSE front end (cuse_fe.c) in threads of the daemon.
 * Its libazblob client attaches to the daemon's own socket, so CUSE
 * callers' requests take the checked path of every other client; callers
 * are admitted by the daemon's allow-list (read under d->allow_mu, which
 * the SIGHUP reload takes to replace it).
 *
 * Stopping: the loop thread sleeps in libfuse (sem_wait) with the daemon's
 * signals blocked; azd_cuse_stop() ends the session and interrupts that
 * thread with SIGUSR2 (a no-op handler, unblocked in it only), again every
 * 50 ms until it has returned: a signal may land just before the sleep.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "azd.h"
#include "cuse.h"

#define KICK_NS (50ull * 1000 * 1000)

struct azd_cuse {
	struct azd *d;
	pthread_t thread;
	struct azcuse_ctl ctl;
	atomic_bool ended;
	bool joined;
	int rc;
	uint64_t kicked_ns;
};

static void on_kick(int sig)
{
	(void)sig; /* only to interrupt libfuse's sem_wait() */
}

static bool may_use(void *ctx, uid_t uid, gid_t gid, pid_t pid)
{
	struct azd *d = ctx;
	gid_t *g = NULL;
	size_t n = 0;
	bool ok;
	int rc;

	pthread_mutex_lock(&d->allow_mu);
	ok = azd_allow_check(&d->allow, uid, NULL, 0);
	pthread_mutex_unlock(&d->allow_mu);
	if (ok)
		return true;
	/* Every group, or a refusal that says why: never the primary alone. */
	rc = azd_proc_groups(pid, gid, &g, &n);
	if (rc) {
		azd_log(d, 4, "CUSE caller pid %d uid %u refused: cannot read its groups: %s",
			(int)pid, (unsigned)uid, strerror(-rc));
		return false;
	}
	pthread_mutex_lock(&d->allow_mu);
	ok = azd_allow_check(&d->allow, uid, g, n);
	pthread_mutex_unlock(&d->allow_mu);
	free(g);
	return ok;
}

static void *cuse_main(void *arg)
{
	struct azd_cuse *c = arg;
	struct azd *d = c->d;
	struct azcuse_opts o;
	struct azblob_opts co;
	struct azblob_client *cl;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	azcuse_opts_init(&o);
	o.devname = d->o.cuse_name;
	o.arenas = d->o.cuse_arenas;
	o.may_use = may_use;
	o.may_use_ctx = d;
	o.log = azd_lib_log(d);
	o.ctl = &c->ctl;
	azblob_opts_init(&co);
	co.broker = d->o.socket_path;
	co.log = o.log;
	azcuse_client_opts(&co, o.arenas);
	c->rc = azblob_open(&cl, &co);
	if (c->rc) {
		azd_log(d, 3, "cuse: cannot attach to %s: %s", d->o.socket_path, strerror(-c->rc));
	} else {
		c->rc = azcuse_serve(cl, &o);
		azblob_close(cl);
	}
	atomic_store(&c->ended, true);
	return NULL;
}

int azd_cuse_start(struct azd *d)
{
	struct sigaction sa = {.sa_handler = on_kick};
	struct azd_cuse *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	c->d = d;
	azcuse_ctl_init(&c->ctl);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL); /* no SA_RESTART: sem_wait returns */
	rc = -pthread_create(&c->thread, NULL, cuse_main, c);
	if (rc) {
		azd_log(d, 3, "cuse: no thread: %s", strerror(-rc));
		free(c);
		return rc;
	}
	d->cuse = c;
	return 0;
}

bool azd_cuse_ended(const struct azd *d)
{
	return !d->cuse || atomic_load(&d->cuse->ended);
}

bool azd_cuse_stop(struct azd *d)
{
	struct azd_cuse *c = d->cuse;
	uint64_t now = azd_now_ns();

	if (!c || c->joined)
		return true;
	if (atomic_load(&c->ended)) {
		pthread_join(c->thread, NULL);
		c->joined = true;
		return true;
	}
	if (now - c->kicked_ns >= KICK_NS) {
		c->kicked_ns = now;
		azcuse_stop(&c->ctl);
		pthread_kill(c->thread, SIGUSR2);
	}
	return false;
}

void azd_cuse_free(struct azd *d)
{
	if (!d->cuse)
		return;
	while (!azd_cuse_stop(d)) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	free(d->cuse);
	d->cuse = NULL;
}
