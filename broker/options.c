// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* azblobd's command line: --help and the options, with their defaults. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "azd.h"
#include "rings.h"

static const char usage_text[] =
    "NAME\n"
    "    azblobd - broker serving the Azure Blob device to local processes\n"
    "\n"
    "SYNOPSIS\n"
    "    azblobd [--socket PATH] [--allow FILE] [--allow-user U]... [--allow-group G]...\n"
    "            [--device GUID | --sim [--sim-backend B] [--sim-ram SIZE] [--sim-step]\n"
    "             | --sim-root DIR]\n"
    "            [--mode poll|hybrid|interrupt] [--idle-us N] [--cpu N]\n"
    "            [--max-clients N] [--max-clients-per-uid N] [--max-qd N] [--max-arena SIZE] "
    "[--ring SIZE]\n"
    "            [--device-qd N] [--copy] [--bounce-bufs N] [--bounce-size SIZE]\n"
    "            [--socket-mode OCTAL] [--ready-file PATH] [--log-level err|warn|info|debug]\n"
    "            [--cuse [--cuse-name NAME] [--cuse-arenas N]]\n"
    "    azblobd --help\n"
    "\n"
    "DESCRIPTION\n"
    "    Owns the device through its own libazblob client and serves processes\n"
    "    that attach over a unix SOCK_SEQPACKET socket. A peer is identified by\n"
    "    SO_PEERCRED and must be root or in the allow-list. Each client gets a\n"
    "    ring pair in shared memory and a data arena (a sealed memfd, hugetlb\n"
    "    when possible) which the daemon pins once; its requests are checked\n"
    "    (every buffer inside its arena) and forwarded under the daemon's own\n"
    "    trans_ids. Clients use libazblob unchanged with azblob_opts.broker or\n"
    "    AZBLOB_BROKER=PATH in the environment.\n"
    "\n"
    "OPTIONS\n"
    "    --socket PATH       listening socket (default " AZBLOB_BROKER_SOCK_PATH ")\n"
    "    --socket-mode M     its permissions (default 0666: the allow-list decides)\n"
    "    --allow FILE        allow-list: lines 'user NAME|UID' or 'group NAME|GID';\n"
    "                        re-read on SIGHUP\n"
    "    --allow-user U, --allow-group G   allow-list entries on the command line\n"
    "    --device GUID       the device (default: the first Azure Blob device)\n"
    "    --sim               serve an in-process simulated device\n"
    "    --sim-backend B     its backend: memory (default), null, dir=PATH\n"
    "    --sim-ram SIZE      its guest RAM (default: the bounce pool + 64M)\n"
    "    --sim-step          with --sim-backend null: step the null host in the\n"
    "                        daemon's own loop (no host thread; benchmarks)\n"
    "    --sim-root DIR      a simulator published by azblob-vspd --root DIR\n"
    "    --mode M            poll: busy-poll always; hybrid (default): busy-poll,\n"
    "                        sleep after --idle-us without work; interrupt: sleep\n"
    "                        whenever idle\n"
    "    --idle-us N         hybrid: idle time before sleeping (default 200)\n"
    "    --cpu N             pin the daemon to CPU N\n"
    "    --max-clients N     sessions at once, those of gone clients still waiting\n"
    "                        for the host included (default 32)\n"
    "    --max-clients-per-uid N   the same for one uid other than root (default 8)\n"
    "    --max-qd N          requests in flight per client (default 128); at most\n"
    "                        half the device queue is at the device for one client\n"
    "    --max-arena SIZE    data arena per client (default 256M)\n"
    "    --ring SIZE         each ring of a session, header page included, rounded\n"
    "                        up to whole pages (default a page + 512K: 516K\n"
    "                        with 4 KiB pages)\n"
    "    --device-qd N       the daemon's queue on the device (default 256)\n"
    "    --copy              copy each request through the daemon's pool instead of\n"
    "                        registering the clients' arenas (the default where\n"
    "                        the host reaches registered memory in place)\n"
    "    --bounce-bufs N, --bounce-size SIZE   the copy pool (--copy, or a host that\n"
    "                        reaches no registered memory in place)\n"
    "                        (default 32 buffers of 4M + 64K)\n"
    "    --ready-file PATH   created once the socket listens\n"
    "    --log-level L       err, warn, info (default), debug\n"
    "    --cuse              also serve /dev/azure_blob, the original driver's ioctl,\n"
    "                        through CUSE (needs the cuse module and root); its\n"
    "                        callers are admitted by the allow-list (docs/CUSE.md)\n"
    "    --cuse-name NAME    the device node /dev/NAME (default azure_blob)\n"
    "    --cuse-arenas N     CUSE requests staged at once, 32M each (default 4)\n"
    "\n"
    "SIGNALS\n"
    "    SIGTERM, SIGINT  drain: stop accepting, finish what is in flight, exit\n"
    "                     (--cuse: the device node goes first)\n"
    "    SIGHUP           reload the allow-list file\n"
    "    SIGUSR1          log the counters\n"
    "\n"
    "    Logs go to standard error (the journal under systemd). Counters:\n"
    "    azblob stat --broker [PATH]. Manual: docs/BROKER.md.\n";

