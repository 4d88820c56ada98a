// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* azblob-vspd: the command line (usage, numbers, faults, kernels). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <azblob/sim.h>

#include "vspd.h"

static const char usage_text[] =
    "NAME\n"
    "    azblob-vspd - simulated Hyper-V host serving one Azure Blob VMbus device\n"
    "\n"
    "SYNOPSIS\n"
    "    azblob-vspd [--root DIR] [--ram SIZE] [--ring SIZE] [--monitor ID]\n"
    "                [--cpu N] [--poll] [--backend memory|dir=PATH[,max_bytes=N]|null]\n"
    "                [--fault NAME=VALUE]... [--guid GUID] [--relid N]\n"
    "                [--numa-node N] [--seed N] [--no-hugetlb] [--kernel PROFILE]\n"
    "                [--log-level err|warn|info|debug]\n"
    "                [--ready-file PATH] [--pid-file PATH]\n"
    "    azblob-vspd --help | --version\n"
    "\n"
    "DESCRIPTION\n"
    "    Plays the Hyper-V host and the Azure Blob VSP for one device, for\n"
    "    machines that do not run on Hyper-V. It publishes a device tree with\n"
    "    the real sysfs names under DIR (sys/, dev/uio0, proc/cpuinfo) and a\n"
    "    doorbell socket DIR/vspd.sock; a guest built on libuvmbus opens the\n"
    "    device through its normal device layer with only the roots and the\n"
    "    event fd changed (uvmbus_simsock_connect()). One guest at a time; when it\n"
    "    disconnects the channel closes and the next guest starts afresh.\n"
    "    Requests are answered from a storage backend; every guest packet is\n"
    "    validated and violations are counted in the statistics.\n"
    "\n"
    "    The main thread serves (azblob_sim_run()); a second thread takes the\n"
    "    signals (sigwaitinfo()). Logs go to standard error, one line each:\n"
    "    a UTC timestamp, the level, the message. Once the tree is published\n"
    "    the root directory is printed on standard output, one line.\n"
    "\n"
    "OPTIONS\n"
    "    --root DIR        Publish the tree in DIR, which must not exist (it is\n"
    "                      created, and removed with everything in it at exit).\n"
    "                      Default: a new /dev/shm/azblob-sim-XXXXXX (or /tmp).\n"
    "    --ram SIZE        Guest RAM, a multiple of 2 MiB (default 256M). SIZE is\n"
    "                      a number of bytes with an optional K, M, G or T suffix\n"
    "                      (powers of 1024; KiB, MB... are accepted too).\n"
    "    --ring SIZE       Each ring, header page included: a multiple of 4 KiB,\n"
    "                      at least 8K (default 2052K = 4 KiB + 2 MiB).\n"
    "    --monitor ID      The guest signals by setting bit ID (0..127) in the\n"
    "                      monitor page, scanned every monitor_scan_us. Default:\n"
    "                      no monitor, the guest signals through the interrupt\n"
    "                      page and a write to its event fd.\n"
    "    --cpu N           Pin the serving thread to CPU N (a warning if it\n"
    "                      cannot be). Default: not pinned.\n"
    "    --poll            Busy-poll the rings (one CPU at 100%). Default: sleep\n"
    "                      on the doorbell.\n"
    "    --backend memory  Blobs in memory, lost at exit (the default); at most\n"
    "                      1 GiB of block data, memory=max_bytes=N another cap.\n"
    "    --backend dir=PATH[,max_bytes=N]\n"
    "                      The memory backend with every committed blob also a\n"
    "                      file under PATH (created if missing, kept at exit):\n"
    "                      containers are subdirectories, '/' in names %2F. The\n"
    "                      blobs are loaded at start, under the same cap.\n"
    "    --backend null    The null host, for measuring the client alone: every\n"
    "                      request is answered at once with status 0 and no\n"
    "                      response bytes, in batches (all of TX read, all\n"
    "                      completions written, one publish and one interrupt\n"
    "                      decision); only the ring itself is checked (no VSP\n"
    "                      fields, no HTTP, no buffer ownership, no faults).\n"
    "    --fault NAME=VALUE\n"
    "                      Set a fault injection knob (see FAULTS); repeatable.\n"
    "    --guid GUID       Device instance GUID, xxxxxxxx-xxxx-xxxx-xxxx-\n"
    "                      xxxxxxxxxxxx (default: a fixed one).\n"
    "    --relid N         Channel relid, 1..16383 (default 14).\n"
    "    --numa-node N     Published numa_node, -1..1023 (default 0).\n"
    "    --seed N          Seed of the jitter generator (default 1).\n"
    "    --no-hugetlb      Guest RAM in plain shared memory even when enough\n"
    "                      hugepages are free.\n"
    "    --kernel PROFILE  Behave as this uio_hv_generic variant (ring sizes, the\n"
    "                      ring file, who masks RX, a channel without a monitor\n"
    "                      refused or not, rescind): it sets the ring size and\n"
    "                      the monitor offer. --kernel help lists the profiles\n"
    "                      and exits. Default: no profile (docs/DEVICE.md).\n"
    "    --log-level LEVEL err, warn, info (default) or debug.\n"
    "    --ready-file PATH Once the tree is published, write the root directory\n"
    "                      (and a newline) to PATH, atomically (written aside and\n"
    "                      renamed): wait for PATH to exist instead of sleeping.\n"
    "                      A stale PATH is removed at start; PATH is removed at\n"
    "                      exit.\n"
    "    --pid-file PATH   Write the daemon's pid to PATH at start; removed at\n"
    "                      exit.\n"
    "    -h, --help        Print this text and exit 0.\n"
    "    -V, --version     Print the version and exit 0.\n"
    "\n"
    "FAULTS\n"
    "    Each knob of struct azblob_sim_faults, off when 0 (NAME may be spelled\n"
    "    with '-' for '_'); VALUE is a decimal number, or for stop_draining one\n"
    "    of 0, 1, false, true, no, yes, off, on.\n"
    "    delay_us=N           every completion waits N microseconds ...\n"
    "    jitter_us=N          ... plus a random 0..N microseconds; a request\n"
    "                         whose delay passes its timeout_ms completes at the\n"
    "                         deadline with STATUS_IO_TIMEOUT\n"
    "    drop=N               drop the next N completions\n"
    "    duplicate=N          send the next N completions twice\n"
    "    unknown_tid=N        send N completions with a trans_id nobody used\n"
    "    oversize_response=N  next N completions: response_len beyond the buffer\n"
    "    corrupt=N            next N completions: a corrupt descriptor into RX\n"
    "    stop_draining=BOOL   stop reading the guest's TX ring (it fills)\n"
    "    pause_ms=N           stop reading TX for N milliseconds, once\n"
    "    monitor_scan_us=N    monitor page scan interval (default 50; 0 = 50)\n"
    "    corrupt_tx_read=N    next N TX reads: publish an impossible TX read\n"
    "                         index and stop draining (a broken host)\n"
    "    dma_after_close=BOOL requests held at a channel close are still written\n"
    "                         (0xA5) and answered into the next channel\n"
    "    skip_data_write=N    next N requests with data: answer, but leave the\n"
    "                         data buffer unwritten\n"
    "\n"
    "SIGNALS\n"
    "    SIGTERM, SIGINT, SIGHUP\n"
    "           Stop serving, print the statistics, remove the tree, the ready\n"
    "           file and the pid file, exit 0.\n"
    "    SIGUSR1\n"
    "           Print the statistics (one \"stats: ...\" line on standard error,\n"
    "           whatever the log level).\n"
    "    SIGUSR2\n"
    "           Rescind the device now: the guest's event fd hangs up, the\n"
    "           socket is removed and no guest can connect any more. The daemon\n"
    "           keeps running until stopped.\n"
    "\n"
    "FILES\n"
    "    DIR/sys/bus/vmbus/devices/GUID/...   the device, as sysfs shows it\n"
    "    DIR/sys/bus/vmbus/drivers/uio_hv_generic/\n"
    "    DIR/dev/uio0                         interrupt and monitor pages\n"
    "    DIR/proc/cpuinfo\n"
    "    DIR/vspd.sock                        the doorbell socket (SOCK_SEQPACKET)\n"
    "\n"
    "EXIT STATUS\n"
    "    0  stopped by SIGTERM, SIGINT or SIGHUP (or --help, --version)\n"
    "    1  runtime failure: the tree, guest RAM, the backend, the ready or\n"
    "       pid file could not be made\n"
    "    2  bad arguments\n"
    "\n"
    "EXAMPLES\n"
    "    azblob-vspd --root /tmp/vsp --ready-file /tmp/vsp.ready &\n"
    "    while [ ! -e /tmp/vsp.ready ]; do sleep 0.01; done\n"
    "        Start in the background and wait until a guest can connect.\n"
    "    azblob-vspd --ram 1G --cpu 1 --poll --monitor 3\n"
    "        Benchmark set-up: pinned, polling, signals through the monitor page.\n"
    "    azblob-vspd --backend dir=/var/tmp/blobs --fault delay_us=500 \\\n"
    "                --fault jitter_us=200 --log-level debug\n"
    "        Persistent blobs, slow completions.\n"
    "    kill -USR1 $(cat vspd.pid)   statistics now\n"
    "    kill -USR2 $(cat vspd.pid)   rescind the device\n"
    "\n"
    "SEE ALSO\n"
    "    docs/VSPD.md, docs/SIM.md, include/azblob/sim.h\n";

