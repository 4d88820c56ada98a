// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Client side of the azblobd broker (include/azblob/broker_proto.h): ask
 * for a session, receive its ring memfd and data arena, and hand them to
 * the device layer as a virtual channel. From then on the client is the
 * same as on a device: requests go into the ring, pfns are page offsets
 * in the arena (the memfd pin backend), completions come back in RX.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <azblob/broker_proto.h>

#include "internal.h"

#define CHUNK (2ull << 20)

const char *az_broker_path(const struct azblob_opts *o)
{
	const char *e;

	if (o->broker && *o->broker)
		return o->broker;
	if (o->sim_root)
		return NULL;
	e = getenv(AZBLOB_BROKER_ENV);
	return e && *e ? e : NULL;
}

/* The arena the pool needs: its region (2 MiB chunks), the memfd backend's
 * allocation table (the first chunk) and one chunk of room. */
static uint64_t arena_for(const struct azblob_opts *o)
{
	uint64_t stride = ((uint64_t)o->pool_buf_size + 63) & ~63ull;
	uint64_t pool = (stride * o->pool_bufs + CHUNK - 1) & ~(CHUNK - 1);

	return pool + 2 * CHUNK;
}

static int recv_welcome(struct azblob_client *c, int fd, struct azblob_broker_welcome *w,
			int fds[2])
{
	char ctl[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = {w, sizeof(*w)};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct cmsghdr *cm;
	ssize_t n;

	fds[0] = fds[1] = -1;
	n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	/* A reset reported first (the daemon closed with our hello unread):
	 * its answer may still be queued behind it. */
	if (n < 0 && errno == ECONNRESET)
		n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? -ECONNRESET : -errno;
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(2 * sizeof(int)))
			memcpy(fds, CMSG_DATA(cm), 2 * sizeof(int));
	if (n != (ssize_t)sizeof(*w) || w->magic != AZBLOB_BROKER_MAGIC ||
	    w->version != AZBLOB_BROKER_VERSION) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: broker: not an azblobd answer (%zd bytes)", n);
		return n == 0 ? -ECONNRESET : -EPROTO;
	}
	w->message[sizeof(w->message) - 1] = 0;
	if (w->status) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: broker refused the session: %s (%s)", w->message,
		       strerror(-w->status));
		return w->status < 0 ? w->status : -EPROTO;
	}
	if (fds[0] < 0 || fds[1] < 0 || !w->arena_bytes || w->arena_bytes % CHUNK) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: broker: the answer lacks its rings or arena");
		return -EPROTO;
	}
	return 0;
}

/* The daemon is root, or the user named by $AZBLOB_BROKER_UID (a number:
 * azblobd run as its own user), or this process's own user. Anyone else
 * serving the socket (a user who moved the real one away and bound their
 * own) would see the requests and their data: refused before the hello. */
static int check_server(struct azblob_client *c, int fd, const char *path)
{
	const char *e = getenv(AZBLOB_BROKER_UID_ENV);
	struct ucred cr;
	socklen_t len = sizeof(cr);
	unsigned long want = 0;
	char *end;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) || len != sizeof(cr)) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: broker at %s: who serves it is unknown: %s",
		       path, strerror(errno));
		return -EPERM;
	}
	if (e && *e) {
		errno = 0;
		want = strtoul(e, &end, 10);
		if (errno || *end || *e == '-' || want >= 0xfffffffful) {
			az_log(c, UVMBUS_LOG_ERR, "azblob: $%s=%s is not a uid: root only",
			       AZBLOB_BROKER_UID_ENV, e);
			want = 0;
		}
	}
	if (cr.uid == 0 || cr.uid == (uid_t)want || cr.uid == geteuid())
		return 0;
	az_log(c, UVMBUS_LOG_ERR,
	       "azblob: broker at %s is served by uid %u (pid %d), not by root or $%s: refused "
	       "(someone else's daemon would see the requests)",
	       path, (unsigned)cr.uid, (int)cr.pid, AZBLOB_BROKER_UID_ENV);
	return -EPERM;
}

static bool broker_match(const struct azblob_opts *o)
{
	return az_broker_path(o) != NULL;
}

static int broker_open(struct azblob_client *c, const struct azblob_opts *o,
		       struct uvmbus_dev_opts *d)
{
	const char *path = az_broker_path(o);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct azblob_broker_hello h = {
	    .magic = AZBLOB_BROKER_MAGIC,
	    .version = AZBLOB_BROKER_VERSION,
	    .op = AZBLOB_BROKER_ATTACH,
	    .queue_depth = c->opts.queue_depth,
	    .arena_bytes = arena_for(&c->opts),
	};
	struct azblob_broker_welcome w;
	int fd, fds[2] = {-1, -1}, rc;

	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s", path) >= (int)sizeof(a.sun_path)) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: broker socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		rc = -errno;
		az_log(c, UVMBUS_LOG_ERR, "azblob: no broker at %s: %s", path, strerror(-rc));
		goto out;
	}
	rc = check_server(c, fd, path);
	if (rc)
		goto out;
	/* A daemon that refuses at accept (not allowed, too many connections
	 * without a hello) has sent why and closed: its answer is read even
	 * when the hello could not be sent. */
	if (send(fd, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h) && errno != EPIPE &&
	    errno != ECONNRESET) {
		rc = -errno;
		goto out;
	}
	rc = recv_welcome(c, fd, &w, fds);
	if (!rc && w.queue_depth < c->opts.queue_depth) {
		az_log(c, UVMBUS_LOG_ERR,
		       "azblob: broker grants a queue depth of %u, %u asked: lower queue_depth",
		       w.queue_depth, c->opts.queue_depth);
		rc = -ENOSPC;
	}
	if (!rc)
		rc = uvmbus_dev_open_vchan(&c->dev, fds[0], w.ring_bytes, fd, d);
	if (!rc) {
		c->arena_fd = fds[1];
		c->arena_bytes = w.arena_bytes;
		c->broker_max_pages = w.max_pages;
		fds[1] = -1;
	}
out:
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(fd);
	return rc;
}

const struct az_transport az_transport_broker = {"broker", broker_match, broker_open};
