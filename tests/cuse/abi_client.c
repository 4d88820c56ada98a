// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A program written only against the original Azure Blob driver's ABI: its
 * own copy of struct az_blob_request_sync and of the ioctl number, nothing
 * from this project's headers. It is what an unmodified program does.
 *
 *   abi_client script DEV OUT     the scripted requests; a transcript to OUT
 *   abi_client errors DEV         invalid requests get the driver's errno
 *   abi_client access DEV UID     UID may not use DEV: EACCES at open and
 *                                 at an ioctl on a file root opened
 *   abi_client opener DEV UID     UID may: served on its own file, EACCES
 *                                 on a file root opened (not the opener)
 *   abi_client stress DEV T P N   P processes x T threads x N echo requests
 *   abi_client kill DEV           a caller killed mid-request harms no one
 *   abi_client reuse DEV          a caller killed mid-request at a slow host:
 *                                 its PID, once back, is a process untouched
 *   abi_client bench DEV N SIZE   N round trips: latency and CPU per request
 *
 * Built a second time with -DABI_DIRECT, the same script goes through
 * abi_direct() (direct_shim.c: libazblob's sync call) instead of ioctl(),
 * and cuse_qemu compares the two transcripts byte for byte.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the original ABI (include/uapi/misc/azure_blob.h), copied ---- */
struct az_blob_request_sync_response {
	uint32_t status;
	uint32_t response_len;
};

struct az_blob_request_sync {
	unsigned char guid[16];
	uint32_t timeout;
	uint32_t request_len;
	uint32_t response_len;
	uint32_t data_len;
	uint32_t data_valid;
	uint64_t request_buffer __attribute__((aligned(8)));
	uint64_t response_buffer __attribute__((aligned(8)));
	uint64_t data_buffer __attribute__((aligned(8)));
	struct az_blob_request_sync_response response;
};

#define AZ_BLOB_MAGIC_NUMBER 'R'
#define IOCTL_AZ_BLOB_DRIVER_USER_REQUEST                                                          \
	_IOWR(AZ_BLOB_MAGIC_NUMBER, 0xf0, struct az_blob_request_sync)
/* The number of hv_azure_blob as shipped later (Ubuntu 22.04 kernels). */
#define IOCTL_AZ_BLOB_DRIVER_USER_REQUEST_HV                                                       \
	_IOWR(AZ_BLOB_MAGIC_NUMBER, 10, struct az_blob_request_sync)
/* ------------------------------------------------------------------- */

#define PAGE	  4096u
#define MAX_BYTES (8192u * PAGE)

#ifdef ABI_DIRECT
int abi_direct(unsigned long cmd, void *arg); /* direct_shim.c: 0 or -1 + errno */
#define DO_IOCTL(fd, cmd, arg) ((void)(fd), abi_direct(cmd, arg))
#else
#define DO_IOCTL(fd, cmd, arg) ioctl(fd, cmd, arg)
#endif

static int failures __attribute__((unused));

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			printf("ok: " __VA_ARGS__);                                                \
			printf("\n");                                                              \
		} else {                                                                           \
			printf("FAIL: " __VA_ARGS__);                                              \
			printf(" (%s:%d)\n", __FILE__, __LINE__);                                  \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static double now_s(void);

static uint64_t fnv(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static void *pages(size_t n)
{
	void *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 131u + i * 7u + (i >> 12));
}

static void req_init(struct az_blob_request_sync *r, const char *head, char *req_buf, void *resp,
		     uint32_t resp_len, void *data, uint32_t data_len, uint32_t data_valid)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 16; i++)
		r->guid[i] = (unsigned char)(0xa0 + i);
	r->timeout = 30000;
	strcpy(req_buf, head);
	r->request_len = (uint32_t)strlen(head);
	r->request_buffer = (uint64_t)(uintptr_t)req_buf;
	r->response_buffer = (uint64_t)(uintptr_t)resp;
	r->response_len = resp_len;
	r->data_buffer = (uint64_t)(uintptr_t)data;
	r->data_len = data_len;
	r->data_valid = data_valid;
}

