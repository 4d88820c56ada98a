// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob-vspd: the simulated Azure Blob VSP as a daemon. It serves one
 * device with libazblobsim (see docs/SIM.md and docs/VSPD.md).
 *
 * Threads and signals: the main thread serves with azblob_sim_run(). Every
 * signal the daemon handles is blocked in all threads from the start, and
 * a second thread takes them with sigwaitinfo(): SIGTERM, SIGINT and
 * SIGHUP call azblob_sim_stop() (azblob_sim_run() then returns and the main
 * thread cleans up), SIGUSR1 prints the statistics, SIGUSR2 calls
 * azblob_sim_rescind(). No signal handler ever runs, so nothing here has to
 * be async-signal-safe.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <azblob/sim.h>

#include "vspd.h"

/* ---- logging ---- */

static const char *level_name(enum uvmbus_log_level l)
{
	switch (l) {
	case UVMBUS_LOG_ERR:
		return "err";
	case UVMBUS_LOG_WARN:
		return "warn";
	case UVMBUS_LOG_INFO:
		return "info";
	case UVMBUS_LOG_DEBUG:
		return "debug";
	}
	return "?";
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* One line on stderr: "2024-05-01T12:34:56.789Z info: msg", written whole. */
static void emit(struct vspd *d, enum uvmbus_log_level l, const char *msg)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int k;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	k = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s: %s\n", ts.tv_nsec / 1000000L,
		     level_name(l), msg);
	n = k < 0 ? n : n + (size_t)k;
	if (n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	pthread_mutex_lock(&d->log_lock);
	write_all(STDERR_FILENO, line, n);
	pthread_mutex_unlock(&d->log_lock);
}

/* The library's log callback (uvmbus_log.fn). */
static void log_cb(void *arg, enum uvmbus_log_level l, const char *msg)
{
	struct vspd *d = arg;

	if (l <= d->level)
		emit(d, l, msg);
}

static void logf_(struct vspd *d, enum uvmbus_log_level l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_(struct vspd *d, enum uvmbus_log_level l, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_cb(d, l, msg);
}

/* Statistics are printed whatever the log level: they were asked for. */
static void print_stats(struct vspd *d, const char *what)
{
	char st[1024], msg[1536];

	azblob_sim_format_stats(d->sim, st, sizeof(st));
	snprintf(msg, sizeof(msg), "%s: %s", what, st);
	emit(d, UVMBUS_LOG_INFO, msg);
}

/* ---- files ---- */

/* Write `text` to `path` atomically: a temporary file beside it, renamed. */
static int write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	FILE *f;
	int err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	if (fputs(text, f) == EOF)
		err = errno ? errno : EIO;
	if (fclose(f) && !err)
		err = errno ? errno : EIO;
	if (!err && rename(tmp, path))
		err = errno;
	if (err) {
		unlink(tmp);
		return -err;
	}
	return 0;
}

static void remove_ready_file(struct vspd *d)
{
	if (d->ready_written && unlink(d->ready_file) && errno != ENOENT)
		logf_(d, UVMBUS_LOG_WARN, "removing %s: %s", d->ready_file, strerror(errno));
	d->ready_written = false;
}

static void remove_pid_file(struct vspd *d)
{
	if (d->pid_written && unlink(d->pid_file) && errno != ENOENT)
		logf_(d, UVMBUS_LOG_WARN, "removing %s: %s", d->pid_file, strerror(errno));
	d->pid_written = false;
}

/* ---- signals ---- */

static const char *sig_name(int sig)
{
	switch (sig) {
	case SIGTERM:
		return "SIGTERM";
	case SIGINT:
		return "SIGINT";
	case SIGHUP:
		return "SIGHUP";
	case SIGUSR1:
		return "SIGUSR1";
	case SIGUSR2:
		return "SIGUSR2";
	}
	return "signal";
}

static void *signal_thread(void *arg)
{
	struct vspd *d = arg;

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&d->sigs, &si);

		if (sig < 0) {
			if (errno == EINTR)
				continue;
			logf_(d, UVMBUS_LOG_ERR, "sigwaitinfo: %s: stopping", strerror(errno));
			sig = SIGTERM;
			si.si_pid = 0;
		}
		switch (sig) {
		case SIGUSR1:
			print_stats(d, "stats");
			break;
		case SIGUSR2:
			logf_(d, UVMBUS_LOG_INFO, "SIGUSR2 from pid %ld: rescinding the device",
			      (long)si.si_pid);
			azblob_sim_rescind(d->sim);
			break;
		default:
			if (!atomic_load(&d->stopping))
				logf_(d, UVMBUS_LOG_INFO, "%s from pid %ld: shutting down",
				      sig_name(sig), (long)si.si_pid);
			atomic_store(&d->stopping, true);
			azblob_sim_stop(d->sim);
			return NULL;
		}
	}
}

