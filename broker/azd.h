/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* azblobd internals: the daemon, its sessions, their records. */
#ifndef AZBLOBD_AZD_H
#define AZBLOBD_AZD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <azblob.h>
#include <azblob/broker_proto.h>
#include <azblob/sim.h>
#include <uvmbus.h>

#include "allow.h"
#include "check.h"

#define PROG "azblobd"

/* A session being cut off (drain, revocation): how long its client has to
 * read the answers already in its RX ring. */
#define AZD_DRAIN_READ_NS (2000ull * 1000 * 1000)

enum azd_mode { AZD_POLL, AZD_HYBRID, AZD_INTERRUPT };

enum sess_state {
	SESS_HELLO,   /* connected, hello not read yet */
	SESS_ACTIVE,  /* serving */
	SESS_CLOSING, /* client gone or cut off: in-flight requests finish */
	SESS_ZOMBIE,  /* nothing in flight; the host may still hold arena pages */
};

enum rec_state { REC_FREE, REC_DEVICE, REC_ANSWER, REC_HELD };

struct azd_rec {
	struct azd_session *s;
	uint64_t trans_id; /* the client's */
	struct azblob_vsp_response rsp;
	uint8_t state;
};

/* Per-client counters (azblob stat --broker). */
struct azd_sess_stats {
	uint64_t requests;  /* forwarded to the device */
	uint64_t completed; /* answers written into the client's RX */
	uint64_t errors;    /* answers with a non-zero status */
	uint64_t rejected;  /* packets refused by the parser, all reasons */
	uint64_t violations[AZD_V_COUNT];
	uint64_t bytes_in;    /* data_valid bytes forwarded */
	uint64_t doorbells;   /* 4-byte signals from the client */
	uint64_t interrupts;  /* interrupts sent to the client */
	uint64_t rx_full;     /* answers waiting for RX room */
	uint64_t qd_full;     /* TX reads deferred at the queue-depth limit */
	uint64_t share_full;  /* TX reads deferred: its share of the device is out */
	uint64_t device_busy; /* submits deferred: device queue or bounce pool full */
	uint64_t timeouts;    /* device timeouts */
	uint64_t dropped;     /* answers for a client that is gone */
	uint32_t max_inflight;
};

struct azd_session {
	struct azd_session *next;
	struct azd *d;
	enum sess_state state;
	int fd;
	uint64_t id;
	uid_t uid;
	pid_t pid;
	uint64_t t_open_ns, t_state_ns;
	/* Removed from the allow-list at a reload (0: not): no new request is
	 * read; the session ends once the answers of those at the host are
	 * out and read (or AZD_DRAIN_READ_NS later), as at a drain. */
	uint64_t revoked_ns;
	const char *why; /* why it is closing */
	gid_t *gids;	 /* its groups at connect (SO_PEERGROUPS): re-checked at SIGHUP */
	size_t ngids;
	/* rings: TX (client -> daemon, we consume), RX (we produce) */
	int ring_fd, arena_fd;
	uint8_t *ring_map;
	size_t ring_bytes;
	struct uvmbus_ring *tx, *rx;
	uint8_t *arena;
	uint64_t arena_bytes;
	bool registered; /* the arena is registered with the device client */
	bool sealed;	 /* no hole punched from now on (forward.c, its first packet) */
	bool hugetlb;
	uint32_t qd, inflight, held;
	struct azd_rec *recs;
	uint32_t *free_recs, nfree;
	uint32_t *answers, ans_head, ans_count; /* FIFO of REC_ANSWER records */
	uint8_t *pkt;				/* one TX packet, copied out */
	size_t pkt_cap;
	bool have_pending; /* req holds a parsed request the device refused for now */
	struct azd_req req;
	bool tx_dirty;	  /* packets consumed, read index not published yet */
	uint32_t tx_seen; /* TX bytes seen readable and not consumed: the index never goes back */
	struct azd_sess_stats st;
};

struct azd_opts {
	const char *socket_path;
	const char *allow_file;
	struct azd_allow allow_cli; /* --allow-user / --allow-group */
	bool sim, sim_step;
	const char *sim_root;
	const char *sim_backend;
	uint64_t sim_ram;
	const char *device;
	enum azd_mode mode;
	uint32_t idle_us;
	int cpu;
	uint32_t max_clients;
	uint32_t max_clients_per_uid; /* root: no limit of its own */
	uint32_t max_qd;
	uint64_t max_arena;
	uint32_t ring_bytes;
	uint32_t max_pages; /* pfns per request forwarded */
	uint32_t device_qd;
	uint32_t bounce_bufs;
	uint32_t bounce_size;
	bool copy; /* --copy: copy through the pool even where arenas could be registered */
	uint32_t socket_mode;
	const char *ready_file;
	int log_level;
	bool cuse;	       /* --cuse: serve /dev/<cuse_name> too (cuse_host.c) */
	const char *cuse_name; /* default azure_blob */
	uint32_t cuse_arenas;  /* CUSE requests staged at once, 32 MiB each */
};

