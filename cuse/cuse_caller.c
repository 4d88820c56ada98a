// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The caller of an ioctl, fixed at its check: a pidfd on its thread group,
 * taken before the credentials are checked, and the group's PID, whose
 * memory process_vm_readv/writev reach. Every access checks the pidfd
 * before and after: while it has not exited, its PID is its own (a PID is
 * freed only when its process has exited and been reaped), so an access
 * between two such checks reached the caller and nobody else. A caller
 * found gone is -ESRCH: nothing more is read or written by PID.
 *
 * The other half of the proof is the kernel's: a thread blocked in a CUSE
 * ioctl that the daemon has read stays in the kernel until the daemon
 * answers (request_wait_answer(): after a fatal signal, an uninterruptible
 * wait once the request is in user space), so the caller's thread, and
 * with it its PID, lives until fuse_reply_*(). A caller killed between
 * two checks is still there for the second; only an aborted connection
 * ends the wait early, and then the second check fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cuse_internal.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* The thread group of thread tid, from /proc (0 when unknown). */
static pid_t tgid_of(pid_t tid)
{
	char path[64], line[128];
	pid_t tgid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Tgid:", 5)) {
			tgid = (pid_t)strtol(line + 5, NULL, 10);
			break;
		}
	fclose(f);
	return tgid;
}

int azcuse_caller_take(struct azcuse_caller *c, pid_t tid)
{
	char path[64];

	c->pid = tid;
	c->pidfd = tid > 0 ? pidfd_open(tid) : -1;
	if (c->pidfd < 0 && tid > 0 && (errno == EINVAL || errno == ENOENT)) {
		/* A thread other than the group's leader (pidfd_open takes
		 * leaders only: EINVAL, ENOENT on newer kernels): its group's
		 * memory is the same. */
		c->pid = tgid_of(tid);
		c->pidfd = c->pid > 0 ? pidfd_open(c->pid) : -1;
	}
	if (c->pidfd < 0)
		return -ESRCH;
	/* tid is a thread of the process the pidfd holds, now. */
	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)c->pid, (int)tid);
	if (access(path, F_OK) || !azcuse_caller_alive(c)) {
		azcuse_caller_drop(c);
		return -ESRCH;
	}
	return 0;
}

bool azcuse_caller_alive(const struct azcuse_caller *c)
{
	struct pollfd p = {.fd = c->pidfd, .events = POLLIN};

	/* Readable once the process has exited; an error counts as gone. */
	return c->pidfd >= 0 && poll(&p, 1, 0) == 0;
}

void azcuse_caller_drop(struct azcuse_caller *c)
{
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
}

int azcuse_caller_xfer(const struct azcuse_caller *c, void *local, uint64_t raddr, size_t len,
		       bool to_caller)
{
	while (len) {
		struct iovec l = {local, len}, r = {(void *)(uintptr_t)raddr, len};
		ssize_t n;

		if (!azcuse_caller_alive(c))
			return -ESRCH;
		n = to_caller ? process_vm_writev(c->pid, &l, 1, &r, 1, 0)
			      : process_vm_readv(c->pid, &l, 1, &r, 1, 0);
		if (!azcuse_caller_alive(c))
			return -ESRCH; /* what was read is not used */
		if (n < 0)
			return errno == ESRCH || errno == EPERM || errno == ENOMEM ? -errno
										   : -EFAULT;
		if (n == 0)
			return -EFAULT;
		local = (uint8_t *)local + n;
		raddr += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}
