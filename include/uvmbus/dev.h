/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * VMbus devices bound to uio_hv_generic (docs/WIRE.md section 5): discovery
 * under a sysfs root, ring and page mappings, host signalling, interrupts
 * and rescind. The only part of the library that knows about /dev/uioN.
 *
 * Roots: sysfs_root (default $UVMBUS_SYSFS_ROOT or /sys) and dev_root
 * (default $UVMBUS_DEV_ROOT or /dev) exist so that tests and the simulator
 * can publish a device tree elsewhere; the code paths are the production
 * ones. open_event_fd lets them also supply the interrupt fd.
 *
 * Threading: a device and its channels belong to one thread at a time.
 */
#ifndef UVMBUS_DEV_H
#define UVMBUS_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uvmbus/common.h>
#include <uvmbus/ring.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uvmbus_dev;
struct uvmbus_chan;

#define UVMBUS_GUID_STR_LEN 36

struct uvmbus_dev_opts {
	const char *sysfs_root; /* NULL: $UVMBUS_SYSFS_ROOT, else "/sys" */
	const char *dev_root;	/* NULL: $UVMBUS_DEV_ROOT, else "/dev" */
	const char *proc_root;	/* NULL: $UVMBUS_PROC_ROOT, else "/proc" */
	/* How long to wait for a channel's `ring` file to appear (0: 2000 ms). */
	unsigned ring_wait_ms;
	/* Smallest packet the TX ring must carry (0: 96 bytes, a one-page
	 * Azure Blob request); open fails with -ENOSPC below it. */
	uint32_t min_packet;
	/* NULL: interrupts come from the uio fd itself (production). Else
	 * called with the uio node's path; returns an fd with the same
	 * semantics (4-byte reads of event counts, 4-byte writes of 1 to
	 * unmask/signal, EIO or hang-up at rescind), or a negative errno. */
	int (*open_event_fd)(void *arg, const char *uio_path);
	/* NULL: map K of the uio node is its mmap offset K * page size
	 * (production). Else, for a stand-in that cannot multiplex maps by
	 * offset (the simulator's and the tests' files): an fd (the caller
	 * closes it) and *offset, where map K starts in it. */
	int (*open_map_fd)(void *arg, const char *uio_path, int map, int64_t *offset);
	void *event_arg;
	struct uvmbus_log log;
};

struct uvmbus_dev_info {
	char guid[UVMBUS_GUID_STR_LEN + 1];	  /* device instance, lower case */
	char class_guid[UVMBUS_GUID_STR_LEN + 1]; /* device class */
	uint32_t relid;				  /* primary channel */
	int numa_node;				  /* -1: unknown */
	int monitor_id;				  /* -1: no monitor */
	char driver[64];			  /* "" when unbound */
	int uio;				  /* N of /dev/uioN, -1 if none */
	uint32_t nchannels;			  /* primary + subchannels in sysfs */
};

UVMBUS_API void uvmbus_dev_opts_init(struct uvmbus_dev_opts *o);

/*
 * List VMbus devices: up to `cap` entries into `out`, `*n` gets the number
 * found (may exceed cap). Entries without a readable class or device id are
 * skipped with a warning. Returns 0 or a negative errno (e.g. -ENOENT: no
 * vmbus under the sysfs root).
 */
UVMBUS_API int uvmbus_dev_list(const struct uvmbus_dev_opts *o, struct uvmbus_dev_info *out,
			       size_t cap, size_t *n);

/* The first device of a class (GUID string, braces optional): 0 or -ENOENT. */
UVMBUS_API int uvmbus_dev_find_class(const struct uvmbus_dev_opts *o, const char *class_guid,
				     struct uvmbus_dev_info *info);