/* ---- main ---- */

int main(int argc, char **argv)
{
	static struct vspd d; /* static: zeroed, and large */
	char text[PATH_MAX + 2];
	int rc, status = EXIT_RUNTIME;

	azblob_sim_opts_init(&d.o);
	d.level = UVMBUS_LOG_INFO;
	pthread_mutex_init(&d.log_lock, NULL);
	vspd_parse_args(&d, argc, argv);
	d.o.log = (struct uvmbus_log){.fn = log_cb, .arg = &d, .max_level = d.level};

	/* Block the signals we handle before any thread exists, so that every
	 * thread inherits the mask and only sigwaitinfo() takes them. */
	sigemptyset(&d.sigs);
	sigaddset(&d.sigs, SIGTERM);
	sigaddset(&d.sigs, SIGINT);
	sigaddset(&d.sigs, SIGHUP);
	sigaddset(&d.sigs, SIGUSR1);
	sigaddset(&d.sigs, SIGUSR2);
	rc = pthread_sigmask(SIG_BLOCK, &d.sigs, NULL);
	if (rc) {
		logf_(&d, UVMBUS_LOG_ERR, "blocking signals: %s", strerror(rc));
		return EXIT_RUNTIME;
	}
	signal(SIGPIPE, SIG_IGN);

	logf_(&d, UVMBUS_LOG_INFO, PROG " %s starting, pid %ld", uvmbus_version(), (long)getpid());
	if (d.ready_file && unlink(d.ready_file) == 0)
		logf_(&d, UVMBUS_LOG_WARN, "removed a stale ready file %s", d.ready_file);
	if (d.pid_file) {
		snprintf(text, sizeof(text), "%ld\n", (long)getpid());
		rc = write_file(d.pid_file, text);
		if (rc) {
			logf_(&d, UVMBUS_LOG_ERR, "pid file %s: %s", d.pid_file, strerror(-rc));
			return EXIT_RUNTIME;
		}
		d.pid_written = true;
	}

	rc = azblob_sim_create(&d.sim, &d.o);
	if (rc) {
		logf_(&d, UVMBUS_LOG_ERR, "cannot create the simulated device: %s", strerror(-rc));
		goto out;
	}
	rc = pthread_create(&d.sig_thread, NULL, signal_thread, &d);
	if (rc) {
		logf_(&d, UVMBUS_LOG_ERR, "signal thread: %s", strerror(rc));
		goto out;
	}

	/* Published: tell the user and the scripts. */
	printf("%s\n", azblob_sim_root(d.sim));
	fflush(stdout);
	if (d.ready_file) {
		snprintf(text, sizeof(text), "%s\n", azblob_sim_root(d.sim));
		rc = write_file(d.ready_file, text);
		if (rc) {
			logf_(&d, UVMBUS_LOG_ERR, "ready file %s: %s", d.ready_file, strerror(-rc));
			atomic_store(&d.stopping, true);
			pthread_kill(d.sig_thread, SIGTERM);
			pthread_join(d.sig_thread, NULL);
			goto out;
		}
		d.ready_written = true;
	}
	logf_(&d, UVMBUS_LOG_INFO, "serving device %s under %s (%s)", azblob_sim_guid(d.sim),
	      azblob_sim_root(d.sim), d.o.poll ? "polling" : "sleeping on the doorbell");

	azblob_sim_run(d.sim); /* until azblob_sim_stop() */

	if (!atomic_load(&d.stopping)) {
		/* Not stopped by a signal: release the signal thread. */
		atomic_store(&d.stopping, true);
		pthread_kill(d.sig_thread, SIGTERM);
	}
	pthread_join(d.sig_thread, NULL);
	print_stats(&d, "stats at exit");
	status = 0;
out:
	remove_ready_file(&d);
	azblob_sim_destroy(d.sim);
	remove_pid_file(&d);
	if (!status)
		logf_(&d, UVMBUS_LOG_INFO, "stopped");
	pthread_mutex_destroy(&d.log_lock);
	return status;
}
