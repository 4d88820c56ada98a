/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * azblob CLI: what the subcommands share. Options common to every command,
 * opening a client on a real device or a simulator, the log callback,
 * number parsing, status names, time and printing helpers.
 */
#ifndef AZBLOB_CLI_COMMON_H
#define AZBLOB_CLI_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <azblob.h>
#include <azblob/sim.h>

#define PROG "azblob"

/* Exit codes (docs/CLI.md). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,    /* device, memory, I/O, a request that failed */
	EXIT_USAGE = 2,	     /* bad command line */
	EXIT_VSP_STATUS = 3, /* the host answered with a non-zero VSP status */
};

/* Global options: accepted before the command and after it. */
#define CLI_GLOBAL_OPTIONS_HELP                                                                    \
	"Global options:\n"                                                                        \
	"  --device GUID      use the Azure Blob device with this instance GUID\n"                 \
	"                     (default: the first device of class " AZBLOB_CLASS_GUID_STR ")\n"    \
	"  --sim              start the in-process simulator (memory backend) and use it\n"        \
	"  --sim-root DIR     connect to a running simulator (azblob-vspd) published in DIR\n"     \
	"  --sysfs-root DIR   sysfs root of the device tree (default $UVMBUS_SYSFS_ROOT or "       \
	"/sys)\n"                                                                                  \
	"  --dev-root DIR     /dev root of the device tree (default $UVMBUS_DEV_ROOT or /dev)\n"   \
	"  --sim-fault K=V    with --sim: set a fault knob of the simulator (repeatable):\n"       \
	"                     delay_us, jitter_us, drop, duplicate, unknown_tid,\n"                \
	"                     oversize_response, corrupt, stop_draining, pause_ms,\n"              \
	"                     monitor_scan_us (docs/SIM.md)\n"                                     \
	"  --timeout MS       request timeout, 1..300000 ms (default 30000)\n"                     \
	"  -v, --verbose      library messages at info level (-vv: debug); default: warnings\n"    \
	"  -h, --help         this help\n"

struct cli {
	const char *cmd; /* the command's name, for messages */
	/* global options */
	const char *device;
	const char *sysfs_root;
	const char *dev_root;
	const char *sim_root;
	bool sim;
	bool faults_set;
	struct azblob_sim_faults faults; /* --sim-fault */
	uint32_t timeout_ms;		 /* 0: the library's default */
	int verbose;
	/* state */
	struct azblob_sim *s;	 /* the in-process simulator (--sim) */
	struct azblob_client *c; /* the open client */
	struct option opts[48];	 /* global + command options (cli_parse) */
	bool opts_ready;
	const char *help; /* the command's help text */
};

/* Client shape asked by a command. */
struct cli_client_opts {
	uint32_t queue_depth;
	uint32_t pool_buf_size;
	uint32_t pool_bufs;
	uint64_t sim_ram_bytes; /* in-process simulator RAM (0: default) */
};

/*
 * A command's options: a static table, one line per option, ending in
 * {0}. Each names its long option (--name; no short letters besides the
 * global -h and -v), what it takes and where it goes in the command's
 * argument struct (`target` of cli_parse); the help text stays the
 * command's own (the man page and docs/CLI.md follow it).
 */
enum cli_opt_kind {
	CLI_FLAG,     /* bool at off: true */
	CLI_STR,      /* const char * at off: the argument */
	CLI_U32,      /* uint32_t at off: a number, min..max */
	CLI_SIZE,     /* uint32_t at off: a size (K, M, G suffixes), min..max */
	CLI_FN,	      /* fn(cli, opt, target, argument) */
	CLI_FN_NOARG, /* fn(cli, opt, target, NULL): an option without argument */
};

struct cli_opt {
	const char *name;
	enum cli_opt_kind kind;
	size_t off;
	uint32_t min, max;
	/* CLI_FN*: EXIT_OK to go on, CLI_DONE to stop with EXIT_OK (after
	 * printing, as --version), else the exit code (after a message). */
	int (*fn)(struct cli *cli, const struct cli_opt *opt, void *target, const char *arg);
};

#define CLI_DONE 0x100

#define CLI_OPT_FLAG(n, type, field)                                                               \
	{                                                                                          \
		.name = (n), .kind = CLI_FLAG, .off = offsetof(type, field)                        \
	}
#define CLI_OPT_STR(n, type, field)                                                                \
	{                                                                                          \
		.name = (n), .kind = CLI_STR, .off = offsetof(type, field)                         \
	}
#define CLI_OPT_U32(n, type, field, lo, hi)                                                        \
	{                                                                                          \
		.name = (n), .kind = CLI_U32, .off = offsetof(type, field), .min = (lo),           \
		.max = (hi)                                                                        \
	}
