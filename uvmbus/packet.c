// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Packet builders and parsers (docs/WIRE.md sections 2-3). Pure: no system
 * call, no allocation. Builders write straight into a ring reservation.
 */
#include <errno.h>
#include <string.h>

#include <uvmbus/packet.h>

static inline size_t align8(size_t n)
{
	return (n + 7u) & ~(size_t)7u;
}

static int write_simple(struct uvmbus_ring *r, uint16_t type, uint64_t trans_id, uint16_t flags,
			const void *payload, size_t len, bool *signal)
{
	struct vmbus_pkt_desc d;
	struct uvmbus_ring_span s;
	size_t total;
	int rc;

	if (!trans_id || (flags & ~VMBUS_PKT_FLAG_COMPLETION_REQUESTED) || (len && !payload))
		return -EINVAL;
	if (len > VMBUS_PKT_MAX_LEN - sizeof(d))
		return -EMSGSIZE;
	total = sizeof(d) + len;
	d.type = type;
	d.offset8 = sizeof(d) / 8;
	d.len8 = (uint16_t)(align8(total) / 8);
	d.flags = flags;
	d.trans_id = trans_id;

	rc = uvmbus_ring_reserve(r, total, &s);
	if (rc)
		return rc;
	uvmbus_ring_span_write(&s, 0, &d, sizeof(d));
	if (len)
		uvmbus_ring_span_write(&s, sizeof(d), payload, len);
	uvmbus_ring_commit(r, &s, signal);
	return 0;
}

int uvmbus_pkt_write_inband(struct uvmbus_ring *r, uint64_t trans_id, uint16_t flags,
			    const void *payload, size_t len, bool *signal)
{
	return write_simple(r, VMBUS_PKT_DATA_INBAND, trans_id, flags, payload, len, signal);
}

int uvmbus_pkt_write_completion(struct uvmbus_ring *r, uint64_t trans_id, const void *payload,
				size_t len, bool *signal)
{
	return write_simple(r, VMBUS_PKT_COMPLETION, trans_id, 0, payload, len, signal);
}

int uvmbus_pkt_gpa_hdr(struct vmbus_gpa_direct_hdr *h, uint64_t trans_id, uint32_t range_off,
		       uint32_t range_len, uint32_t npfn, size_t payload_len)
{
	size_t hdr_len, total;

	if (!trans_id || range_off >= VMBUS_PAGE_SIZE || !range_len ||
	    npfn != uvmbus_gpa_npages(range_off, range_len))
		return -EINVAL;
	hdr_len = sizeof(*h) + 8u * (size_t)npfn;
	if (payload_len > VMBUS_PKT_MAX_LEN || hdr_len > VMBUS_PKT_MAX_LEN)
		return -EINVAL;
	total = align8(hdr_len + payload_len);
	if (total > VMBUS_PKT_MAX_LEN)
		return -EINVAL;

	memset(h, 0, sizeof(*h));
	h->desc.type = VMBUS_PKT_DATA_GPA_DIRECT;
	h->desc.offset8 = (uint16_t)(hdr_len / 8);
	h->desc.len8 = (uint16_t)(total / 8);
	h->desc.flags = VMBUS_PKT_FLAG_COMPLETION_REQUESTED;
	h->desc.trans_id = trans_id;
	h->reserved = 0;
	h->rangecount = 1;
	h->range.len = range_len;
	h->range.offset = range_off;
	return 0;
}

int uvmbus_pkt_write_gpa(struct uvmbus_ring *r, uint64_t trans_id, uint32_t range_off,
			 uint32_t range_len, const uint64_t *pfn, uint32_t npfn,
			 const void *payload, size_t payload_len, bool *signal)
{
	struct vmbus_gpa_direct_hdr h;
	struct uvmbus_ring_span s;
	size_t pfn_bytes = 8u * (size_t)npfn;
	int rc;

	if (!pfn || (payload_len && !payload))
		return -EINVAL;
	rc = uvmbus_pkt_gpa_hdr(&h, trans_id, range_off, range_len, npfn, payload_len);
	if (rc)
		return rc;
	rc = uvmbus_ring_reserve(r, uvmbus_gpa_pkt_len(npfn, payload_len), &s);
	if (rc)
		return rc;
	uvmbus_ring_span_write(&s, 0, &h, sizeof(h));
	uvmbus_ring_span_write(&s, sizeof(h), pfn, pfn_bytes);
	if (payload_len)
		uvmbus_ring_span_write(&s, sizeof(h) + pfn_bytes, payload, payload_len);
	uvmbus_ring_commit(r, &s, signal);
	return 0;
}

int uvmbus_pkt_parse(const void *buf, size_t len, struct uvmbus_pkt *out)
{
	const uint8_t *b = buf;
	struct vmbus_pkt_desc d;
	struct vmbus_gpa_direct_hdr g;
	size_t hdr_len;

	memset(out, 0, sizeof(*out));
	if (!buf || len < sizeof(d) || (len & 7u))
		return -EIO;
	memcpy(&d, b, sizeof(d));
	if (d.offset8 < 2 || d.offset8 > d.len8 || (size_t)d.len8 * 8u != len)
		return -EIO;
	hdr_len = (size_t)d.offset8 * 8u;
	out->type = d.type;
	out->flags = d.flags;
	out->trans_id = d.trans_id;
	out->payload = b + hdr_len;
	out->payload_len = (uint32_t)(len - hdr_len);
	if (d.type != VMBUS_PKT_DATA_GPA_DIRECT)
		return 0;

	if (hdr_len < sizeof(g))
		return -EPROTO;
	memcpy(&g, b, sizeof(g));
	out->rangecount = g.rangecount;
	if (g.rangecount != 1)
		return -EOPNOTSUPP;
	if (g.range.offset >= VMBUS_PAGE_SIZE || !g.range.len)
		return -EPROTO;
	out->range_offset = g.range.offset;
	out->range_len = g.range.len;
	out->npfn = uvmbus_gpa_npages(g.range.offset, g.range.len);
	if (sizeof(g) + 8u * (size_t)out->npfn > hdr_len)
		return -EPROTO;
	out->pfn = b + sizeof(g);
	return 0;
}

uint64_t uvmbus_pkt_pfn(const struct uvmbus_pkt *p, uint32_t i)
{
	uint64_t v = 0;

	if (i < p->npfn && p->pfn)
		memcpy(&v, p->pfn + 8u * (size_t)i, sizeof(v));
	return v;
}
