// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob: the command line of libazblob (docs/CLI.md). This file reads the
 * global options, picks the command and maps help and errors to the exit
 * codes; each command is in its own cmd_*.c.
 */
#include <signal.h>
#include <string.h>

#include "azfuse.h"
#include "cmd_blob.h"
#include "cmd_broker.h"
#include "common.h"

static const char main_help[] =
    "Usage: " PROG " [GLOBAL OPTIONS] COMMAND [OPTIONS]\n"
    "\n"
    "The Azure Blob VMbus device of Hyper-V guests from user space (libazblob):\n"
    "list devices, send requests, read counters, run the demo. Machines without\n"
    "the device use the built-in simulator (--sim) or a running azblob-vspd\n"
    "(--sim-root DIR).\n"
    "\n"
    "Commands:\n"
    "  devices          list VMbus devices, marking the Azure Blob ones\n"
    "  raw              send one request read from files; print the VSP status,\n"
    "                   response_len and the response head\n"
    "  stat             open a client; print its counters and pending requests\n"
    "                   (and the simulator's counters with --sim)\n"
    "  stat C/BLOB      a blob's properties (size, ETag, Last-Modified, ...)\n"
    "  stat --broker [PATH]  the azblobd broker's counters, per client\n"
    "  put FILE C/BLOB  upload a file as a block blob (pipelined blocks)\n"
    "  get C/BLOB FILE  download a blob (parallel ranged reads)\n"
    "  ls C[/PREFIX]    list the blobs of a container\n"
    "  rm C/BLOB        delete a blob\n"
    "  mb C             make a container\n"
    "  rb C             remove a container\n"
    "  mount C DIR [OPTIONS]  mount a container as files (azblob-fuse; first\n"
    "                   on the line, 'azblob mount --help' lists its options)\n"
    "  demo             a put/get round trip and a latency summary; starts the\n"
    "                   in-process simulator when there is no Azure Blob device\n"
    "  help [COMMAND]   this help, or a command's\n"
    "\n" CLI_GLOBAL_OPTIONS_HELP "  --version          print the version\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  runtime failure (no device, memory, I/O, a request that failed)\n"
    "  2  usage error (message on standard error)\n"
    "  3  the host answered with a non-zero VSP status (raw)\n"
    "\n"
    "Examples:\n"
    "  " PROG " demo\n"
    "  " PROG " devices\n"
    "  printf 'GET /$sim/noop HTTP/1.1\\r\\n\\r\\n' > req\n"
    "  " PROG " raw --sim --request req\n"
    "  " PROG " stat --sim --requests 1000\n"
    "  " PROG " --sim put --backend 'rest=http://127.0.0.1:10000/devstoreaccount1;...' \\\n"
    "      big.iso isos/big.iso\n"
    "\n"
    "'" PROG " COMMAND --help' describes a command; the manual is docs/CLI.md.\n";

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *help;
} commands[] = {
    {"devices", cmd_devices, devices_help},
    {"raw", cmd_raw, raw_help},
    {"stat", cmd_stat_any, stat_help},
    {"demo", cmd_demo, demo_help},
    {"put", cmd_put, put_help},
    {"get", cmd_get, get_help},
    {"ls", cmd_ls, ls_help},
    {"rm", cmd_rm, rm_help},
    {"mb", cmd_mb, mb_help},
    {"rb", cmd_rb, rb_help},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int opt_version(struct cli *cli, const struct cli_opt *o, void *target, const char *arg)
{
	(void)cli;
	(void)o;
	(void)target;
	(void)arg;
	printf(PROG " %s (libuvmbus)\n", uvmbus_version());
	return CLI_DONE;
}

/* --backend before the command: the blob commands' --backend, given first. */
static int opt_backend(struct cli *cli, const struct cli_opt *o, void *target, const char *arg)
{
	(void)cli;
	(void)o;
	(void)target;
	blob_set_backend(arg);
	return EXIT_OK;
}

static const struct cli_opt main_opts[] = {
    CLI_OPT_FN_NOARG("version", opt_version),
    CLI_OPT_FN("backend", opt_backend),
    {0},
};

static int find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return (int)i;
	return -1;
}

static int help(struct cli *cli, int argc, char **argv)
{
	int i;

	if (argc > 2)
		return cli_usage_error(cli, "help takes at most one command name");
	if (argc < 2 || !strcmp(argv[1], "help")) {
		fputs(main_help, stdout);
		return EXIT_OK;
	}
	i = find_command(argv[1]);
	if (i < 0)
		return cli_usage_error(cli,
				       "no command '%s' (commands: devices, raw, stat, demo, put, "
				       "get, ls, rm, mb, rb)",
				       argv[1]);
	fputs(commands[i].help, stdout);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct cli cli;
	int c, i;

	memset(&cli, 0, sizeof(cli));
	/* azblob mount CONTAINER MOUNTPOINT [options]: azblob-fuse's own line. */
	if (argc > 1 && !strcmp(argv[1], "mount")) {
		argv[1] = "azblob mount";
		return azfuse_main(argc - 1, argv + 1);
	}
	/* The simulator's event fd is a socket: a write after a rescind must
	 * fail with EPIPE (reported), not end the program. */
	signal(SIGPIPE, SIG_IGN);
	optind = 0;
	if ((c = cli_parse(&cli, argc, argv, main_help, main_opts, NULL)) != CLI_PARSED)
		return c;
	if (optind >= argc)
		return cli_usage_error(
		    &cli, "missing command (devices, raw, stat, demo, put, get, ls, rm, mb, rb)");
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "help"))
		return help(&cli, argc, argv);
	i = find_command(argv[0]);
	if (i < 0)
		return cli_usage_error(&cli,
				       "unknown command '%s' (commands: devices, raw, stat, demo, "
				       "put, get, ls, rm, mb, rb)",
				       argv[0]);
	cli.cmd = commands[i].name;
	if (blob_backend_set() && !blob_command(cli.cmd))
		return cli_usage_error(&cli, "--backend goes with put, get, ls, rm, stat, mb, rb");
	cli.help = commands[i].help;
	cli.opts_ready = false;
	optind = 0;
	fflush(stdout);
	if (commands[i].run == cmd_stat_any && cmd_broker_wanted(argc, argv))
		return cmd_broker_stat(&cli, argc, argv);
	c = commands[i].run(&cli, argc, argv);
	fflush(stdout);
	return c;
}
