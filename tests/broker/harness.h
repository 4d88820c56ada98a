/* An azblobd for the broker tests: a simulator in this process (so the
 * test reads its counters: reused buffers, violations), the daemon as a
 * child attached to it with --sim-root, its STATS read over the socket. */
#ifndef TEST_BROKER_HARNESS_H
#define TEST_BROKER_HARNESS_H

#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <azblob.h>
#include <azblob/blob.h>
#include <azblob/broker_proto.h>
#include <azblob/sim.h>

struct bh {
	struct azblob_sim *sim;
	pid_t pid;
	char dir[64];
	char sock[100];
	bool copy; /* the daemon was started with --copy */
};

#define BH_FAIL(...)                                                                               \
	do {                                                                                       \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                               \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fprintf(stderr, "\n");                                                             \
		exit(1);                                                                           \
	} while (0)
#define BH_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond))                                                                       \
			BH_FAIL(__VA_ARGS__);                                                      \
	} while (0)

static inline void bh_sleep_ms(unsigned ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&t, NULL);
}

static inline uint64_t bh_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The sim's and the test clients' warnings, on stderr: a failure in a
 * test says what the host or the library saw. */
static inline void bh_log(void *arg, enum uvmbus_log_level level, const char *msg)
{
	fprintf(stderr, "%s: %s\n", (const char *)arg, msg);
	(void)level;
}

/* Start the sim (faults may be NULL) and `azblobd --sim-root ... extra`. */
static inline void bh_start(struct bh *h, const char *azblobd, const char *const *extra,
			    const struct azblob_sim_faults *faults)
{
	struct azblob_sim_opts so;
	char ready[160];
	int rc;

	memset(h, 0, sizeof(*h));
	for (int i = 0; extra && extra[i]; i++)
		h->copy |= !strcmp(extra[i], "--copy");
	azblob_sim_opts_init(&so);
	so.ram_bytes = 320u << 20;
	so.no_hugetlb = true;
	so.log = (struct uvmbus_log){bh_log, (void *)"sim", UVMBUS_LOG_WARN};
	so.kernel = getenv("AZBLOB_SIM_KERNEL"); /* a kernel profile, when named */
	if (faults)
		so.faults = *faults;
	rc = azblob_sim_create(&h->sim, &so);
	if (!rc)
		rc = azblob_sim_start(h->sim);
	BH_CHECK(!rc, "simulator: %s", strerror(-rc));
	snprintf(h->dir, sizeof(h->dir), "/tmp/broker-test-XXXXXX");
	BH_CHECK(mkdtemp(h->dir), "mkdtemp: %s", strerror(errno));
	snprintf(h->sock, sizeof(h->sock), "%s/azblobd.sock", h->dir);
	snprintf(ready, sizeof(ready), "%s/ready", h->dir);
	h->pid = fork();
	if (h->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		const char *argv[40] = {azblobd,    "--sim-root",  azblob_sim_root(h->sim),
					"--socket", h->sock,	   "--ready-file",
					ready,	    "--log-level", "debug"};
		int n = 9;

		for (int i = 0; extra && extra[i] && n < 38; i++)
			argv[n++] = extra[i];
		execv(azblobd, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		int st;

		if (access(ready, F_OK) == 0)
			return;
		BH_CHECK(waitpid(h->pid, &st, WNOHANG) != h->pid, "azblobd exited early (%#x)", st);
		bh_sleep_ms(10);
	}
	BH_FAIL("azblobd did not get ready");
}

/* The daemon's STATS text into buf: its length, or a negative errno. */
static inline int bh_stats(const struct bh *h, char *buf, size_t cap)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct azblob_broker_hello hi = {.magic = AZBLOB_BROKER_MAGIC,
					 .version = AZBLOB_BROKER_VERSION,
					 .op = AZBLOB_BROKER_STATS};
	static char msg[sizeof(struct azblob_broker_welcome) + AZBLOB_BROKER_STATS_MAX];
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ssize_t n;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", h->sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    send(fd, &hi, sizeof(hi), 0) != sizeof(hi)) {
		int err = errno;

		close(fd);
		return -err;
	}
	n = recv(fd, msg, sizeof(msg) - 1, 0);
	close(fd);
	if (n < (ssize_t)sizeof(struct azblob_broker_welcome))
		return -EPROTO;
	msg[n] = 0;
	n -= (ssize_t)sizeof(struct azblob_broker_welcome);
	if (!cap)
		return -EINVAL;
	if ((size_t)n >= cap)
		n = (ssize_t)cap - 1;
	memcpy(buf, msg + sizeof(struct azblob_broker_welcome), (size_t)n);
	buf[n] = 0;
	return (int)n;
}

