/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * uvmbus: common definitions shared by every public header.
 *
 * Conventions of the whole API:
 *  - every function that can fail returns 0 (or a count) on success and a
 *    negative errno on failure;
 *  - handles are opaque; the library keeps no global mutable state and
 *    starts no threads;
 *  - the library never prints: messages go to a caller-supplied log
 *    callback (or nowhere).
 */
#ifndef UVMBUS_COMMON_H
#define UVMBUS_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(UVMBUS_BUILDING) && defined(__GNUC__)
#define UVMBUS_API __attribute__((visibility("default")))
#else
#define UVMBUS_API
#endif

#define UVMBUS_VERSION_MAJOR 0
#define UVMBUS_VERSION_MINOR 1
#define UVMBUS_VERSION_PATCH 0

/* Log levels, in the order of syslog's. */
enum uvmbus_log_level {
	UVMBUS_LOG_ERR = 3,
	UVMBUS_LOG_WARN = 4,
	UVMBUS_LOG_INFO = 6,
	UVMBUS_LOG_DEBUG = 7,
};

/*
 * Log callback: called synchronously from the thread that made the library
 * call, never from the steady-state data path except for errors. `msg` has
 * no trailing newline and is valid only during the call.
 */
typedef void (*uvmbus_log_fn)(void *arg, enum uvmbus_log_level level, const char *msg);

struct uvmbus_log {
	uvmbus_log_fn fn; /* NULL: discard messages */
	void *arg;
	enum uvmbus_log_level max_level; /* messages above it are dropped; 0 = INFO */
};

/* Format a message and hand it to log->fn (nothing without a callback or
 * above log->max_level; max_level 0 means INFO). For the libraries built
 * on uvmbus (azblob, the simulator) and for callers; never prints. */
UVMBUS_API void uvmbus_log_printf(const struct uvmbus_log *log, enum uvmbus_log_level level,
				  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Library version as "major.minor.patch". */
UVMBUS_API const char *uvmbus_version(void);

#ifdef __cplusplus
}
#endif

#endif /* UVMBUS_COMMON_H */
