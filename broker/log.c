// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Logs to standard error, one line each; under systemd (JOURNAL_STREAM)
 * with a <N> syslog priority prefix that journald understands. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "azd.h"

uint64_t azd_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static const char *const level_names[8] = {"emerg", "alert",  "crit", "error",
					   "warn",  "notice", "info", "debug"};

void azd_log(const struct azd *d, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > d->o.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (getenv("JOURNAL_STREAM"))
		fprintf(stderr, "<%d>%s\n", level, msg);
	else
		fprintf(stderr, PROG ": %s: %s\n", level_names[level & 7], msg);
}

static void lib_log(void *arg, enum uvmbus_log_level lvl, const char *msg)
{
	/* uvmbus levels follow syslog's (ERR 3, WARN 4, INFO 6, DEBUG 7). */
	azd_log(arg, (int)lvl, "lib: %s", msg);
}

struct uvmbus_log azd_lib_log(struct azd *d)
{
	struct uvmbus_log l = {.fn = lib_log, .arg = d, .max_level = UVMBUS_LOG_DEBUG};

	return l;
}
