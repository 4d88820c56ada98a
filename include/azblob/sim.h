/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * azblob-sim: plays the Hyper-V host and the Azure Blob VSP for one device.
 *
 * It owns the guest RAM (a memfd, hugetlb when available), the channel's
 * two rings, and a device tree with the real sysfs names under `root`
 * (root/sys/bus/vmbus/devices/<guid>/..., root/dev/uio0, root/proc), so the
 * guest opens it through the normal device layer with only the roots and
 * the event fd changed. The event fd is a connection to root/vspd.sock
 * with the semantics of /dev/uioN (4-byte event counts one way, 4-byte
 * writes of 1 the other, hang-up at rescind).
 *
 * The sim serves from one thread: azblob_sim_start() starts it (in-process
 * mode, for tests and the demo) or azblob_sim_run() serves in the caller's
 * thread (the azblob-vspd daemon). Every guest packet is validated
 * strictly; violations complete with an error status and are counted.
 */
#ifndef AZBLOB_SIM_H
#define AZBLOB_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <azblob/api.h>
#include <azblob/vsp_wire.h>
#include <uvmbus/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct azblob_sim;
struct azblob_sim_req;

/* Validation rules; each violation is counted under its rule. */
enum azblob_sim_violation {
	AZBLOB_SIM_V_NOT_GPA_DIRECT, /* packet type is not 9 */
	AZBLOB_SIM_V_NO_COMPLETION,  /* completion not requested */
	AZBLOB_SIM_V_ZERO_TRANS_ID,
	AZBLOB_SIM_V_RANGECOUNT,      /* rangecount != 1 */
	AZBLOB_SIM_V_RANGE,	      /* offset != 0 or len != pages * 4096 */
	AZBLOB_SIM_V_PFN_OUTSIDE_RAM, /* a pfn in neither guest RAM nor the memory table */
	AZBLOB_SIM_V_SHORT_PAYLOAD,   /* in-band request shorter than 56 bytes */
	AZBLOB_SIM_V_VERSION,	      /* version != 0 */
	AZBLOB_SIM_V_OPERATION,	      /* unknown or unsupported operation */
	AZBLOB_SIM_V_LENGTHS,	      /* zero request/response, data_valid > data_len, too big */
	AZBLOB_SIM_V_LAYOUT,	  /* buffers not inside the range in data/request/response order */
	AZBLOB_SIM_V_DESCRIPTOR,  /* malformed descriptor or ring: the channel is broken */
	AZBLOB_SIM_V_STALE_WRITE, /* the guest wrote the rings after a rescind freed them */
	AZBLOB_SIM_V_COUNT
};

/* Fault injection knobs (all off when zero). Settable at any time. */
struct azblob_sim_faults {
	uint32_t delay_us;	    /* every completion waits this long ... */
	uint32_t jitter_us;	    /* ... plus a random 0..jitter_us */
	uint32_t drop;		    /* drop the next N completions */
	uint32_t duplicate;	    /* send the next N completions twice */
	uint32_t unknown_tid;	    /* send N completions with a trans_id nobody used */
	uint32_t oversize_response; /* next N: response_len larger than the buffer */
	uint32_t corrupt;	    /* next N: a corrupt descriptor into RX */
	bool stop_draining;	    /* stop reading the guest's TX ring (it fills) */
	uint32_t pause_ms;	    /* stop reading TX for this long, once */
	uint32_t monitor_scan_us;   /* how often the monitor page is scanned */
	/* next N TX reads: after taking the guest's packets, publish an
	 * impossible TX read_index and stop draining (a broken host) */
	uint32_t corrupt_tx_read;
	/* requests held when the guest closes the channel are not dropped:
	 * at their due time the host writes a pattern (0xA5) into their
	 * response and data buffers and sends the completion into whatever
	 * channel is open then (a host that DMAs after close) */
	bool dma_after_close;
	/* next N requests with a data buffer: answer as usual (the response
	 * still claims its data) but leave the data buffer unwritten */
	uint32_t skip_data_write;
	/* Every completion (not one-shot), as a host variant would send it:
	 * this packet type instead of 11 (0: 11; e.g. 6, VM_PKT_DATA_INBAND),
	 * with completion_extra8 more 8-byte units of header (zeros) before
	 * the response, offset8 = 2 + completion_extra8 (at most 255). */
	uint16_t completion_type;
	uint16_t completion_extra8;
	/* Every request with a timeout: answered late_ms after its timeout_ms
	 * (with STATUS_IO_TIMEOUT, counted in timeouts), so after the guest
	 * gave up (its grace: AZBLOB_GRACE_MS): a host whose late answers the
	 * guest must absorb. 0: off. */
	uint32_t late_ms;
};

