/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* azblob-sim internals. */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include <azblob/sim.h>
#include <uvmbus/simsock.h>

#include "clock.h"
#include "sim_ring.h"

#define SIM_PAGE     4096u
#define SIM_MAX_REQS 4096 /* requests held (delayed) at once */

/* A request held until its completion is due. */
/* Guest-physical byte ranges the host may write for a request (response
 * and data buffers), tracked in SIM_UNIT-byte units: up to SIM_RUNS. */
#define SIM_RUNS 4
#define SIM_UNIT 64u
struct sim_run {
	uint64_t gpa; /* first byte */
	uint64_t len;
};

/* Where one buffer of a request lies in the packet's pfn array. */
struct sim_span {
	uint32_t first_page; /* index into the pfn array */
	uint32_t pages;
	uint32_t in_page; /* offset into its first page */
	uint32_t len;
};

struct sim_pending {
	uint64_t trans_id;
	uint64_t due_ns;
	uint32_t status;
	uint32_t response_len;
	struct sim_run runs[SIM_RUNS]; /* owned until the answer is written */
	uint8_t nruns;
	bool dropped;
	bool orphan; /* its channel was closed (dma_after_close): late DMA */
};

/* A region of the memory table (sim_memtable.c): mapped from its file
 * (host != NULL) or the guest process's memory at addr. */
#define SIM_MAX_REGIONS 256
struct sim_region {
	uint64_t gpa, len;
	uint8_t *host; /* the region's first byte here (file regions) */
	uint8_t *map;  /* the mapping (2 MiB aligned in the file) */
	size_t map_len;
	uint64_t addr; /* process memory: the pages in the guest process */
};

struct azblob_sim {
	struct azblob_sim_opts opts;
	char root[512]; /* short: it prefixes every path below */
	char guid[40];
	char sock_path[PATH_MAX];
	char ring_path[PATH_MAX];
	char uio_path[PATH_MAX];
	bool tree_made;
	/* The kernel's page (sysconf): the uio maps and each ring's header
	 * are whole pages of it, as uio_hv_generic makes them; guest pfns stay
	 * 4 KiB Hyper-V pages (SIM_PAGE). */
	size_t page;

	/* guest RAM */
	int ram_fd;
	uint8_t *ram;
	uint64_t ram_pages;
	bool ram_huge;
	/* the memory table: guest memory outside RAM */
	struct sim_region regions[SIM_MAX_REGIONS];
	unsigned nregions;
	pid_t peer_pid;		   /* the guest process (SO_PEERCRED at accept) */
	uint32_t deferred_signals; /* doorbells taken while looking for regions */

	/* the channel: rings file mapping, uio pages */
	uint8_t *rings;
	size_t rings_len;
	struct hring tx, rx;	    /* guest's TX (we consume), guest's RX (we produce) */
	uint32_t tx_read;	    /* our private read position in TX */
	struct azblob_sim_kernel k; /* the kernel profile (a default one without) */
	unsigned uio_num;	    /* N of root/dev/uioN */
	atomic_bool reoffer;	    /* azblob_sim_reoffer() asked for one */
	uint8_t *sub_rings[4];	    /* subchannels' rings (not served) */
	size_t sub_rings_len;
	atomic_uint reoffers_done;
	uint32_t last_signal_tx_w; /* the guest's TX write index at its last signal */
	atomic_bool rescind_done;
	atomic_bool stale_counted; /* the stale-write violation was counted */
	uint64_t rescind_tx_hash;  /* the guest's TX ring at the rescind */
	uint8_t *uio_pages;	   /* 3 pages: [1] int_page, [2] monitor page */

	/* connection */
	int listen_fd, conn_fd;
	int wake[2]; /* self-pipe: stop, fault changes */

	/* serving */
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	atomic_bool rescind;
	pthread_mutex_t lock; /* faults and stats, shared with other threads */
	struct azblob_sim_faults faults;
	atomic_bool oneshots;		      /* a drop/duplicate/... counter is armed */
	struct azblob_sim_faults cur;	      /* sim thread's copy, taken at housekeeping */
	uint32_t cur_delay_us, cur_jitter_us; /* sim thread's copy of the delay settings */
	atomic_uint faults_gen;		      /* bumped by azblob_sim_set_faults */
	atomic_uint applied_gen;	      /* the generation the serving loop uses */
	atomic_bool serving;
	pthread_t serving_thread;
	struct azblob_sim_stats st;
	uint64_t rng;
	uint64_t pause_until_ns;
	uint64_t now;	     /* the serving loop's time for this pass */
	struct az_clock clk; /* its source: the TSC where usable (no vDSO call) */
	uint32_t house_n;    /* housekeeping rounds */
	uint64_t last_scan_ns;
	bool rx_waiting; /* RX full: waiting for the guest's signal */

	struct sim_pending *held;
	unsigned nheld;
	struct {
		uint64_t requests, bytes_in, bytes_out;
	} pass;		 /* this pass's statistics, added to st once (drain_tx) */
	uint16_t *owned; /* per SIM_UNIT of guest RAM: unanswered requests that may write it */
	uint64_t owned_units;

	const struct azblob_sim_backend *be;
	void *be_state;
	uint8_t *pkt;		  /* one packet copied out of TX */
	struct sim_span spans[3]; /* its data, request, response (set by sim_validate) */
	bool bounced[3];	  /* those copied through `bounce` */
	uint8_t *bounce;	  /* request/response/data when not contiguous in RAM */
	size_t bounce_len;

	/* the null host (backend "null", sim_null.c) */
	bool null_host;
	bool null_broken;    /* a corrupt ring: no more reading */
	uint32_t null_steps; /* azblob_sim_step() calls (both hosts) */
};

