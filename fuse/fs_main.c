// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob-fuse: the command line, the client (opened as the CLI opens it:
 * --sim, --sim-root, the azblobd broker or the device), the mount and the
 * multithreaded FUSE loop. In the background the daemon forks before it
 * opens anything (the in-process emulator's threads would not survive a
 * later fork), and the parent exits only when the mount is up or has
 * failed, with the child's status: mount(8), fstab and systemd see the
 * real result.
 */
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "azfuse.h"
#include "fs.h"

static const char usage[] =
    "Usage: %s CONTAINER MOUNTPOINT [options]\n"
    "\n"
    "Mount an Azure Blob container as files over the VMbus fast path\n"
    "(docs/FUSE.md, azblob-fuse(8)).\n"
    "\n"
    "Where the blobs are (default: the Azure Blob device, or the azblobd\n"
    "broker named by $AZBLOB_BROKER):\n"
    "  --sim, -o sim            the in-process emulator (memory backend)\n"
    "  --backend SPEC, -o backend=SPEC   with --sim: memory, dir=PATH, rest=URL\n"
    "  --sim-root DIR, -o sim_root=DIR   a running azblob-vspd published in DIR\n"
    "  --broker PATH, -o broker=PATH     the azblobd broker at this socket\n"
    "  --device GUID, -o device=GUID     this Azure Blob device\n"
    "\n"
    "Options (-o a,b,c):\n"
    "  -o ro                    read-only: every write fails with EROFS\n"
    "  -o allow_other           other users may use the mount (root, or\n"
    "                           user_allow_other in /etc/fuse.conf)\n"
    "  -o uid=N,gid=N,umask=M   owner, group and mode of every file (0666 & ~M)\n"
    "                           and directory (0777 & ~M); default umask 022\n"
    "  -o attr_timeout=S        the kernel keeps attributes S seconds (default 1)\n"
    "  -o entry_timeout=S       the kernel keeps names S seconds (default 1)\n"
    "  -o negative_timeout=S    ... and absent names (default 0)\n"
    "  -o list_timeout=S        sizes and times from listings are reused for S\n"
    "                           seconds (default 2; 0: never)\n"
    "  -o block_size=N          bytes per ranged Get and Put Block (default 4M,\n"
    "                           64K..32M)\n"
    "  -o read_ahead=N          blocks in flight ahead of a sequential reader\n"
    "                           (default 4, 1..32)\n"
    "  -o cache_size=N          memory for blocks of every open file (default\n"
    "                           256M); beyond it reads go unbuffered\n"
    "  -o qd=N                  requests in flight (default 32)\n"
    "  -o stage_dir=DIR         staged writes in unlinked files in DIR\n"
    "                           (default: in memory, memfd)\n"
    "  -o page_cache            use the kernel's page cache (mmap works; an open\n"
    "                           file may then see pages of another version)\n"
    "  -o timeout=MS            request timeout (default 30000)\n"
    "  -o max_threads=N         FUSE worker threads (default 16)\n"
    "  -f, --foreground         stay in the foreground, log to standard error\n"
    "  -d, --debug              foreground, with FUSE's and our debug messages\n"
    "  -v, --verbose            library messages (-v -v: debug)\n"
    "  -h, --help, -V, --version\n"
    "\n"
    "Unmount: fusermount3 -u MOUNTPOINT (or umount as root).\n";

enum {
	KEY_HELP,
	KEY_VERSION,
	KEY_FG,
	KEY_DEBUG,
	KEY_VERBOSE,
	KEY_RO,
	KEY_SIM,
};

struct args {
	struct fs_conf conf;
	const char *sim_root, *device, *timeout, *bs, *ra, *cache, *qd, *lt, *threads;
	int sim, verbose;
	bool help, version;
	int npos;
};

#define OPT(t, f)                                                                                  \
	{                                                                                          \
		t, offsetof(struct args, f), 0                                                     \
	}
