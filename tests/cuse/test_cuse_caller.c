/*
 * cuse_caller: the CUSE front end reaches a caller's memory only while its
 * PID is still its own (cuse_caller.c). A caller is taken (a pidfd), read
 * and written; then it is killed and reaped, and its PID is handed to a
 * new process (clone3 with set_tid: root) that maps a page at the same
 * address. Through the old caller every access is -ESRCH and the new
 * process's page stays as it was; a write by PID alone (what the front end
 * did before) lands in it. A caller that is a non-leader thread is taken
 * through its thread group; a PID that is gone is -ESRCH. A plain program;
 * exit 77 (skipped) where set_tid is refused (not root).
 */
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cuse_internal.h"

#define ADDR ((void *)0x5a5a00000000ull)
#define PAGE 4096u

static int failures;

#define CHECK(c, ...)                                                                              \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* In a child: a page at ADDR full of `fill`, then tell and wait. */
static void child_page(int tell, int fill)
{
	void *p = mmap(ADDR, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != ADDR)
		_exit(3);
	memset(p, fill, PAGE);
	if (write(tell, "x", 1) != 1)
		_exit(4);
	for (;;)
		pause();
}

/* A new process with PID `pid` (clone3, set_tid): its PID, or -errno. */
static pid_t spawn_as(pid_t pid, int tell)
{
	struct clone_args ca;
	pid_t tid[1] = {pid};
	long rc;

	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uint64_t)(uintptr_t)tid;
	ca.set_tid_size = 1;
	rc = syscall(SYS_clone3, &ca, sizeof(ca));
	if (rc == 0)
		child_page(tell, 'B');
	return rc < 0 ? -errno : (pid_t)rc;
}

static int pipefd[2];

static void *thread_main(void *arg)
{
	pid_t t = (pid_t)syscall(SYS_gettid);

	(void)arg;
	if (write(pipefd[1], &t, sizeof(t)) != sizeof(t))
		_exit(5);
	for (;;)
		pause();
	return NULL;
}

/* A caller that is not its group's leader: taken through the group. */
static void thread_caller(void)
{
	struct azcuse_caller c;
	pid_t p, t = 0;
	char buf[16];

	p = fork();
	if (p == 0) {
		pthread_t th;

		mmap(ADDR, PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		memset(ADDR, 'T', PAGE);
		pthread_create(&th, NULL, thread_main, NULL);
		for (;;)
			pause();
	}
	CHECK(read(pipefd[0], &t, sizeof(t)) == sizeof(t) && t != p, "the thread's id");
	CHECK(azcuse_caller_take(&c, t) == 0, "a non-leader thread %d is taken", (int)t);
	CHECK(c.pid == p, "through its group %d (got %d)", (int)p, (int)c.pid);
	CHECK(azcuse_caller_xfer(&c, buf, (uint64_t)(uintptr_t)ADDR, sizeof(buf), false) == 0 &&
		  buf[0] == 'T',
	      "its memory is read");
	azcuse_caller_drop(&c);
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	printf("a caller that is thread %d of process %d: taken through the process\n", (int)t,
	       (int)p);
}

int main(void)
{
	struct azcuse_caller c;
	uint8_t buf[PAGE], mine[16];
	pid_t a, b;
	char x;
	int rc;

	if (pipe(pipefd))
		return 1;
	a = fork();
	if (a == 0)
		child_page(pipefd[1], 'A');
	CHECK(read(pipefd[0], &x, 1) == 1, "the caller is ready");
	CHECK(azcuse_caller_take(&c, a) == 0, "caller %d taken", (int)a);
	CHECK(azcuse_caller_xfer(&c, buf, (uint64_t)(uintptr_t)ADDR, 16, false) == 0 &&
		  buf[0] == 'A' && buf[15] == 'A',
	      "the caller's page is read");
	memset(mine, 'a', sizeof(mine));
	CHECK(azcuse_caller_xfer(&c, mine, (uint64_t)(uintptr_t)ADDR, sizeof(mine), true) == 0,
	      "and written");
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	CHECK(!azcuse_caller_alive(&c), "the caller is gone");

	b = spawn_as(a, pipefd[1]);
	if (b == -EPERM || b == -ENOSYS || b == -EINVAL) {
		printf("skipped: clone3 with set_tid refused (%s): root is needed to hand the PID "
		       "on\n",
		       strerror(-b));
		return 77;
	}
	CHECK(b == a, "PID %d handed to a new process (got %d)", (int)a, (int)b);
	CHECK(read(pipefd[0], &x, 1) == 1, "the new process is ready");
	printf("PID %d: the caller was killed and reaped, the PID now is a new process with a "
	       "page at %p\n",
	       (int)a, ADDR);

	memset(mine, 'E', sizeof(mine));
	rc = azcuse_caller_xfer(&c, mine, (uint64_t)(uintptr_t)ADDR, sizeof(mine), true);
	printf("write through the old caller: %s\n", rc ? strerror(-rc) : "done");
	CHECK(rc == -ESRCH, "a write through the old caller is -ESRCH (%d)", rc);
	rc = azcuse_caller_xfer(&c, buf, (uint64_t)(uintptr_t)ADDR, 16, false);
	printf("read through the old caller: %s\n", rc ? strerror(-rc) : "done");
	CHECK(rc == -ESRCH, "a read through the old caller is -ESRCH (%d)", rc);
	azcuse_caller_drop(&c);

	/* What a write by PID alone does (the front end before the pidfd):
	 * into the new process, in the second half of its page. */
	{
		struct iovec l = {mine, sizeof(mine)},
			     r = {(uint8_t *)ADDR + PAGE / 2, sizeof(mine)};
		ssize_t n = process_vm_writev(b, &l, 1, &r, 1, 0);

		printf("a write by PID alone: %zd bytes into the new process\n", n);
	}
	{
		struct iovec l = {buf, PAGE}, r = {ADDR, PAGE};
		size_t bad = 0;

		CHECK(process_vm_readv(b, &l, 1, &r, 1, 0) == PAGE, "the new process's page");
		for (size_t i = 0; i < PAGE / 2; i++)
			bad += buf[i] != 'B';
		printf("the new process's page: %zu byte(s) changed through the old caller\n", bad);
		CHECK(!bad, "the new process is untouched through the old caller");
	}
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);

	thread_caller();
	CHECK(azcuse_caller_take(&c, a) == -ESRCH, "a PID that is gone is -ESRCH");
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
