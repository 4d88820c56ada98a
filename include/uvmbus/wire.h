/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * VMbus wire formats: ring header and packet layouts (docs/WIRE.md sections 1-3).
 *
 * Every field is little-endian. Structures are packed where the wire is
 * packed; every size and key offset is checked at compile time below, so a
 * layout change cannot slip through.
 */
#ifndef UVMBUS_WIRE_H
#define UVMBUS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "uvmbus supports little-endian machines only (VMbus is little-endian)"
#endif

/* Hyper-V page: always 4096 bytes on the wire, whatever the guest page size. */
#define VMBUS_PAGE_SHIFT 12
#define VMBUS_PAGE_SIZE	 4096u

/* ---- Ring buffer header (first page of each ring) ---- */

#define VMBUS_RING_FEAT_PENDING_SEND_SZ 0x1u

struct vmbus_ring_hdr {
	uint32_t write_index;	  /* producer: byte offset into the data area */
	uint32_t read_index;	  /* consumer */
	uint32_t interrupt_mask;  /* consumer: 1 = don't interrupt me */
	uint32_t pending_send_sz; /* producer waiting for this much room; 0 = not */
	uint32_t reserved1[12];
	uint32_t feature_bits; /* bit 0: feat_pending_send_sz */
			       /* the rest of the header page is reserved */
};

/* ---- Packet descriptor (16 bytes) ---- */

enum vmbus_pkt_type {
	VMBUS_PKT_DATA_INBAND = 6,
	VMBUS_PKT_DATA_XFER_PAGES = 7,
	VMBUS_PKT_DATA_GPADL = 8,
	VMBUS_PKT_DATA_GPA_DIRECT = 9,
	VMBUS_PKT_COMPLETION = 11,
};

#define VMBUS_PKT_FLAG_COMPLETION_REQUESTED 0x1u

struct vmbus_pkt_desc {
	uint16_t type;
	uint16_t offset8; /* header length in 8-byte units, >= 2 */
	uint16_t len8;	  /* total length in 8-byte units, padding included, trailer excluded */
	uint16_t flags;
	uint64_t trans_id; /* 0 is reserved for unsolicited host messages */
} __attribute__((packed));

/* Every packet in a ring is followed by this trailer: old write index << 32. */
#define VMBUS_PKT_TRAILER_SIZE 8u
#define VMBUS_PKT_MAX_LEN8     0xffffu
#define VMBUS_PKT_MAX_LEN      (VMBUS_PKT_MAX_LEN8 * 8u)

/* ---- GPA-direct packet (type 9), one multi-page range ---- */

struct vmbus_gpa_range_hdr {
	uint32_t len;	 /* bytes covered by the range */
	uint32_t offset; /* byte offset into the first page */
			 /* followed by uint64_t pfn[N], N = ceil((offset + len) / 4096) */
} __attribute__((packed));

struct vmbus_gpa_direct_hdr {
	struct vmbus_pkt_desc desc; /* type 9, flags 1, offset8 = (32 + 8N) / 8 */
	uint32_t reserved;	    /* 0 */
	uint32_t rangecount;	    /* 1 for Azure Blob */
	struct vmbus_gpa_range_hdr range;
	/* followed by pfn[N], then the in-band payload, then zero padding to 8 */
} __attribute__((packed));

/* ---- Compile-time layout checks (FreeBSD style) ---- */

_Static_assert(offsetof(struct vmbus_ring_hdr, write_index) == 0, "ring write_index");
_Static_assert(offsetof(struct vmbus_ring_hdr, read_index) == 4, "ring read_index");
_Static_assert(offsetof(struct vmbus_ring_hdr, interrupt_mask) == 8, "ring interrupt_mask");
_Static_assert(offsetof(struct vmbus_ring_hdr, pending_send_sz) == 12, "ring pending_send_sz");
_Static_assert(offsetof(struct vmbus_ring_hdr, reserved1) == 16, "ring reserved");
_Static_assert(offsetof(struct vmbus_ring_hdr, feature_bits) == 64, "ring feature_bits");
_Static_assert(sizeof(struct vmbus_ring_hdr) == 68, "ring header used bytes");

_Static_assert(sizeof(struct vmbus_pkt_desc) == 16, "packet descriptor size");
_Static_assert(offsetof(struct vmbus_pkt_desc, type) == 0, "desc type");
_Static_assert(offsetof(struct vmbus_pkt_desc, offset8) == 2, "desc offset8");
_Static_assert(offsetof(struct vmbus_pkt_desc, len8) == 4, "desc len8");
_Static_assert(offsetof(struct vmbus_pkt_desc, flags) == 6, "desc flags");
_Static_assert(offsetof(struct vmbus_pkt_desc, trans_id) == 8, "desc trans_id");

_Static_assert(sizeof(struct vmbus_gpa_range_hdr) == 8, "gpa range header size");
_Static_assert(sizeof(struct vmbus_gpa_direct_hdr) == 32, "gpa direct header size");
_Static_assert(offsetof(struct vmbus_gpa_direct_hdr, reserved) == 16, "gpa reserved");
_Static_assert(offsetof(struct vmbus_gpa_direct_hdr, rangecount) == 20, "gpa rangecount");
_Static_assert(offsetof(struct vmbus_gpa_direct_hdr, range.len) == 24, "gpa range.len");
_Static_assert(offsetof(struct vmbus_gpa_direct_hdr, range.offset) == 28, "gpa range.offset");

#ifdef __cplusplus
}
#endif

#endif /* UVMBUS_WIRE_H */
