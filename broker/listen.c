// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The broker's socket: accept, check the peer against the allow-list,
 * read its hello (never blocking: a silent client is dropped after a
 * while), answer ATTACH with the session's fds or STATS with text; after
 * that, 4-byte doorbells only. Anything else from a client ends its
 * session.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "azd.h"

#define CHUNK	  (2ull << 20)
#define MAX_HELLO 64 /* connections waiting for their hello */

int azd_listen(struct azd *d)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	int fd;

	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s", d->o.socket_path) >=
	    (int)sizeof(a.sun_path)) {
		azd_log(d, 3, "socket path too long: %s", d->o.socket_path);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(d->o.socket_path); /* a stale socket of an earlier run */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64) ||
	    chmod(d->o.socket_path, d->o.socket_mode)) {
		int err = errno;

		azd_log(d, 3, "cannot listen on %s: %s", d->o.socket_path, strerror(err));
		close(fd);
		return -err;
	}
	d->listen_fd = fd;
	return epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

void azd_accept(struct azd *d)
{
	for (;;) {
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct azd_session *s;
		gid_t gids[64];
		size_t ngids = 64;

		if (fd < 0)
			return;
		unsigned pending = 0;

		for (struct azd_session *o = d->sessions; o; o = o->next)
			pending += o->state == SESS_HELLO;
		if (pending >= MAX_HELLO) {
			/* Connections that have not said hello yet are capped:
			 * a flood of them cannot exhaust the daemon's fds. */
			d->st.refused++;
			close(fd);
			continue;
		}
		s = calloc(1, sizeof(*s));
		if (!s) {
			close(fd);
			return;
		}
		s->d = d;
		s->fd = fd;
		s->ring_fd = s->arena_fd = -1;
		s->id = ++d->next_id;
		s->t_open_ns = s->t_state_ns = azd_now_ns();
		s->state = SESS_HELLO;
		s->next = d->sessions;
		d->sessions = s;
		d->st.sessions_now++;
		/* Refused at its hello: closing now, with the hello unread,
		 * would reset the connection before the client reads why. */
		s->denied = azd_peer_creds(fd, &s->uid, &s->pid, gids, &ngids) ||
			    !azd_allow_check(&d->allow, s->uid, gids, ngids);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};

		if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev))
			azd_session_close(s, "epoll failed");
	}
}

static void refuse(struct azd_session *s, int status, const char *msg)
{
	struct azblob_broker_welcome w = {
	    .magic = AZBLOB_BROKER_MAGIC, .version = AZBLOB_BROKER_VERSION, .status = status};

	snprintf(w.message, sizeof(w.message), "%s", msg);
	send(s->fd, &w, sizeof(w), MSG_DONTWAIT | MSG_NOSIGNAL);
	s->d->st.protocol_errors += status == -EPROTO;
	azd_log(s->d, 4, "client %llu (pid %d uid %u) refused: %s", (unsigned long long)s->id,
		(int)s->pid, (unsigned)s->uid, msg);
	azd_session_close(s, msg);
}

