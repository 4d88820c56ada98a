// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob put/get/ls/rm/stat/mb/rb: blobs and containers through the
 * blob helpers of libazblob (include/azblob/blob.h, docs/BLOB.md). This
 * file is the command line (help, options, arguments); the work is
 * blob_verbs.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <azblob/blob.h>

#include "blob_cli.h"
#include "cmd_blob.h"
#include "common.h"
#include "json.h"

#define BLOB_OPTIONS_HELP                                                                          \
	"Blob options:\n"                                                                          \
	"  --backend SPEC     with --sim: the simulator's storage: memory (default),\n"            \
	"                     dir=PATH, or rest=URL[;sas=TOKEN|;account=NAME;key=KEY]\n"           \
	"                     (an Azure Blob REST endpoint, e.g. Azurite; docs/REST.md)\n"         \
	"  --qd N             requests in flight for large transfers, 1..256 (default 8)\n"        \
	"  --chunk SIZE       bytes per request (Put Blob, Put Block, ranged Get),\n"              \
	"                     64K..32M (default 4M)\n"                                             \
	"  --quiet            no progress bar or summary\n"                                        \
	"\n"

#define BLOB_EXIT_HELP                                                                             \
	"Exit status: 0 ok; 1 the request failed (the HTTP status and the Azure error\n"           \
	"code on standard error) or the device could not be opened; 2 usage.\n"                    \
	"\n"

const char put_help[] =
    "Usage: " PROG " put [OPTIONS] FILE CONTAINER/BLOB\n"
    "\n"
    "Upload FILE ('-': standard input) as a block blob. Up to one chunk: one Put\n"
    "Blob; larger: Put Block of each chunk, --qd in flight, then Put Block List.\n"
    "CONTAINER/ or CONTAINER alone: the blob is named after FILE.\n"
    "\n"
    "Each request's body carries its CRC-64 (x-ms-content-crc64), which the\n"
    "service checks. FILE is mapped and registered so that the host reads it in\n"
    "place (no copy); where the host cannot, it is copied through pool buffers.\n"
    "\n"
    "  --copy             copy through pool buffers, never in place\n"
    "  --content-type T   the blob's Content-Type\n"
    "  --md5              also the whole blob's MD5, hashed as FILE is read and\n"
    "                     kept by the service as the blob's Content-MD5\n"
    "                     (x-ms-blob-content-md5); off by default\n"
    "  --check C          each body's check: crc64 (default), md5 (Content-MD5)\n"
    "                     or none\n"
    "\n" BLOB_OPTIONS_HELP BLOB_EXIT_HELP CLI_GLOBAL_OPTIONS_HELP;

const char get_help[] =
    "Usage: " PROG " get [OPTIONS] CONTAINER/BLOB FILE\n"
    "\n"
    "Download a blob into FILE ('-': standard output): ranged Gets of a chunk\n"
    "each, --qd in flight (one at a time for standard output), all against the\n"
    "ETag the blob had when the download started. FILE is made the blob's size,\n"
    "mapped and registered so that the host writes it in place (no copy); where\n"
    "the host cannot, it is copied through pool buffers.\n"
    "\n"
    "  --copy             copy through pool buffers, never in place\n"
    "\n" BLOB_OPTIONS_HELP BLOB_EXIT_HELP CLI_GLOBAL_OPTIONS_HELP;

const char ls_help[] =
    "Usage: " PROG " ls [OPTIONS] CONTAINER[/PREFIX]\n"
    "\n"
    "List the blobs of a container (those whose names start with PREFIX): one\n"
    "line each, size, last modified, name. Follows the pages of List Blobs.\n"
    "\n"
    "  --page-size N      blobs per List Blobs request, 1..5000 (default: what\n"
    "                     fits a chunk)\n"
    "  --delimiter D      group names at D (e.g. '/'): prefixes show as 'PRE name'\n"
    "  --json             one JSON object: the items (name, prefix, size,\n"
    "                     last_modified), blobs, bytes (docs/CLI.md)\n"
    "\n" BLOB_OPTIONS_HELP BLOB_EXIT_HELP CLI_GLOBAL_OPTIONS_HELP;

const char rm_help[] = "Usage: " PROG " rm [OPTIONS] CONTAINER/BLOB\n"
		       "\n"
		       "Delete a blob.\n"
		       "\n" BLOB_OPTIONS_HELP BLOB_EXIT_HELP CLI_GLOBAL_OPTIONS_HELP;

