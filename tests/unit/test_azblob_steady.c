/*
 * The steady-state request path makes no system call and no allocation.
 *
 * A child process runs an in-process simulator (its own thread, busy
 * polling) and a client on its main thread. The parent ptrace-seizes only
 * the client thread and counts its system calls between two marker calls
 * (getppid) that bracket 100,000 no-op requests at queue depth 32; the
 * child counts malloc/calloc/realloc/free through an interposer in the same
 * window. Both must be zero. A plain program (fork + ptrace).
 * STEADY_QUEUE=1: the same through a queue (azblob_queue_*), the client in
 * shared mode (a second queue exists): the lock costs no system call.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <azblob.h>
#include <azblob/sim.h>

#define QD 32

/* ---- allocation interposer (counts only inside the window) ---- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static atomic_int counting;
static atomic_long allocs;

void *malloc(size_t n)
{
	if (atomic_load_explicit(&counting, memory_order_relaxed))
		atomic_fetch_add(&allocs, 1);
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	if (atomic_load_explicit(&counting, memory_order_relaxed))
		atomic_fetch_add(&allocs, 1);
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	if (atomic_load_explicit(&counting, memory_order_relaxed))
		atomic_fetch_add(&allocs, 1);
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (p && atomic_load_explicit(&counting, memory_order_relaxed))
		atomic_fetch_add(&allocs, 1);
	__libc_free(p);
}

/* ---- the child: client + simulator ---- */

static long done_count;

static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	(void)user;
	(void)len;
	if (err || status)
		abort();
	done_count++;
}

static int child(int ready_fd, int go_fd, long n)
{
	static const char head[] = "GET /$sim/noop HTTP/1.1\r\n\r\n";
	struct azblob_sim_opts so;
	struct azblob_sim *sim;
	struct azblob_opts o;
	struct azblob_client *c;
	char *req, *resp[QD];
	char b = 0;

	azblob_sim_opts_init(&so);
	so.ram_bytes = 64u << 20;
	so.no_hugetlb = true;
	so.poll = true; /* the host never sleeps: no signal is ever needed */
	so.cpu = 1;	/* host and client on their own CPUs, as in production */
	if (azblob_sim_create(&sim, &so) || azblob_sim_start(sim))
		return 10;
	azblob_opts_init(&o);
	o.sim_root = azblob_sim_root(sim);
	o.queue_depth = QD;
	/* The idle rescind check is not the steady state: a host stalled by a
	 * busy machine must not make this test count its system call. */
	o.rescind_check_ms = 60000;
	if (azblob_open(&c, &o))
		return 11;
	struct azblob_queue *q = NULL, *other = NULL;

	if (getenv("STEADY_QUEUE") &&
	    (azblob_queue_create(c, QD, &q) || azblob_queue_create(c, 1, &other)))
		return 14;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	req = azblob_alloc(c, sizeof(head));
	memcpy(req, head, sizeof(head) - 1);
	for (int i = 0; i < QD; i++)
		resp[i] = azblob_alloc(c, 256);

	long target = 0, sent = 0;

	for (int phase = 0; phase < 2; phase++) {
		target += phase == 0 ? 5000 : n; /* warm-up, then the measured run */
		if (phase == 1) {
			if (write(ready_fd, &b, 1) != 1 || read(go_fd, &b, 1) != 1)
				return 12;
			atomic_store(&counting, 1);
			syscall(SYS_getppid); /* marker: window opens */
		}
		while (done_count < target) {
			while (sent < target && sent - done_count < QD) {
				struct azblob_request r = {.request = req,
							   .request_len = sizeof(head) - 1,
							   .response = resp[sent % QD],
							   .response_len = 256,
							   .done = on_done};

				if (q ? azblob_queue_submit(q, &r) : azblob_submit(c, &r))
					break;
				sent++;
			}
			if (q ? azblob_queue_flush(q) : azblob_flush(c))
				return 13;
			if ((q ? azblob_queue_poll(q, 0) : azblob_poll(c, 0)) < 0)
				return 13;
		}
		if (phase == 1) {
			syscall(SYS_getppid); /* marker: window closes */
			atomic_store(&counting, 0);
		}
	}
	struct azblob_stats st;

	azblob_get_stats(c, &st);
	printf("steady: child: %ld requests measured, %ld allocations in the window, %llu "
	       "signals in all\n",
	       n, atomic_load(&allocs), (unsigned long long)st.signals);
	fflush(stdout);
	if (q && (azblob_queue_destroy(q) || azblob_queue_destroy(other)))
		return 15;
	azblob_close(c);
	azblob_sim_destroy(sim);
	return atomic_load(&allocs) ? 20 : 0;
}

/* ---- the parent: count the client thread's system calls ---- */

int main(void)
{
	const char *env = getenv("STEADY_REQUESTS");
	long n = env ? atol(env) : 100000;
	int ready[2], go[2], status;
	long calls = 0, markers = 0;
	char b;
	pid_t pid;

	if (pipe(ready) || pipe(go))
		return 1;
	pid = fork();
	if (pid == 0)
		_exit(child(ready[1], go[0], n));
	if (read(ready[0], &b, 1) != 1) {
		fprintf(stderr, "steady: the child failed to start\n");
		waitpid(pid, &status, 0);
		return 1;
	}
	/* Trace the client thread only (the simulator thread is not seized). */
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD)) {
		perror("steady: ptrace seize");
		kill(pid, SIGKILL);
		return 1;
	}
	ptrace(PTRACE_INTERRUPT, pid, 0, 0);
	waitpid(pid, &status, 0);
	ptrace(PTRACE_SYSCALL, pid, 0, 0);
	if (write(go[1], "g", 1) != 1)
		return 1;
	for (;;) {
		if (waitpid(pid, &status, 0) < 0)
			break;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		if (WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80)) {
			/* The system call's number the same way on every
			 * architecture (Linux 5.3; x86's orig_rax is x86's). */
			struct __ptrace_syscall_info si;

			if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(si), &si) <= 0) {
				perror("steady: PTRACE_GET_SYSCALL_INFO");
				kill(pid, SIGKILL);
				break;
			}
			if (si.op == PTRACE_SYSCALL_INFO_ENTRY) {
				if (si.entry.nr == SYS_getppid) {
					if (++markers == 2) {
						ptrace(PTRACE_DETACH, pid, 0, 0);
						break;
					}
				} else if (markers == 1) {
					calls++;
					fprintf(stderr, "steady: system call %llu in the window\n",
						(unsigned long long)si.entry.nr);
				}
			}
			ptrace(PTRACE_SYSCALL, pid, 0, 0);
		} else {
			/* another stop (signal): pass it on */
			int sig = WIFSTOPPED(status) ? WSTOPSIG(status) : 0;

			ptrace(PTRACE_SYSCALL, pid, 0, sig == SIGTRAP ? 0 : sig);
		}
	}
	waitpid(pid, &status, 0);
	int child_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	printf("steady: %ld requests, %ld system calls on the client thread between the markers, "
	       "child %s\n",
	       n, calls, child_ok ? "ok (no allocations)" : "FAILED");
	int ok = markers == 2 && calls == 0 && child_ok;

	printf("steady: %d passed, %d failed\n", ok, !ok);
	return ok ? 0 : 1;
}
