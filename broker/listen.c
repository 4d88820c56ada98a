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

#define CHUNK		  (2ull << 20)
#define MAX_HELLO	  64 /* connections waiting for their hello, in all */
#define MAX_HELLO_PER_UID 8  /* ... of one uid */
#define ACCEPT_BATCH	  64 /* connections per call: a flood does not hold the loop */

int azd_listen(struct azd *d)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	mode_t old;
	int fd, rc;

	if (strlen(d->o.socket_path) >= sizeof(a.sun_path)) {
		azd_log(d, 3, "socket path too long: %s", d->o.socket_path);
		return -ENAMETOOLONG;
	}
	rc = azd_open_dir(d, d->o.socket_path, "socket", &d->sock_dirfd, &d->sock_base);
	if (rc)
		return rc;
	/* Bound through the checked directory's fd, not its path: nobody can
	 * swap the directory in between. */
	if (snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/%s", d->sock_dirfd,
		     d->sock_base) >= (int)sizeof(a.sun_path) ||
	    access("/proc/self/fd", F_OK))
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", d->o.socket_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlinkat(d->sock_dirfd, d->sock_base, 0); /* a stale socket of an earlier run */
	/* The socket is born with its mode (bind honours the umask): no
	 * chmod(path) afterwards, which would follow a symlink swapped in. */
	old = umask(~(mode_t)d->o.socket_mode & 0777);
	rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (rc || listen(fd, SOMAXCONN)) {
		int err = errno;

		azd_log(d, 3, "cannot listen on %s: %s", d->o.socket_path, strerror(err));
		close(fd);
		return -err;
	}
	d->listen_fd = fd;
	return epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* Refuse a connection at accept: the reason, then close. A hello already
 * queued is read away first: closing with it unread would reset the
 * connection before the client reads why. Logged at most once a second
 * (a flood of refused peers does not flood the log). */
static void refuse_at_accept(struct azd *d, int fd, uid_t uid, pid_t pid, int status,
			     const char *msg)
{
	static uint64_t last_ns, quiet;
	struct azblob_broker_welcome w = {
	    .magic = AZBLOB_BROKER_MAGIC, .version = AZBLOB_BROKER_VERSION, .status = status};
	uint64_t now = azd_now_ns();
	char buf[256];

	snprintf(w.message, sizeof(w.message), "%s", msg);
	send(fd, &w, sizeof(w), MSG_DONTWAIT | MSG_NOSIGNAL);
	for (int k = 0; k < 4 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; k++) {
	}
	close(fd);
	d->st.refused++;
	if (now - last_ns < 1000000000ull) {
		quiet++;
		return;
	}
	azd_log(d, 4,
		"connection of pid %d uid %u refused: %s (%llu more refused in the last second)",
		(int)pid, (unsigned)uid, msg, (unsigned long long)quiet);
	last_ns = now;
	quiet = 0;
}

/* Connections of uid waiting for their hello (all uids: (uid_t)-1); the
 * oldest in *oldest. */
static unsigned pending_hellos(struct azd *d, uid_t uid, struct azd_session **oldest)
{
	unsigned n = 0;

	for (struct azd_session *o = d->sessions; o; o = o->next)
		if (o->state == SESS_HELLO && (uid == (uid_t)-1 || o->uid == uid)) {
			n++;
			if (oldest)
				*oldest = o; /* the list is newest first */
		}
	return n;
}

/* Read the hellos already there (a burst of clients accepted at once):
 * only the silent ones stay pending. */
static void take_hellos(struct azd *d)
{
	for (struct azd_session *o = d->sessions; o; o = o->next)
		if (o->state == SESS_HELLO)
			azd_socket_event(d, o);
}

/* Room for one more hello of uid: its own share (MAX_HELLO_PER_UID), and
 * the total (MAX_HELLO), where the uid with the most pending gives way:
 * silent connections of others never keep a uid out. */
static bool hello_room(struct azd *d, uid_t uid, char *why, size_t len)
{
	struct azd_session *oldest = NULL, *victim = NULL;
	unsigned mine = pending_hellos(d, uid, NULL), top = 0;

	if (mine >= MAX_HELLO_PER_UID || pending_hellos(d, (uid_t)-1, NULL) >= MAX_HELLO) {
		take_hellos(d);
		mine = pending_hellos(d, uid, NULL);
	}
	if (mine >= MAX_HELLO_PER_UID) {
		snprintf(why, len, "uid %u has %u connections without a hello", (unsigned)uid,
			 mine);
		return false;
	}
	if (pending_hellos(d, (uid_t)-1, NULL) < MAX_HELLO)
		return true;
	for (struct azd_session *o = d->sessions; o; o = o->next) {
		unsigned k;

		if (o->state != SESS_HELLO)
			continue;
		k = pending_hellos(d, o->uid, &oldest);
		if (k > top) {
			top = k;
			victim = oldest;
		}
	}
	if (!victim || top <= mine) {
		snprintf(why, len, "%u connections without a hello", MAX_HELLO);
		return false;
	}
	azd_session_close(victim, "no hello yet: room for another user");
	return true;
}