static const struct fuse_opt opts[] = {
    OPT("sim_root=%s", sim_root),
    OPT("--sim-root=%s", sim_root),
    OPT("--sim-root %s", sim_root),
    OPT("broker=%s", conf.broker),
    OPT("--broker=%s", conf.broker),
    OPT("--broker %s", conf.broker),
    OPT("device=%s", device),
    OPT("--device=%s", device),
    OPT("--device %s", device),
    OPT("backend=%s", conf.backend),
    OPT("--backend=%s", conf.backend),
    OPT("--backend %s", conf.backend),
    OPT("timeout=%s", timeout),
    OPT("block_size=%s", bs),
    OPT("read_ahead=%s", ra),
    OPT("cache_size=%s", cache),
    OPT("qd=%s", qd),
    OPT("list_timeout=%s", lt),
    OPT("stage_dir=%s", conf.stage_dir),
    OPT("max_threads=%s", threads),
    {"page_cache", offsetof(struct args, conf.page_cache), 1},
    /* ours, not libfuse's (which gives files 0777 & ~umask, x bits too) */
    {"umask=%o", offsetof(struct args, conf.umask), 0},
    FUSE_OPT_KEY("sim", KEY_SIM),
    FUSE_OPT_KEY("--sim", KEY_SIM),
    FUSE_OPT_KEY("ro", KEY_RO),
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_KEY("-V", KEY_VERSION),
    FUSE_OPT_KEY("--version", KEY_VERSION),
    FUSE_OPT_KEY("-f", KEY_FG),
    FUSE_OPT_KEY("--foreground", KEY_FG),
    FUSE_OPT_KEY("-d", KEY_DEBUG),
    FUSE_OPT_KEY("--debug", KEY_DEBUG),
    FUSE_OPT_KEY("-v", KEY_VERBOSE),
    FUSE_OPT_KEY("--verbose", KEY_VERBOSE),
    /* fstab and mount(8) options that mean nothing to the daemon */
    FUSE_OPT_KEY("_netdev", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nofail", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("auto", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("noauto", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("user", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("users", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("x-systemd.", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("comment=", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_END,
};

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *out)
{
	struct args *a = data;

	(void)out;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (a->npos == 0)
			a->conf.container = arg;
		else if (a->npos == 1)
			a->conf.mountpoint = arg;
		else {
			fprintf(stderr, "azblob-fuse: unexpected argument '%s'\n", arg);
			return -1;
		}
		a->npos++;
		return 0;
	case KEY_HELP:
		a->help = true;
		return 0;
	case KEY_VERSION:
		a->version = true;
		return 0;
	case KEY_FG:
		a->conf.foreground = true;
		return 0;
	case KEY_DEBUG:
		a->conf.foreground = a->conf.debug = true;
		return 1; /* libfuse's debug output too */
	case KEY_VERBOSE:
		a->verbose++;
		return 0;
	case KEY_SIM:
		a->sim = 1;
		return 0;
	case KEY_RO:
		a->conf.ro = true;
		return 1; /* the kernel refuses writes too */
	default:
		return 1;
	}
}

