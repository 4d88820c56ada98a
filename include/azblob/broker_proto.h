/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The azblobd broker's socket protocol (docs/BROKER.md), shared by the
 * daemon and libazblob. A unix SOCK_SEQPACKET socket; the daemon checks
 * the peer's SO_PEERCRED against its allow-list before reading anything.
 *
 *   client -> daemon: struct azblob_broker_hello (op ATTACH or STATS)
 *   daemon -> client: struct azblob_broker_welcome; for ATTACH with status
 *                     0, two fds attached (SCM_RIGHTS): the ring memfd
 *                     (TX ring then RX ring, ring_bytes each, a header page
 *                     then data) and the data arena memfd (arena_bytes;
 *                     a pfn of a request is a 4 KiB page offset in it).
 *                     For STATS, text follows the welcome in the same
 *                     message.
 * After ATTACH the socket has the semantics of /dev/uioN, as the
 * simulator's doorbell socket: 4-byte messages of 1 from the client
 * signal the daemon (or unmask), 4-byte event counts from the daemon
 * interrupt the client, a hang-up either way ends the session. Any other
 * message from the client is a protocol violation: the daemon disconnects.
 */
#ifndef AZBLOB_BROKER_PROTO_H
#define AZBLOB_BROKER_PROTO_H

#include <stdint.h>

#define AZBLOB_BROKER_MAGIC	0x4b524241u /* "ABRK" */
#define AZBLOB_BROKER_VERSION	1u
#define AZBLOB_BROKER_ENV	"AZBLOB_BROKER"
#define AZBLOB_BROKER_SOCK_PATH "/run/azblobd/azblobd.sock"
/* Largest STATS reply (one message). */
#define AZBLOB_BROKER_STATS_MAX (64u * 1024u)
/* The uid azblobd runs as when not root (a number): a client trusts a
 * socket served by root, by its own uid, or by this uid only. */
#define AZBLOB_BROKER_UID_ENV "AZBLOB_BROKER_UID"

enum azblob_broker_op {
	AZBLOB_BROKER_ATTACH = 1, /* a session: rings and arena */
	AZBLOB_BROKER_STATS = 2,  /* the daemon's counters as text */
};

struct azblob_broker_hello {
	uint32_t magic;
	uint32_t version;
	uint32_t op;
	uint32_t queue_depth; /* requests in flight wanted (the daemon may cap it) */
	uint64_t arena_bytes; /* data arena wanted, a multiple of 2 MiB */
	uint64_t reserved;    /* 0 */
};

struct azblob_broker_welcome {
	uint32_t magic;
	uint32_t version;
	int32_t status;	      /* 0 or a negative errno (message says why) */
	uint32_t queue_depth; /* granted */
	uint64_t arena_bytes; /* granted (what was asked, or the request fails) */
	uint32_t ring_bytes;  /* each ring, header page included: whole kernel
			       * pages (the header is one page), as the client's
			       * uvmbus_dev_open_vchan() requires */
	uint32_t max_pages;   /* pfns per request the daemon forwards */
	char message[96];     /* NUL-terminated reason when status != 0 */
};

_Static_assert(sizeof(struct azblob_broker_hello) == 32, "broker hello size");
_Static_assert(sizeof(struct azblob_broker_welcome) == 128, "broker welcome size");

#endif
