/* An in-process simulator and a libazblob client on it, for tests that
 * play a hostile host: through the sim's rings by hand, or through a
 * backend of their own (backend_ops, NULL: the memory backend). */
#ifndef TEST_SIM_CLIENT_H
#define TEST_SIM_CLIENT_H

#include <stdio.h>

#include <azblob.h>
#include <azblob/sim.h>

#include "fake_sysfs.h"

/* 0, or the failing call's error (its message went to log). */
static inline int sim_client_open(struct azblob_sim **sim, struct azblob_client **cl,
				  const struct azblob_sim_backend *backend_ops,
				  struct uvmbus_log log)
{
	struct azblob_sim_opts so;
	struct azblob_opts o;
	int rc;

	*cl = NULL;
	azblob_sim_opts_init(&so);
	so.ram_bytes = 64u << 20;
	so.no_hugetlb = true;
	so.monitor_id = -1;
	so.backend_ops = backend_ops;
	so.log = log;
	rc = azblob_sim_create(sim, &so);
	if (!rc)
		rc = azblob_sim_start(*sim);
	if (rc)
		return rc;
	azblob_opts_init(&o);
	o.sim_root = azblob_sim_root(*sim);
	o.queue_depth = 16;
	o.pool_buf_size = 64 * 1024;
	o.pool_bufs = 8;
	o.log = log;
	return azblob_open(cl, &o);
}

/* The sim's channel ring file (the TX ring, then RX) mapped shared, as
 * the host sees it; *len gets its size. munmap() it when done. */
static inline uint8_t *sim_ring_map(struct azblob_sim *sim, size_t *len)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/sys/bus/vmbus/devices/%s/channels/14/ring",
		 azblob_sim_root(sim), azblob_sim_guid(sim));
	return fake_map(path, len);
}

static inline void sim_client_close(struct azblob_sim **sim, struct azblob_client **cl)
{
	azblob_close(*cl);
	azblob_sim_destroy(*sim);
	*cl = NULL;
	*sim = NULL;
}

#endif
