// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Guest side of the simulator's doorbell socket (see azblob/sim_proto.h):
 * connect, receive the guest-RAM memfd, hand the connection to the device
 * layer as the interrupt fd. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <azblob/sim.h>
#include <azblob/sim_proto.h>

int azblob_sim_connect(const char *root, struct azblob_sim_guest *g)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct azblob_sim_hello h;
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&h, sizeof(h)};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c;
	int fd, err;

	memset(g, 0, sizeof(*g));
	g->event_fd = g->ram_fd = -1;
	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s/" AZBLOB_SIM_SOCKET, root) >=
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
	if (h.magic != AZBLOB_SIM_HELLO_MAGIC || !c || c->cmsg_type != SCM_RIGHTS) {
		errno = EPROTO;
		goto fail;
	}
	memcpy(&g->ram_fd, CMSG_DATA(c), sizeof(int));
	g->event_fd = fd;
	g->ram_bytes = h.ram_bytes;
	snprintf(g->sysfs_root, sizeof(g->sysfs_root), "%s/sys", root);
	snprintf(g->dev_root, sizeof(g->dev_root), "%s/dev", root);
	snprintf(g->proc_root, sizeof(g->proc_root), "%s/proc", root);
	return 0;
fail:
	err = errno;
	close(fd);
	return -err;
}

void azblob_sim_disconnect(struct azblob_sim_guest *g)
{
	if (g->event_fd >= 0)
		close(g->event_fd);
	if (g->ram_fd >= 0)
		close(g->ram_fd);
	g->event_fd = g->ram_fd = -1;
}

int azblob_sim_event_fd(void *guest, const char *uio_path)
{
	struct azblob_sim_guest *g = guest;
	int fd;

	(void)uio_path;
	fd = fcntl(g->event_fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int azblob_sim_map_fd(void *guest, const char *uio_path, int map, int64_t *offset)
{
	char path[4096];
	int fd;

	(void)guest;
	if (snprintf(path, sizeof(path), map ? "%s" : "%s.map0", uio_path) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	*offset = map ? (int64_t)map * 4096 : 0;
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}