/* ---- arguments ---- */

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry '" PROG " --help' for more information.\n", stderr);
	exit(EXIT_USAGE);
}

/* A decimal number without sign; false when malformed or above max. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* "4096", "64K", "256M", "1G", "1GiB", "2MB", "1t": powers of 1024. */
static bool parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmgt";
	unsigned shift = 0;
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	if (*end) {
		const char *u = strchr(units, tolower((unsigned char)*end));

		if (!u)
			return false;
		shift = 10u * (unsigned)(u - units + 1);
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B") || !strcmp(end, "b"))
			end += strlen(end);
		if (*end)
			return false;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static bool valid_guid(const char *g)
{
	if (strlen(g) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? g[i] != '-' : !isxdigit((unsigned char)g[i]))
			return false;
	}
	return true;
}

struct knob {
	const char *name;
	size_t off;
	bool is_bool;
};

#define KNOB(f, b)                                                                                 \
	{                                                                                          \
#f, offsetof(struct azblob_sim_faults, f), b                                       \
	}
static const struct knob knobs[] = {
    KNOB(delay_us, false),	  KNOB(jitter_us, false),	KNOB(drop, false),
    KNOB(duplicate, false),	  KNOB(unknown_tid, false),	KNOB(oversize_response, false),
    KNOB(corrupt, false),	  KNOB(stop_draining, true),	KNOB(pause_ms, false),
    KNOB(monitor_scan_us, false), KNOB(corrupt_tx_read, false), KNOB(dma_after_close, true),
    KNOB(skip_data_write, false),
};

