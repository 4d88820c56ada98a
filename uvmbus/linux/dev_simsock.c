// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The emulator's doorbell socket as a device transport (<uvmbus/simsock.h>):
 * connect, receive the guest-RAM memfd, hand the connection to the device
 * layer as the interrupt fd. Like dev_vchan.c for the broker, it only fills
 * the device layer's open_event_fd / open_map_fd hooks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
	*offset = map ? (int64_t)map * 4096 : 0;
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
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