/* One scripted case: the call's result, the answer and both buffers whole
 * (as a hash and the first bytes) go to the transcript. */
static void record(FILE *out, const char *name, int fd, unsigned long cmd,
		   struct az_blob_request_sync *r, void *resp, uint32_t resp_cap, void *data,
		   uint32_t data_cap)
{
	int rc = DO_IOCTL(fd, cmd, r);
	int err = rc ? errno : 0;
	/* The host's request id is random per request: masked. */
	char *id = memmem(resp, resp_cap, "x-ms-request-id: ", 17);
	uint32_t show = r->response.response_len < resp_cap ? r->response.response_len : resp_cap;

	if (id && (size_t)(id - (char *)resp) + 17 + 36 <= resp_cap)
		memset(id + 17, 'X', 36);
	fprintf(out, "%s rc=%d errno=%d status=%u response_len=%u resp=%016llx", name, rc, err,
		r->response.status, r->response.response_len,
		(unsigned long long)fnv(resp, resp_cap));
	if (data)
		fprintf(out, " data=%016llx", (unsigned long long)fnv(data, data_cap));
	fprintf(out, "\n%.*s\n", (int)(show > 200 ? 200 : show), (const char *)resp);
	printf("%s: rc %d errno %d status %u response_len %u\n", name, rc, err, r->response.status,
	       r->response.response_len);
}

static int cmd_script(int fd, const char *path)
{
	FILE *out = fopen(path, "w");
	unsigned char *rq = pages(2), *rs = pages(4), *d = pages(4), *big = pages(8190);
	struct az_blob_request_sync r;

	if (!out)
		return perror(path), 2;
	/* No data. */
	memset(rs, 0x5a, 4 * PAGE);
	req_init(&r, "GET /$sim/noop HTTP/1.1\r\n\r\n", (char *)rq, rs, 4096, NULL, 0, 0);
	record(out, "noop", fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r, rs, 4096, NULL, 0);
	/* The later number, and data_valid ignored without data (as the driver). */
	memset(rs, 0x5a, 4 * PAGE);
	req_init(&r, "GET /$sim/noop HTTP/1.1\r\n\r\n", (char *)rq, rs, 4096, NULL, 0, 77);
	record(out, "noop_hv_number", fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST_HV, &r, rs, 4096, NULL,
	       0);
	/* Data, unaligned buffers, data_valid < data_len: what the host does
	 * not write keeps the caller's bytes. */
	memset(rs, 0x5a, 4 * PAGE);
	fill(d, 4 * PAGE, 1);
	req_init(&r, "POST /$sim/echo HTTP/1.1\r\nx-test: 1\r\n\r\n", (char *)rq + 3000, rs + 100,
		 5000, d + 123, 9000, 6000);
	record(out, "echo_unaligned", fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r, rs, 4 * PAGE, d,
	       4 * PAGE);
	/* A missing container: the host's error status, not the ioctl's. */
	memset(rs, 0x5a, 4 * PAGE);
	req_init(&r, "GET /nosuch/blob HTTP/1.1\r\n\r\n", (char *)rq, rs, 4096, d, 4096, 0);
	record(out, "get_missing", fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r, rs, 4096, d, 4096);
	/* The largest data buffer: 8190 pages + 1 request + 1 response = 8192. */
	fill(big, 8190u * PAGE, 2);
	memset(rs, 0x5a, 4 * PAGE);
	req_init(&r, "POST /$sim/echo HTTP/1.1\r\n\r\n", (char *)rq, rs, 4096, big, 8190u * PAGE,
		 8190u * PAGE);
	record(out, "echo_32MiB", fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r, rs, 4096, big,
	       8190u * PAGE);
	/* Length errors, which the direct call refuses as well. */
	req_init(&r, "GET /$sim/noop HTTP/1.1\r\n\r\n", (char *)rq, rs, 0, NULL, 0, 0);
	record(out, "einval_response_len_0", fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r, rs, 16,
	       NULL, 0);
	req_init(&r, "POST /$sim/echo HTTP/1.1\r\n\r\n", (char *)rq, rs, 4096, d, 100, 101);
	record(out, "einval_data_valid", fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r, rs, 16, d, 16);
	fclose(out);
	return 0;
}

