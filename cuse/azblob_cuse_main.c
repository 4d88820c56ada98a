// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob-cuse: the CUSE front end (cuse_fe.c) hosted on its own, over a
 * client of the azblobd broker (--broker SOCKET: the usual set-up, the
 * broker owns the device), of a real device, of a simulator published
 * under a directory, or of an in-process simulator (--sim). --allow FILE
 * reads the broker's allow-list file (allow.h). It stands in for `azblobd --cuse`
 * where the broker is not built, and drives the QEMU test (cuse_qemu).
 * Its allow-list is a list of uids and gids (--allow-uid, --allow-gid),
 * with the broker's rules: root always passes, others when their uid,
 * primary gid or a supplementary group is listed (an empty list: root
 * only).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <azblob/sim.h>

#include "allow.h"
#include "cuse.h"

#define MAX_IDS 64

struct allow {
	unsigned long uids[MAX_IDS], gids[MAX_IDS];
	unsigned nuid, ngid;
	struct azd_allow file; /* --allow FILE: the broker's allow-list file */
	bool have_file;
};

static bool listed(const unsigned long *v, unsigned n, unsigned long id)
{
	for (unsigned i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

/* The caller's groups, all of them (allow.h), or false with a message. */
static bool proc_groups(pid_t pid, gid_t gid, gid_t **g, size_t *n)
{
	int rc = azd_proc_groups(pid, gid, g, n);

	if (rc)
		fprintf(stderr, "azblob-cuse: pid %d refused: cannot read its groups: %s\n",
			(int)pid, strerror(-rc));
	return !rc;
}

/* Supplementary groups of pid from /proc (the kernel's own list). */
static bool group_listed(const struct allow *a, pid_t pid, gid_t gid)
{
	bool hit = false;
	gid_t *g;
	size_t n;

	if (!proc_groups(pid, gid, &g, &n))
		return false;
	for (size_t i = 1; i < n && !hit; i++)
		hit = listed(a->gids, a->ngid, g[i]);
	free(g);
	return hit;
}

/* The broker's check (allow.h) with the caller's groups from /proc. */
static bool file_allows(const struct allow *a, uid_t uid, gid_t gid, pid_t pid)
{
	bool ok;
	gid_t *g;
	size_t n;

	if (azd_allow_check(&a->file, uid, NULL, 0))
		return true;
	if (!proc_groups(pid, gid, &g, &n))
		return false;
	ok = azd_allow_check(&a->file, uid, g, n);
	free(g);
	return ok;
}

static bool may_use(void *ctx, uid_t uid, gid_t gid, pid_t pid)
{
	const struct allow *a = ctx;

	if (a->have_file && file_allows(a, uid, gid, pid))
		return true;
	return uid == 0 || listed(a->uids, a->nuid, uid) || listed(a->gids, a->ngid, gid) ||
	       group_listed(a, pid, gid);
}

static int parse_ids(const char *s, unsigned long *v, unsigned *n)
{
	char *end;

	for (;;) {
		if (*n == MAX_IDS)
			return -1;
		v[(*n)++] = strtoul(s, &end, 10);
		if (end == s)
			return -1;
		if (!*end)
			return 0;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

static void log_stderr(void *arg, enum uvmbus_log_level level, const char *msg)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "azblob-cuse: %s\n", msg);
}

static const char usage[] =
    "usage: azblob-cuse [--sim | --sim-root DIR | --broker SOCKET] [--device GUID] [--arenas N]\n"
    "                   [--allow FILE] [--allow-uid U[,U...]] [--allow-gid G[,G...]]\n"
    "                   [--name NAME] [-d]\n"
    "Serves /dev/NAME (default azure_blob), the original Azure Blob driver's ioctl,\n"
    "through CUSE (needs /dev/cuse and root). docs/CUSE.md.\n";

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"sim", no_argument, NULL, 's'},
					   {"sim-root", required_argument, NULL, 'r'},
					   {"device", required_argument, NULL, 'g'},
					   {"arenas", required_argument, NULL, 'a'},
					   {"allow-uid", required_argument, NULL, 'u'},
					   {"allow-gid", required_argument, NULL, 'G'},
					   {"name", required_argument, NULL, 'n'},
					   {"help", no_argument, NULL, 'h'},
					   {"broker", required_argument, NULL, 'b'},
					   {"allow", required_argument, NULL, 'f'},
					   {NULL, 0, NULL, 0}};
	struct uvmbus_log log = {.fn = log_stderr};
	struct allow allow = {0};
	struct azcuse_opts o;
	struct azblob_opts co;
	struct azblob_sim *sim = NULL;
	struct azblob_client *c;
	bool want_sim = false;
	int opt, rc;

	azcuse_opts_init(&o);
	azblob_opts_init(&co);
	while ((opt = getopt_long(argc, argv, "dh", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			want_sim = true;
			break;
		case 'r':
			co.sim_root = optarg;
			break;
		case 'g':
			co.device_guid = optarg;
			break;
		case 'a':
			o.arenas = (unsigned)strtoul(optarg, NULL, 10);
			if (!o.arenas || o.arenas > 64) {
				fputs("azblob-cuse: --arenas takes 1..64\n", stderr);
				return 2;
			}
			break;
		case 'u':
		case 'G':
			if (opt == 'u' ? parse_ids(optarg, allow.uids, &allow.nuid)
				       : parse_ids(optarg, allow.gids, &allow.ngid)) {
				fprintf(stderr, "azblob-cuse: bad id list '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n':
			o.devname = optarg;
			break;
		case 'b':
			co.broker = optarg;
			break;
		case 'f': {
			char err[256];

			azd_allow_init(&allow.file);
			if (azd_allow_load(&allow.file, optarg, err, sizeof(err))) {
				fprintf(stderr, "azblob-cuse: %s\n", err);
				return 2;
			}
			allow.have_file = true;
			break;
		}
		case 'd':
			o.debug = true;
			break;
		default:
			fputs(usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	o.may_use = may_use;
	o.may_use_ctx = &allow;
	o.log = log;
	co.log = log;
	azcuse_client_opts(&co, o.arenas);
	if (want_sim) {
		struct azblob_sim_opts so;

		azblob_sim_opts_init(&so);
		so.ram_bytes = (uint64_t)o.arenas * 32 * 1024 * 1024 + 64 * 1024 * 1024;
		so.no_hugetlb = true;
		so.log = log;
		rc = azblob_sim_create(&sim, &so);
		if (!rc)
			rc = azblob_sim_start(sim);
		if (rc) {
			fprintf(stderr, "azblob-cuse: simulator: %s\n", strerror(-rc));
			return 1;
		}
		co.sim_root = azblob_sim_root(sim);
	}
	rc = azblob_open(&c, &co);
	if (rc) {
		fprintf(stderr, "azblob-cuse: open the device: %s\n", strerror(-rc));
		if (sim)
			azblob_sim_destroy(sim);
		return 1;
	}
	rc = azcuse_serve(c, &o);
	azblob_close(c);
	if (sim)
		azblob_sim_destroy(sim);
	return rc ? 1 : 0;
}
