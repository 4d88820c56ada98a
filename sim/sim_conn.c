// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The guest's event fd: a SOCK_SEQPACKET connection to root/vspd.sock with
 * the semantics of /dev/uioN under uio_hv_generic:
 *  - the guest writes a u32 1: "irqcontrol on" = clear the RX interrupt
 *    mask and, when the channel has no monitor, signal the host;
 *  - the host sends a u32 event count for each interrupt, after which the
 *    RX mask is set again (as the kernel's channel callback does);
 *  - rescind: the host hangs up.
 * On connect the host sends a hello and the guest-RAM memfd (SCM_RIGHTS).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim_internal.h"

#define INT_PAGE_SEND_OFF 2048u

int sim_conn_listen(struct azblob_sim *s)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	snprintf(s->sock_path, sizeof(s->sock_path), "%s/" UVMBUS_SIMSOCK_NAME, s->root);
	if (strlen(s->sock_path) >= sizeof(a.sun_path)) {
		sim_log(s, UVMBUS_LOG_ERR, "socket path too long: %s", s->sock_path);
		return -ENAMETOOLONG;
	}
	memcpy(a.sun_path, s->sock_path, strlen(s->sock_path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4)) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		sim_log(s, UVMBUS_LOG_ERR, "listen on %s: %s", s->sock_path, strerror(err));
		return -err;
	}
	s->listen_fd = fd;
	return 0;
}

/*
 * What irqcontrol(1) does to the subchannels: kernels that set the event on
 * every channel of the device unmask them (where the kernel owns masks)
 * and signal each one without a monitor (the relid bit in the interrupt
 * page says which); older ones touch the primary only, so a subchannel's
 * own write-to-signal never reaches it.
 */
static void irqcontrol_subchannels(struct azblob_sim *s)
{
	for (uint32_t i = 0; i < s->opts.subchannels && s->sub_rings[i]; i++) {
		uint32_t relid = s->opts.relid + 1 + i;
		uint32_t *word =
		    (uint32_t *)(s->uio_pages + s->page + INT_PAGE_SEND_OFF + (relid / 32) * 4);

		if (!s->k.set_event_subchannels)
			continue;
		if (s->k.kernel_masks_rx)
			__atomic_store_n((uint32_t *)(s->sub_rings[i] + s->opts.ring_bytes + 8), 0,
					 __ATOMIC_SEQ_CST);
		__atomic_fetch_and(word, ~(1u << (relid % 32)), __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&s->st.subchannel_signals, 1, __ATOMIC_RELAXED);
	}
}

/* The guest closed its fd: like the last close of /dev/uioN, the channel
 * closes, and the next open starts from zeroed rings. */
static void guest_gone(struct azblob_sim *s)
{
	close(s->conn_fd);
	s->conn_fd = -1;
	memset(s->rings, 0, s->rings_len);
	*s->tx.features = 1;
	*s->rx.features = 1;
	*s->rx.mask = s->k.kernel_masks_rx;
	s->last_signal_tx_w = 0;
	s->tx_read = 0;
	s->rx_waiting = false;
	pthread_mutex_lock(&s->lock);
	bool late = s->faults.dma_after_close;

	pthread_mutex_unlock(&s->lock);
	if (late && s->nheld) {
		/* A host that still writes what it was handed, and answers into
		 * the next channel: the buffers stay owned. */
		for (unsigned i = 0; i < s->nheld; i++)
			s->held[i].orphan = true;
		sim_log(s, UVMBUS_LOG_INFO,
			"guest disconnected: channel closed, %u request(s) will still be written "
			"(dma_after_close)",
			s->nheld);
		return;
	}
	s->nheld = 0;
	sim_mem_clear(s); /* its memory table goes with it */
	/* the channel is closed: nothing the host held can be written now */
	memset(s->owned, 0, s->owned_units * sizeof(*s->owned));
	sim_log(s, UVMBUS_LOG_INFO, "guest disconnected: channel closed");
}