struct azblob_sim_stats {
	uint64_t requests;    /* valid requests received */
	uint64_t completions; /* completions written */
	uint64_t errors;      /* completions with a non-zero status */
	uint64_t timeouts;    /* requests completed at their timeout_ms */
	uint64_t violations[AZBLOB_SIM_V_COUNT];
	uint64_t violations_total;
	uint64_t signals;    /* guest-to-host signals seen (monitor bits, writes) */
	uint64_t interrupts; /* host-to-guest interrupts sent */
	uint64_t rx_full;    /* times the guest's RX ring had no room */
	uint64_t faults;     /* fault injections performed */
	uint64_t bytes_in;   /* data bytes the guest sent (data_valid) */
	uint64_t bytes_out;  /* data bytes written back */
	/* A request whose response or data bytes (in 64-byte units) belong to
	 * another request the host has not answered yet: the guest reused a
	 * buffer the host may still write. Must stay 0. */
	uint64_t reused_buffers;
	/* The guest wrote its TX ring after the rescind (1 once seen): on
	 * newer kernels those ring pages are already freed. Must stay 0. */
	uint64_t writes_after_rescind;
	/* Guest signals (doorbell writes, monitor bits) when nothing new was
	 * queued in TX since the previous one and the host was not waiting
	 * for RX room: unmask writes of a sleeping guest, or needless. */
	uint64_t idle_signals;
	uint64_t reoffers; /* re-offers performed */
	/* Host signals a subchannel received from the guest's fd writes: only
	 * kernels that set the event on every channel deliver them. */
	uint64_t subchannel_signals;
	/* The memory table (docs/SIM.md): regions of guest memory outside
	 * guest RAM now, and messages or accesses that failed (refused
	 * regions, a process_vm_readv/writev that did not move every byte). */
	uint64_t regions;
	uint64_t region_errors;
	/* Data bytes (data_len) of requests whose data buffer is in the
	 * memory table: registered caller memory the host used in place. */
	uint64_t region_data_bytes;
};

/* A request as a backend sees it: buffers are host views of guest memory. */
struct azblob_sim_req {
	uint64_t trans_id;
	uint8_t guid[16];
	uint32_t timeout_ms;
	const uint8_t *request; /* request_len bytes */
	uint32_t request_len;
	uint8_t *response; /* response_cap bytes */
	uint32_t response_cap;
	uint8_t *data; /* data_len bytes, data_valid of them valid on entry */
	uint32_t data_len;
	uint32_t data_valid;
};

/*
 * Storage backend. handle() answers a request: fill the response (and the
 * data buffer for reads), set *response_len, return a completion status.
 * Called from the sim thread only.
 */
struct azblob_sim_backend {
	const char *name;
	int (*open)(void **state, const char *arg, const struct uvmbus_log *log);
	uint32_t (*handle)(void *state, struct azblob_sim_req *r, uint32_t *response_len,
			   uint32_t *data_out);
	void (*close)(void *state);
};

/* Built-in backends: "memory" (default), "dir" (arg: the directory) and
 * "rest" (arg: URL[;sas=TOKEN] or URL;account=NAME;key=BASE64, see
 * docs/REST.md). opts.backend "null" is not a backend but the null host:
 * every request answered at once with status 0, ring checks only (for
 * measuring the client; docs/SIM.md). */
AZBLOB_API const struct azblob_sim_backend *azblob_sim_backend_find(const char *name);

/*
 * A uio_hv_generic / drivers/hv variant: what the guest sees differs across
 * the kernels Azure VMs run (docs/DEVICE.md, "Kernel profiles", has each
 * profile's kernels, sources and how sure we are). A profile also fixes
 * the host's monitor offer where the variant is about it.
 */
struct azblob_sim_kernel {
	const char *name;      /* after the kernel versions it models, e.g. "6.12.42" */
	const char *kernels;   /* which kernels behave so */
	const char *differs;   /* one line: what the guest sees */
	const char *osrelease; /* published as proc/sys/kernel/osrelease */
	uint32_t ring_bytes;   /* each ring, header page included, on a 4 KiB kernel: 2 MiB
				* (512 pages), or 2 MiB + 4 KiB (2 MiB + a page) */
	bool ring_file_fixed;  /* channels/<relid>/ring reports 4 MiB whatever the rings' size */
	bool no_ring_file;     /* no primary ring file (bound through new_id after a re-offer) */
	bool kernel_masks_rx;  /* the kernel sets the RX mask at open and after each interrupt */
	bool monitor_required; /* a channel without a monitor is refused at bind (before 6.10) */
	bool set_event_subchannels; /* the fd write also unmasks and signals subchannels */
	bool rescind_frees_rings; /* the rings are freed at rescind: a later write is a violation */
	int monitor_id;		  /* the host's offer in this profile: -1 none, 0..127 */
};

/* The profiles, in kernel order (*n of them). */
AZBLOB_API const struct azblob_sim_kernel *azblob_sim_kernels(size_t *n);
/* By name; NULL when unknown. */
AZBLOB_API const struct azblob_sim_kernel *azblob_sim_kernel_find(const char *name);

