/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Packet builders and parsers (docs/WIRE.md sections 2-3). Builders write one
 * packet into a ring (see ring.h) and never send trans_id 0, which is
 * reserved for unsolicited host messages. Parsers work on a packet copied
 * out of the ring by uvmbus_ring_read() and validate it again, so a caller
 * never indexes shared memory with a host-supplied length.
 */
#ifndef UVMBUS_PACKET_H
#define UVMBUS_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uvmbus/common.h>
#include <uvmbus/ring.h>
#include <uvmbus/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Pages covered by a range starting `offset` bytes into its first page. */
static inline uint32_t uvmbus_gpa_npages(uint32_t offset, uint32_t len)
{
	return (uint32_t)(((uint64_t)offset + len + VMBUS_PAGE_SIZE - 1) >> VMBUS_PAGE_SHIFT);
}

/* Unpadded length of a GPA-direct packet with `npfn` pfns and a payload. */
static inline size_t uvmbus_gpa_pkt_len(uint32_t npfn, size_t payload_len)
{
	return sizeof(struct vmbus_gpa_direct_hdr) + 8u * (size_t)npfn + payload_len;
}

/* In-band data packet (type 6). flags: VMBUS_PKT_FLAG_COMPLETION_REQUESTED or 0. */
UVMBUS_API int uvmbus_pkt_write_inband(struct uvmbus_ring *r, uint64_t trans_id, uint16_t flags,
				       const void *payload, size_t len, bool *signal);

/* Completion packet (type 11) answering `trans_id`. */
UVMBUS_API int uvmbus_pkt_write_completion(struct uvmbus_ring *r, uint64_t trans_id,
					   const void *payload, size_t len, bool *signal);

/*
 * Fill the 32-byte header of a GPA-direct packet with one range of
 * `range_len` bytes starting `range_off` bytes into the first of `npfn`
 * pages, followed (after the pfns) by `payload_len` bytes of in-band data.
 * Returns 0, or -EINVAL (trans_id 0, range_off >= 4096, npfn not matching
 * the range, packet too long for len8).
 */
UVMBUS_API int uvmbus_pkt_gpa_hdr(struct vmbus_gpa_direct_hdr *h, uint64_t trans_id,
				  uint32_t range_off, uint32_t range_len, uint32_t npfn,
				  size_t payload_len);

/*
 * GPA-direct packet (type 9, completion requested) from a flat pfn array:
 * header, pfns and payload go straight into the ring (one copy, no
 * temporary buffer). Returns 0, -EINVAL, -EAGAIN (ring full), -EMSGSIZE
 * (can never fit this ring), -EIO.
 */
UVMBUS_API int uvmbus_pkt_write_gpa(struct uvmbus_ring *r, uint64_t trans_id, uint32_t range_off,
				    uint32_t range_len, const uint64_t *pfn, uint32_t npfn,
				    const void *payload, size_t payload_len, bool *signal);

/* A packet as parsed from a copy taken by uvmbus_ring_read(). */
struct uvmbus_pkt {
	uint16_t type;
	uint16_t flags;
	uint64_t trans_id;
	const uint8_t *payload; /* in-band data: offset8 * 8 .. len8 * 8 (padding included) */
	uint32_t payload_len;
	/* GPA direct (type 9) only: */
	uint32_t rangecount;
	uint32_t range_offset;
	uint32_t range_len;
	uint32_t npfn;
	const uint8_t *pfn; /* npfn little-endian u64s; maybe unaligned: use uvmbus_pkt_pfn() */
};

/*
 * Parse and validate a packet of `len` bytes (as returned by
 * uvmbus_ring_read). Returns 0, -EIO for a malformed descriptor (offset8 <
 * 2, offset8 > len8, len8 * 8 != len), -EPROTO for a malformed GPA-direct
 * header (pfn array beyond the header length, bad range), -EOPNOTSUPP for
 * rangecount != 1.
 */
UVMBUS_API int uvmbus_pkt_parse(const void *buf, size_t len, struct uvmbus_pkt *out);

/* The i-th pfn of a parsed GPA-direct packet (i < npfn). */
UVMBUS_API uint64_t uvmbus_pkt_pfn(const struct uvmbus_pkt *p, uint32_t i);

#ifdef __cplusplus
}
#endif

#endif /* UVMBUS_PACKET_H */