#ifndef ABI_DIRECT
static int expect(int fd, const char *name, unsigned long cmd, void *arg, int want)
{
	int rc = ioctl(fd, cmd, arg), err = errno;

	CHECK(rc == -1 && err == want, "%s: errno %d (%s), the driver's %d", name, rc ? err : 0,
	      rc ? strerror(err) : "success", want);
	return 0;
}

static int cmd_errors(int fd)
{
	unsigned char *rq = pages(1), *rs = pages(1), *d = pages(2);
	unsigned char *hole = pages(3);
	struct az_blob_request_sync r;
	const char *noop = "GET /$sim/noop HTTP/1.1\r\n\r\n";

	munmap(hole + PAGE, PAGE); /* hole + PAGE is unmapped */
	req_init(&r, noop, (char *)rq, rs, 4096, NULL, 0, 0);
	expect(fd, "unknown number 0xf1", _IOWR('R', 0xf1, struct az_blob_request_sync), &r,
	       EINVAL);
	expect(fd, "_IO('R', 0xf0)", _IO('R', 0xf0), &r, EINVAL);
	expect(fd, "another size", _IOWR('R', 0xf0, uint64_t), &r, EINVAL);
	expect(fd, "argument not mapped", IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, hole + PAGE, EFAULT);
	r.request_len = 0;
	expect(fd, "request_len 0", IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r, EINVAL);
	req_init(&r, noop, (char *)rq, rs, 0, NULL, 0, 0);
	expect(fd, "response_len 0", IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r, EINVAL);
	req_init(&r, noop, (char *)rq, rs, 4096, d, 10, 11);
	expect(fd, "data_valid > data_len", IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r, EINVAL);
	req_init(&r, noop, (char *)rq, rs, 4096, d, MAX_BYTES + 1, 0);
	expect(fd, "data_len over 32 MiB", IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r, EINVAL);
	req_init(&r, noop, (char *)rq, rs, MAX_BYTES + 1, NULL, 0, 0);
	expect(fd, "response_len over 32 MiB", IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r, EINVAL);
	req_init(&r, noop, (char *)rq, rs, 4096, hole, PAGE + 1, 0);
	expect(fd, "data runs into an unmapped page", IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r,
	       EFAULT);
	req_init(&r, noop, (char *)rq, rs, 4096, NULL, 0, 0);
	r.request_buffer = (uint64_t)(uintptr_t)(hole + PAGE);
	expect(fd, "request buffer not mapped", IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r, EFAULT);
	req_init(&r, noop, (char *)rq, rs, 4096, NULL, 0, 0);
	r.response_buffer = 0xffff800000000000ull; /* a kernel address */
	expect(fd, "response buffer a kernel address", IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r,
	       EFAULT);
	{
		/* 8192 pages of data at an in-page offset: 8193 pages, +2. */
		unsigned char *big = pages(8194);

		req_init(&r, noop, (char *)rq, rs, 4096, big + 1, MAX_BYTES - 1, 0);
		expect(fd, "over 8192 pages in all", IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r, EINVAL);
		munmap(big, 8194u * PAGE);
	}
	/* A bad buffer and too many pages: the fault is seen first. */
	req_init(&r, noop, (char *)rq, rs, 4096, hole, MAX_BYTES, 0);
	expect(fd, "unmapped and over the page limit", IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r,
	       EFAULT);
	/* Still serving after all that. */
	req_init(&r, noop, (char *)rq, rs, 4096, NULL, 0, 0);
	CHECK(ioctl(fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r) == 0 && r.response.response_len > 0,
	      "a valid request after the invalid ones");
	return failures ? 1 : 0;
}

/* In a child become uid: an ioctl on fd (a file root opened) is refused
 * with EACCES, as the driver refused an ioctl from other credentials than
 * the opener's; then its own open is refused (EACCES: not allowed) or
 * serves it (allowed). The child's checks give the verdict. */