/*
 * Open a device bound to uio_hv_generic: open /dev/uioN, map the primary
 * channel's rings (its `ring` file, waited for), the interrupt page and the
 * monitor page, check names and sizes. Errors, each logged with the path:
 * -ENOENT no such device, -ENODEV not bound to uio_hv_generic, -EPROTO
 * unexpected map layout, or a relid beyond the interrupt page's 16384 send
 * bits, or a monitor_id neither 0..127 (the monitor page's 4 trigger
 * groups of 32) nor 255 (none), -ETIMEDOUT ring file never appeared, -ENOSPC ring
 * too small, -EPERM isolated (confidential) VM, or the errno of a failed
 * open/mmap.
 */
UVMBUS_API int uvmbus_dev_open(struct uvmbus_dev **out, const char *guid,
			       const struct uvmbus_dev_opts *o);
UVMBUS_API void uvmbus_dev_close(struct uvmbus_dev *d);

/*
 * A virtual channel served by a broker (azblobd) instead of a device: the
 * ring pair is `ring_bytes * 2` bytes of `ring_fd` (TX then RX, each a
 * header page and data, feature bit 0 set by the server), and `event_fd`
 * has the uio semantics above (typically the broker's socket). No sysfs,
 * no uio node, no monitor: a signal is a 4-byte write to the event fd.
 * Both fds are duplicated; the caller keeps its own. The device has one
 * channel; its info has uio -1, numa_node -1, driver "vchan".
 */
UVMBUS_API int uvmbus_dev_open_vchan(struct uvmbus_dev **out, int ring_fd, size_t ring_bytes,
				     int event_fd, const struct uvmbus_dev_opts *o);
UVMBUS_API const struct uvmbus_dev_info *uvmbus_dev_get_info(const struct uvmbus_dev *d);

/* Open the subchannels the device offers (channels/<relid> other than the
 * primary). Returns the number of channels now open (primary included), or
 * an error of chan opening as for uvmbus_dev_open (-EPROTO for a relid or
 * monitor_id outside the pages). */
UVMBUS_API int uvmbus_dev_open_subchannels(struct uvmbus_dev *d);
UVMBUS_API unsigned uvmbus_dev_channel_count(const struct uvmbus_dev *d);
/* Channel i (0 = primary), NULL when out of range. */
UVMBUS_API struct uvmbus_chan *uvmbus_dev_channel(struct uvmbus_dev *d, unsigned i);

/* ---- channels ---- */

/* The guest's rings: produce into TX, consume RX. NULL once the channel
 * is dead (rescinded): nothing may touch the mappings after that. */
UVMBUS_API struct uvmbus_ring *uvmbus_chan_tx(struct uvmbus_chan *c);
UVMBUS_API struct uvmbus_ring *uvmbus_chan_rx(struct uvmbus_chan *c);
UVMBUS_API uint32_t uvmbus_chan_relid(const struct uvmbus_chan *c);

/* Largest packet the TX ring carries, and the largest pfn count of a
 * GPA-direct packet with `payload_len` bytes of in-band data. */
UVMBUS_API uint32_t uvmbus_chan_max_packet(const struct uvmbus_chan *c);
UVMBUS_API uint32_t uvmbus_chan_max_gpa_pfns(const struct uvmbus_chan *c, uint32_t payload_len);

/*
 * Signal the host that TX has new packets: OR the channel's bit into the
 * monitor page when it has a monitor; else set its relid bit in the
 * interrupt page and write 1 to the uio fd. -ENODEV after rescind.
 */
UVMBUS_API int uvmbus_chan_signal(struct uvmbus_chan *c);

/* Polling (true, the default after open): RX interrupts stay masked.
 * Interrupt mode: unmasked before each wait. */
UVMBUS_API void uvmbus_chan_set_polling(struct uvmbus_chan *c, bool polling);

/* The interrupt fd (for epoll: EPOLLIN = events, EPOLLERR/HUP = rescind). */
UVMBUS_API int uvmbus_chan_fd(const struct uvmbus_chan *c);

/*
 * Wait for RX data: unmask interrupts, re-check the ring (no lost wake-up),
 * then block up to timeout_ms (-1: forever) on the fd and consume the
 * 4-byte event count. Returns 1 when RX has data (or an event arrived), 0
 * on timeout, -ENODEV when the device is gone (rescind), -EINTR.
 */