void azd_accept(struct azd *d)
{
	for (int k = 0; k < ACCEPT_BATCH; k++) {
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct azd_session *s;
		gid_t *gids = NULL;
		size_t ngids = 0;
		uid_t uid;
		pid_t pid;
		char why[96];
		int rc;

		if (fd < 0)
			return;
		/* The peer is known before it sends a byte: one that is not
		 * allowed is refused now and takes no slot. */
		rc = azd_peer_creds(fd, &uid, &pid, &gids, &ngids);
		if (rc && uid != (uid_t)-1 && azd_allow_check(&d->allow, uid, NULL, 0))
			rc = 0; /* allowed by its uid: its groups do not matter */
		if (rc) {
			snprintf(why, sizeof(why), "cannot read the groups of uid %u: %s",
				 (unsigned)uid, strerror(-rc));
			refuse_at_accept(d, fd, uid, pid, -EACCES, why);
			continue;
		}
		if (!azd_allow_check(&d->allow, uid, gids, ngids)) {
			free(gids);
			snprintf(why, sizeof(why), "uid %u is not in azblobd's allow-list",
				 (unsigned)uid);
			refuse_at_accept(d, fd, uid, pid, -EACCES, why);
			continue;
		}
		if (!hello_room(d, uid, why, sizeof(why))) {
			free(gids);
			refuse_at_accept(d, fd, uid, pid, -EBUSY, why);
			continue;
		}
		s = calloc(1, sizeof(*s));
		if (!s) {
			free(gids);
			close(fd);
			return;
		}
		s->d = d;
		s->fd = fd;
		s->uid = uid;
		s->pid = pid;
		s->gids = gids;
		s->ngids = ngids;
		s->ring_fd = s->arena_fd = -1;
		s->id = ++d->next_id;
		s->t_open_ns = s->t_state_ns = azd_now_ns();
		s->state = SESS_HELLO;
		s->next = d->sessions;
		d->sessions = s;
		d->st.sessions_now++;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};

		if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev))
			azd_session_close(s, "epoll failed");
	}
}

void azd_revoke(struct azd *d)
{
	for (struct azd_session *s = d->sessions; s; s = s->next) {
		if ((s->state != SESS_ACTIVE && s->state != SESS_HELLO) || s->revoked_ns ||
		    azd_allow_check(&d->allow, s->uid, s->gids, s->ngids))
			continue;
		if (s->state == SESS_HELLO) {
			azd_session_close(s, "removed from the allow-list");
			continue;
		}
		azd_log(d, 4,
			"client %llu (pid %d uid %u): no longer in the allow-list: no new request; "
			"ends once its %u request(s) at the host are answered",
			(unsigned long long)s->id, (int)s->pid, (unsigned)s->uid,
			s->inflight - s->held);
		s->revoked_ns = azd_now_ns();
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
	uint32_t all = 0, waiting = 0, mine = 0, mine_waiting = 0;
	int rc;

	/* Sessions that hold an arena count: active ones, and closed ones
	 * whose requests the host has not answered yet (killed clients,
	 * revoked users): memory and, on a device, registered arenas. */
	for (struct azd_session *o = d->sessions; o; o = o->next) {
		bool w = (o->state == SESS_CLOSING || o->state == SESS_ZOMBIE) && o->arena &&
			 (o->inflight || o->registered);

		if (o->state != SESS_ACTIVE && !w)
			continue;
		all++;
		waiting += w;
		mine += o->uid == s->uid;
		mine_waiting += w && o->uid == s->uid;
	}
	if (d->stopping)
		return refuse(s, -ESHUTDOWN, "the daemon is shutting down");
	if (all >= d->o.max_clients) {
		snprintf(why, sizeof(why),
			 "%u sessions (--max-clients %u), %u waiting for the host", all,
			 d->o.max_clients, waiting);
		return refuse(s, -EBUSY, why);
	}
	if (s->uid && mine >= d->o.max_clients_per_uid) {
		snprintf(why, sizeof(why),
			 "uid %u: %u sessions (--max-clients-per-uid %u), %u waiting for the host",
			 (unsigned)s->uid, mine, d->o.max_clients_per_uid, mine_waiting);
		return refuse(s, -EBUSY, why);
	}
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
	azd_log(d, 6, "client %llu: pid %d uid %u, queue depth %u, arena %llu MiB%s, rings %zuK",
		(unsigned long long)s->id, (int)s->pid, (unsigned)s->uid, s->qd,
		(unsigned long long)(s->arena_bytes >> 20), s->hugetlb ? " (hugetlb)" : "",
		s->ring_bytes >> 10);
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