static int num(const char *prog, const char *name, const char *s, uint64_t min, uint64_t max,
	       uint64_t *out)
{
	if (!s)
		return 0;
	if (cli_parse_u64(s, true, min, max, out)) {
		fprintf(stderr, "%s: -o %s=%s: expected a number %llu..%llu (K, M, G allowed)\n",
			prog, name, s, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	return 0;
}

static int parse(struct args *a, struct fuse_args *fa, const char *prog)
{
	uint64_t v;
	char *end;

	a->conf.block_size = 4u << 20;
	a->conf.read_ahead = 4;
	a->conf.qd = 32;
	a->conf.cache_size = 256u << 20;
	a->conf.list_timeout = 2;
	a->conf.max_threads = 16;
	a->conf.umask = 022;
	if (fuse_opt_parse(fa, a, opts, opt_proc))
		return 2;
	if (a->help || a->version)
		return 0;
	if (a->npos != 2) {
		fprintf(stderr, usage, prog);
		return 2;
	}
	if (!azblob_container_name_ok(a->conf.container)) {
		fprintf(stderr,
			"%s: '%s': not a container name (3..63 characters of a-z, 0-9 and '-')\n",
			prog, a->conf.container);
		return 2;
	}
	if (num(prog, "block_size", a->bs, 64u << 10, 32u << 20, &v))
		return 2;
	if (a->bs)
		a->conf.block_size = (uint32_t)v;
	if (num(prog, "read_ahead", a->ra, 1, FS_MAX_RA, &v))
		return 2;
	if (a->ra)
		a->conf.read_ahead = (uint32_t)v;
	if (num(prog, "qd", a->qd, 1, 1024, &v))
		return 2;
	if (a->qd)
		a->conf.qd = (uint32_t)v;
	if (num(prog, "cache_size", a->cache, 1u << 20, 64ull << 30, &v))
		return 2;
	if (a->cache)
		a->conf.cache_size = v;
	if (num(prog, "max_threads", a->threads, 1, 256, &v))
		return 2;
	if (a->threads)
		a->conf.max_threads = (uint32_t)v;
	if (a->lt) {
		a->conf.list_timeout = strtod(a->lt, &end);
		if (*end || a->conf.list_timeout < 0 || a->conf.list_timeout > 86400) {
			fprintf(stderr, "%s: -o list_timeout=%s: seconds, 0..86400\n", prog, a->lt);
			return 2;
		}
	}
	if (a->conf.umask > 0777) {
		fprintf(stderr, "%s: -o umask=%o: octal, 0..777\n", prog, a->conf.umask);
		return 2;
	}
	if (a->conf.backend && !a->sim) {
		fprintf(stderr, "%s: --backend goes with --sim\n", prog);
		return 2;
	}
	return 0;
}

/* Open the client as the CLI does, and check that the container is there
 * (and that we may use it): 0 or an exit status, with a message. */
static int open_client(struct fs *fs, const struct args *a, const char *prog)
{
	struct cli_client_opts co = {0};
	struct azblob_blob_list_opts lo = {.max_results = 1, .one_page = true};
	struct azblob_blob_status st;
	uint64_t bufs;
	int rc;

	fs->cli.cmd = "mount";
	fs->cli.sim = a->sim;
	fs->cli.sim_root = a->sim_root;
	fs->cli.device = a->device;
	fs->cli.verbose = a->verbose;
	if (a->timeout && cli_opt_u32(&fs->cli, "timeout", a->timeout, false, 1,
				      AZBLOB_MAX_TIMEOUT_MS, &fs->cli.timeout_ms))
		return 2;
	if (a->conf.broker && setenv("AZBLOB_BROKER", a->conf.broker, 1))
		return 1;
	bufs = a->conf.cache_size / (a->conf.block_size + FS_HEADS);
	if (bufs < a->conf.qd + 8)
		bufs = a->conf.qd + 8;
	if (bufs > 4096)
		bufs = 4096;
	co.queue_depth = a->conf.qd;
	co.pool_buf_size = a->conf.block_size + FS_HEADS;
	co.pool_bufs = (uint32_t)bufs;
	co.sim_ram_bytes = (uint64_t)co.pool_buf_size * co.pool_bufs + (64u << 20);
	fs->bufs_total = (uint32_t)bufs;
	if (a->sim) {
		char name[16];
		const char *spec = a->conf.backend ? a->conf.backend : "memory";
		const char *eq = strchr(spec, '=');

		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - spec) : (int)strlen(spec),
			 spec);
		if ((rc = cli_start_sim(&fs->cli, co.sim_ram_bytes, name, eq ? eq + 1 : NULL)))
			return rc;
	}
	if ((rc = cli_open(&fs->cli, &co)))
		return rc;
	rc = azblob_blob_list(fs->cli.c, fs->conf.container, &lo, NULL, NULL, &st);
	if (rc == -ENOENT && a->sim && (!a->conf.backend || !strncmp(a->conf.backend, "memory", 6)))
		/* the emulator's memory starts empty: the container is made */
		rc = azblob_container_create(fs->cli.c, fs->conf.container, &st);
	if (rc) {
		fprintf(stderr, "%s: container %s: %s%s%s\n", prog, fs->conf.container,
			rc == -ENOENT ? "no such container" : strerror(-rc),
			st.error_code[0] ? " - " : "", st.error_code);
		return 1;
	}
	return 0;
}

/* Background: fork now; the parent waits for the child's word. Returns
 * the fd the child reports on (-1 in the foreground). */
static int background(const char *prog)
{
	int p[2];
	pid_t pid;
	char status = 1;

	if (pipe2(p, O_CLOEXEC)) {
		fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &status, 1) != 1)
			status = 1; /* the child died before it could say */
		_exit(status);
	}
	close(p[0]);
	setsid();
	return p[1];
}

static void report(int fd, char status)
{
	if (fd >= 0) {
		if (write(fd, &status, 1) != 1) {
			/* the parent is gone: nothing to tell */
		}
		close(fd);
	}
}