/* The number after "key " in the text (first match), or -1. */
static inline long long bh_num(const char *text, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), " %s ", key);
	p = strstr(text, k);
	return p ? strtoll(p + strlen(k), NULL, 10) : -1;
}

/* What a process has open (for a failure message). */
static inline void bh_show_fds(pid_t pid)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "ls -l /proc/%d/fd >&2", (int)pid);
	if (system(cmd)) {
	}
}

/* Open file descriptors of a process. */
static inline int bh_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The daemon's fd count once it settles at `want` (a STATS connection
 * just answered is closed by the daemon right after its answer). */
static inline int bh_fds_settle(pid_t pid, int want)
{
	int n = bh_fds(pid);

	for (int i = 0; i < 100 && n != want; i++) {
		bh_sleep_ms(10);
		n = bh_fds(pid);
	}
	if (n != want)
		bh_show_fds(pid);
	return n;
}

/* Wait until the daemon has no session left (all freed): 0 or -ETIMEDOUT. */
static inline int bh_wait_idle(const struct bh *h, unsigned ms)
{
	char text[8192];

	for (unsigned t = 0; t < ms; t += 20) {
		/* Our STATS connection is a session itself while it is open. */
		if (bh_stats(h, text, sizeof(text)) > 0 && bh_num(text, "now") == 1 &&
		    !strstr(text, "client "))
			return 0;
		bh_sleep_ms(20);
	}
	return -ETIMEDOUT;
}

/* Every broker test runs on the data path it asks for: the arenas
 * registered with the emulator's memory table (as on a device) unless the
 * daemon was started with --copy. Checked at bh_stop() (a stats session
 * earlier would change what the tests count); not when the daemon is
 * already gone. */
static inline void bh_check_path(const struct bh *h)
{
	static char text[AZBLOB_BROKER_STATS_MAX];
	const char *want = h->copy ? "copied" : "registered", *p;

	if (bh_stats(h, text, sizeof(text)) <= 0)
		return;
	p = strstr(text, "data path ");
	BH_CHECK(p && !strncmp(p + 10, want, strlen(want)),
		 "data path: want %s, the daemon says: %.60s", want, p ? p : text);
	printf("data path %s\n", want);
}

/* SIGTERM (drain), wait for the exit status, tear the sim down. */
static inline int bh_stop(struct bh *h)
{
	int st = -1;
	char cmd[128];

	if (h->pid > 0) {
		bh_check_path(h);
		kill(h->pid, SIGTERM);
		for (int i = 0; i < 1000 && waitpid(h->pid, &st, WNOHANG) != h->pid; i++)
			bh_sleep_ms(10);
		if (st == -1) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, &st, 0);
		}
	}
	azblob_sim_destroy(h->sim);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", h->dir);
	if (system(cmd)) {
	}
	return st;
}

/* A libazblob client on the broker. */
static inline struct azblob_client *bh_client(const struct bh *h, uint32_t qd, uint32_t buf)
{
	struct azblob_opts o;
	struct azblob_client *c = NULL;
	int rc;

	azblob_opts_init(&o);
	o.broker = h->sock;
	o.queue_depth = qd;
	o.pool_buf_size = buf;
	o.pool_bufs = 3 * qd + 2;
	o.log = (struct uvmbus_log){bh_log, (void *)"client", UVMBUS_LOG_WARN};
	rc = azblob_open(&c, &o);
	BH_CHECK(!rc, "azblob_open on the broker: %s", strerror(-rc));
	return c;
}

/* One request of a test client: an echo of its data buffer, or a no-op. */
struct bh_req {
	uint8_t *req, *resp, *data;
	int err;
	uint32_t status;
	bool done;
	uint64_t t0; /* when submitted */
};

static inline void bh_on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct bh_req *o = user;

	(void)len;
	o->err = err;
	o->status = status;
	o->done = true;
}

/* n requests' buffers from the client's pool (data_len 0: no data). */
static inline void bh_alloc(struct azblob_client *c, struct bh_req *o, int n, uint32_t data_len)
{
	for (int i = 0; i < n; i++) {
		o[i].req = azblob_alloc(c, 4096);
		o[i].resp = azblob_alloc(c, 4096);
		o[i].data = data_len ? azblob_alloc(c, data_len) : NULL;
		BH_CHECK(o[i].req && o[i].resp && (o[i].data || !data_len), "alloc");
	}
}

/* Submit an echo of data_len bytes of `pattern`, or with data_len 0 a
 * no-op: azblob_submit()'s result. */
