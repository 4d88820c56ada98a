/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libazblob: asynchronous requests to the Azure Blob VSP over the
 * user-space VMbus fast path.
 *
 * Model (SPDK qpair / io_uring style): no threads, no global state.
 * Progress happens only inside the caller's calls:
 *   azblob_submit()  writes one GPA-direct packet straight into the ring
 *   azblob_flush()   makes the batch visible and signals the host (at most once)
 *   azblob_poll()    reaps completions and runs their callbacks
 *   azblob_wait()    sleeps on the interrupt fd until something may be ready
 * After azblob_open() the submit/poll path allocates nothing, takes no lock
 * and makes no system call (signalling a sleeping host is the exception,
 * and never happens while the host polls).
 *
 * THREADS: a client's own calls (submit/flush/poll/wait, request_sync,
 * the blob helpers) are used by one thread at a time. Other threads use
 * queues (azblob_queue_create below): one queue per thread, all on the
 * client's one channel, each thread submitting and reaping on its own
 * queue, its callbacks run in its own azblob_queue_poll(). azblob_alloc,
 * azblob_free, azblob_register, azblob_unregister and azblob_get_stats may
 * then be called from any thread. The library starts no thread: callers
 * that poll drive the channel (with a try-lock), or a thread of the
 * caller's loops on azblob_wait()/azblob_poll() (docs/AZBLOB.md).
 *
 * Errors are negative errno values; every -EINVAL comes with a message
 * through the log callback.
 */
#ifndef AZBLOB_H
#define AZBLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <azblob/api.h>
#include <azblob/vsp_wire.h>
#include <uvmbus/common.h>
#include <uvmbus/mem.h>

