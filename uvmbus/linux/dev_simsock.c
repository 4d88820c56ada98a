// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The emulator's doorbell socket as a device transport (<uvmbus/simsock.h>):
 * connect, receive the guest-RAM memfd, hand the connection to the device
 * layer as the interrupt fd. Like dev_vchan.c for the broker, it only fills
 * the device layer's open_event_fd / open_map_fd hooks. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <uvmbus/dev.h>
#include <uvmbus/simsock.h>

int uvmbus_simsock_connect(const char *root, struct uvmbus_simsock *g)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct uvmbus_simsock_hello h;
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&h, sizeof(h)};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c;
	int fd, err;

	memset(g, 0, sizeof(*g));
	g->event_fd = g->ram_fd = -1;
	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s/" UVMBUS_SIMSOCK_NAME, root) >=
	    (int)sizeof(a.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		goto fail;
	if (recvmsg(fd, &m, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(h)) {
		errno = errno ? errno : ECONNREFUSED;
		goto fail;
	}
	c = CMSG_FIRSTHDR(&m);
	if (h.magic != UVMBUS_SIMSOCK_MAGIC || !c || c->cmsg_type != SCM_RIGHTS) {
		errno = EPROTO;
		goto fail;
	}
	memcpy(&g->ram_fd, CMSG_DATA(c), sizeof(int));
	g->event_fd = fd;
	g->ram_bytes = h.ram_bytes;
	g->memtable = h.version >= 2;
	snprintf(g->sysfs_root, sizeof(g->sysfs_root), "%s/sys", root);
	snprintf(g->dev_root, sizeof(g->dev_root), "%s/dev", root);
	snprintf(g->proc_root, sizeof(g->proc_root), "%s/proc", root);
	return 0;
fail:
	err = errno;
	close(fd);
	return -err;
}

void uvmbus_simsock_disconnect(struct uvmbus_simsock *g)
{
	if (g->event_fd >= 0)
		close(g->event_fd);
	if (g->ram_fd >= 0)
		close(g->ram_fd);
	g->event_fd = g->ram_fd = -1;
}

int uvmbus_simsock_event_fd(void *guest, const char *uio_path)
{
	struct uvmbus_simsock *g = guest;
	int fd;

	(void)uio_path;
	fd = fcntl(g->event_fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int uvmbus_simsock_map_fd(void *guest, const char *uio_path, int map, int64_t *offset)
{
	char path[4096];
	int fd;

	(void)guest;
	if (snprintf(path, sizeof(path), map ? "%s" : "%s.map0", uio_path) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	/* Map K at page K of the uio stand-in, as the kernel's mmap offsets
	 * (the emulator runs on the same kernel: the same page size). */
	*offset = map ? (int64_t)map * sysconf(_SC_PAGESIZE) : 0;
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* ---- the memory table ---- */

#define GRAN ((uint64_t)2 << 20)

/* One message, with the file (fd >= 0) attached. The connection is the
 * device's event fd: it may be non-blocking, so wait for room. */
static int mem_send(struct uvmbus_simsock *g, const struct uvmbus_simsock_mem *msg, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {(void *)msg, sizeof(*msg)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *c;

		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	for (int tries = 0; tries < 100; tries++) {
		struct pollfd p = {.fd = g->event_fd, .events = POLLOUT};

		if (sendmsg(g->event_fd, &m, MSG_NOSIGNAL) == (ssize_t)sizeof(*msg))
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		(void)poll(&p, 1, 100);
	}
	return -ETIMEDOUT;
}

/* One region: [va, va + len) at gpa, from the mapping's file when it has
 * one we can open (a shared file mapping), else the process's memory. */
static int mem_region(struct uvmbus_simsock *g, uint64_t gpa, uintptr_t va, uintptr_t len,
		      uintptr_t vstart, uintptr_t vend, uint64_t foff, bool shared_file)
{
	struct uvmbus_simsock_mem msg = {.magic = UVMBUS_SIMSOCK_MEM_MAGIC,
					 .op = UVMBUS_SIMSOCK_MEM_ADD,
					 .gpa = gpa,
					 .len = len};
	int fd = -1, rc;

	if (shared_file) {
		char p[64];

		snprintf(p, sizeof(p), "/proc/self/map_files/%" PRIxPTR "-%" PRIxPTR, vstart, vend);
		/* Needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE: else the
		 * process's memory, which reaches the same pages. */
		fd = open(p, O_RDWR | O_CLOEXEC);
	}
	msg.addr = va; /* also with a file: the host's way in if it cannot map it */
	if (fd >= 0)
		msg.fd_offset = foff + (va - vstart);
	rc = mem_send(g, &msg, fd);
	if (fd >= 0)
		close(fd);
	return rc;
}

int uvmbus_simsock_mem_add(struct uvmbus_simsock *g, const void *addr, size_t len, uint64_t *gpa0)
{
	uintptr_t a = (uintptr_t)addr & ~(uintptr_t)4095;
	uintptr_t end = ((uintptr_t)addr + len + 4095) & ~(uintptr_t)4095;
	uintptr_t t0 = (uintptr_t)addr & ~(uintptr_t)(GRAN - 1);
	uintptr_t at = a, anon = 0; /* anon: start of a pending run of process memory */
	uint64_t base;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int rc = 0;

	if (!g->memtable || g->event_fd < 0)
		return -ENOTSUP;
	if (!len || end <= a)
		return -EINVAL;
	if (!g->next_gpa) /* above RAM, a 2 MiB hole first: off-by-one pfns hit nothing */
		g->next_gpa = ((g->ram_bytes + GRAN - 1) & ~(GRAN - 1)) + GRAN;
	base = g->next_gpa;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	while (!rc && at < end && getline(&line, &cap, f) > 0) {
		uintptr_t vs, ve, pend;
		unsigned long long off;
		char perms[8], path[256] = "";

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %llx %*s %*s %255[^\n]", &vs, &ve,
			   perms, &off, path) < 4 ||
		    ve <= at)
			continue;
		if (vs > at)
			break; /* a hole */
		pend = ve < end ? ve : end;
		bool file = perms[3] == 's' && path[0] == '/';

		if (file) {
			if (anon)
				rc = mem_region(g, base + (anon - t0), anon, at - anon, 0, 0, 0,
						false);
			anon = 0;
			if (!rc)
				rc = mem_region(g, base + (at - t0), at, pend - at, vs, ve, off,
						true);
		} else if (!anon) {
			anon = at;
		}
		at = pend;
	}
	if (!rc && anon)
		rc = mem_region(g, base + (anon - t0), anon, at - anon, 0, 0, 0, false);
	free(line);
	fclose(f);
	if (!rc && at < end)
		rc = -EFAULT;
	if (rc) {
		if (at > a)
			(void)uvmbus_simsock_mem_remove(g, base + (a - t0), at - a);
		return rc;
	}
	/* gpas are never reused: a late answer cannot land in a newer region */
	g->next_gpa = base + ((end - t0 + GRAN - 1) & ~(GRAN - 1)) + GRAN;
	*gpa0 = base;
	return 0;
}

int uvmbus_simsock_mem_remove(struct uvmbus_simsock *g, uint64_t gpa, uint64_t len)
{
	struct uvmbus_simsock_mem msg = {.magic = UVMBUS_SIMSOCK_MEM_MAGIC,
					 .op = UVMBUS_SIMSOCK_MEM_REMOVE,
					 .gpa = gpa,
					 .len = len};

	if (!g->memtable || g->event_fd < 0)
		return -ENOTSUP;
	return mem_send(g, &msg, -1);
}

void uvmbus_simsock_dev_opts(struct uvmbus_simsock *g, struct uvmbus_dev_opts *d)
{
	d->sysfs_root = g->sysfs_root;
	d->dev_root = g->dev_root;
	d->proc_root = g->proc_root;
	d->open_event_fd = uvmbus_simsock_event_fd;
	d->open_map_fd = uvmbus_simsock_map_fd;
	d->event_arg = g;
}
