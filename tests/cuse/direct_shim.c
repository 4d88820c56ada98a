// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * abi_direct(): the ABI test's requests through the direct API instead of
 * the device: libazblob's sync call (azblob_request_sync) on a client of
 * an in-process simulator, as a program ported to the library would make
 * them. Buffers are copied into the client's pinned pool at the caller's
 * own in-page offsets (so the host sees the pages the ioctl path sends)
 * and the response and data buffers copied back whole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azblob.h>
#include <azblob/sim.h>

#define MAXB (8192u * 4096u)

int abi_direct(unsigned long cmd, void *arg);

static struct azblob_client *client;
static uint8_t *stage[3];

static int open_client(void)
{
	struct azblob_sim_opts so;
	struct azblob_opts co;
	struct azblob_sim *sim;
	int rc;

	azblob_sim_opts_init(&so);
	so.ram_bytes = 256u << 20;
	so.no_hugetlb = true;
	rc = azblob_sim_create(&sim, &so);
	if (!rc)
		rc = azblob_sim_start(sim);
	if (rc)
		return rc;
	azblob_opts_init(&co);
	co.sim_root = azblob_sim_root(sim);
	co.pool_buf_size = MAXB + 4096;
	co.pool_bufs = 3;
	rc = azblob_open(&client, &co);
	for (int i = 0; !rc && i < 3; i++)
		if (!(stage[i] = azblob_alloc(client, MAXB + 4096)))
			rc = -ENOMEM;
	return rc; /* the simulator lives as long as the process */
}

/* Where a caller's buffer goes in its staging buffer: same in-page offset. */
static uint8_t *place(int k, uint64_t addr, uint32_t len)
{
	uint8_t *p = stage[k] + (addr & 4095u);

	if (len && len <= MAXB)
		memcpy(p, (const void *)(uintptr_t)addr, len);
	return p;
}

int abi_direct(unsigned long cmd, void *arg)
{
	struct azblob_request_sync_abi *u = arg, a;
	int rc;

	(void)cmd;
	if (!client && (rc = open_client())) {
		fprintf(stderr, "abi_direct: %s\n", strerror(-rc));
		exit(2);
	}
	a = *u;
	if (a.request_len <= MAXB && a.response_len <= MAXB && a.data_len <= MAXB) {
		a.request_buffer = (uintptr_t)place(0, u->request_buffer, u->request_len);
		a.response_buffer = (uintptr_t)place(1, u->response_buffer, u->response_len);
		if (u->data_len)
			a.data_buffer = (uintptr_t)place(2, u->data_buffer, u->data_len);
	}
	rc = azblob_request_sync(client, &a);
	if (rc) {
		errno = -rc;
		return -1;
	}
	memcpy((void *)(uintptr_t)u->response_buffer, (void *)(uintptr_t)a.response_buffer,
	       u->response_len);
	if (u->data_len)
		memcpy((void *)(uintptr_t)u->data_buffer, (void *)(uintptr_t)a.data_buffer,
		       u->data_len);
	u->response = a.response;
	return 0;
}
