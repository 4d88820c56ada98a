/* Test guest for the simulator: the real device and memory layers opened
 * on a sim's tree, plus a minimal Azure Blob request builder (what
 * libazblob does, kept small and explicit for tests). */
#ifndef TEST_SIM_GUEST_H
#define TEST_SIM_GUEST_H

#include <errno.h>
#include <string.h>

#include <azblob/sim.h>
#include <azblob/vsp_wire.h>
#include <uvmbus.h>

struct tguest {
	struct azblob_sim *sim;
	struct uvmbus_simsock g;
	struct uvmbus_dev *dev;
	struct uvmbus_chan *ch;
	struct uvmbus_mem *mem;
	struct uvmbus_region *ram;
	uint8_t *buf; /* 8 MiB of guest RAM for buffers */
};

static inline int tguest_attach(struct tguest *t, const char *root, const struct uvmbus_log *log)
{
	struct uvmbus_dev_opts d;
	struct uvmbus_mem_opts m;
	int rc = uvmbus_simsock_connect(root, &t->g);

	if (rc)
		return rc;
	uvmbus_dev_opts_init(&d);
	d.sysfs_root = t->g.sysfs_root;
	d.dev_root = t->g.dev_root;
	d.proc_root = t->g.proc_root;
	d.open_event_fd = uvmbus_simsock_event_fd;
	d.open_map_fd = uvmbus_simsock_map_fd;
	d.event_arg = &t->g;
	if (log)
		d.log = *log;
	struct uvmbus_dev_info info;

	rc = uvmbus_dev_find_class(&d, AZBLOB_CLASS_GUID_STR, &info);
	if (!rc)
		rc = uvmbus_dev_open(&t->dev, info.guid, &d);
	if (rc)
		return rc;
	t->ch = uvmbus_dev_channel(t->dev, 0);
	uvmbus_mem_opts_init(&m);
	m.backend = UVMBUS_PIN_MEMFD;
	m.memfd = t->g.ram_fd;
	m.memfd_size = t->g.ram_bytes;
	m.memtable = t->g.memtable ? &t->g : NULL; /* caller memory: the memory table */
	if (log)
		m.log = *log;
	rc = uvmbus_mem_open(&t->mem, &m);
	if (!rc)
		rc = uvmbus_mem_alloc(t->mem, 8u << 20, &t->ram);
	if (!rc)
		t->buf = uvmbus_region_addr(t->ram);
	return rc;
}

/* Create and start an in-process sim with `o`, then attach. */
static inline int tguest_open(struct tguest *t, struct azblob_sim_opts *o,
			      const struct uvmbus_log *log)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->g.event_fd = t->g.ram_fd = -1;
	rc = azblob_sim_create(&t->sim, o);
	if (!rc)
		rc = azblob_sim_start(t->sim);
	if (!rc)
		rc = tguest_attach(t, azblob_sim_root(t->sim), log);
	return rc;
}

static inline struct azblob_sim_stats tguest_stats(struct tguest *t)
{
	struct azblob_sim_stats st;

	azblob_sim_get_stats(t->sim, &st);
	return st;
}

static inline void tguest_close(struct tguest *t)
{
	if (t->ram)
		uvmbus_region_release(t->ram);
	if (t->mem)
		uvmbus_mem_close(t->mem);
	if (t->dev)
		uvmbus_dev_close(t->dev);
	uvmbus_simsock_disconnect(&t->g);
	if (t->sim)
		azblob_sim_destroy(t->sim);
	memset(t, 0, sizeof(*t));
}

/* Buffers inside t->buf, by offset. */
struct treq {
	uint64_t tid;
	uint32_t data_off, data_len, data_valid; /* data_len 0: none */
	uint32_t req_off, req_len;
	uint32_t resp_off, resp_len;
	uint32_t timeout_ms;
};

/* Build the packet bytes (header + pfns + 56-byte request) into pkt;
 * returns the length (unpadded). */
