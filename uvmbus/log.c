// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <stdarg.h>
#include <stdio.h>

#include <uvmbus/common.h>

void uvmbus_log_printf(const struct uvmbus_log *log, enum uvmbus_log_level level, const char *fmt,
		       ...)
{
	char msg[768];
	va_list ap;

	if (!log || !log->fn || level > (log->max_level ? log->max_level : UVMBUS_LOG_INFO))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log->fn(log->arg, level, msg);
}