#define CLI_OPT_SIZE(n, type, field, lo, hi)                                                       \
	{                                                                                          \
		.name = (n), .kind = CLI_SIZE, .off = offsetof(type, field), .min = (lo),          \
		.max = (hi)                                                                        \
	}
#define CLI_OPT_FN(n, f)                                                                           \
	{                                                                                          \
		.name = (n), .kind = CLI_FN, .fn = (f)                                             \
	}
#define CLI_OPT_FN_NOARG(n, f)                                                                     \
	{                                                                                          \
		.name = (n), .kind = CLI_FN_NOARG, .fn = (f)                                       \
	}

/* Parse a command's options (opts, may be NULL) into target, the global
 * options into cli, anywhere on the line (before the command: up to its
 * name). --help prints help. Prints its own messages. Returns CLI_PARSED
 * to go on (optind: the first positional argument), else the exit code. */
#define CLI_PARSED (-1)
int cli_parse(struct cli *cli, int argc, char **argv, const char *help, const struct cli_opt *opts,
	      void *target);

/* Usage error: message on stderr with a hint, returns EXIT_USAGE. */
int cli_usage_error(const struct cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Runtime error: "azblob CMD: message" on stderr, returns EXIT_RUNTIME. */
int cli_error(const struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Check that no positional argument is left and that the target options
 * do not contradict each other. EXIT_OK or EXIT_USAGE. */
int cli_check_args(const struct cli *cli, int argc, char **argv);

/* Numbers: decimal (0x.. hex allowed), with K/M/G suffixes (1024) when
 * `sizes`. 0 or -EINVAL / -ERANGE. */
int cli_parse_u64(const char *s, bool sizes, uint64_t min, uint64_t max, uint64_t *out);
/* The same for an option, with a usage message on error. */
int cli_opt_u32(const struct cli *cli, const char *name, const char *s, bool sizes, uint32_t min,
		uint32_t max, uint32_t *out);

/* The library's log, to stderr: warnings and errors, more with -v. */
struct uvmbus_log cli_log(const struct cli *cli);

/* Start the in-process simulator with backend (NULL: memory) and its
 * argument (NULL: none). EXIT_OK or EXIT_RUNTIME. */
int cli_start_sim(struct cli *cli, uint64_t ram_bytes, const char *backend,
		  const char *backend_arg);
/* Open a client on --sim (started here), --sim-root, or a real device.
 * EXIT_OK or EXIT_RUNTIME (with a message and a hint). */
int cli_open(struct cli *cli, const struct cli_client_opts *co);
/* Close the client and the in-process simulator. */
void cli_close(struct cli *cli);
/* What the client runs on, for messages ("the simulator at DIR", ...). */
const char *cli_target(const struct cli *cli, char *buf, size_t cap);

/* Wait for a flag set by a completion callback: poll, sleep on the fd,
 * until *done or the library delivers a timeout. Returns 0, or -ENODEV /
 * -EIO / -ETIMEDOUT (the client never answered, a safety net). */
int cli_reap_until(struct cli *cli, const bool *done, uint32_t timeout_ms);

/* Status names: NTSTATUS of the VSP ("STATUS_SUCCESS", ...), errno names. */
const char *cli_status_name(uint32_t status);
const char *cli_errno_name(int err);

/* Time. */
uint64_t cli_now_ns(void);
/* "12.3 us", "4.56 ms", "1.23 s" */
const char *cli_fmt_ns(uint64_t ns, char *buf, size_t cap);

/* Files. Reads all of path ("-": stdin) into a malloc'd buffer. */
int cli_read_file(const struct cli *cli, const char *path, uint8_t **out, size_t *len, size_t max);
int cli_write_file(const struct cli *cli, const char *path, const void *buf, size_t len);

/* Print bytes as text: \r dropped before \n, other control bytes as \xNN. */
void cli_print_text(FILE *f, const uint8_t *p, size_t len, const char *indent);
/* The first line of an HTTP head ("HTTP/1.1 200 OK"), into buf. */
const char *cli_first_line(const uint8_t *p, size_t len, char *buf, size_t cap);
/* Content-Length of an HTTP head, or -1. */
long long cli_content_length(const uint8_t *p, size_t len);

/* Counters and histogram (stat, demo). */
void cli_print_client_stats(FILE *f, const struct azblob_stats *st, bool all);
void cli_print_pending(FILE *f, const struct azblob_client *c);
void cli_print_sim_stats(FILE *f, struct azblob_sim *s);

/* The commands. */
int cmd_devices(struct cli *cli, int argc, char **argv);
int cmd_raw(struct cli *cli, int argc, char **argv);
int cmd_stat(struct cli *cli, int argc, char **argv);
int cmd_demo(struct cli *cli, int argc, char **argv);

extern const char devices_help[], raw_help[], stat_help[], demo_help[];

#endif /* AZBLOB_CLI_COMMON_H */