const char mb_help[] = "Usage: " PROG " mb [OPTIONS] CONTAINER\n"
		       "\n"
		       "Make a container (3..63 characters: a-z, 0-9, '-').\n"
		       "\n" BLOB_OPTIONS_HELP BLOB_EXIT_HELP CLI_GLOBAL_OPTIONS_HELP;

const char rb_help[] = "Usage: " PROG " rb [OPTIONS] CONTAINER\n"
		       "\n"
		       "Remove a container and its blobs.\n"
		       "\n" BLOB_OPTIONS_HELP BLOB_EXIT_HELP CLI_GLOBAL_OPTIONS_HELP;

static const char blob_stat_help[] =
    "Usage: " PROG " stat [OPTIONS] CONTAINER/BLOB\n"
    "\n"
    "With a blob argument: the blob's properties (Get Blob Properties): size,\n"
    "ETag, Last-Modified, Content-Type, blob type.\n"
    "\n"
    "  --json             one JSON object with these properties (docs/CLI.md)\n"
    "\n" BLOB_OPTIONS_HELP;

/* ---- the simulator with a backend ---- */

static const char *main_backend; /* --backend before the command */

void blob_set_backend(const char *spec)
{
	main_backend = spec;
}

int blob_backend_set(void)
{
	return main_backend != NULL;
}

int blob_command(const char *name)
{
	static const char *const names[] = {"put", "get", "ls", "rm", "stat", "mb", "rb"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], name))
			return 1;
	return 0;
}

/* The options of a blob command, and which command it is. */
struct blob_args {
	struct bopts b;
	enum blob_cmd which;
};

/* An option that goes with put (or ls) only. EXIT_OK or EXIT_USAGE. */
static int only_with(struct cli *cli, const struct cli_opt *o, const struct blob_args *a,
		     enum blob_cmd which, const char *name)
{
	if (a->which != which)
		return cli_usage_error(cli, "--%s goes with %s", o->name, name);
	return EXIT_OK;
}

/* A string option that goes with one command only. */
static int set_only(struct cli *cli, const struct cli_opt *o, const struct blob_args *a,
		    enum blob_cmd which, const char *name, const char **field, const char *arg)
{
	int rc = only_with(cli, o, a, which, name);

	if (!rc)
		*field = arg;
	return rc;
}

static int opt_content_type(struct cli *cli, const struct cli_opt *o, void *target, const char *arg)
{
	struct blob_args *a = target;

	return set_only(cli, o, a, B_PUT, "put", &a->b.content_type, arg);
}

static int opt_md5(struct cli *cli, const struct cli_opt *o, void *target, const char *arg)
{
	struct blob_args *a = target;
	int rc = only_with(cli, o, a, B_PUT, "put");

	(void)arg;
	if (!rc)
		a->b.md5 = true;
	return rc;
}

static int opt_check(struct cli *cli, const struct cli_opt *o, void *target, const char *arg)
{
	struct blob_args *a = target;
	int rc = only_with(cli, o, a, B_PUT, "put");

	if (rc)
		return rc;
	if (!strcmp(arg, "crc64"))
		a->b.check = AZBLOB_BLOB_CHECK_CRC64;
	else if (!strcmp(arg, "md5"))
		a->b.check = AZBLOB_BLOB_CHECK_MD5;
	else if (!strcmp(arg, "none"))
		a->b.check = AZBLOB_BLOB_CHECK_NONE;
	else
		return cli_usage_error(cli, "--check %s: crc64, md5 or none", arg);
	return EXIT_OK;
}

static int opt_copy(struct cli *cli, const struct cli_opt *o, void *target, const char *arg)
{
	struct blob_args *a = target;

	(void)o;
	(void)arg;
	if (a->which != B_PUT && a->which != B_GET)
		return cli_usage_error(cli, "--copy goes with put and get");
	a->b.copy = true;
	return EXIT_OK;
}

static int opt_page_size(struct cli *cli, const struct cli_opt *o, void *target, const char *arg)
{
	struct blob_args *a = target;
	int rc = only_with(cli, o, a, B_LS, "ls");

	if (!rc)
		rc = cli_opt_u32(cli, "--page-size", arg, false, 1, 5000, &a->b.page_size);
	return rc;
}