/* sim_ram.c */
int sim_ram_create(struct azblob_sim *s);
void sim_ram_destroy(struct azblob_sim *s);

/* sim_memtable.c: the memory table. A message from the guest (fd: its
 * file or -1; closed here). */
void sim_mem_message(struct azblob_sim *s, const struct uvmbus_simsock_mem *m, int fd);
/* Drop every region (the guest is gone; destroy). */
void sim_mem_clear(struct azblob_sim *s);
const struct sim_region *sim_mem_find(const struct azblob_sim *s, uint64_t gpa);
/* pfn in guest RAM or in a region (taking the guest's pending messages
 * before saying no). */
bool sim_mem_valid(struct azblob_sim *s, uint64_t pfn);
/* Host pointer to [gpa, gpa + len) when it is in RAM or one file region. */
uint8_t *sim_mem_ptr(struct azblob_sim *s, uint64_t gpa, uint64_t len);
/* Copy to (write) or from guest memory: RAM, a file region, or the guest
 * process's memory. -EFAULT (counted in region_errors) on failure. */
int sim_mem_rw(struct azblob_sim *s, uint64_t gpa, void *buf, size_t len, bool write);
void sim_mem_fill(struct azblob_sim *s, uint64_t gpa, int byte, uint64_t len);

/* sim_kernel.c: a profile's ring size on a kernel of this page size. */
uint32_t sim_kernel_ring_bytes(const struct azblob_sim_kernel *k, size_t page);

/* sim_tree.c */
int sim_tree_create(struct azblob_sim *s);
void sim_tree_remove(struct azblob_sim *s);
/* The device part of the tree (relid, uio number, rings): published at
 * create, and again at a re-offer after unpublishing the old one. */
int sim_tree_publish_device(struct azblob_sim *s);
void sim_tree_unpublish_device(struct azblob_sim *s);

/* sim_conn.c */
int sim_conn_listen(struct azblob_sim *s);
void sim_conn_accept(struct azblob_sim *s);
/* Read the guest's 4-byte writes: returns how many arrived (each is an
 * unmask and, without a monitor, a signal). */
int sim_conn_drain(struct azblob_sim *s);
/* A guest signal arrived: count it in idle_signals when nothing new was
 * queued in TX since the previous one (sim thread). */
void sim_count_signal(struct azblob_sim *s);
void sim_conn_interrupt(struct azblob_sim *s);
void sim_conn_close(struct azblob_sim *s);

/* sim_validate.c: checks a GPA-direct request packet. Returns 0 and fills
 * `r` (buffers into guest RAM, bounced when not contiguous), or the
 * violation + 1 (and *status for the completion, 0 = send none). */
int sim_validate(struct azblob_sim *s, const uint8_t *pkt, uint32_t len, struct azblob_sim_req *r,
		 uint32_t *status, uint64_t *trans_id);
/* The byte ranges the host may write (response, data) for a validated
 * packet: returns the count, or -1 when there are more than SIM_RUNS. */
/* Both for the packet sim_validate() accepted last. */
int sim_writable_runs(const struct azblob_sim *s, const uint8_t *pkt, struct sim_run *runs);
/* Copy the response/data bounces back into guest RAM after handling. */
void sim_unbounce(struct azblob_sim *s, const uint8_t *pkt, const struct azblob_sim_req *r);

/* Statistics are written by the sim thread and read by others. */
#define SIM_STAT_ADD(s, field, n)                                                                  \
	__atomic_fetch_add(&(s)->st.field, (uint64_t)(n), __ATOMIC_RELAXED)

static inline uint64_t sim_rnd(struct azblob_sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

/* sim_answer.c: answers held until due, written in batches. */
/* Take the units of runs for a new unanswered request: true when one of
 * them already belonged to another (the guest reused a buffer). */
bool sim_own_claim(struct azblob_sim *s, const struct sim_run *runs, int n);
/* Hold an answer (its runs claimed) until due: now + the delay fault. */
void sim_hold(struct azblob_sim *s, uint64_t tid, uint32_t status, uint32_t rlen,
	      uint32_t timeout_ms, const struct sim_run *runs, int nruns);
/* Write every due answer into RX in one batch (stops at RX full). */
void sim_emit_due(struct azblob_sim *s);

/* sim_null.c: the null host. One batch: every packet TX holds answered
 * with status 0, one publish per ring, one interrupt decision. Returns the
 * packets taken, -EIO once the rings are corrupt. */
extern const struct azblob_sim_backend sim_null_backend;
int sim_null_drain(struct azblob_sim *s);

/* sim_vsp.c (the host loop), sim_life.c (its life cycle) */
#define sim_log(s, lvl, ...) uvmbus_log_printf(&(s)->opts.log, (lvl), __VA_ARGS__)
/* The serving loop's clock (CLOCK_MONOTONIC ns; the TSC where usable,
 * re-synchronised now and then in housekeeping). */
static inline uint64_t sim_now(const struct azblob_sim *s)
{
	return az_clock_now(&s->clk);
}
/* azblob_sim_step() of the normal host: one serving pass in the caller's
 * thread. Packets taken, or -EIO once TX is corrupt. */
int sim_vsp_step(struct azblob_sim *s);
/* The serving thread (arg: the sim): the host loop until azblob_sim_stop. */
void *sim_vsp_thread(void *arg);
/* FNV-1a of the guest's TX ring (write index and data): to see whether the
 * guest wrote it after the rescind. */
uint64_t sim_tx_hash(struct azblob_sim *s);
/* The largest packet the host loop takes from TX (sim_life.c allocates it). */
#define SIM_MAX_PKT (VMBUS_PKT_MAX_LEN + 64)

#endif
