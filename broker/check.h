/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The daemon's check of a client's request packets (pure: no system
 * call, no state; fuzzed by tests/fuzz/fuzz_broker.c). A client's TX ring
 * is untrusted: every field is checked, and a request is accepted only
 * when each of its buffers is one run of consecutive pages inside that
 * client's arena, so the daemon never touches memory outside it.
 */
#ifndef AZBLOBD_CHECK_H
#define AZBLOBD_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <azblob/vsp_wire.h>

enum azd_violation {
	AZD_OK = 0,
	AZD_V_DESCRIPTOR,     /* malformed descriptor or GPA header */
	AZD_V_NO_COMPLETION,  /* completion not requested: dropped, unanswered */
	AZD_V_ZERO_TRANS_ID,  /* trans_id 0: dropped, unanswered */
	AZD_V_NOT_GPA_DIRECT, /* type != 9 */
	AZD_V_RANGE,	      /* rangecount, range offset/length, too many pages */
	AZD_V_SHORT_PAYLOAD,  /* in-band request shorter than 56 bytes */
	AZD_V_OPERATION,      /* version != 0 or not a user request */
	AZD_V_LENGTHS,	      /* zero lengths, data_valid > data_len, timeout too long */
	AZD_V_LAYOUT,	      /* buffers not in data/request/response order inside the range */
	AZD_V_OUTSIDE_ARENA,  /* a page beyond the client's arena */
	AZD_V_SCATTERED,      /* a buffer's pages are not consecutive in the arena */
	AZD_V_COUNT
};

/* A checked request: byte offsets of its buffers in the arena. */
struct azd_req {
	uint64_t trans_id;
	struct azblob_vsp_request q;
	uint64_t data_off, request_off, response_off;
};

/* Check one packet (`len` bytes, as uvmbus_ring_read() copied it) against
 * an arena of arena_pages 4 KiB pages, at most max_pages pfns. AZD_OK, or
 * the violation (out->trans_id is set whenever the descriptor was read). */
enum azd_violation azd_check(const void *pkt, size_t len, uint64_t arena_pages, uint32_t max_pages,
			     struct azd_req *out);

/* Whether a violation gets an answer (INVALID_PARAMETER) or is dropped. */
static inline int azd_violation_answered(enum azd_violation v)
{
	return v != AZD_V_NO_COMPLETION && v != AZD_V_ZERO_TRANS_ID && v != AZD_V_DESCRIPTOR;
}

const char *azd_violation_name(enum azd_violation v);

struct uvmbus_ring;

/*
 * Take the next packet of a client's TX ring (the daemon is its consumer)
 * into pkt (cap: the ring's largest packet). *seen carries, between calls,
 * the readable bytes already seen and not consumed: a producer only ever
 * adds, so fewer means its write index moved backwards. Returns 1 (a
 * packet, *len bytes), 0 (empty), -ERANGE (index moved backwards), -EIO
 * (corrupt ring). The read index is published by the caller.
 */
int azd_next_packet(struct uvmbus_ring *tx, uint32_t *seen, void *pkt, size_t cap, size_t *len);

#endif