static void parse_fault(struct azblob_sim_faults *f, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[64];
	size_t n = eq ? (size_t)(eq - arg) : 0;

	if (!eq || !n || n >= sizeof(name))
		usage_error("--fault wants NAME=VALUE, not '%s'", arg);
	memcpy(name, arg, n);
	name[n] = '\0';
	for (char *p = name; *p; p++)
		*p = *p == '-' ? '_' : *p;
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		const struct knob *k = &knobs[i];
		const char *v = eq + 1;
		uint64_t x;

		if (strcmp(name, k->name))
			continue;
		if (k->is_bool) {
			bool on;

			if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
			    !strcasecmp(v, "on"))
				on = true;
			else if (!strcmp(v, "0") || !strcasecmp(v, "false") ||
				 !strcasecmp(v, "no") || !strcasecmp(v, "off"))
				on = false;
			else
				usage_error("--fault %s: '%s' is not a boolean", name, v);
			*(bool *)((char *)f + k->off) = on;
			return;
		}
		if (!parse_u64(v, UINT32_MAX, &x))
			usage_error("--fault %s: '%s' is not a number (0..%" PRIu32 ")", name, v,
				    UINT32_MAX);
		*(uint32_t *)((char *)f + k->off) = (uint32_t)x;
		return;
	}
	usage_error("--fault: unknown knob '%s' (see FAULTS in --help)", name);
}

