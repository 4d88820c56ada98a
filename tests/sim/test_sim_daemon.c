/* sim_daemon: azblob-vspd as a separate process. It starts, publishes its
 * tree (the ready file), serves a guest on the real device and memory
 * layers, prints statistics on SIGUSR1, rescinds on SIGUSR2, and shuts
 * down cleanly on SIGTERM with no leftover files; --help and bad
 * arguments exit as documented.
 *
 * A plain program: argv[1] is the daemon. Any failure prints what and
 * where, the daemon's stderr, and exits 1; the daemon is always killed. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim_guest.h"

static const char *vspd;
static char base[] = "/tmp/vspd-test-XXXXXX";
static char err_path[600], out_path[600];
static char default_root[600]; /* a root the daemon chose: removed if left */
static volatile pid_t child = -1;

/* ---- failing loudly ---- */

static void dump_file(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return;
	fprintf(stderr, "---- %s ----\n", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "---- end ----\n");
	fclose(f);
}

static void fail_at(int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

static void fail_at(int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s:%d: %s", __FILE__, line, cond);
	if (fmt[0]) {
		fputs(": ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	if (err_path[0])
		dump_file(err_path);
	exit(1);
}

#define CHECKF(c, ...)                                                                             \
	do {                                                                                       \
		if (!(c))                                                                          \
			fail_at(__LINE__, #c, __VA_ARGS__);                                        \
	} while (0)
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			fail_at(__LINE__, #c, "%s", "");                                           \
	} while (0)

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_tree(const char *path)
{
	if (path[0] && access(path, F_OK) == 0)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Wait up to ms for pid; its wait status, or -1 if it still runs. */
static int wait_exit(pid_t pid, int ms)
{
	for (int i = 0; i <= ms / 10; i++) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			if (pid == child)
				child = -1;
			return st;
		}
		if (r < 0)
			return -1;
		usleep(10000);
	}
	return -1;
}

static void cleanup(void)
{
	pid_t pid = child;

	if (pid > 0) {
		kill(pid, SIGTERM); /* let it remove its tree */
		if (wait_exit(pid, 3000) < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		child = -1;
	}
	rm_tree(default_root);
	rm_tree(base);
}

static void watchdog(int sig)
{
	static const char msg[] = "FAIL: sim_daemon watchdog: the test hung\n";
	pid_t pid = child;

	(void)sig;
	if (pid > 0)
		kill(pid, SIGKILL);
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(1);
}

/* ---- the daemon ---- */

/* Start the daemon with args (NULL-terminated); stdout and stderr go to
 * files in base named after `tag`. */
static pid_t spawn(const char *tag, const char *const *args)
{
	const char *argv[40];
	pid_t parent = getpid(), pid;
	int n = 0;

	snprintf(out_path, sizeof(out_path), "%s/%s.out", base, tag);
	snprintf(err_path, sizeof(err_path), "%s/%s.err", base, tag);
	argv[n++] = vspd;
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	CHECKF(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		/* If the test dies, the daemon stops (and cleans up). */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent || out < 0 || err < 0 || dup2(out, 1) < 0 ||
		    dup2(err, 2) < 0)
			_exit(127);
		execv(vspd, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Run the daemon to completion (bounded); its exit status. */
static int run(const char *tag, const char *const *args)
{
	pid_t pid = spawn(tag, args);
	int st;

	child = pid;
	st = wait_exit(pid, 10000);
	CHECKF(st >= 0, "%s: the daemon did not exit", tag);
	CHECKF(WIFEXITED(st), "%s: killed by signal %d", tag, WTERMSIG(st));
	CHECKF(WEXITSTATUS(st) != 127, "%s: cannot exec %s", tag, vspd);
	return WEXITSTATUS(st);
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return n;
}

static bool file_has(const char *path, const char *needle)
{
	static char buf[1 << 16];

	slurp(path, buf, sizeof(buf));
	return strstr(buf, needle) != NULL;
}

/* Wait (bounded) until `path` has `needle`. */
static bool wait_for_text(const char *path, const char *needle, int ms)
{
	for (int i = 0; i <= ms / 10; i++) {
		if (file_has(path, needle))
			return true;
		usleep(10000);
	}
	return false;
}

/* Wait up to 10 s for the ready file; the daemon must not exit meanwhile.
 * Returns the root it names. */
static void wait_ready(const char *ready, char *root, size_t cap)
{
	for (int i = 0; i < 1000 && access(ready, F_OK); i++) {
		int st = 0;

		CHECKF(waitpid(child, &st, WNOHANG) == 0,
		       "the daemon exited before it was ready (status %#x)", st);
		usleep(10000);
	}
	CHECKF(access(ready, F_OK) == 0, "no ready file %s after 10 s", ready);
	size_t n = slurp(ready, root, cap);

	CHECKF(n > 1 && root[n - 1] == '\n', "ready file '%s'", root);
	root[n - 1] = '\0';
}

static void stop_daemon(pid_t pid)
{
	int st;

	CHECK(kill(pid, SIGTERM) == 0);
	st = wait_exit(pid, 10000);
	CHECKF(st >= 0, "the daemon did not stop within 10 s of SIGTERM");
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %#x", st);
}

/* ---- the guest ---- */

static struct tguest t;

static void attach(const char *root)
{
	int rc;

	memset(&t, 0, sizeof(t));
	t.g.event_fd = t.g.ram_fd = -1;
	rc = tguest_attach(&t, root, NULL);
	CHECKF(rc == 0, "attach to %s: %s", root, strerror(-rc));
}

static void detach(void)
{
	tguest_close(&t); /* t.sim is NULL: the sim is not ours */
}

/* Send a request whose head is `head` (request at 0, response at 4096)
 * and wait for its completion. */
static struct tcompl call(uint64_t tid, const char *head, uint32_t data_off, uint32_t data_len,
			  uint32_t data_valid)
{
	struct treq q = {.tid = tid,
			 .data_off = data_off,
			 .data_len = data_len,
			 .data_valid = data_valid,
			 .req_off = 0,
			 .req_len = (uint32_t)strlen(head),
			 .resp_off = 4096,
			 .resp_len = 1024,
			 .timeout_ms = 30000};
	struct tcompl c;
	int rc;

	memcpy(t.buf, head, strlen(head));
	memset(t.buf + 4096, 0, 1024);
	rc = tsend(&t, &q);
	CHECKF(rc == 0, "send %llu: %s", (unsigned long long)tid, strerror(-rc));
	rc = trecv(&t, &c, 5000);
	CHECKF(rc == 0, "completion of %llu: %s", (unsigned long long)tid, strerror(-rc));
	CHECKF(c.tid == tid, "tid %llu, want %llu", (unsigned long long)c.tid,
	       (unsigned long long)tid);
	return c;
}

static const char noop_head[] = "GET /$sim/noop HTTP/1.1\r\nx-ms-version: 2021-08-06\r\n\r\n";

static const char *resp(void)
{
	return (const char *)t.buf + 4096;
}

/* ---- the cases ---- */

static void help_and_usage(void)
{
	static const char *const sections[] = {"NAME",	  "SYNOPSIS",	 "DESCRIPTION",
					       "OPTIONS", "FAULTS",	 "SIGNALS",
					       "FILES",	  "EXIT STATUS", "EXAMPLES"};
	static const char *const bad[][3] = {
	    {"--bogus"},
	    {"--ram", "3M"},
	    {"--ram", "1X"},
	    {"--ring", "5000"},
	    {"--monitor", "128"},
	    {"--cpu", "-1"},
	    {"--backend", "s3"},
	    {"--backend", "dir="},
	    {"--fault", "nope=1"},
	    {"--fault", "drop=-5"},
	    {"--fault", "stop_draining=maybe"},
	    {"--guid", "xyz"},
	    {"--relid", "0"},
	    {"--log-level", "loud"},
	    {"stray"},
	    {"--root"},
	    {"--poll=1"},
	};
	char ready[600], pid[600];
	const char *help[] = {"--help", NULL};

	CHECKF(run("help", help) == 0, "--help exits 0");
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		CHECKF(file_has(out_path, sections[i]), "--help has no %s", sections[i]);

	snprintf(ready, sizeof(ready), "%s/ready", base);
	snprintf(pid, sizeof(pid), "%s/pid", base);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = {"--ready-file", ready,	 "--pid-file", pid,
				      bad[i][0],      bad[i][1], bad[i][2],    NULL};
		int rc = run("usage", args);

		CHECKF(rc == 2, "%s %s: exit %d, want 2", bad[i][0], bad[i][1] ? bad[i][1] : "",
		       rc);
		CHECKF(file_has(err_path, "--help"), "%s: no hint on stderr", bad[i][0]);
		CHECKF(access(ready, F_OK) && access(pid, F_OK), "%s: files left", bad[i][0]);
	}

	/* Runtime failure: the root exists already. Exit 1, the directory is
	 * left alone, no ready file, the pid file removed. */
	const char *exists[] = {"--root", base,	   "--ready-file", ready,	   "--pid-file",
				pid,	  "--ram", "64M",	   "--no-hugetlb", NULL};

	CHECKF(run("exists", exists) == 1, "an existing root exits 1");
	CHECK(access(base, F_OK) == 0);
	CHECK(access(ready, F_OK) && access(pid, F_OK));
	CHECK(file_has(err_path, "err: "));
	printf("ok - --help exits 0 with every section; %zu bad arguments exit 2; "
	       "an existing root exits 1\n",
	       sizeof(bad) / sizeof(bad[0]));
}

static void serve_and_stop(void)
{
	char root[600], ready[600], pidf[600], got[700], want[700];
	struct tcompl c;
	pid_t pid;

	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(ready, sizeof(ready), "%s/ready", base);
	snprintf(pidf, sizeof(pidf), "%s/pid", base);
	const char *args[] = {"--root", root,  "--ready-file", ready,	      "--pid-file", pidf,
			      "--ram",	"64M", "--no-hugetlb", "--log-level", "debug",	    NULL};

	pid = child = spawn("serve", args);
	wait_ready(ready, got, sizeof(got));
	CHECKF(!strcmp(got, root), "ready file names '%s', want '%s'", got, root);
	snprintf(want, sizeof(want), "%ld\n", (long)pid);
	slurp(pidf, got, sizeof(got));
	CHECKF(!strcmp(got, want), "pid file '%s', want '%s'", got, want);
	snprintf(want, sizeof(want), "%s\n", root);
	slurp(out_path, got, sizeof(got));
	CHECKF(!strcmp(got, want), "stdout '%s', want the root", got);

	attach(root);
	for (uint64_t tid = 1; tid <= 5; tid++) {
		c = call(tid, noop_head, 0, 0, 0);
		CHECKF(c.status == 0, "noop %llu: status %#x", (unsigned long long)tid, c.status);
		CHECKF(!strncmp(resp(), "HTTP/1.1 200 OK\r\n", 17), "%.40s", resp());
	}

	/* A blob through the memory backend: container, put, get, a miss. */
	c = call(6, "PUT /photos?restype=container HTTP/1.1\r\n\r\n", 0, 0, 0);
	CHECKF(c.status == 0 && !strncmp(resp(), "HTTP/1.1 201", 12), "%.40s", resp());
	for (int i = 0; i < 10000; i++)
		t.buf[65536 + 100 + i] = (uint8_t)(i * 7);
	c = call(7, "PUT /photos/a/b.jpg HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\n\r\n",
		 65536 + 100, 10000, 10000);
	CHECKF(c.status == 0 && !strncmp(resp(), "HTTP/1.1 201", 12), "%.40s", resp());
	memset(t.buf + 200000, 0, 20000);
	c = call(8, "GET /photos/a/b.jpg HTTP/1.1\r\n\r\n", 200000, 20000, 0);
	CHECKF(c.status == 0 && strstr(resp(), "Content-Length: 10000"), "%.100s", resp());
	CHECK(!memcmp(t.buf + 200000, t.buf + 65536 + 100, 10000));
	c = call(9, "GET /photos/nope HTTP/1.1\r\n\r\n", 200000, 20000, 0);
	CHECKF(c.status == 0 && strstr(resp(), "x-ms-error-code: BlobNotFound"), "%.100s", resp());

	/* SIGUSR1: one stats line on stderr, counting what we did. */
	CHECK(kill(pid, SIGUSR1) == 0);
	CHECKF(wait_for_text(err_path, "stats: requests=9 completions=9 errors=0", 5000),
	       "no stats line after SIGUSR1");
	CHECK(file_has(err_path, "bytes_in=10000 bytes_out=10000 reused_buffers=0 violations=0"));
	CHECK(file_has(err_path, "Z info: ")); /* timestamped, levelled lines */
	detach();

	stop_daemon(pid);
	CHECKF(access(root, F_OK) && errno == ENOENT, "root %s left behind", root);
	CHECKF(access(ready, F_OK) && errno == ENOENT, "ready file left behind");
	CHECKF(access(pidf, F_OK) && errno == ENOENT, "pid file left behind");
	CHECK(file_has(err_path, "SIGTERM from pid"));
	CHECK(file_has(err_path, "stats at exit: requests=9 "));
	printf("ok - served 9 requests in a separate process; SIGUSR1 stats; SIGTERM exits 0 "
	       "and removes the tree, the ready and the pid files\n");
}

static void options_faults_rescind(void)
{
	char ready[600], store[600], root[600], path[1400];
	struct tcompl c;
	pid_t pid;
	int rc;

	snprintf(ready, sizeof(ready), "%s/ready2", base);
	snprintf(store, sizeof(store), "%s/store", base);
	snprintf(path, sizeof(path), "dir=%s", store);
	const char *args[] = {"--ready-file",
			      ready,
			      "--ram",
			      "64M",
			      "--no-hugetlb",
			      "--backend",
			      path,
			      "--fault",
			      "duplicate=1",
			      "--monitor",
			      "5",
			      "--relid",
			      "20",
			      "--numa-node",
			      "1",
			      "--guid",
			      "0F2A6B1D-1111-4222-8333-944455556666",
			      "--seed",
			      "7",
			      "--ring",
			      "64K",
			      "--log-level",
			      "warn",
			      "--poll",
			      "--cpu",
			      "0",
			      NULL};

	pid = child = spawn("opts", args);
	wait_ready(ready, root, sizeof(root));
	snprintf(default_root, sizeof(default_root), "%s", root); /* removed if left */
	CHECKF(strstr(root, "/azblob-sim-"), "default root '%s'", root);
	CHECK(!file_has(err_path, "info: ")); /* --log-level warn */

	attach(root);
	const struct uvmbus_dev_info *info = uvmbus_dev_get_info(t.dev);

	CHECKF(!strcmp(info->guid, "0f2a6b1d-1111-4222-8333-944455556666"), "%s", info->guid);
	CHECK(info->relid == 20 && info->monitor_id == 5 && info->numa_node == 1);

	/* --fault duplicate=1: the first completion comes twice. */
	c = call(1, noop_head, 0, 0, 0);
	rc = trecv(&t, &c, 5000);
	CHECKF(rc == 0 && c.tid == 1, "duplicate: rc %d tid %llu", rc, (unsigned long long)c.tid);
	c = call(2, noop_head, 0, 0, 0);
	CHECK(c.status == 0);

	/* --backend dir=PATH: a container is a directory. */
	c = call(3, "PUT /box?restype=container HTTP/1.1\r\n\r\n", 0, 0, 0);
	CHECKF(c.status == 0 && !strncmp(resp(), "HTTP/1.1 201", 12), "%.40s", resp());
	snprintf(path, sizeof(path), "%s/box", store);
	struct stat sb;

	CHECKF(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode), "%s", path);

	/* SIGUSR2: rescind. The guest's wait fails with ENODEV, the socket
	 * goes away, and the daemon keeps running. */
	CHECK(kill(pid, SIGUSR2) == 0);
	rc = 0;
	for (int i = 0; i < 500 && rc != -ENODEV; i++)
		rc = uvmbus_chan_wait(t.ch, 10);
	CHECKF(rc == -ENODEV, "after SIGUSR2: %d", rc);
	snprintf(path, sizeof(path), "%s/vspd.sock", root);
	for (int i = 0; i < 500 && access(path, F_OK) == 0; i++)
		usleep(10000);
	CHECKF(access(path, F_OK) && errno == ENOENT, "%s still there after the rescind", path);
	CHECK(waitpid(pid, NULL, WNOHANG) == 0);
	detach();

	stop_daemon(pid);
	CHECKF(access(root, F_OK) && errno == ENOENT, "root %s left behind", root);
	CHECK(access(ready, F_OK) && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/box", store);
	CHECK(access(path, F_OK) == 0); /* the dir backend's data is kept */
	default_root[0] = '\0';
	printf("ok - default root, dir backend, --fault, --poll, --cpu, --monitor, --relid, "
	       "--guid, --numa-node; SIGUSR2 rescinds; clean stop\n");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-azblob-vspd\n", argv[0]);
		return 2;
	}
	vspd = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECKF(access(vspd, X_OK) == 0, "%s: %s", vspd, strerror(errno));
	CHECKF(mkdtemp(base), "mkdtemp: %s", strerror(errno));
	atexit(cleanup);
	signal(SIGALRM, watchdog);
	alarm(100);

	help_and_usage();
	serve_and_stop();
	options_faults_rescind();
	printf("sim_daemon: all passed\n");
	return 0;
}