void sim_conn_accept(struct azblob_sim *s)
{
	struct uvmbus_simsock_hello h = {.magic = UVMBUS_SIMSOCK_MAGIC,
					 .version = UVMBUS_SIMSOCK_VERSION,
					 .ram_bytes = s->opts.ram_bytes};
	char ctl[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {&h, sizeof(h)};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int fd;

	if (s->listen_fd < 0)
		return;
	fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (s->conn_fd >= 0 || atomic_load(&s->rescind)) {
		sim_log(s, UVMBUS_LOG_WARN, "second guest refused: the device is in use");
		close(fd);
		return;
	}
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &s->ram_fd, sizeof(int));
	if (sendmsg(fd, &m, 0) != (ssize_t)sizeof(h)) {
		sim_log(s, UVMBUS_LOG_WARN, "hello to the guest: %s", strerror(errno));
		close(fd);
		return;
	}
	struct ucred cred = {0};
	socklen_t cl = sizeof(cred);

	/* whose memory the table's fd-less regions are */
	s->peer_pid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) ? 0 : cred.pid;
	sim_mem_clear(s);
	s->conn_fd = fd;
	sim_log(s, UVMBUS_LOG_INFO, "guest connected");
}

/* The file a message carried (SCM_RIGHTS), -1 when none; any other fds
 * it carried are closed. */
static int taken_fd(struct msghdr *m)
{
	int fd = -1;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int x;

			memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = x;
			else
				close(x);
		}
	}
	return fd;
}

int sim_conn_drain(struct azblob_sim *s)
{
	int n = (int)s->deferred_signals;

	s->deferred_signals = 0;
	while (s->conn_fd >= 0) {
		union {
			uint32_t v;
			struct uvmbus_simsock_mem mem;
		} u;
		char ctl[CMSG_SPACE(4 * sizeof(int))];
		struct iovec iov = {&u, sizeof(u)};
		struct msghdr m = {.msg_iov = &iov,
				   .msg_iovlen = 1,
				   .msg_control = ctl,
				   .msg_controllen = sizeof(ctl)};
		ssize_t r = recvmsg(s->conn_fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		int fd;

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (r <= 0) {
			guest_gone(s);
			break;
		}
		fd = taken_fd(&m);
		if (r == sizeof(u.mem) && !(m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
			sim_mem_message(s, &u.mem, fd); /* the memory table */
			continue;
		}
		if (fd >= 0)
			close(fd);
		if (r != sizeof(u.v) || u.v != 1)
			continue; /* uio ignores anything but a 4-byte 1 */
		/* irqcontrol(1): older kernels clear the RX mask (newer ones
		 * leave it to user space); without a monitor it is a signal
		 * (the bit in the interrupt page says which channel). */
		if (s->k.kernel_masks_rx)
			__atomic_store_n(s->rx.mask, 0, __ATOMIC_SEQ_CST);
		if (s->opts.monitor_id < 0) {
			uint32_t *word = (uint32_t *)(s->uio_pages + s->page + INT_PAGE_SEND_OFF +
						      (s->opts.relid / 32) * 4);

			__atomic_fetch_and(word, ~(1u << (s->opts.relid % 32)), __ATOMIC_SEQ_CST);
			sim_count_signal(s);
			n++;
		}
		irqcontrol_subchannels(s);
	}
	return n;
}

void sim_count_signal(struct azblob_sim *s)
{
	uint32_t w = __atomic_load_n(s->tx.w, __ATOMIC_ACQUIRE);

	/* Nothing queued since the last signal and no RX room awaited: the
	 * guest unmasked before sleeping, or signalled for nothing. */
	if (w == s->last_signal_tx_w && !s->rx_waiting)
		__atomic_fetch_add(&s->st.idle_signals, 1, __ATOMIC_RELAXED);
	s->last_signal_tx_w = w;
}

void sim_conn_interrupt(struct azblob_sim *s)
{
	uint32_t one = 1;

	if (s->conn_fd < 0)
		return;
	/* As the kernel's channel callback does: mask RX first, then deliver
	 * the event. Masking after the send would race with a guest that
	 * already woke, unmasked and went back to sleep: its unmask would be
	 * overwritten and the next answer would raise no interrupt. */
	if (s->k.kernel_masks_rx)
		__atomic_store_n(s->rx.mask, 1, __ATOMIC_SEQ_CST);
	if (send(s->conn_fd, &one, sizeof(one), MSG_DONTWAIT | MSG_NOSIGNAL) == sizeof(one))
		__atomic_fetch_add(&s->st.interrupts, 1, __ATOMIC_RELAXED);
}

void sim_conn_close(struct azblob_sim *s)
{
	if (s->conn_fd >= 0) {
		shutdown(s->conn_fd, SHUT_RDWR);
		close(s->conn_fd);
	}
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->sock_path);
	}
	s->conn_fd = s->listen_fd = -1;
}