/* --kernel help: one profile a line, then exit 0. */
static void list_kernels(void)
{
	size_t n;
	const struct azblob_sim_kernel *k = azblob_sim_kernels(&n);

	printf("%-12s %-9s %-10s %-8s %-8s %-9s  %s\n", "PROFILE", "RING", "RING FILE", "RX MASK",
	       "MONITOR", "RESCIND", "KERNELS: WHAT DIFFERS");
	for (size_t i = 0; i < n; i++, k++)
		printf("%-12s %-9s %-10s %-8s %-8s %-9s  %s: %s\n", k->name,
		       k->ring_bytes % (1u << 20) ? "2M+4K" : "2M",
		       k->no_ring_file	    ? "absent"
		       : k->ring_file_fixed ? "fixed 4M"
					    : "real",
		       k->kernel_masks_rx ? "kernel" : "user",
		       k->monitor_id >= 0    ? "offered"
		       : k->monitor_required ? "refused"
					     : "write",
		       k->rescind_frees_rings ? "frees" : "keeps", k->kernels, k->differs);
	exit(fflush(stdout) ? EXIT_RUNTIME : 0);
}

enum {
	OPT_ROOT = 256,
	OPT_RAM,
	OPT_RING,
	OPT_MONITOR,
	OPT_CPU,
	OPT_POLL,
	OPT_BACKEND,
	OPT_FAULT,
	OPT_GUID,
	OPT_RELID,
	OPT_NUMA,
	OPT_SEED,
	OPT_NO_HUGETLB,
	OPT_LOG_LEVEL,
	OPT_READY,
	OPT_PID,
	OPT_KERNEL,
};

static const struct option long_opts[] = {
    {"root", required_argument, NULL, OPT_ROOT},
    {"ram", required_argument, NULL, OPT_RAM},
    {"ring", required_argument, NULL, OPT_RING},
    {"monitor", required_argument, NULL, OPT_MONITOR},
    {"cpu", required_argument, NULL, OPT_CPU},
    {"poll", no_argument, NULL, OPT_POLL},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"fault", required_argument, NULL, OPT_FAULT},
    {"guid", required_argument, NULL, OPT_GUID},
    {"relid", required_argument, NULL, OPT_RELID},
    {"numa-node", required_argument, NULL, OPT_NUMA},
    {"seed", required_argument, NULL, OPT_SEED},
    {"no-hugetlb", no_argument, NULL, OPT_NO_HUGETLB},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"ready-file", required_argument, NULL, OPT_READY},
    {"pid-file", required_argument, NULL, OPT_PID},
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

