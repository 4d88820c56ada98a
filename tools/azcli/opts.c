// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* azblob CLI: the global options, number arguments, usage and error
 * messages. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

/* Values of the global long options; a command's own options are
 * OWN_BASE + their index in its table. */
enum {
	OPT_DEVICE = 0x100,
	OPT_SIM,
	OPT_SIM_ROOT,
	OPT_SYSFS_ROOT,
	OPT_DEV_ROOT,
	OPT_TIMEOUT,
	OPT_SIM_FAULT,
	OWN_BASE = 0x200,
};

/* What next_opt returns besides OWN_BASE + i. */
#define OPT_END	  (-1)
#define OPT_HELP  (-2)
#define OPT_USAGE (-3)

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

/*
 * The next option: the global ones are handled here (recorded in cli), a
 * command's own (`own`, NULL-terminated, may be NULL) are returned by
 * their val with the argument in *arg.
 */
static int next_opt(struct cli *cli, int argc, char **argv, const struct option *own, char **arg)
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
		return OPT_END;
	case 'h':
		return OPT_HELP;
	case 'v':
		cli->verbose++;
		return next_opt(cli, argc, argv, own, arg);
	case '?':
		if (optopt)
			cli_usage_error(cli, "unknown option '-%c'", optopt);
		else
			cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
		return OPT_USAGE;
	case ':':
		cli_usage_error(cli, "option '%s' needs an argument", argv[optind - 1]);
		return OPT_USAGE;
	case OPT_DEVICE:
		if (!guid_ok(optarg)) {
			cli_usage_error(
			    cli, "--device %s: not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
			    optarg);
			return OPT_USAGE;
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
			return OPT_USAGE;
		break;
	case OPT_TIMEOUT:
		if (cli_opt_u32(cli, "--timeout", optarg, false, 1, AZBLOB_MAX_TIMEOUT_MS,
				&cli->timeout_ms))
			return OPT_USAGE;
		break;
	default:
		return c;
	}
	return next_opt(cli, argc, argv, own, arg);
}

/* One option of a command's table into target. EXIT_OK, CLI_DONE or an
 * exit code. */
static int set_opt(struct cli *cli, const struct cli_opt *o, void *target, const char *arg)
{
	char *field, name[64];

	if (o->kind == CLI_FN || o->kind == CLI_FN_NOARG)
		return o->fn(cli, o, target, arg);
	field = (char *)target + o->off;
	switch (o->kind) {
	case CLI_FLAG:
		*(bool *)(void *)field = true;
		return EXIT_OK;
	case CLI_STR:
		*(const char **)(void *)field = arg;
		return EXIT_OK;
	case CLI_U32:
	case CLI_SIZE:
		snprintf(name, sizeof(name), "--%s", o->name);
		return cli_opt_u32(cli, name, arg, o->kind == CLI_SIZE, o->min, o->max,
				   (uint32_t *)(void *)field);
	default:
		return cli_usage_error(cli, "unexpected option");
	}
}

int cli_parse(struct cli *cli, int argc, char **argv, const char *help, const struct cli_opt *opts,
	      void *target)
{
	struct option own[32];
	size_t n = 0;
	char *arg;
	int c, rc;

	for (const struct cli_opt *o = opts; o && o->name && n + 1 < 32; o++, n++)
		own[n] = (struct option){o->name,
					 o->kind == CLI_FLAG || o->kind == CLI_FN_NOARG
					     ? no_argument
					     : required_argument,
					 NULL, OWN_BASE + (int)n};
	own[n] = (struct option){NULL, 0, NULL, 0};
	while ((c = next_opt(cli, argc, argv, own, &arg)) != OPT_END) {
		if (c == OPT_HELP) {
			fputs(help, stdout);
			return EXIT_OK;
		}
		if (c == OPT_USAGE)
			return EXIT_USAGE;
		if (c < OWN_BASE || c >= OWN_BASE + (int)n)
			return cli_usage_error(cli, "unexpected option");
		rc = set_opt(cli, &opts[c - OWN_BASE], target, arg);
		if (rc == CLI_DONE)
			return EXIT_OK;
		if (rc)
			return rc;
	}
	return CLI_PARSED;
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