#ifdef __cplusplus
extern "C" {
#endif

struct azblob_client;

#define AZBLOB_MAX_TIMEOUT_MS 300000u /* the longest timeout a request may ask for */

/*
 * Grace past the host's timeout. A request's timeout_ms (or the client's
 * default_timeout_ms for 0: the host is never sent 0) goes to the host,
 * which answers by then, with STATUS_IO_TIMEOUT (0xC00000B5) if need be.
 * The host's clock starts when it reads the request, which may be well
 * after our submit (a batch not flushed yet, a host that drains TX late,
 * a descheduled vCPU), and its answer then has to cross the ring and wait
 * for our next poll. So the client gives up (-ETIMEDOUT, buffers held
 * until the host answers) only AZBLOB_GRACE_MS(timeout_ms) later: 10% of
 * the timeout, at least 1 s; at AZBLOB_MAX_TIMEOUT_MS that is 30 s, the
 * margin kstub's quarantine_ms default (330 s) also allows the host.
 */
#define AZBLOB_GRACE_MIN_MS 1000u
#define AZBLOB_GRACE_MS(timeout_ms)                                                                \
	((timeout_ms) / 10u > AZBLOB_GRACE_MIN_MS ? (timeout_ms) / 10u : AZBLOB_GRACE_MIN_MS)

struct azblob_opts {
	const char *device_guid; /* NULL: the first Azure Blob device */
	/* Roots of the device tree (NULL: $UVMBUS_SYSFS_ROOT / "/sys", ...). */
	const char *sysfs_root;
	const char *dev_root;
	/* Connect to a simulator published under this directory instead of a
	 * real device (roots, interrupt fd and guest RAM all come from it). */
	const char *sim_root;
	/* Attach to the azblobd broker at this socket path instead of opening
	 * the device (docs/BROKER.md). NULL: $AZBLOB_BROKER when set and no
	 * sim_root is given. Buffers then come from azblob_alloc() (the
	 * session's arena); plain memory is copied; azblob_register() takes
	 * arena memory only. */
	const char *broker;
	uint32_t queue_depth;	     /* requests in flight, 1..1024 (default 128) */
	uint32_t default_timeout_ms; /* sent for requests that give 0 (default 30000) */
	bool interrupt_mode;	     /* unmask RX interrupts (default: polling) */
	bool auto_flush;	     /* flush after every submit (default: caller flushes) */
	/* Memory: buffers for azblob_alloc() and for copying plain memory. */
	uint32_t pool_buf_size;		     /* default 64 KiB */
	uint32_t pool_bufs;		     /* default 2 * queue_depth */
	int numa_node;			     /* -2 (default): the device's; -1: no placement */
	enum uvmbus_pin_backend pin_backend; /* AUTO (default); forced to SIM for sim_root */
	bool allow_small_pages;
	/* A busy-polling client looks at the interrupt fd (one system call) when
	 * the host has been silent this long with requests out, to notice a
	 * rescind (0: 20 ms). */
	uint32_t rescind_check_ms;
	/* azblob_close() waits at most this long for the host to answer the
	 * requests still out (in flight or timed out), polling meanwhile
	 * (0: 5000 ms). */
	uint32_t close_timeout_ms;
	struct uvmbus_log log;
};

AZBLOB_API void azblob_opts_init(struct azblob_opts *o);

/* Open a client: find and open the device, set up memory and slots.
 * Errors come with a message (device not found, not bound, no hugepages,
 * no pinning backend, ...). */
AZBLOB_API int azblob_open(struct azblob_client **out, const struct azblob_opts *o);

/*
 * Close, as the original driver did: first wait for the host to answer
 * what is still out (requests in flight and timed-out ones), up to
 * close_timeout_ms, running callbacks as answers or deadlines come; what
 * is still in flight then completes with -ECANCELED. Then the channel is
 * closed. Memory of requests the host answered is released; memory of
 * requests it never answered is never reused: it stays pinned and mapped,
 * unused, until the process exits (under kstub the module's quarantine
 * holds the pins). Returns 0, or -EBUSY when such memory was left behind
 * (logged with its size): registered memory those requests used must
 * then not be reused by the caller either. The client is freed either way,
 * except with queues still open: -ENOTEMPTY and nothing is done.
 */
AZBLOB_API int azblob_close(struct azblob_client *c);

/* Completion callback: err is 0 when the host answered (vsp_status is its
 * status, 0 = success; response_len bytes were written), or a negative
 * errno: -ETIMEDOUT (past the deadline; the buffers stay quarantined until
 * the host answers or the channel closes), -ENODEV (device rescinded),
 * -ECANCELED (client closed), -EIO (channel broken), -EPROTO (the host
 * claimed more response bytes than the buffer holds). */
typedef void (*azblob_done_fn)(void *user, int err, uint32_t vsp_status, uint32_t response_len);

/*
 * A request. Buffers may be
 *  - from azblob_alloc() (the fast path),
 *  - inside memory registered with azblob_register() (the fast path),
 *  - plain memory (the slow path: copied through a pool buffer at submit
 *    and back at completion; it must fit one pool buffer).
 * data may be NULL (data_len 0). data_valid bytes of data are sent; the
 * host may write up to data_len bytes back.
 */
struct azblob_request {
	const void *request;
	uint32_t request_len;
	void *response;
	uint32_t response_len;
	void *data;
	uint32_t data_len;
	uint32_t data_valid;
	/* Sent to the host (0: the client's default_timeout_ms is sent); at
	 * most AZBLOB_MAX_TIMEOUT_MS. -ETIMEDOUT comes AZBLOB_GRACE_MS later. */
	uint32_t timeout_ms;
	const uint8_t *guid; /* 16 bytes, or NULL: generated */
	azblob_done_fn done;
	void *user;
};

/*
 * Queue one request (non-blocking). 0, -EAGAIN (queue or ring full: poll
 * and retry), -EINVAL (bad argument, with a message), -ENOMEM (plain
 * memory and no free pool buffer), -ENODEV (rescinded), -EIO (broken).
 */
AZBLOB_API int azblob_submit(struct azblob_client *c, const struct azblob_request *r);

/*
 * Prepared requests: a request resolved once and submitted many times.
 * azblob_prep_create() checks r as azblob_submit() does, resolves its
 * buffers (each inside one azblob_alloc() buffer or registered memory:
 * plain memory is refused with -EINVAL), builds the packet once and holds
 * the buffers for the template's life: azblob_unregister() of memory a
 * template uses says -EBUSY until it is destroyed; an azblob_free()d
 * buffer a template uses is handed back only once it is destroyed, and
 * the template refuses to submit from the free on (-EINVAL). r's done,
 * lengths, data_valid, timeout_ms and guid (NULL: one generated per
 * submit) are the template's; r->user is not used. -ENOMEM, -EINVAL.
 *
 * azblob_prep_submit() queues one request as azblob_submit() (same
 * returns), patching only the slot, trans_id and GUID; request_len and
 * data_valid may be lowered per submit (AZBLOB_PREP_SAME: the
 * template's; beyond the template's buffer: -EINVAL); `user` is passed
 * to the callback. A template is one request's buffers: while a request
 * of it is out (in flight, or timed out and held) another submit of it
 * returns -EBUSY, so two requests never share the buffers the host
 * writes. A template belongs to its client; it may be submitted from the
 * client's own calls and from any of its queues and threads (in shared
 * mode under the client's lock: of two racing submits one gets -EBUSY).
 *
 * azblob_prep_destroy(): -EBUSY (nothing done) while requests of the
 * template are in flight or held (timed out, the host not done); it must
 * not race with submits of the same template. azblob_close() destroys the
 * templates left (their handles are then invalid).
 */
struct azblob_prep;

#define AZBLOB_PREP_SAME UINT32_MAX

AZBLOB_API int azblob_prep_create(struct azblob_client *c, const struct azblob_request *r,
				  struct azblob_prep **out);
AZBLOB_API int azblob_prep_submit(struct azblob_client *c, struct azblob_prep *p,
				  uint32_t request_len, uint32_t data_valid, void *user);
AZBLOB_API int azblob_prep_destroy(struct azblob_prep *p);

/* Make queued requests visible to the host; signal it once if needed. */
AZBLOB_API int azblob_flush(struct azblob_client *c);

/* Reap up to max completions (0: all available), running callbacks.
 * Returns the number of callbacks run, or -ENODEV / -EIO. */
AZBLOB_API int azblob_poll(struct azblob_client *c, unsigned max);

/* Sleep until a completion may be ready or timeout_ms (-1: forever):
 * 1 ready, 0 timeout, -ENODEV, -EINTR. Never loses a wake-up. */
AZBLOB_API int azblob_wait(struct azblob_client *c, int timeout_ms);

/* The fd to put in the caller's epoll set (EPOLLIN: call azblob_poll). */
AZBLOB_API int azblob_fd(const struct azblob_client *c);

/* Requests submitted and not yet completed to the caller. */
AZBLOB_API unsigned azblob_inflight(const struct azblob_client *c);

/* ---- queues: one per thread, all on the client's channel ---- */

struct azblob_queue;

/*
 * A queue of up to `depth` requests in flight (0: the client's
 * queue_depth; at most that). The queues share the client's slots
 * (queue_depth in all: -EAGAIN when none is free). The first queue turns
 * the client into shared mode for good: its own calls then go through an
 * internal queue, callbacks of its own requests run in azblob_poll(), and
 * the submit/poll path takes a short lock (no system call uncontended).
 * The first azblob_queue_create() must not run concurrently with the
 * client's own calls; later ones may come from any thread. One system
 * call (an eventfd) and two allocations per queue, none per request.
 */
AZBLOB_API int azblob_queue_create(struct azblob_client *c, uint32_t depth,
				   struct azblob_queue **out);
/* -EBUSY (nothing done) while requests submitted on the queue have not
 * been reaped by azblob_queue_poll(). All queues must be destroyed before
 * azblob_close() (which otherwise returns -ENOTEMPTY and closes nothing). */
AZBLOB_API int azblob_queue_destroy(struct azblob_queue *q);
/* As azblob_submit/flush/poll/wait, for the queue's thread. poll drives
 * the channel when no other thread is in it and runs this queue's
 * callbacks only; -ENODEV / -EIO once nothing is left to call back. wait
 * sleeps until this queue has a completion (never loses a wake-up, even
 * when another thread reaped it), a request's deadline, or timeout_ms. */
AZBLOB_API int azblob_queue_submit(struct azblob_queue *q, const struct azblob_request *r);
AZBLOB_API int azblob_queue_prep_submit(struct azblob_queue *q, struct azblob_prep *p,
					uint32_t request_len, uint32_t data_valid, void *user);
AZBLOB_API int azblob_queue_flush(struct azblob_queue *q);
AZBLOB_API int azblob_queue_poll(struct azblob_queue *q, unsigned max);
AZBLOB_API int azblob_queue_wait(struct azblob_queue *q, int timeout_ms);
/* Requests submitted on the queue whose callback has not run yet. */
AZBLOB_API unsigned azblob_queue_inflight(const struct azblob_queue *q);

/* ---- memory ---- */

/* A buffer of up to pool_buf_size bytes from the client's pool (pinned,
 * hugepage-backed): NULL when exhausted. */
AZBLOB_API void *azblob_alloc(struct azblob_client *c, size_t len);
AZBLOB_API void azblob_free(struct azblob_client *c, void *buf);
/* Pin caller memory once for use in requests (io_uring registered
 * buffers). Unregister: -EBUSY while a request uses it. */
AZBLOB_API int azblob_register(struct azblob_client *c, void *addr, size_t len);
AZBLOB_API int azblob_unregister(struct azblob_client *c, void *addr);
/* Whether the host reaches registered caller memory in place: true on a
 * device (the pages are pinned and their real pfns sent) and under an
 * emulator that keeps a memory table (docs/SIM.md: the pages get pfns
 * above guest RAM and the emulator maps them); false where the host sees
 * only the client's pool (a broker session's arena, an emulator without
 * a table), so registering memory outside it fails. A broker asks this to
 * choose between registering its clients' arenas and copying their
 * requests. */
AZBLOB_API bool azblob_registers_in_place(const struct azblob_client *c);

/*
 * Release callback: hear when the host is done with a request answered to
 * its owner early. A request answered before the host answered it
 * (-ETIMEDOUT, -ECANCELED by a cancel or close, -ENODEV, -EIO) keeps its
 * slot and buffers held: the host may still write them. Once per such
 * request, `fn(arg, user, ...)` with the request's user pointer says:
 *  - err 0: the host answered at last (vsp_status and response_len are its
 *    answer, written into the buffers): the buffers are the owner's again
 *    and the slot is free;
 *  - err -ENODEV or -EIO: the channel died (rescinded, broken) with the
 *    request unanswered;
 *  - err -ECANCELED: azblob_close() with the request still unanswered.
 * After a non-zero err the memory is abandoned, not the owner's: libazblob
 * never reuses it and neither should the owner while the process lives.
 * Called from the thread that polls the client (in shared mode with the
 * client's lock held): record and return, call nothing of this client.
 * fn NULL: no calls (the default).
 */
typedef void (*azblob_release_fn)(void *arg, void *user, int err, uint32_t vsp_status,
				  uint32_t response_len);
AZBLOB_API void azblob_set_release(struct azblob_client *c, azblob_release_fn fn, void *arg);

/* ---- the original driver's synchronous call ---- */

/*
 * One request, waited for: the fields of the original az_blob_request_sync
 * (struct azblob_request_sync_abi, padding explicit and required to be 0).
 * Buffers are plain memory (copied) or registered. Fills r->response.
 * Returns 0 (see r->response.status) or a negative errno.
 */
AZBLOB_API int azblob_request_sync(struct azblob_client *c, struct azblob_request_sync_abi *r);

/* ---- introspection ---- */

/* Index of azblob_stats.rx_types: the VMbus packet type of what RX held. */
enum azblob_rx_type {
	AZBLOB_RX_INBAND,     /* 6, VM_PKT_DATA_INBAND */
	AZBLOB_RX_XFER_PAGES, /* 7, VM_PKT_DATA_USING_XFER_PAGES */
	AZBLOB_RX_GPADL,      /* 8, VM_PKT_DATA_USING_GPADL */
	AZBLOB_RX_GPA_DIRECT, /* 9, VM_PKT_DATA_USING_GPA_DIRECT */
	AZBLOB_RX_CANCEL,     /* 10, VM_PKT_CANCEL_REQUEST */
	AZBLOB_RX_COMPLETION, /* 11, VM_PKT_COMP: what the VSP normally sends */
	AZBLOB_RX_OTHER,      /* any other type */
	AZBLOB_RX_TYPES
};

struct azblob_stats {
	uint64_t submitted, completed;
	uint64_t errors;      /* completions with a non-zero VSP status */
	uint64_t timeouts;    /* -ETIMEDOUT delivered */
	uint64_t late;	      /* host answers after a timeout, absorbed */
	uint64_t unknown;     /* completions matching nothing in flight, dropped */
	uint64_t duplicates;  /* stale generation: an answer already delivered */
	uint64_t bad_packets; /* payload shorter than a VSP response: dropped */
	uint64_t oversize;    /* response_len beyond the buffer */
	uint64_t signals;     /* host signals sent */
	uint64_t ring_full;   /* submits refused for ring room */
	uint64_t queue_full;  /* submits refused for slots */
	uint64_t copied;      /* slow-path requests (plain memory) */
	uint64_t cancelled, rescinded;
	/* completion latency, log2 buckets: hist[i] counts [2^i, 2^(i+1)) ns */
	uint64_t latency_hist[40];
	uint64_t broken;	/* times the host broke a ring (TX or RX) */
	uint64_t held_slots;	/* now: slots held by requests the host has not answered */
	uint64_t slot_timeouts; /* waits for a free slot that ran out of time */
	uint64_t fd_checks;	/* looks at the fd after host silence (rescind) */
	/* Host signals with nothing new queued: the unmask write before a
	 * sleep on a channel without a monitor. 0 in polling mode, at most
	 * one per sleep (waits) in interrupt mode. */
	uint64_t idle_signals;
	uint64_t waits; /* azblob_wait() calls that unmasked to sleep (found no data) */
	/* Packets read from RX, by descriptor type (enum azblob_rx_type):
	 * a completion is taken from any type, so a host that answers with
	 * another type shows up here. */
	uint64_t rx_types[AZBLOB_RX_TYPES];
};

AZBLOB_API void azblob_get_stats(const struct azblob_client *c, struct azblob_stats *st);

/* Pending requests, one line each (GUID, lengths, age, state), like the
 * original driver's debugfs file. Returns the length snprintf would give. */
AZBLOB_API int azblob_dump_pending(const struct azblob_client *c, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* AZBLOB_H */