static inline int bh_submit(struct azblob_client *c, struct bh_req *o, uint32_t data_len,
			    uint8_t pattern)
{
	static const char echo[] = "POST /$sim/echo HTTP/1.1\r\n\r\n",
			  noop[] = "GET /$sim/noop HTTP/1.1\r\n\r\n";
	const char *head = data_len ? echo : noop;
	struct azblob_request r = {
	    .request = o->req,
	    .request_len = (uint32_t)strlen(head),
	    .response = o->resp,
	    .response_len = data_len ? 4096 : 512,
	    .data = data_len ? o->data : NULL,
	    .data_len = data_len,
	    .data_valid = data_len,
	    .done = bh_on_done,
	    .user = o,
	};

	memcpy(o->req, head, strlen(head));
	if (data_len)
		memset(o->data, pattern, data_len);
	o->done = false;
	o->t0 = bh_now_ns();
	return azblob_submit(c, &r);
}

/* Wait for o's answer; then it must be an echo of data_len bytes of
 * `pattern` (what: the failure message's prefix). */
static inline void bh_expect_echo(struct azblob_client *c, struct bh_req *o, uint32_t data_len,
				  uint8_t pattern, const char *what)
{
	while (!o->done)
		if (azblob_poll(c, 0) == 0)
			azblob_wait(c, 5);
	BH_CHECK(!o->err && !o->status, "%s: err %d status %#x", what, o->err, o->status);
	for (uint32_t k = 0; k < data_len; k++)
		BH_CHECK(o->data[k] == pattern, "%s: byte %u is %#x, not %#x", what, k, o->data[k],
			 pattern);
}

/* fn(h) in a child process (killed with the test); its pid. */
static inline pid_t bh_spawn(int (*fn)(const struct bh *), const struct bh *h)
{
	pid_t p = fork();

	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(h));
	}
	return p;
}

/* Deterministic bytes of blob `seed`. */
static inline void bh_fill(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* A child process (killed with the test); what was printed before is
 * out first (not printed twice). */
static inline pid_t bh_fork(void)
{
	pid_t p;

	fflush(NULL);
	p = fork();

	BH_CHECK(p >= 0, "fork: %s", strerror(errno));
	if (p == 0)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	return p;
}

/* A child's end: its output flushed (_exit does not). */
static inline void bh_exit(int status)
{
	fflush(NULL);
	_exit(status);
}

/* Become uid/gid (no supplementary groups): a root test's child. */
static inline void bh_become(uid_t uid, gid_t gid)
{
	BH_CHECK(setgroups(0, NULL) == 0 && setgid(gid) == 0 && setuid(uid) == 0,
		 "become uid %u: %s", (unsigned)uid, strerror(errno));
	/* The change of credentials cleared the parent-death signal. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);
}

/* Milliseconds on the monotonic clock. */
static inline double bh_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* An ATTACH hello by hand (queue depth 4, a 4 MiB arena): the welcome in
 * *w and the connected socket (the session lives while it is open), or a
 * negative errno (nothing answered: *w zeroed). The rings' and arena's
 * fds in fds (-1 when none came), or closed when fds is NULL. */
static inline int bh_raw_attach(const char *sock, struct azblob_broker_welcome *w, int *fds)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct azblob_broker_hello hi = {.magic = AZBLOB_BROKER_MAGIC,
					 .version = AZBLOB_BROKER_VERSION,
					 .op = AZBLOB_BROKER_ATTACH,
					 .queue_depth = 4,
					 .arena_bytes = 4u << 20};
	char ctl[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = {w, sizeof(*w)};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct timeval tv = {5, 0};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), err;
	ssize_t n;

	memset(w, 0, sizeof(*w));
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    send(fd, &hi, sizeof(hi), MSG_NOSIGNAL) != sizeof(hi))
		goto fail;
	n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	if (n < 0)
		goto fail;
	if (fds)
		fds[0] = fds[1] = -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_type == SCM_RIGHTS && fds && cm->cmsg_len == CMSG_LEN(2 * sizeof(int)))
			memcpy(fds, CMSG_DATA(cm), 2 * sizeof(int));
		else if (cm->cmsg_type == SCM_RIGHTS)
			for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
				close(((int *)CMSG_DATA(cm))[i]);
	if (n != (ssize_t)sizeof(*w)) {
		close(fd);
		return -EPROTO;
	}
	w->message[sizeof(w->message) - 1] = 0;
	return fd;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	return -err;
}

/* A file's whole text (at most cap - 1 bytes) into buf; its length or -1. */
static inline ssize_t bh_read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n;

	buf[0] = 0;
	if (!f)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	buf[n] = 0;
	fclose(f);
	return (ssize_t)n;
}

#endif