static int as_uid(const char *dev, int fd, uid_t uid, bool allowed)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		unsigned char *rq = pages(1), *rs = pages(1);
		struct az_blob_request_sync r;
		int fd2;

		if (setgid(uid) || setuid(uid))
			_exit(3);
		req_init(&r, "GET /$sim/noop HTTP/1.1\r\n\r\n", (char *)rq, rs, 4096, NULL, 0, 0);
		CHECK(ioctl(fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r) == -1 && errno == EACCES,
		      "uid %u: ioctl on a file root opened refused with EACCES (%s)", (unsigned)uid,
		      strerror(errno));
		fd2 = open(dev, O_RDWR);
		if (!allowed) {
			CHECK(fd2 < 0 && errno == EACCES, "uid %u: open refused with EACCES (%s)",
			      (unsigned)uid, fd2 < 0 ? strerror(errno) : "opened");
			_exit(failures ? 1 : 0);
		}
		CHECK(fd2 >= 0, "uid %u: its own open (%s)", (unsigned)uid,
		      fd2 < 0 ? strerror(errno) : "ok");
		req_init(&r, "GET /$sim/noop HTTP/1.1\r\n\r\n", (char *)rq, rs, 4096, NULL, 0, 0);
		CHECK(fd2 >= 0 && ioctl(fd2, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r) == 0 &&
			  r.response.response_len > 0,
		      "uid %u: a request on its own file", (unsigned)uid);
		_exit(failures ? 1 : 0);
	}
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "uid %u: the child's checks", (unsigned)uid);
	return failures ? 1 : 0;
}

/* Echo requests with checked bytes, from one thread. */
struct worker {
	int fd, n, seed, bad;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned char *rq = pages(1), *rs = pages(2), *d = pages(17), *copy = pages(17);

	for (int i = 0; i < w->n; i++) {
		struct az_blob_request_sync r;
		uint32_t len = (uint32_t)(1 + (w->seed * 7919 + i * 104729) % (16 * PAGE));

		fill(d, len, (unsigned)(w->seed * 1000 + i));
		memcpy(copy, d, len);
		req_init(&r, "POST /$sim/echo HTTP/1.1\r\n\r\n", (char *)rq, rs, 2 * PAGE, d, len,
			 len);
		if (ioctl(w->fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r)) {
			w->bad++;
			break; /* the device went away (or refused): no point going on */
		}
		if (r.response.status || memcmp(d, copy, len))
			w->bad++;
	}
	return NULL;
}

static int cmd_stress(const char *dev, int threads, int procs, int n)
{
	for (int p = 0; p < procs; p++) {
		if (fork() == 0) {
			struct worker w[64];
			pthread_t t[64];
			int fd = open(dev, O_RDWR), bad = 0;

			for (int i = 0; i < threads && i < 64; i++) {
				w[i] = (struct worker){fd, n, p * 64 + i, 0};
				pthread_create(&t[i], NULL, worker_main, &w[i]);
			}
			for (int i = 0; i < threads && i < 64; i++) {
				pthread_join(t[i], NULL);
				bad += w[i].bad;
			}
			_exit(bad ? 1 : 0);
		}
	}
	for (int p = 0; p < procs; p++) {
		int st;

		wait(&st);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "stress process: every echo intact");
	}
	return failures ? 1 : 0;
}

/* A child loops 32 MiB requests and is killed mid-request while another
 * process's threads run checked echoes: they all complete intact, and the
 * device serves 32 MiB requests afterwards (no staging arena lost). */