static int opt_delimiter(struct cli *cli, const struct cli_opt *o, void *target, const char *arg)
{
	struct blob_args *a = target;

	return set_only(cli, o, a, B_LS, "ls", &a->b.delimiter, arg);
}

static int opt_json(struct cli *cli, const struct cli_opt *o, void *target, const char *arg)
{
	struct blob_args *a = target;

	(void)o;
	(void)arg;
	if (a->which != B_LS && a->which != B_STAT)
		return cli_usage_error(cli, "--json goes with ls, stat and devices");
	a->b.json = true;
	return EXIT_OK;
}

static const struct cli_opt blob_opts[] = {
    CLI_OPT_STR("backend", struct blob_args, b.backend),
    CLI_OPT_U32("qd", struct blob_args, b.qd, 1, 256),
    CLI_OPT_SIZE("chunk", struct blob_args, b.chunk, 64u << 10, 32u << 20),
    CLI_OPT_FLAG("quiet", struct blob_args, b.quiet),
    CLI_OPT_FN("content-type", opt_content_type),
    CLI_OPT_FN_NOARG("md5", opt_md5),
    CLI_OPT_FN("check", opt_check),
    CLI_OPT_FN_NOARG("copy", opt_copy),
    CLI_OPT_FN("page-size", opt_page_size),
    CLI_OPT_FN("delimiter", opt_delimiter),
    CLI_OPT_FN_NOARG("json", opt_json),
    {0},
};

static int run(struct cli *cli, int argc, char **argv, enum blob_cmd which, const char *help)
{
	struct blob_args a = {.b = {.backend = main_backend, .qd = 8, .chunk = 4u << 20},
			      .which = which};
	const int nargs[] = {2, 2, 1, 1, 1, 1, 1};
	char *pos[2];
	int rc, n = 0;

	if ((rc = cli_parse(cli, argc, argv, help, blob_opts, &a)) != CLI_PARSED)
		return rc;
	while (optind < argc && n < nargs[which])
		pos[n++] = argv[optind++];
	if (n < nargs[which])
		return cli_usage_error(cli, "%s",
				       nargs[which] == 2
					   ? (which == B_PUT ? "expected FILE CONTAINER/BLOB"
							     : "expected CONTAINER/BLOB FILE")
					   : "missing CONTAINER or CONTAINER/BLOB");
	if ((rc = cli_check_args(cli, argc, argv)))
		return rc;
	if (a.b.backend && !cli->sim)
		return cli_usage_error(cli, "--backend goes with --sim (the in-process simulator)");
	switch (which) {
	case B_PUT:
		rc = blob_do_put(cli, &a.b, pos[0], pos[1]);
		break;
	case B_GET:
		rc = blob_do_get(cli, &a.b, pos[0], pos[1]);
		break;
	case B_LS:
		rc = blob_do_ls(cli, &a.b, pos[0]);
		break;
	default:
		rc = blob_do_simple(cli, &a.b, which, pos[0]);
		break;
	}
	cli_close(cli);
	return rc;
}

int cmd_put(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, B_PUT, put_help);
}

int cmd_get(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, B_GET, get_help);
}

int cmd_ls(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, B_LS, ls_help);
}

int cmd_rm(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, B_RM, rm_help);
}

int cmd_mb(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, B_MB, mb_help);
}

int cmd_rb(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, B_RB, rb_help);
}

/*
 * stat: without an argument the client's counters (cmd_stat.c); with
 * CONTAINER/BLOB the blob's properties. The first argument that is not an
 * option (nor an option's value) decides.
 */
int cmd_stat_any(struct cli *cli, int argc, char **argv)
{
	static const char *const with_value[] = {
	    "--device",	  "--sim-root",	 "--sysfs-root", "--dev-root", "--timeout", "--sim-fault",
	    "--requests", "--in-flight", "--backend",	 "--qd",       "--chunk",   NULL,
	};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool takes = false;

		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(stat_help, stdout);
			fputs("\n", stdout);
			fputs(blob_stat_help, stdout);
			return EXIT_OK;
		}
		if (a[0] == '-') {
			for (const char *const *w = with_value; *w; w++)
				if (!strcmp(a, *w))
					takes = true;
			i += takes;
			continue;
		}
		return run(cli, argc, argv, B_STAT, blob_stat_help);
	}
	return cmd_stat(cli, argc, argv);
}