UVMBUS_API int uvmbus_chan_wait(struct uvmbus_chan *c, int timeout_ms);

/* True once the device was rescinded (EIO, hang-up or POLLERR seen). */
UVMBUS_API bool uvmbus_chan_dead(const struct uvmbus_chan *c);

struct uvmbus_chan_stats {
	uint64_t signals;    /* host signals sent */
	uint64_t interrupts; /* events counted from the fd */
	uint64_t waits;	     /* calls that blocked */
	/* Unmask writes before a sleep that are also host signals (a channel
	 * without a monitor) though nothing new was queued: one per wait. */
	uint64_t idle_signals;
	uint64_t unmasks; /* unmask writes: wait calls that did not find data */
};
UVMBUS_API void uvmbus_chan_get_stats(const struct uvmbus_chan *c, struct uvmbus_chan_stats *st);

/*
 * The emulator's doorbell socket (<uvmbus/simsock.h>): a device transport
 * like the broker's virtual channel. An emulator (libazblobsim's
 * azblob-vspd, or one in the same process) publishes a device tree with
 * the real sysfs names under `root` and listens on root/vspd.sock;
 * connecting gives the stand-in for the uio fd and the guest-RAM memfd.
 */
struct uvmbus_simsock {
	int event_fd; /* the uio fd stand-in */
	int ram_fd;   /* guest RAM memfd */
	uint64_t ram_bytes;
	char sysfs_root[512]; /* root/sys */
	char dev_root[512];   /* root/dev */
	char proc_root[512];  /* root/proc */
	bool memtable;	      /* the emulator keeps a memory table (hello version 2) */
	uint64_t next_gpa;    /* memory table: the next free guest-physical address */
};

/* Connect (one guest at a time): gets the event fd and the RAM memfd. */
UVMBUS_API int uvmbus_simsock_connect(const char *root, struct uvmbus_simsock *g);
UVMBUS_API void uvmbus_simsock_disconnect(struct uvmbus_simsock *g);
/* For uvmbus_dev_opts.open_event_fd with event_arg = the connection: a
 * dup of its event fd. */
UVMBUS_API int uvmbus_simsock_event_fd(void *guest, const char *uio_path);
/* For uvmbus_dev_opts.open_map_fd: the emulator's uio stand-in keeps map 0
 * (the rings) in <uio_path>.map0 and maps 1 and 2 at pages 1 and 2 of
 * <uio_path>. */
UVMBUS_API int uvmbus_simsock_map_fd(void *guest, const char *uio_path, int map, int64_t *offset);
/*
 * The memory table (<uvmbus/simsock.h>): give [addr, addr + len) (any
 * alignment; its pages) guest-physical addresses above guest RAM and tell
 * the emulator where the pages are: one region per mapping the range
 * crosses, with the mapping's file when it is a shared file mapping
 * (memfd, shmem, hugetlbfs), else as the process's own memory. *gpa0 is
 * the guest-physical address of addr rounded down to 2 MiB: the byte at
 * x is at *gpa0 + (x - (addr & ~(2 MiB - 1))). -ENOTSUP: no memory table;
 * -EFAULT: part of the range is not mapped.
 */
UVMBUS_API int uvmbus_simsock_mem_add(struct uvmbus_simsock *g, const void *addr, size_t len,
				      uint64_t *gpa0);
/* Drop the regions of [gpa, gpa + len) from the table. */
UVMBUS_API int uvmbus_simsock_mem_remove(struct uvmbus_simsock *g, uint64_t gpa, uint64_t len);
/* Point `d` at the connection: its roots and both hooks. */
UVMBUS_API void uvmbus_simsock_dev_opts(struct uvmbus_simsock *g, struct uvmbus_dev_opts *d);

#ifdef __cplusplus
}
#endif

#endif /* UVMBUS_DEV_H */