static int cmd_kill(const char *dev, int fd)
{
	pid_t victim = fork();

	if (victim == 0) {
		unsigned char *rq = pages(1), *rs = pages(1), *big = pages(8190);
		struct az_blob_request_sync r;

		for (;;) {
			req_init(&r, "POST /$sim/echo HTTP/1.1\r\n\r\n", (char *)rq, rs, 4096, big,
				 8190u * PAGE, 8190u * PAGE);
			ioctl(fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r);
		}
	}
	usleep(300000);
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	CHECK(cmd_stress(dev, 4, 2, 20) == 0, "others' requests intact around the kill");
	for (int k = 0; k < 6; k++) {
		unsigned char *rq = pages(1), *rs = pages(1), *big = pages(8190);
		struct az_blob_request_sync r;

		fill(big, 8190u * PAGE, (unsigned)k);
		uint64_t h = fnv(big, 8190u * PAGE);

		req_init(&r, "POST /$sim/echo HTTP/1.1\r\n\r\n", (char *)rq, rs, 4096, big,
			 8190u * PAGE, 8190u * PAGE);
		CHECK(ioctl(fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r) == 0 &&
			  fnv(big, 8190u * PAGE) == h,
		      "32 MiB request %d after the kill", k);
		munmap(rq, PAGE);
		munmap(rs, PAGE);
		munmap(big, 8190u * PAGE);
	}
	return failures ? 1 : 0;
}

/* reuse: the caller's pages, at a fixed address (the new process with its
 * PID maps the same ones). */
#define REUSE_ADDR  ((void *)0x5a5a00000000ull)
#define REUSE_PAGES 18u /* request, response, 64 KiB of data */

static unsigned char *fixed_pages(unsigned char fillc)
{
	void *p = mmap(REUSE_ADDR, REUSE_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != REUSE_ADDR)
		_exit(3);
	memset(p, fillc, REUSE_PAGES * PAGE);
	return p;
}

/* A caller killed in a request at a slow host (DEV answers 4 s late): its
 * PID must not come back while the daemon may still reach it. An
 * intermediate process reaps the caller the moment it can and tells when;
 * meanwhile processes are spawned until one gets the caller's PID (pid_max
 * lowered by guest.sh, so the PIDs wrap every few hundred spawns): the
 * spawns pass over the caller's PID while it is held, and it comes back
 * only after the reap. The new process maps the same addresses with its
 * own bytes and checks them 3 s later. (The kernel holds a caller in a
 * CUSE request that the daemon has read until the answer; the daemon's
 * pidfd checks cover a wait that ends early: cuse_caller.) */