struct azblob_sim_opts {
	const char *root;    /* tree directory (created; must not exist) or NULL: a new temp dir */
	uint64_t ram_bytes;  /* guest RAM (default 256 MiB; a multiple of 2 MiB) */
	bool no_hugetlb;     /* plain shared memory even if hugepages are free */
	uint32_t ring_bytes; /* each ring, header page included: whole kernel pages
			      * (default a page + 2 MiB) */
	int monitor_id; /* 0..127: the guest signals through the monitor page; -1: int_page + write
			 */
	const char *guid;    /* device GUID (default: a fixed one) */
	uint32_t relid;	     /* default 14 */
	int numa_node;	     /* published numa_node (default 0) */
	int cpu;	     /* pin the serving thread (-1: no pinning) */
	bool poll;	     /* busy-poll the rings (else sleep on the doorbell) */
	const char *backend; /* "memory" (default), "dir", "rest" or "null" (the null host) */
	const char *backend_arg;
	uint64_t seed; /* for jitter (default 1) */
	/* A kernel profile by name (azblob_sim_kernels()): it sets ring_bytes
	 * and monitor_id and the kernel's behaviour. NULL: no profile (rings
	 * and monitor from these options, the newest kernel's ring file,
	 * the RX mask set by the kernel as the oldest ones do). */
	const char *kernel;
	/* Subchannels offered besides the primary (0..4, default 0): their
	 * rings are published (channels/<relid + 1 + i>/ring) but not served;
	 * only what the kernel's fd write does to them is modelled (the
	 * profile's set_event_subchannels), counted in subchannel_signals. */
	uint32_t subchannels;
	struct azblob_sim_faults faults;
	struct uvmbus_log log;
	/* A caller's backend (tests: a host that answers as it likes); when
	 * set, it is used instead of `backend`, opened with `backend_arg`. */
	const struct azblob_sim_backend *backend_ops;
};

AZBLOB_API void azblob_sim_opts_init(struct azblob_sim_opts *o);

/* Create guest RAM, rings, tree and socket. Nothing is served yet. */
AZBLOB_API int azblob_sim_create(struct azblob_sim **out, const struct azblob_sim_opts *o);
/* Serve from a new thread (in-process mode). */
AZBLOB_API int azblob_sim_start(struct azblob_sim *s);
/* Serve in the calling thread until azblob_sim_stop() (from a signal
 * handler too: it only sets a flag and writes to a pipe). */
AZBLOB_API int azblob_sim_run(struct azblob_sim *s);
AZBLOB_API void azblob_sim_stop(struct azblob_sim *s);
/*
 * One serving pass in the calling thread: accept a guest, now and then
 * take its doorbell writes (and, for the normal host, the fault
 * settings), keep TX masked (a polling host), take every packet TX holds
 * and write the answers that are due (one batch). The null host
 * (opts.backend = "null") answers each at once; the normal host validates
 * and serves as its thread does (answers held by a delay fault come with
 * a later step; no rescind or re-offer here). For single-threaded
 * harnesses that step the host between client calls (azblob-bench --modes
 * cost); never together with azblob_sim_start() or azblob_sim_run().
 * Returns the packets taken, -EIO once the rings are corrupt.
 */
AZBLOB_API int azblob_sim_step(struct azblob_sim *s);
/* Stop the thread azblob_sim_start() started and wait for it; the device
 * stays published and the guest connected. The caller may then step the
 * sim (azblob_sim_step) or start it again. Typical single-threaded use:
 * create, start, open the guest (its open waits for the host), join, then
 * step between guest calls. */
AZBLOB_API void azblob_sim_join(struct azblob_sim *s);
/* Stop (joining the thread), remove the tree, free everything. */
AZBLOB_API void azblob_sim_destroy(struct azblob_sim *s);

AZBLOB_API const char *azblob_sim_root(const struct azblob_sim *s);
AZBLOB_API const char *azblob_sim_guid(const struct azblob_sim *s);
/* The host's view of guest RAM (pfn p is at ram + p * 4096): for tests and
 * debugging tools that check what the guest sent. */
AZBLOB_API uint8_t *azblob_sim_ram(struct azblob_sim *s, uint64_t *bytes);

/* Rescind the device now: the guest's event fd hangs up. */
AZBLOB_API void azblob_sim_rescind(struct azblob_sim *s);
/* Host servicing: rescind, then offer the device again under the same
 * instance GUID with the next relid and uio number and fresh rings; the
 * guest opens it anew. Returns once the new device is published (0), or
 * -ETIMEDOUT. */
AZBLOB_API int azblob_sim_reoffer(struct azblob_sim *s);
AZBLOB_API void azblob_sim_set_faults(struct azblob_sim *s, const struct azblob_sim_faults *f);
AZBLOB_API void azblob_sim_get_stats(struct azblob_sim *s, struct azblob_sim_stats *st);
AZBLOB_API const char *azblob_sim_violation_name(enum azblob_sim_violation v);
/* Statistics as text (for the daemon and logs). */
AZBLOB_API int azblob_sim_format_stats(struct azblob_sim *s, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* AZBLOB_SIM_H */
