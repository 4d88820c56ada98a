// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* azblob CLI: client and simulator set-up, the log, status names, time
 * and files (options: opts.c; printing: print.c). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/* ---- log ---- */

static void log_to_stderr(void *arg, enum uvmbus_log_level lvl, const char *msg)
{
	const char *what = lvl <= UVMBUS_LOG_ERR    ? "error"
			   : lvl == UVMBUS_LOG_WARN ? "warning"
			   : lvl <= UVMBUS_LOG_INFO ? "info"
						    : "debug";

	/* One write per line: the simulator logs from its own thread. */
	fprintf(stderr, "%s: %s: %s\n", (const char *)arg, what, msg);
}

struct uvmbus_log cli_log(const struct cli *cli)
{
	struct uvmbus_log l = {
	    .fn = log_to_stderr,
	    .arg = (void *)"azblob: lib",
	    .max_level = cli->verbose >= 2 ? UVMBUS_LOG_DEBUG
			 : cli->verbose	   ? UVMBUS_LOG_INFO
					   : UVMBUS_LOG_WARN,
	};

	return l;
}

/* ---- client ---- */

int cli_start_sim(struct cli *cli, uint64_t ram_bytes, const char *backend, const char *backend_arg)
{
	struct azblob_sim_opts so;
	int rc;

	azblob_sim_opts_init(&so);
	/* Guest RAM: what the command asked for, at least 64 MiB (hugepages
	 * when enough are free; the commands need little). */
	if (ram_bytes < (64u << 20))
		ram_bytes = 64u << 20;
	so.ram_bytes = (ram_bytes + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
	so.guid = cli->device;
	so.backend = backend ? backend : "memory";
	so.backend_arg = backend_arg;
	so.faults = cli->faults;
	so.log = cli_log(cli);
	so.log.arg = (void *)"azblob: sim";
	rc = azblob_sim_create(&cli->s, &so);
	if (!rc)
		rc = azblob_sim_start(cli->s);
	if (rc) {
		azblob_sim_destroy(cli->s);
		cli->s = NULL;
		if (rc == -ENOTSUP)
			return cli_error(cli, "this azblob is built without the in-process "
					      "simulator: run azblob-vspd and use --sim-root");
		if (backend)
			return cli_error(cli,
					 "cannot start the in-process simulator (backend %s): %s",
					 backend, strerror(-rc));
		return cli_error(cli, "cannot start the in-process simulator: %s", strerror(-rc));
	}
	return EXIT_OK;
}

const char *cli_target(const struct cli *cli, char *buf, size_t cap)
{
	if (cli->s)
		snprintf(buf, cap, "the in-process simulator (%s)", azblob_sim_root(cli->s));
	else if (cli->sim_root)
		snprintf(buf, cap, "the simulator at %s", cli->sim_root);
	else if (getenv("AZBLOB_BROKER") && *getenv("AZBLOB_BROKER")) /* as libazblob decides */
		snprintf(buf, cap, "the azblobd broker at %s", getenv("AZBLOB_BROKER"));
	else if (cli->device)
		snprintf(buf, cap, "device %s", cli->device);
	else
		snprintf(buf, cap, "the first Azure Blob device under %s",
			 cli->sysfs_root	       ? cli->sysfs_root
			 : getenv("UVMBUS_SYSFS_ROOT") ? getenv("UVMBUS_SYSFS_ROOT")
						       : "/sys");
	return buf;
}

int cli_open(struct cli *cli, const struct cli_client_opts *co)
{
	struct azblob_opts o;
	char what[600];
	int rc;

	if (cli->sim && !cli->s && (rc = cli_start_sim(cli, co->sim_ram_bytes, NULL, NULL)))
		return rc;
	azblob_opts_init(&o);
	o.device_guid = cli->device;
	o.sysfs_root = cli->sysfs_root;
	o.dev_root = cli->dev_root;
	o.sim_root = cli->s ? azblob_sim_root(cli->s) : cli->sim_root;
	if (co->queue_depth)
		o.queue_depth = co->queue_depth;
	if (co->pool_buf_size)
		o.pool_buf_size = co->pool_buf_size;
	if (co->pool_bufs)
		o.pool_bufs = co->pool_bufs;
	if (cli->timeout_ms)
		o.default_timeout_ms = cli->timeout_ms;
	o.log = cli_log(cli);
	rc = azblob_open(&cli->c, &o);
	if (rc) {
		cli->c = NULL;
		/* One line: what failed and what to do about it. */
		const char *hint = "";

		if (cli->sim_root)
			hint = " (is azblob-vspd running with --root there?)";
		else if (cli->s)
			hint = "";
		else if (getenv("AZBLOB_BROKER") && *getenv("AZBLOB_BROKER"))
			hint = rc == -EACCES ? " (not in azblobd's allow-list: ask its operator)"
					     : " (is azblobd running? 'systemctl status azblobd'; "
					       "unset AZBLOB_BROKER to open the device directly)";
		else if (rc == -ENODEV || rc == -ENOENT)
			hint = " (no Azure Blob device here? 'azblob devices' lists VMbus devices, "
			       "'uvmbus-bind status' says what is missing; --sim uses the built-in "
			       "simulator)";
		else if (rc == -EACCES || rc == -EPERM)
			hint =
			    " (run as root, or grant a group: 'uvmbus-bind permissions --group G')";
		else if (rc == -ENOMEM)
			hint = " (no hugepages? 'uvmbus-bind hugepages N' reserves them)";
		cli_error(cli, "cannot open %s: %s%s", cli_target(cli, what, sizeof(what)),
			  strerror(-rc), hint);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

void cli_close(struct cli *cli)
{
	if (cli->c)
		azblob_close(cli->c);
	cli->c = NULL;
	if (cli->s)
		azblob_sim_destroy(cli->s);
	cli->s = NULL;
}

int cli_reap_until(struct cli *cli, const bool *done, uint32_t timeout_ms)
{
	/* The library delivers -ETIMEDOUT at the request's deadline; this is
	 * only a safety net beyond it. */
	uint64_t limit =
	    cli_now_ns() + ((uint64_t)(timeout_ms ? timeout_ms : 30000) + 5000) * 1000000ull;
	int rc;

	while (!*done) {
		rc = azblob_poll(cli->c, 0);
		if (*done)
			break;
		if (rc < 0)
			return rc;
		if (rc == 0) {
			rc = azblob_wait(cli->c, 10);
			if (rc == -ENODEV) {
				azblob_poll(cli->c, 0);
				if (!*done)
					return -ENODEV;
			}
		}
		if (cli_now_ns() > limit)
			return -ETIMEDOUT;
	}
	return 0;
}

/* ---- names ---- */

const char *cli_status_name(uint32_t status)
{
	switch (status) {
	case AZBLOB_VSP_STATUS_OK:
		return "STATUS_SUCCESS";
	case AZBLOB_VSP_STATUS_INVALID_PARAMETER:
		return "STATUS_INVALID_PARAMETER";
	case AZBLOB_VSP_STATUS_IO_TIMEOUT:
		return "STATUS_IO_TIMEOUT";
	case AZBLOB_VSP_STATUS_NOT_SUPPORTED:
		return "STATUS_NOT_SUPPORTED";
	case AZBLOB_VSP_STATUS_BUFFER_TOO_SMALL:
		return "STATUS_BUFFER_TOO_SMALL";
	case AZBLOB_VSP_STATUS_INTERNAL_ERROR:
		return "STATUS_INTERNAL_ERROR";
	default:
		return "unknown status";
	}
}

const char *cli_errno_name(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return "0";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case ENODEV:
		return "ENODEV";
	case ECANCELED:
		return "ECANCELED";
	case EIO:
		return "EIO";
	case EPROTO:
		return "EPROTO";
	case EINVAL:
		return "EINVAL";
	case EAGAIN:
		return "EAGAIN";
	case ENOMEM:
		return "ENOMEM";
	case ENOENT:
		return "ENOENT";
	default:
		return "errno";
	}
}

/* ---- time ---- */

uint64_t cli_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *cli_fmt_ns(uint64_t ns, char *buf, size_t cap)
{
	if (ns < 1000)
		snprintf(buf, cap, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, cap, "%.1f us", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, cap, "%.2f ms", (double)ns / 1e6);
	else
		snprintf(buf, cap, "%.2f s", (double)ns / 1e9);
	return buf;
}

/* ---- files ---- */

int cli_read_file(const struct cli *cli, const char *path, uint8_t **out, size_t *len, size_t max)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	size_t cap = 4096, n = 0;
	uint8_t *buf = NULL;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return cli_error(cli, "%s: %s", path, strerror(errno));
	for (;;) {
		if (n == cap || !buf) {
			uint8_t *nb;

			cap = buf ? cap * 2 : cap;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				if (fd != STDIN_FILENO)
					close(fd);
				return cli_error(cli, "%s: out of memory", path);
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			if (fd != STDIN_FILENO)
				close(fd);
			return cli_error(cli, "%s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(buf);
			if (fd != STDIN_FILENO)
				close(fd);
			return cli_error(cli, "%s: larger than %zu bytes", path, max);
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	buf[n] = 0;
	*out = buf;
	*len = n;
	return EXIT_OK;
}

int cli_write_file(const struct cli *cli, const char *path, const void *buf, size_t len)
{
	int fd = strcmp(path, "-") ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
				   : STDOUT_FILENO;
	const uint8_t *p = buf;

	if (fd < 0)
		return cli_error(cli, "%s: %s", path, strerror(errno));
	if (fd == STDOUT_FILENO)
		fflush(stdout);
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;

			if (fd != STDOUT_FILENO)
				close(fd);
			return cli_error(cli, "%s: %s", path, strerror(e));
		}
		p += w;
		len -= (size_t)w;
	}
	if (fd != STDOUT_FILENO && close(fd))
		return cli_error(cli, "%s: %s", path, strerror(errno));
	return EXIT_OK;
}
