/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Device layer internals (dev_*.c). */
#ifndef UVMBUS_DEV_INTERNAL_H
#define UVMBUS_DEV_INTERNAL_H

#include <limits.h>

#include <uvmbus/dev.h>

#include "log.h"

#define DEV_MAX_CHANNELS 64
#define MONITOR_IDS	 128 /* 4 trigger groups of 32 */

/* Roots are capped well below PATH_MAX so that paths built from them fit. */
#define ROOT_MAX 1024

struct dev_roots {
	char sys[ROOT_MAX];
	char dev[ROOT_MAX];
	char proc[ROOT_MAX];
};

struct uvmbus_chan {
	struct uvmbus_dev *dev;
	uint32_t relid;
	int monitor_id; /* -1: none */
	void *ring_map;
	size_t ring_len;
	const char *ring_via; /* "ring file" or "uio map 0" */
	struct uvmbus_ring *tx, *rx;
	bool polling;
	struct uvmbus_chan_stats st;
};

struct uvmbus_dev {
	struct uvmbus_dev_opts opts;
	struct dev_roots roots;
	struct uvmbus_dev_info info;
	char dev_dir[PATH_MAX]; /* <sys>/bus/vmbus/devices/<guid> */
	char uio_path[PATH_MAX];
	int uio_fd;
	int event_fd;	      /* == uio_fd in production */
	bool event_is_socket; /* a stand-in such as the simulator's connection */
	uint8_t *int_page;
	uint8_t *monitor_page;
	size_t page;
	bool dead;
	unsigned nchan;
	struct uvmbus_chan chan[DEV_MAX_CHANNELS];
};

/* dev_sysfs.c */
void dev_roots_init(struct dev_roots *r, const struct uvmbus_dev_opts *o);
/* Read a small attribute into buf (trailing newline removed): 0 or -errno. */
int sysfs_read(const char *path, char *buf, size_t cap);
int sysfs_read_long(const char *path, long *v);
/* "{0590B792-...}" or "0590b792-..." -> lower case without braces; -EINVAL. */
int guid_normalize(const char *in, char out[UVMBUS_GUID_STR_LEN + 1]);
int dev_read_info(const struct dev_roots *r, const char *guid, struct uvmbus_dev_info *info,
		  const struct uvmbus_log *log);
/* Channel relids under <dev_dir>/channels, sorted; returns the count. */
int dev_list_channels(const char *dev_dir, uint32_t *relids, unsigned cap);

/* dev_isolation.c: 0, or -EPERM with a message when the VM is isolated. */
int dev_check_isolation(const struct dev_roots *r, const struct uvmbus_log *log);

/* dev_open.c: map K of the uio node, len bytes (a stand-in's through
 * opts.open_map_fd). NULL with a message on failure. */
void *dev_map_uio(struct uvmbus_dev *d, int k, size_t len);

/* dev_chan.c */
int chan_map(struct uvmbus_dev *d, struct uvmbus_chan *c, uint32_t relid);
void chan_unmap(struct uvmbus_chan *c);
/* Rings of 2 * half bytes at c->ring_map: check the headers and attach
 * (unmapped on failure; `what` names them in messages). */
int chan_attach(struct uvmbus_dev *d, struct uvmbus_chan *c, size_t half, const char *what);
void dev_mark_dead(struct uvmbus_dev *d, const char *why, int err);

#endif