enum {
	O_SOCKET = 0x100,
	O_ALLOW,
	O_ALLOW_USER,
	O_ALLOW_GROUP,
	O_DEVICE,
	O_SIM,
	O_SIM_BACKEND,
	O_SIM_RAM,
	O_SIM_STEP,
	O_SIM_ROOT,
	O_MODE,
	O_IDLE,
	O_CPU,
	O_MAX_CLIENTS,
	O_MAX_CLIENTS_UID,
	O_MAX_QD,
	O_MAX_ARENA,
	O_RING,
	O_DEVICE_QD,
	O_BOUNCE_BUFS,
	O_BOUNCE_SIZE,
	O_COPY,
	O_SOCKET_MODE,
	O_READY,
	O_LOG_LEVEL,
	O_CUSE,
	O_CUSE_NAME,
	O_CUSE_ARENAS,
	O_HELP
};

static const struct option long_opts[] = {
    {"socket", required_argument, NULL, O_SOCKET},
    {"allow", required_argument, NULL, O_ALLOW},
    {"allow-user", required_argument, NULL, O_ALLOW_USER},
    {"allow-group", required_argument, NULL, O_ALLOW_GROUP},
    {"device", required_argument, NULL, O_DEVICE},
    {"sim", no_argument, NULL, O_SIM},
    {"sim-backend", required_argument, NULL, O_SIM_BACKEND},
    {"sim-ram", required_argument, NULL, O_SIM_RAM},
    {"sim-step", no_argument, NULL, O_SIM_STEP},
    {"sim-root", required_argument, NULL, O_SIM_ROOT},
    {"mode", required_argument, NULL, O_MODE},
    {"idle-us", required_argument, NULL, O_IDLE},
    {"cpu", required_argument, NULL, O_CPU},
    {"max-clients", required_argument, NULL, O_MAX_CLIENTS},
    {"max-clients-per-uid", required_argument, NULL, O_MAX_CLIENTS_UID},
    {"max-qd", required_argument, NULL, O_MAX_QD},
    {"max-arena", required_argument, NULL, O_MAX_ARENA},
    {"ring", required_argument, NULL, O_RING},
    {"device-qd", required_argument, NULL, O_DEVICE_QD},
    {"bounce-bufs", required_argument, NULL, O_BOUNCE_BUFS},
    {"bounce-size", required_argument, NULL, O_BOUNCE_SIZE},
    {"copy", no_argument, NULL, O_COPY},
    {"socket-mode", required_argument, NULL, O_SOCKET_MODE},
    {"ready-file", required_argument, NULL, O_READY},
    {"log-level", required_argument, NULL, O_LOG_LEVEL},
    {"cuse", no_argument, NULL, O_CUSE},
    {"cuse-name", required_argument, NULL, O_CUSE_NAME},
    {"cuse-arenas", required_argument, NULL, O_CUSE_ARENAS},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static int usage(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(try '" PROG " --help')\n");
	return 2;
}

/* A number with an optional K/M/G suffix (1024). */
static int num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	if (*end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int azd_parse_options(struct azd *d, int argc, char **argv)
{
	struct azd_opts *o = &d->o;
	char err[256];
	uint64_t v;
	int c;

	o->socket_path = AZBLOB_BROKER_SOCK_PATH;
	o->socket_mode = 0666;
	o->mode = AZD_HYBRID;
	o->idle_us = 200;
	o->cpu = -1;
	o->max_clients = 32;
	o->max_clients_per_uid = 8;
	o->max_qd = 128; /* half the device queue: one client never fills it */
	o->max_arena = 256ull << 20;
	o->ring_bytes = (uint32_t)azd_ring_default((size_t)sysconf(_SC_PAGESIZE));
	o->device_qd = 256;
	o->bounce_bufs = 32;
	o->bounce_size = (4u << 20) + (64u << 10);
	o->max_pages = AZBLOB_MAX_PAGES;
	o->sim_backend = "memory";
	o->log_level = 6;
	o->cuse_name = "azure_blob";
	o->cuse_arenas = 4;
	azd_allow_init(&o->allow_cli);
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		const char *a = optarg;

		switch (c) {
		case O_HELP:
			fputs(usage_text, stdout);
			exit(0);
		case O_SOCKET:
			o->socket_path = a;
			break;
		case O_ALLOW:
			o->allow_file = a;
			break;
		case O_ALLOW_USER:
		case O_ALLOW_GROUP:
			if (azd_allow_add(&o->allow_cli, c == O_ALLOW_GROUP, a, err, sizeof(err)))
				return usage("%s", err);
			break;
		case O_DEVICE:
			o->device = a;
			break;
		case O_SIM:
			o->sim = true;
			break;
		case O_SIM_BACKEND:
			o->sim_backend = a;
			break;
		case O_SIM_STEP:
			o->sim_step = true;
			break;
		case O_COPY:
			o->copy = true;
			break;
		case O_SIM_ROOT:
			o->sim_root = a;
			break;
		case O_MODE:
			if (!strcmp(a, "poll"))
				o->mode = AZD_POLL;
			else if (!strcmp(a, "hybrid"))
				o->mode = AZD_HYBRID;
			else if (!strcmp(a, "interrupt"))
				o->mode = AZD_INTERRUPT;
			else
				return usage("--mode %s: poll, hybrid or interrupt", a);
			break;
		case O_LOG_LEVEL:
			o->log_level = !strcmp(a, "err")     ? 3
				       : !strcmp(a, "warn")  ? 4
				       : !strcmp(a, "info")  ? 6
				       : !strcmp(a, "debug") ? 7
							     : -1;
			if (o->log_level < 0)
				return usage("--log-level %s: err, warn, info or debug", a);
			break;
		case O_SOCKET_MODE:
			v = strtoul(a, NULL, 8);
			o->socket_mode = (uint32_t)(v & 0777);
			break;
		case O_READY:
			o->ready_file = a;
			break;
		case O_CUSE:
			o->cuse = true;
			break;
		case O_CUSE_NAME:
			if (!*a || strchr(a, '/') || strlen(a) > 64)
				return usage("--cuse-name %s: a device name (no '/')", a);
			o->cuse_name = a;
			break;
		case '?':
			return 2;
		default:
			/* the numeric options */
			if (c == O_SIM_RAM || c == O_MAX_ARENA || c == O_RING || c == O_BOUNCE_SIZE
				? num(a, 4096, 1ull << 40, &v)
				: num(a, c == O_CPU || c == O_IDLE ? 0 : 1, 1u << 30, &v))
				return usage("bad number '%s'", a);
			if (c == O_SIM_RAM)
				o->sim_ram = v;
			if (c == O_MAX_ARENA)
				o->max_arena = v;
			if (c == O_RING)
				o->ring_bytes = v > AZD_RING_MAX ? AZD_RING_MAX + 1 : (uint32_t)v;
			if (c == O_BOUNCE_SIZE)
				o->bounce_size = (uint32_t)v;
			if (c == O_IDLE)
				o->idle_us = (uint32_t)v;
			if (c == O_CPU)
				o->cpu = (int)v;
			if (c == O_MAX_CLIENTS)
				o->max_clients = (uint32_t)v;
			if (c == O_MAX_CLIENTS_UID)
				o->max_clients_per_uid = (uint32_t)v;
			if (c == O_MAX_QD)
				o->max_qd = (uint32_t)v;
			if (c == O_DEVICE_QD)
				o->device_qd = (uint32_t)v;
			if (c == O_BOUNCE_BUFS)
				o->bounce_bufs = (uint32_t)v;
			if (c == O_CUSE_ARENAS && v > 64)
				return usage("--cuse-arenas %s: 1..64", a);
			if (c == O_CUSE_ARENAS)
				o->cuse_arenas = (uint32_t)v;
			break;
		}
	}
	if (optind < argc)
		return usage("unexpected argument '%s'", argv[optind]);
	if (o->sim && o->sim_root)
		return usage("%s", "--sim and --sim-root exclude each other");
	if (o->sim_step && (!o->sim || strcmp(o->sim_backend, "null")))
		return usage("%s", "--sim-step goes with --sim --sim-backend null");
	if (o->ring_bytes < AZD_RING_MIN || o->ring_bytes > AZD_RING_MAX)
		return usage("%s", "--ring: 12K..64M");
	/* Whole kernel pages (64 KiB ones on some arm64 kernels): a client
	 * maps each ring at a page boundary and refuses anything else. */
	o->ring_bytes = (uint32_t)azd_ring_round(o->ring_bytes, (size_t)sysconf(_SC_PAGESIZE));
	if (o->device_qd > AZBLOB_QUEUE_DEPTH || o->max_qd > AZBLOB_QUEUE_DEPTH)
		return usage("%s", "--device-qd and --max-qd: at most 1024");
	if (o->max_clients > 63)
		return usage("%s", "--max-clients: at most 63 (registered arenas)");
	return 0;
}