struct azd_counters {
	uint64_t sessions, refused, protocol_errors, closed, zombies_freed;
	uint64_t dropped; /* answers of freed sessions nobody read */
	uint64_t arena_bytes_now;
	uint32_t sessions_now, zombies_now;
	/* records of requests timed out on a registered arena, the host's
	 * answer still owed (REC_HELD), and those it answered late */
	uint32_t held_now;
	uint64_t late_returned;
};

struct azd_cuse;

struct azd {
	struct azd_opts o;
	/* The loop replaces it on SIGHUP under allow_mu, which the CUSE
	 * threads hold to read it (the loop reads it without). */
	struct azd_allow allow;
	pthread_mutex_t allow_mu;
	struct azd_cuse *cuse; /* --cuse: its thread, NULL otherwise */
	bool cuse_stopping;    /* SIGTERM: the CUSE side stops before the drain */
	int exit_status;
	struct azblob_sim *sim;
	struct azblob_client *dev;
	bool bounce; /* requests copied through the pool: --copy, or the host
		      * reaches no registered memory in place */
	int listen_fd, epoll_fd, signal_fd;
	/* The checked directories of the socket and the ready file (paths.c):
	 * their files are made, renamed and removed relative to these. */
	int sock_dirfd, ready_dirfd;
	const char *sock_base, *ready_base;
	struct azd_session *sessions;
	uint64_t next_id;
	bool stopping, submitted;
	/* forward.c's round-robin: the session that last got a request to the
	 * device (a pass begins after it), and the device refused one this pass */
	uint64_t rr_last;
	bool device_full;
	uint64_t stop_ns; /* when draining began */
	struct azd_counters st;
};

/* options.c: fill d->o from the command line; 0, or the exit status
 * (2: usage, with a message) when the program should stop; exits 0 after
 * --help. */
int azd_parse_options(struct azd *d, int argc, char **argv);

/* log.c */
void azd_log(const struct azd *d, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct uvmbus_log azd_lib_log(struct azd *d);
uint64_t azd_now_ns(void);

/* listen.c: the socket, accepting, hellos, STATS */
int azd_listen(struct azd *d);
void azd_accept(struct azd *d);
/* The session's socket is readable: its hello, doorbells or hang-up. */
void azd_socket_event(struct azd *d, struct azd_session *s);

/* paths.c: open path's directory as dirfd after checking it and those
 * above it (owned by root or the daemon's uid, writable by nobody else; a
 * refusal logged with the path, owner and mode). 0 or a negative errno. */
int azd_open_dir(struct azd *d, const char *path, const char *what, int *dirfd, const char **base);
/* Create --ready-file in its checked directory (O_EXCL | O_NOFOLLOW, then
 * renamed into place). */
int azd_write_ready(struct azd *d);

/* listen.c: sessions ended at a SIGHUP reload (their user is out of the
 * new allow-list), as a killed client's. */
void azd_revoke(struct azd *d);

/* session.c */
int azd_session_setup(struct azd *d, struct azd_session *s, uint32_t qd, uint64_t arena_bytes,
		      char *why, size_t whylen);
/* Cut the client off: stop reading its TX, drop its answers; what is in
 * flight finishes first (azd_session_reap frees it then). */
void azd_session_close(struct azd_session *s, const char *why);
/* Free closed sessions whose requests are all over and whose arena the
 * host no longer holds. */
void azd_session_reap(struct azd *d);
void azd_session_free(struct azd_session *s);

/* forward.c */
/* Serve a session: answers into RX, requests from TX. Returns work done. */
unsigned azd_serve(struct azd *d, struct azd_session *s);
/* The device client's release callback (azblob_set_release, arg: the
 * daemon): the host answered a held record at last. */
void azd_on_release(void *arg, void *user, int err, uint32_t status, uint32_t len);
/* One pass over every session, round-robin: the device queue is shared
 * (a session holds at most azd_share() requests at the device; after a
 * refusal, the next slot goes to the session after the last one served). */
unsigned azd_serve_all(struct azd *d);
/* Requests one session may have at the device at once: half the device
 * queue (or of the copy pool, where that is smaller), at least 1. */
uint32_t azd_share(const struct azd *d);
/* Before sleeping: TX interrupts on (true: something is readable). */
bool azd_unmask_tx(struct azd_session *s, bool unmask);

/* cuse_host.c: azblobd --cuse */
/* Start the front end's thread (after azd_listen: it attaches to the
 * socket). 0 or a negative errno. */
int azd_cuse_start(struct azd *d);
/* Has the front end's thread ended (by itself: no /dev/cuse, ...)? */
bool azd_cuse_ended(const struct azd *d);
/* Ask it to stop (callers in flight complete; call from the loop, which
 * must keep serving its session meanwhile): true once it has ended. */
bool azd_cuse_stop(struct azd *d);
/* Stop (waiting) and free it; nothing without --cuse. */
void azd_cuse_free(struct azd *d);

/* stats.c */
int azd_format_stats(const struct azd *d, char *buf, size_t cap);

#endif