int azfuse_main(int argc, char **argv)
{
	const char *prog = argv[0];
	struct fuse_args fa = FUSE_ARGS_INIT(argc, argv);
	struct fuse_loop_config *lc = NULL;
	struct fuse *f = NULL;
	struct args a = {0};
	struct fs fs;
	struct stat sb;
	int rc, pipefd = -1, nul;
	bool mounted = false;

	memset(&fs, 0, sizeof(fs));
	signal(SIGPIPE, SIG_IGN);
	if ((rc = parse(&a, &fa, prog)))
		goto out_args;
	if (a.help) {
		printf(usage, prog);
		goto out_args;
	}
	if (a.version) {
		printf("azblob-fuse %s (libuvmbus), FUSE %d\n", uvmbus_version(), fuse_version());
		goto out_args;
	}
	fs.conf = a.conf;
	if (stat(fs.conf.mountpoint, &sb) || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "%s: %s: not a directory\n", prog, fs.conf.mountpoint);
		rc = 1;
		goto out_args;
	}
	fs.uid = getuid();
	fs.gid = getgid();
	pthread_mutex_init(&fs.io, NULL);
	pthread_mutex_init(&fs.meta, NULL);
	if (!fs.conf.foreground) {
		openlog("azblob-fuse", LOG_PID, LOG_DAEMON);
		pipefd = background(prog);
	}
	if ((rc = open_client(&fs, &a, prog)))
		goto out;
	/* The first queue, made before any other thread uses the client,
	 * turns it into shared mode: open files read on queues of their own
	 * while the helpers run on the client. */
	if ((rc = azblob_queue_create(fs.cli.c, 1, &fs.q0))) {
		fprintf(stderr, "%s: a queue on the client: %s\n", prog, strerror(-rc));
		rc = 1;
		goto out;
	}
	/* fsname and subtype as mount(8) shows them: CONTAINER on MOUNTPOINT
	 * type fuse.azblob-fuse */
	{
		char o[128];

		snprintf(o, sizeof(o), "-ofsname=azblob:%s,subtype=azblob-fuse", fs.conf.container);
		fuse_opt_add_arg(&fa, o);
		fuse_opt_add_arg(&fa, "-odefault_permissions");
	}
	f = fuse_new(&fa, &fs_ops, sizeof(fs_ops), &fs);
	if (!f) {
		fprintf(stderr, "%s: bad FUSE options (-h lists them)\n", prog);
		rc = 2;
		goto out;
	}
	if (fuse_mount(f, fs.conf.mountpoint)) {
		fprintf(stderr, "%s: cannot mount on %s (see the message above)\n", prog,
			fs.conf.mountpoint);
		rc = 1;
		goto out;
	}
	mounted = true;
	if (fuse_set_signal_handlers(fuse_get_session(f))) {
		rc = 1;
		goto out;
	}
	fs_log(&fs, LOG_INFO, "container %s mounted on %s%s", fs.conf.container, fs.conf.mountpoint,
	       fs.conf.ro ? " (read-only)" : "");
	if (pipefd >= 0) {
		report(pipefd, 0);
		pipefd = -1;
		if (chdir("/")) {
			/* the mount point stays reachable by its absolute path */
		}
		nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
			if (nul > 2)
				close(nul);
		}
	}
	lc = fuse_loop_cfg_create();
	if (!lc) {
		rc = 1;
		goto out;
	}
	fuse_loop_cfg_set_max_threads(lc, fs.conf.max_threads);
	fuse_loop_cfg_set_clone_fd(lc, 1);
	/* > 0: the signal (SIGTERM, SIGINT, SIGHUP) that ended it: a clean stop */
	rc = fuse_loop_mt(f, lc) < 0 ? 1 : 0;
	fuse_remove_signal_handlers(fuse_get_session(f));
	fs_log(&fs, LOG_INFO, "container %s unmounted from %s", fs.conf.container,
	       fs.conf.mountpoint);
out:
	if (lc)
		fuse_loop_cfg_destroy(lc);
	if (f) {
		if (mounted)
			fuse_unmount(f);
		fuse_destroy(f);
	}
	report(pipefd, (char)(rc ? rc : 1));
	if (fs.q0)
		azblob_queue_destroy(fs.q0);
	cli_close(&fs.cli);
	fs_meta_free(&fs);
out_args:
	fuse_opt_free_args(&fa);
	/* the strings fuse_opt_parse() copied */
	free((char *)a.sim_root);
	free((char *)a.device);
	free((char *)a.timeout);
	free((char *)a.bs);
	free((char *)a.ra);
	free((char *)a.cache);
	free((char *)a.qd);
	free((char *)a.lt);
	free((char *)a.threads);
	free((char *)a.conf.broker);
	free((char *)a.conf.backend);
	free((char *)a.conf.stage_dir);
	return rc;
}
