// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* azblob CLI: options, client and simulator set-up, helpers. */
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

static const struct option global_opts[] = {
    {"device", required_argument, NULL, OPT_DEVICE},
    {"sim", no_argument, NULL, OPT_SIM},
    {"sim-root", required_argument, NULL, OPT_SIM_ROOT},
    {"sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT},
    {"dev-root", required_argument, NULL, OPT_DEV_ROOT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"sim-fault", required_argument, NULL, OPT_SIM_FAULT},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *cmd_name(const struct cli *cli)
{
	return cli->cmd ? cli->cmd : "";
}

int cli_usage_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG "%s%s: ", cli->cmd ? " " : "", cmd_name(cli));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	/* One line: the problem, then where the usage is. */
	fprintf(stderr, "; try '" PROG "%s%s --help'\n", cli->cmd ? " " : "", cmd_name(cli));
	return EXIT_USAGE;
}

int cli_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG "%s%s: ", cli->cmd ? " " : "", cmd_name(cli));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_RUNTIME;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", braces optional. */
static bool guid_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 38 && s[0] == '{' && s[37] == '}') {
		s++;
		n -= 2;
	}
	if (n != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

int cli_parse_u64(const char *s, bool sizes, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	if (sizes && *end) {
		switch (toupper((unsigned char)*end)) {
		case 'K':
			mul = 1ull << 10;
			break;
		case 'M':
			mul = 1ull << 20;
			break;
		case 'G':
			mul = 1ull << 30;
			break;
		default:
			return -EINVAL;
		}
		end++;
		if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
			end += strlen(end);
	}
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	v *= mul;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int cli_opt_u32(const struct cli *cli, const char *name, const char *s, bool sizes, uint32_t min,
		uint32_t max, uint32_t *out)
{
	uint64_t v;
	int rc = cli_parse_u64(s, sizes, min, max, &v);

	if (rc == -ERANGE)
		return cli_usage_error(cli, "%s %s: out of range (%" PRIu32 "..%" PRIu32 ")", name,
				       s, min, max);
	if (rc)
		return cli_usage_error(cli, "%s %s: not a %s", name, s,
				       sizes ? "size (N, NK, NM)" : "number");
	*out = (uint32_t)v;
	return EXIT_OK;
}

/* --sim-fault NAME=VALUE into cli->faults. */
static int sim_fault(struct cli *cli, const char *arg)
{
	struct azblob_sim_faults *f = &cli->faults;
	const struct {
		const char *name;
		uint32_t *v;
	} knobs[] = {
	    {"delay_us", &f->delay_us},
	    {"jitter_us", &f->jitter_us},
	    {"drop", &f->drop},
	    {"duplicate", &f->duplicate},
	    {"unknown_tid", &f->unknown_tid},
	    {"oversize_response", &f->oversize_response},
	    {"corrupt", &f->corrupt},
	    {"pause_ms", &f->pause_ms},
	    {"monitor_scan_us", &f->monitor_scan_us},
	};
	const char *eq = strchr(arg, '=');
	char name[32];
	uint64_t v;

	if (!eq || (size_t)(eq - arg) >= sizeof(name))
		return cli_usage_error(cli, "--sim-fault %s: expected NAME=VALUE", arg);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = 0;
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '_';
	if (!strcmp(name, "stop_draining")) {
		if (!strcmp(eq + 1, "1") || !strcmp(eq + 1, "true") || !strcmp(eq + 1, "on"))
			f->stop_draining = true;
		else if (!strcmp(eq + 1, "0") || !strcmp(eq + 1, "false") || !strcmp(eq + 1, "off"))
			f->stop_draining = false;
		else
			return cli_usage_error(cli, "--sim-fault %s: 0 or 1", arg);
		cli->faults_set = true;
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		if (strcmp(knobs[i].name, name))
			continue;
		if (cli_parse_u64(eq + 1, false, 0, UINT32_MAX, &v))
			return cli_usage_error(cli, "--sim-fault %s: not a number (0..%u)", arg,
					       UINT32_MAX);
		*knobs[i].v = (uint32_t)v;
		cli->faults_set = true;
		return EXIT_OK;
	}
	return cli_usage_error(cli, "--sim-fault %s: no knob '%s' (see '" PROG " --help')", arg,
			       name);
}

int cli_getopt(struct cli *cli, int argc, char **argv, const struct option *own, char **arg)
{
	size_t n = 0;
	int c;

	if (!cli->opts_ready) {
		for (const struct option *o = global_opts; o->name; o++)
			cli->opts[n++] = *o;
		for (const struct option *o = own; o && o->name; o++)
			if (n + 1 < sizeof(cli->opts) / sizeof(cli->opts[0]))
				cli->opts[n++] = *o;
		memset(&cli->opts[n], 0, sizeof(cli->opts[n]));
		cli->opts_ready = true;
	}
	opterr = 0;
	/* Before the command: stop at its name. After it: options anywhere. */
	c = getopt_long(argc, argv, cli->cmd ? ":hv" : "+:hv", cli->opts, NULL);
	*arg = optarg;
	switch (c) {
	case -1:
		return CLI_OPT_END;
	case 'h':
		return CLI_OPT_HELP;
	case 'v':
		cli->verbose++;
		return cli_getopt(cli, argc, argv, own, arg);
	case '?':
		if (optopt)
			cli_usage_error(cli, "unknown option '-%c'", optopt);
		else
			cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
		return CLI_OPT_USAGE;
	case ':':
		cli_usage_error(cli, "option '%s' needs an argument", argv[optind - 1]);
		return CLI_OPT_USAGE;
	case OPT_DEVICE:
		if (!guid_ok(optarg)) {
			cli_usage_error(
			    cli, "--device %s: not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
			    optarg);
			return CLI_OPT_USAGE;
		}
		cli->device = optarg;
		break;
	case OPT_SIM:
		cli->sim = true;
		break;
	case OPT_SIM_ROOT:
		cli->sim_root = optarg;
		break;
	case OPT_SYSFS_ROOT:
		cli->sysfs_root = optarg;
		break;
	case OPT_DEV_ROOT:
		cli->dev_root = optarg;
		break;
	case OPT_SIM_FAULT:
		if (sim_fault(cli, optarg))
			return CLI_OPT_USAGE;
		break;
	case OPT_TIMEOUT:
		if (cli_opt_u32(cli, "--timeout", optarg, false, 1, AZBLOB_MAX_TIMEOUT_MS,
				&cli->timeout_ms))
			return CLI_OPT_USAGE;
		break;
	default:
		return c;
	}
	return cli_getopt(cli, argc, argv, own, arg);
}

int cli_check_args(const struct cli *cli, int argc, char **argv)
{
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (cli->sim && cli->sim_root)
		return cli_usage_error(cli, "--sim and --sim-root exclude each other");
	if (cli->faults_set && !cli->sim)
		return cli_usage_error(cli,
				       "--sim-fault goes with --sim (the in-process simulator)");
	if ((cli->sim || cli->sim_root) && (cli->sysfs_root || cli->dev_root))
		return cli_usage_error(cli,
				       "--sysfs-root and --dev-root go with a real device, not "
				       "with --sim or --sim-root (the simulator has its own tree)");
	return EXIT_OK;
}

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

int cli_start_sim(struct cli *cli, uint64_t ram_bytes)
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
	so.backend = "memory";
	so.faults = cli->faults;
	so.log = cli_log(cli);
	so.log.arg = (void *)"azblob: sim";
	rc = azblob_sim_create(&cli->s, &so);
	if (!rc)
		rc = azblob_sim_start(cli->s);
	if (rc) {
		azblob_sim_destroy(cli->s);
		cli->s = NULL;
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

	if (cli->sim && !cli->s && (rc = cli_start_sim(cli, co->sim_ram_bytes)))
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
	case AZBLOB_SIM_STATUS_OK:
		return "STATUS_SUCCESS";
	case AZBLOB_SIM_STATUS_INVALID_PARAMETER:
		return "STATUS_INVALID_PARAMETER";
	case AZBLOB_SIM_STATUS_IO_TIMEOUT:
		return "STATUS_IO_TIMEOUT";
	case AZBLOB_SIM_STATUS_NOT_SUPPORTED:
		return "STATUS_NOT_SUPPORTED";
	case AZBLOB_SIM_STATUS_BUFFER_TOO_SMALL:
		return "STATUS_BUFFER_TOO_SMALL";
	case AZBLOB_SIM_STATUS_INTERNAL_ERROR:
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

/* ---- HTTP heads as text ---- */

void cli_print_text(FILE *f, const uint8_t *p, size_t len, const char *indent)
{
	bool bol = true;

	for (size_t i = 0; i < len; i++) {
		uint8_t ch = p[i];

		if (ch == '\r' && i + 1 < len && p[i + 1] == '\n')
			continue;
		if (bol && ch != '\n')
			fputs(indent, f);
		bol = ch == '\n';
		if (ch == '\n' || ch == '\t' || (ch >= 0x20 && ch < 0x7f))
			fputc(ch, f);
		else
			fprintf(f, "\\x%02x", ch);
	}
	if (!bol)
		fputc('\n', f);
}

const char *cli_first_line(const uint8_t *p, size_t len, char *buf, size_t cap)
{
	size_t n = 0;

	while (n < len && p[n] != '\r' && p[n] != '\n')
		n++;
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	buf[n] = 0;
	return buf;
}

long long cli_content_length(const uint8_t *p, size_t len)
{
	static const char key[] = "\ncontent-length:";
	const size_t kl = sizeof(key) - 1;

	for (size_t i = 0; i + kl <= len; i++) {
		if (strncasecmp((const char *)p + i, key, kl))
			continue;
		size_t j = i + kl;
		long long v = 0;
		bool digits = false;

		while (j < len && (p[j] == ' ' || p[j] == '\t'))
			j++;
		while (j < len && isdigit(p[j]) && v < (1ll << 50)) {
			v = v * 10 + (p[j++] - '0');
			digits = true;
		}
		return digits ? v : -1;
	}
	return -1;
}

/* ---- counters ---- */

void cli_print_client_stats(FILE *f, const struct azblob_stats *st, bool all)
{
	const struct {
		const char *name;
		uint64_t v;
		const char *what;
	} rows[] = {
	    {"submitted", st->submitted, "requests queued to the host"},
	    {"completed", st->completed, "answers delivered to callbacks"},
	    {"errors", st->errors, "answers with a non-zero VSP status"},
	    {"timeouts", st->timeouts, "-ETIMEDOUT delivered"},
	    {"late", st->late, "answers after a timeout, absorbed"},
	    {"unknown", st->unknown, "answers matching no request, dropped"},
	    {"duplicates", st->duplicates, "answers already delivered, dropped"},
	    {"bad_packets", st->bad_packets, "not a completion or too short"},
	    {"oversize", st->oversize, "response_len beyond the buffer (-EPROTO)"},
	    {"signals", st->signals, "host signals sent"},
	    {"ring_full", st->ring_full, "submits refused for ring room"},
	    {"queue_full", st->queue_full, "submits refused for slots"},
	    {"copied", st->copied, "slow path: plain memory copied"},
	    {"cancelled", st->cancelled, "-ECANCELED at close"},
	    {"rescinded", st->rescinded, "device rescinds seen"},
	};
	uint64_t max = 0, total = 0;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (all || rows[i].v || i < 2)
			fprintf(f, "  %-12s %12" PRIu64 "   %s\n", rows[i].name, rows[i].v,
				rows[i].what);
	for (int i = 0; i < 40; i++) {
		total += st->latency_hist[i];
		if (st->latency_hist[i] > max)
			max = st->latency_hist[i];
	}
	if (!total) {
		fprintf(f, "  latency      no completions yet\n");
		return;
	}
	fprintf(f, "  latency (completion time, log2 buckets):\n");
	for (int i = 0; i < 40; i++) {
		char lo[32], hi[32];
		int bar;

		if (!st->latency_hist[i])
			continue;
		bar = (int)((st->latency_hist[i] * 40 + max - 1) / max);
		fprintf(f, "    %10s .. %-10s %10" PRIu64 "  %.*s\n",
			cli_fmt_ns(1ull << i, lo, sizeof(lo)),
			cli_fmt_ns(1ull << (i + 1), hi, sizeof(hi)), st->latency_hist[i], bar,
			"########################################");
	}
}

void cli_print_pending(FILE *f, const struct azblob_client *c)
{
	int n = azblob_dump_pending(c, NULL, 0);
	char *buf;

	if (n <= 0) {
		fprintf(f, "  none\n");
		return;
	}
	buf = malloc((size_t)n + 1);
	if (!buf) {
		fprintf(f, "  (out of memory)\n");
		return;
	}
	azblob_dump_pending(c, buf, (size_t)n + 1);
	cli_print_text(f, (const uint8_t *)buf, (size_t)n, "  ");
	free(buf);
}

void cli_print_sim_stats(FILE *f, struct azblob_sim *s)
{
	char buf[2048];
	int n = azblob_sim_format_stats(s, buf, sizeof(buf));
	const char *p = buf, *sp;

	if (n <= 0)
		return;
	/* one counter per line: "name=value" -> "  name  value" */
	while (*p) {
		const char *eq;

		sp = strchr(p, ' ');
		if (!sp)
			sp = p + strlen(p);
		eq = memchr(p, '=', (size_t)(sp - p));
		if (eq)
			fprintf(f, "  %-16.*s %12.*s\n", (int)(eq - p), p, (int)(sp - eq - 1),
				eq + 1);
		p = *sp ? sp + 1 : sp;
	}
}