static inline size_t treq_build(struct tguest *t, const struct treq *q, uint8_t *pkt)
{
	struct azblob_vsp_request v = {0};
	uint32_t dp = q->data_len ? uvmbus_region_npfn(t->ram, q->data_off, q->data_len) : 0;
	uint32_t qp = uvmbus_region_npfn(t->ram, q->req_off, q->req_len);
	uint32_t sp = uvmbus_region_npfn(t->ram, q->resp_off, q->resp_len);
	uint32_t n = dp + qp + sp, pg;
	uint64_t *pfn = (uint64_t *)(pkt + 32);

	uvmbus_pkt_gpa_hdr((struct vmbus_gpa_direct_hdr *)pkt, q->tid, 0, n * 4096u, n, sizeof(v));
	if (dp) {
		uvmbus_region_pfns(t->ram, q->data_off, q->data_len, pfn, &pg);
		v.data_buffer_offset = pg;
	}
	uvmbus_region_pfns(t->ram, q->req_off, q->req_len, pfn + dp, &pg);
	v.request_buffer_offset = pg + dp * 4096u;
	uvmbus_region_pfns(t->ram, q->resp_off, q->resp_len, pfn + dp + qp, &pg);
	v.response_buffer_offset = pg + (dp + qp) * 4096u;
	v.timeout_ms = q->timeout_ms;
	v.data_buffer_length = q->data_len;
	v.data_buffer_valid = q->data_valid;
	v.operation_type = AZBLOB_VSP_OP_USER_REQUEST;
	v.request_buffer_length = q->req_len;
	v.response_buffer_length = q->resp_len;
	memcpy(v.transaction_id, &q->tid, 8);
	memcpy(pkt + 32 + 8 * (size_t)n, &v, sizeof(v));
	return 32 + 8 * (size_t)n + sizeof(v);
}

/* Write raw packet bytes into TX (stage only unless publish). */
static inline int traw_send(struct tguest *t, const uint8_t *pkt, size_t len, bool publish)
{
	struct uvmbus_ring_span s;
	struct uvmbus_ring *tx = uvmbus_chan_tx(t->ch);
	bool sig = false;
	int rc;

	if (!tx)
		return -ENODEV;
	rc = uvmbus_ring_reserve(tx, len, &s);
	if (rc)
		return rc;
	uvmbus_ring_span_write(&s, 0, pkt, len);
	uvmbus_ring_stage(tx, &s);
	if (!publish)
		return 0;
	uvmbus_ring_publish(tx, &sig);
	return sig ? uvmbus_chan_signal(t->ch) : 0;
}

static inline int tsend(struct tguest *t, const struct treq *q)
{
	static uint8_t pkt[70000];
	size_t len = treq_build(t, q, pkt);

	return traw_send(t, pkt, len, true);
}

/* Flush staged packets: publish once, signal if needed. */
static inline int tflush(struct tguest *t)
{
	bool sig = false;

	uvmbus_ring_publish(uvmbus_chan_tx(t->ch), &sig);
	return sig ? uvmbus_chan_signal(t->ch) : 0;
}

struct tcompl {
	uint64_t tid;
	uint32_t status, response_len;
};

/* Next completion (waits on the interrupt fd up to timeout_ms in total).
 * 0, -ETIMEDOUT, -EIO (corrupt RX), -ENODEV (rescind). Publishes the read
 * index and signals the host when it was waiting for room. */
static inline int trecv(struct tguest *t, struct tcompl *c, int timeout_ms)
{
	for (int waited = 0;;) {
		struct uvmbus_ring *rx = uvmbus_chan_rx(t->ch);
		uint8_t b[64];
		size_t len;
		int rc;

		if (!rx)
			return -ENODEV;
		rc = uvmbus_ring_read(rx, b, sizeof(b), &len);
		if (rc == 0) {
			struct uvmbus_pkt p;
			struct azblob_vsp_response r;
			bool sig;

			if (uvmbus_pkt_parse(b, len, &p) || p.type != VMBUS_PKT_COMPLETION ||
			    p.payload_len < sizeof(r))
				return -EPROTO;
			memcpy(&r, p.payload, sizeof(r));
			c->tid = p.trans_id;
			c->status = r.error;
			c->response_len = r.response_len;
			uvmbus_ring_read_commit(rx, &sig);
			if (sig)
				uvmbus_chan_signal(t->ch);
			return 0;
		}
		if (rc != -EAGAIN)
			return rc;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		uvmbus_chan_set_polling(t->ch, false);
		rc = uvmbus_chan_wait(t->ch, 20);
		uvmbus_chan_set_polling(t->ch, true);
		if (rc < 0)
			return rc;
		waited += 20;
	}
}

#endif