void vspd_parse_args(struct vspd *d, int argc, char **argv)
{
	struct azblob_sim_opts *o = &d->o;
	uint64_t u;
	long l;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
			if (!optarg[0])
				usage_error("--root: empty path");
			if (optarg[0] == '/') {
				if (snprintf(d->root, sizeof(d->root), "%s", optarg) >=
				    (int)sizeof(d->root))
					usage_error("--root: path too long");
			} else {
				char cwd[PATH_MAX];

				if (!getcwd(cwd, sizeof(cwd)) ||
				    snprintf(d->root, sizeof(d->root), "%s/%s", cwd, optarg) >=
					(int)sizeof(d->root))
					usage_error("--root: cannot make '%s' absolute", optarg);
			}
			o->root = d->root;
			break;
		case OPT_RAM:
			if (!parse_size(optarg, &u) || !u || u % (2u << 20))
				usage_error("--ram: '%s' is not a size that is a non-zero "
					    "multiple of 2 MiB",
					    optarg);
			o->ram_bytes = u;
			break;
		case OPT_RING:
			/* Whole kernel pages, two at least (a header page and data),
			 * as uio_hv_generic makes them. */
			if (!parse_size(optarg, &u) || u < 2 * (uint64_t)sysconf(_SC_PAGESIZE) ||
			    u % (uint64_t)sysconf(_SC_PAGESIZE) || u > UINT32_MAX)
				usage_error("--ring: '%s' is not whole pages of %ld bytes (two at "
					    "least, at most 4G)",
					    optarg, sysconf(_SC_PAGESIZE));
			o->ring_bytes = (uint32_t)u;
			break;
		case OPT_MONITOR:
			if (!parse_int(optarg, 0, 127, &l))
				usage_error("--monitor: '%s' is not a monitor id (0..127)", optarg);
			o->monitor_id = (int)l;
			break;
		case OPT_CPU:
			if (!parse_int(optarg, 0, CPU_SETSIZE - 1, &l))
				usage_error("--cpu: '%s' is not a CPU number (0..%d)", optarg,
					    CPU_SETSIZE - 1);
			o->cpu = (int)l;
			break;
		case OPT_POLL:
			o->poll = true;
			break;
		case OPT_BACKEND:
			if (!strcmp(optarg, "memory")) {
				o->backend = "memory";
				o->backend_arg = NULL;
			} else if (!strncmp(optarg, "memory=max_bytes=", 17) && optarg[17]) {
				if (snprintf(d->backend_arg, sizeof(d->backend_arg), "%s",
					     optarg + 7) >= (int)sizeof(d->backend_arg))
					usage_error("--backend: argument too long");
				o->backend = "memory";
				o->backend_arg = d->backend_arg;
			} else if (!strcmp(optarg, "null")) {
				o->backend = "null";
				o->backend_arg = NULL;
			} else if (!strncmp(optarg, "dir=", 4) && optarg[4]) {
				if (snprintf(d->backend_arg, sizeof(d->backend_arg), "%s",
					     optarg + 4) >= (int)sizeof(d->backend_arg))
					usage_error("--backend: path too long");
				o->backend = "dir";
				o->backend_arg = d->backend_arg;
			} else {
				usage_error("--backend: '%s': use memory, dir=PATH or null",
					    optarg);
			}
			break;
		case OPT_FAULT:
			parse_fault(&o->faults, optarg);
			break;
		case OPT_GUID:
			if (!valid_guid(optarg))
				usage_error("--guid: '%s' is not a GUID "
					    "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
					    optarg);
			for (int i = 0; i < 36; i++)
				d->guid[i] = (char)tolower((unsigned char)optarg[i]);
			d->guid[36] = '\0';
			o->guid = d->guid;
			break;
		case OPT_RELID:
			if (!parse_int(optarg, 1, 16383, &l))
				usage_error("--relid: '%s' is not a relid (1..16383)", optarg);
			o->relid = (uint32_t)l;
			break;
		case OPT_NUMA:
			if (!parse_int(optarg, -1, 1023, &l))
				usage_error("--numa-node: '%s' is not a node (-1..1023)", optarg);
			o->numa_node = (int)l;
			break;
		case OPT_SEED:
			if (!parse_u64(optarg, UINT64_MAX, &u))
				usage_error("--seed: '%s' is not a number", optarg);
			o->seed = u;
			break;
		case OPT_NO_HUGETLB:
			o->no_hugetlb = true;
			break;
		case OPT_LOG_LEVEL:
			if (!strcmp(optarg, "err") || !strcmp(optarg, "error"))
				d->level = UVMBUS_LOG_ERR;
			else if (!strcmp(optarg, "warn") || !strcmp(optarg, "warning"))
				d->level = UVMBUS_LOG_WARN;
			else if (!strcmp(optarg, "info"))
				d->level = UVMBUS_LOG_INFO;
			else if (!strcmp(optarg, "debug"))
				d->level = UVMBUS_LOG_DEBUG;
			else
				usage_error("--log-level: '%s': use err, warn, info or debug",
					    optarg);
			break;
		case OPT_READY:
			if (!optarg[0])
				usage_error("--ready-file: empty path");
			d->ready_file = optarg;
			break;
		case OPT_PID:
			if (!optarg[0])
				usage_error("--pid-file: empty path");
			d->pid_file = optarg;
			break;
		case OPT_KERNEL:
			if (!strcmp(optarg, "help"))
				list_kernels();
			if (!azblob_sim_kernel_find(optarg))
				usage_error(
				    "--kernel: unknown profile '%s' (--kernel help lists them)",
				    optarg);
			o->kernel = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(fflush(stdout) ? EXIT_RUNTIME : 0);
		case 'V':
			printf(PROG " %s\n", uvmbus_version());
			exit(fflush(stdout) ? EXIT_RUNTIME : 0);
		case ':':
			usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < 128 && isalnum(optopt))
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown or malformed option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}