static void send_stats(struct azd_session *s)
{
	size_t cap = sizeof(struct azblob_broker_welcome) + AZBLOB_BROKER_STATS_MAX;
	char *buf = calloc(1, cap);
	struct azblob_broker_welcome *w = (void *)buf;
	int n;

	if (buf) {
		w->magic = AZBLOB_BROKER_MAGIC;
		w->version = AZBLOB_BROKER_VERSION;
		n = azd_format_stats(s->d, buf + sizeof(*w), AZBLOB_BROKER_STATS_MAX);
		if (n >= (int)AZBLOB_BROKER_STATS_MAX)
			n = AZBLOB_BROKER_STATS_MAX - 1;
		send(s->fd, buf, sizeof(*w) + (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
		free(buf);
	}
	azd_session_close(s, "stats sent");
}

static void attach(struct azd_session *s, const struct azblob_broker_hello *h)
{
	struct azd *d = s->d;
	struct azblob_broker_welcome w = {.magic = AZBLOB_BROKER_MAGIC,
					  .version = AZBLOB_BROKER_VERSION};
	char why[96];
	char ctl[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = {&w, sizeof(w)};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct cmsghdr *cm;
	uint32_t active = 0;
	int rc;

	for (struct azd_session *o = d->sessions; o; o = o->next)
		active += o->state == SESS_ACTIVE;
	if (d->stopping)
		return refuse(s, -ESHUTDOWN, "the daemon is shutting down");
	if (active >= d->o.max_clients)
		return refuse(s, -EUSERS, "too many clients (--max-clients)");
	if (!h->queue_depth || h->queue_depth > d->o.max_qd) {
		snprintf(why, sizeof(why), "queue depth %u: 1..%u per client (--max-qd)",
			 h->queue_depth, d->o.max_qd);
		return refuse(s, -ENOSPC, why);
	}
	if (h->arena_bytes < 2 * CHUNK || h->arena_bytes % CHUNK ||
	    h->arena_bytes > d->o.max_arena) {
		snprintf(
		    why, sizeof(why), "arena of %llu bytes: 4 MiB..%llu MiB in 2 MiB (--max-arena)",
		    (unsigned long long)h->arena_bytes, (unsigned long long)(d->o.max_arena >> 20));
		return refuse(s, -E2BIG, why);
	}
	rc = azd_session_setup(d, s, h->queue_depth, h->arena_bytes, why, sizeof(why));
	if (rc)
		return refuse(s, rc, why);
	w.queue_depth = s->qd;
	w.arena_bytes = s->arena_bytes;
	w.ring_bytes = (uint32_t)s->ring_bytes;
	w.max_pages = d->o.max_pages;
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cm), (int[2]){s->ring_fd, s->arena_fd}, 2 * sizeof(int));
	if (sendmsg(s->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(w)) {
		azd_session_close(s, "the welcome could not be sent");
		return;
	}
	s->state = SESS_ACTIVE;
	s->t_state_ns = azd_now_ns();
	d->st.sessions++;
	azd_log(d, 6, "client %llu: pid %d uid %u, queue depth %u, arena %llu MiB%s",
		(unsigned long long)s->id, (int)s->pid, (unsigned)s->uid, s->qd,
		(unsigned long long)(s->arena_bytes >> 20), s->hugetlb ? " (hugetlb)" : "");
}

void azd_socket_event(struct azd *d, struct azd_session *s)
{
	union {
		struct azblob_broker_hello h;
		uint32_t word;
		uint8_t raw[256];
	} u;

	(void)d;
	/* Bounded: a client flooding doorbells does not hold the loop. */
	for (int k = 0; k < 64 && s->fd >= 0; k++) {
		ssize_t n = recv(s->fd, &u, sizeof(u), MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			azd_session_close(s, n ? "socket error" : "the client hung up");
			return;
		}
		if (s->state == SESS_HELLO && s->denied) {
			char why[96];

			s->d->st.refused++;
			snprintf(why, sizeof(why), "uid %u is not in azblobd's allow-list",
				 (unsigned)s->uid);
			return refuse(s, -EACCES, why);
		}
		if (s->state == SESS_HELLO) {
			if (n != sizeof(u.h) || u.h.magic != AZBLOB_BROKER_MAGIC ||
			    u.h.version != AZBLOB_BROKER_VERSION || u.h.reserved)
				return refuse(s, -EPROTO, "not an azblobd hello");
			if (u.h.op == AZBLOB_BROKER_STATS)
				return send_stats(s);
			if (u.h.op != AZBLOB_BROKER_ATTACH)
				return refuse(s, -EPROTO, "unknown operation");
			attach(s, &u.h);
			continue;
		}
		if (n != sizeof(uint32_t)) {
			s->d->st.protocol_errors++;
			azd_session_close(s, "garbage on its socket");
			return;
		}
		s->st.doorbells++;
	}
}
