/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Library-internal logging through the caller's callback (never stdio). */
#ifndef UVMBUS_LOG_INTERNAL_H
#define UVMBUS_LOG_INTERNAL_H

#include <uvmbus/common.h>

/* Format and deliver one message; a no-op without a callback or above the
 * configured level. */
void uvmbus_log_printf(const struct uvmbus_log *log, enum uvmbus_log_level level, const char *fmt,
		       ...) __attribute__((format(printf, 3, 4)));

#define LOG_ERR(l, ...)	 uvmbus_log_printf((l), UVMBUS_LOG_ERR, __VA_ARGS__)
#define LOG_WARN(l, ...) uvmbus_log_printf((l), UVMBUS_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(l, ...) uvmbus_log_printf((l), UVMBUS_LOG_INFO, __VA_ARGS__)

#endif