static int cmd_reuse(const char *dev, int fd)
{
	int tell[2], got[2];
	pid_t mid, victim = 0, p, prev = 0;
	double t_kill, t_back = 0, t_reaped = 0, cross[256];
	unsigned spawned = 0, ncross = 0, held_cross = 0;
	int st;
	char x;

	(void)dev;
	if (pipe(tell) || pipe(got))
		return 2;
	mid = fork();
	if (mid == 0) {
		pid_t v = fork();
		double t;

		if (v == 0) {
			unsigned char *b = fixed_pages('V');
			struct az_blob_request_sync r;

			req_init(&r, "POST /$sim/echo HTTP/1.1\r\n\r\n", (char *)b, b + PAGE, 4096,
				 b + 2 * PAGE, 16 * PAGE, 16 * PAGE);
			if (write(tell[1], "x", 1) != 1)
				_exit(4);
			ioctl(fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r);
			_exit(0);
		}
		if (write(tell[1], &v, sizeof(v)) != sizeof(v))
			_exit(4);
		waitpid(v, NULL, 0); /* reaped the moment it exits: its PID is free */
		t = now_s();
		if (write(tell[1], &t, sizeof(t)) != sizeof(t))
			_exit(4);
		_exit(0);
	}
	CHECK(read(tell[0], &victim, sizeof(victim)) == sizeof(victim), "the caller's PID");
	CHECK(read(tell[0], &x, 1) == 1, "the caller is about to call");
	usleep(300000); /* in the ioctl, at the host */
	kill(victim, SIGKILL);
	t_kill = now_s();
	/* Spawn until the PID comes back (or 60 s). */
	while (now_s() - t_kill < 60) {
		p = fork();
		if (p == 0) {
			if (getpid() != victim)
				_exit(0);
			unsigned char *b = fixed_pages(0x5a);
			size_t bad = 0;

			if (write(got[1], "x", 1) != 1)
				_exit(4);
			sleep(3);
			for (size_t i = 0; i < REUSE_PAGES * PAGE; i++)
				bad += b[i] != 0x5a;
			printf("the new process with PID %d: %zu byte(s) of its pages changed\n",
			       (int)getpid(), bad);
			_exit(bad ? 1 : 0);
		}
		if (p < 0) {
			usleep(1000);
			continue;
		}
		spawned++;
		if (p == victim) {
			t_back = now_s();
			break;
		}
		/* Passed over the caller's PID (going up past it, or wrapping). */
		if (prev &&
		    ((prev < victim && p > victim) ||
		     (p < prev && (prev < victim || p > victim))) &&
		    ncross < 256)
			cross[ncross++] = now_s();
		prev = p;
		waitpid(p, NULL, 0);
	}
	CHECK(read(tell[0], &t_reaped, sizeof(t_reaped)) == sizeof(t_reaped),
	      "the caller was reaped %.2f s after the kill", t_reaped - t_kill);
	for (unsigned i = 0; i < ncross; i++)
		held_cross += cross[i] < t_reaped;
	CHECK(t_back > 0, "PID %d came back after %u spawns, %.2f s after the kill", (int)victim,
	      spawned, t_back - t_kill);
	CHECK(held_cross > 0 && t_back > t_reaped,
	      "not while the caller was in its request: the spawns passed over PID %d %u time(s) "
	      "before the caller's exit, which came with the daemon's answer",
	      (int)victim, held_cross);
	if (t_back > 0) {
		CHECK(read(got[0], &x, 1) == 1, "the new process mapped its pages");
		waitpid(victim, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the new process with the caller's PID is untouched");
	}
	waitpid(mid, NULL, 0);
	return failures ? 1 : 0;
}
#endif

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Round trips one at a time: wall time and this process's CPU per request
 * (the daemon's CPU is the benchmark's business: azblob-bench --via cuse). */
static int cmd_bench(int fd, int n, uint32_t size)
{
	unsigned char *rq = pages(1), *rs = pages(1), *d = pages(size / PAGE + 1);
	struct az_blob_request_sync r;
	const char *head =
	    size ? "POST /$sim/echo HTTP/1.1\r\n\r\n" : "GET /$sim/noop HTTP/1.1\r\n\r\n";
	double t0 = now_s(), c0 = cpu_s();

	for (int i = 0; i < n; i++) {
		req_init(&r, head, (char *)rq, rs, 4096, size ? d : NULL, size, size);
		if (DO_IOCTL(fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r))
			return perror("ioctl"), 1;
	}
	printf("bench: %d requests of %u data bytes: %.1f us/request, caller CPU %.1f us/request\n",
	       n, size, (now_s() - t0) / n * 1e6, (cpu_s() - c0) / n * 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	int fd = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3) {
		fputs("usage: abi_client script|errors|access|opener|stress|kill|reuse|bench DEV "
		      "...\n",
		      stderr);
		return 2;
	}
#ifndef ABI_DIRECT
	fd = open(argv[2], O_RDWR);
	if (fd < 0)
		return perror(argv[2]), 2;
#endif
	if (!strcmp(argv[1], "script") && argc == 4)
		return cmd_script(fd, argv[3]);
	if (!strcmp(argv[1], "bench") && argc == 5)
		return cmd_bench(fd, atoi(argv[3]), (uint32_t)strtoul(argv[4], NULL, 0));
#ifndef ABI_DIRECT
	if (!strcmp(argv[1], "errors"))
		return cmd_errors(fd);
	if (!strcmp(argv[1], "access") && argc == 4)
		return as_uid(argv[2], fd, (uid_t)atoi(argv[3]), false);
	if (!strcmp(argv[1], "opener") && argc == 4)
		return as_uid(argv[2], fd, (uid_t)atoi(argv[3]), true);
	if (!strcmp(argv[1], "stress") && argc == 6)
		return cmd_stress(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	if (!strcmp(argv[1], "kill"))
		return cmd_kill(argv[2], fd);
	if (!strcmp(argv[1], "reuse"))
		return cmd_reuse(argv[2], fd);
#endif
	fputs("abi_client: unknown command\n", stderr);
	return 2;
}
