/*
 * Fuzz target: azblobd's reader of a client's TX ring (tools/azblobd/
 * parse.c): arbitrary ring memory, the client rewriting bytes and its
 * write index between reads, each packet checked by azd_check against an
 * arena of arbitrary size. Contract under test: no crash, no
 * out-of-bounds access, azd_next_packet returns only 1, 0, -ERANGE or
 * -EIO, and an accepted request's buffers lie inside the arena.
 *
 * Input: [0] data size selector, [1] arena pages selector, [2..9] write
 * and read index, then data area bytes, then (u16 offset, u8 value)
 * mutations applied one per read (offset 0..3: the write index).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uvmbus/ring.h>
#include <uvmbus/wire.h>

#include "check.h"

#define HDR 4096u

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n);

static void check_req(const struct azd_req *r, uint64_t arena_pages)
{
	uint64_t lim = arena_pages * VMBUS_PAGE_SIZE;

	if (r->request_off + r->q.request_buffer_length > lim ||
	    r->response_off + r->q.response_buffer_length > lim ||
	    (r->q.data_buffer_length && r->data_off + r->q.data_buffer_length > lim) ||
	    !r->trans_id)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	static uint8_t mem[HDR + 4096] __attribute__((aligned(4096)));
	static uint8_t pkt[4096];
	struct vmbus_ring_hdr *h = (void *)mem;
	struct uvmbus_ring *r;
	uint64_t arena_pages;
	uint32_t seen = 0;
	size_t dsize, pos;

	if (n < 10)
		return 0;
	dsize = 64 + 8 * (size_t)(in[0] % 248);
	arena_pages = 1 + (uint64_t)in[1] * 37;
	memset(mem, 0, HDR + dsize);
	memcpy(&h->write_index, in + 2, 4);
	memcpy(&h->read_index, in + 6, 4);
	pos = 10;
	if (n > pos) {
		size_t k = n - pos < dsize ? n - pos : dsize;

		memcpy(mem + HDR, in + pos, k);
		pos += k;
	}
	if (uvmbus_ring_attach(&r, mem, HDR + dsize, HDR, UVMBUS_RING_CONSUMER))
		return 0;
	for (int i = 0; i < 64; i++) {
		struct azd_req req;
		size_t len = 0;
		int rc = azd_next_packet(r, &seen, pkt, uvmbus_ring_max_packet(r), &len);

		if (rc != 1 && rc != 0 && rc != -ERANGE && rc != -EIO)
			abort();
		if (rc == 1) {
			if (len > uvmbus_ring_max_packet(r))
				abort();
			if (azd_check(pkt, len, arena_pages, 8192, &req) == AZD_OK)
				check_req(&req, arena_pages);
			uvmbus_ring_read_commit(r, NULL);
		} else if (rc < 0) {
			break; /* the daemon disconnects such a client */
		}
		/* the client rewrites a byte (or its write index) */
		if (pos + 3 <= n) {
			uint16_t off;

			memcpy(&off, in + pos, 2);
			if (off < 4)
				mem[off] = in[pos + 2];
			else
				mem[HDR + off % dsize] = in[pos + 2];
			pos += 3;
		}
	}
	uvmbus_ring_detach(r);
	return 0;
}
