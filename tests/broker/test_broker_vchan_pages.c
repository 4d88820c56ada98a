// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_vchan_pages (and broker_vchan_pages_64k under qemu-aarch64
 * -p 65536 in an arm64 build): a session's ring pair made as azblobd
 * makes it (broker/rings.c: whole kernel pages, a header page each), the
 * daemon's ring handles on it as broker/session.c attaches them, and the
 * client's virtual channel (uvmbus_dev_open_vchan, as libazblob opens it)
 * carry requests and answers both ways, with the signals over a
 * SOCK_SEQPACKET pair as the broker's socket does. Also: --ring's rounding,
 * and a 4 KiB-only ring size refused by the client under bigger pages
 * (docs/BROKER.md, "Ring sizes and kernel pages"). A plain program:
 * Criterion's runner does not start under qemu-aarch64 -p 65536.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uvmbus/dev.h>
#include <uvmbus/packet.h>
#include <uvmbus/ring.h>
#include <uvmbus/wire.h>

#include "../common/mem_fixture.h" /* log sink */
#include "rings.h"

static int fails;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                     \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static void rounding(size_t page)
{
	size_t def = azd_ring_default(page);

	CHECK(def % page == 0 && def == page + (512u << 10), "default %zu, page %zu", def, page);
	CHECK(azd_ring_round(AZD_RING_MIN, page) == (page == 4096 ? AZD_RING_MIN : 2 * page),
	      "12K rounds to %zu", azd_ring_round(AZD_RING_MIN, page));
	CHECK(azd_ring_round(4096 + (512u << 10), page) % page == 0, "516K");
	CHECK(azd_ring_round(AZD_RING_MAX, page) == AZD_RING_MAX, "64M");
	if (page > 4096)
		CHECK(azd_rings_create(4096 + (512u << 10), page, &(uint8_t *){NULL}) == -EINVAL,
		      "a 4 KiB-only size is not made");
	printf("ok: --ring rounding, page %zu: default %zu, 516K -> %zu\n", page, def,
	       azd_ring_round(4096 + (512u << 10), page));
}

/* The client refuses rings that are not whole pages of its own size (a
 * daemon of another page size) with -EPROTO and a message. */
static void refused(size_t page)
{
	const size_t ring = 4096 + (512u << 10);
	struct log_sink sink;
	struct uvmbus_dev_opts o;
	struct uvmbus_dev *dev = NULL;
	uint8_t *map;
	int sv[2], fd, rc;
	char want[64];

	if (page == 4096)
		return;
	fd = azd_memfd("rings-4k", 2 * ring, false, NULL, &map);
	CHECK(fd >= 0, "memfd: %d", fd);
	if (fd < 0)
		return;
	((struct vmbus_ring_hdr *)map)->feature_bits = 1;
	((struct vmbus_ring_hdr *)(map + ring))->feature_bits = 1;
	CHECK(!socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair");
	uvmbus_dev_opts_init(&o);
	o.log = sink_log(&sink);
	rc = uvmbus_dev_open_vchan(&dev, fd, ring, sv[1], &o);
	snprintf(want, sizeof(want), "not whole pages of %zu", page);
	CHECK(rc == -EPROTO && strstr(sink.text, want), "rc %d, log: %s", rc, sink.text);
	printf("ok: rings of %zu bytes, page %zu: %d (%s)\n", ring, page, rc, strerror(-rc));
	if (!rc)
		uvmbus_dev_close(dev);
	munmap(map, 2 * ring);
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

/* The daemon's end: read every request in its TX ring, answer each with a
 * completion carrying the request's payload reversed into its RX ring. */
static unsigned serve(struct uvmbus_ring *tx, struct uvmbus_ring *rx, int sock)
{
	uint8_t pkt[4096], rev[4096];
	struct uvmbus_pkt p;
	unsigned n = 0;
	size_t len;
	bool sig = false, any = false;

	while (uvmbus_ring_read(tx, pkt, sizeof(pkt), &len) == 0) {
		CHECK(!uvmbus_pkt_parse(pkt, len, &p), "parse");
		for (size_t i = 0; i < p.payload_len; i++)
			rev[i] = p.payload[p.payload_len - 1 - i];
		CHECK(!uvmbus_pkt_write_completion(rx, p.trans_id, rev, p.payload_len, &sig),
		      "completion");
		any |= sig;
		n++;
	}
	uvmbus_ring_read_commit(tx, &sig);
	if (any) {
		uint32_t one = 1;

		CHECK(send(sock, &one, sizeof(one), 0) == sizeof(one), "event");
	}
	return n;
}

static void session(size_t page)
{
	const unsigned rounds = 400, batch = 16;
	size_t ring = azd_ring_default(page);
	struct uvmbus_ring *dtx = NULL, *drx = NULL;
	struct uvmbus_dev *dev = NULL;
	struct uvmbus_dev_opts o;
	struct uvmbus_chan_stats st;
	struct log_sink sink;
	struct uvmbus_chan *c;
	unsigned sent = 0, answered = 0, served = 0, signals = 0;
	uint8_t *map;
	int sv[2], fd, rc;

	fd = azd_rings_create(ring, page, &map);
	CHECK(fd >= 0, "rings: %d", fd);
	if (fd < 0)
		return;
	/* The daemon: consumer of the client's TX, producer of its RX, a
	 * header page each (broker/session.c). */
	CHECK(!uvmbus_ring_attach(&dtx, map, ring, page, UVMBUS_RING_CONSUMER), "attach TX");
	CHECK(!uvmbus_ring_attach(&drx, map + ring, ring, page, UVMBUS_RING_PRODUCER), "attach RX");
	uvmbus_ring_set_interrupt_mask(dtx, false); /* the client signals every batch */
	CHECK(!socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair");
	uvmbus_dev_opts_init(&o);
	o.log = sink_log(&sink);
	rc = uvmbus_dev_open_vchan(&dev, fd, ring, sv[1], &o);
	CHECK(rc == 0, "open_vchan: %d (%s): %s", rc, strerror(-rc), sink.text);
	if (rc || !dtx || !drx)
		goto out;
	c = uvmbus_dev_channel(dev, 0);
	CHECK(uvmbus_ring_data_size(uvmbus_chan_tx(c)) == ring - page, "client TX data %u",
	      uvmbus_ring_data_size(uvmbus_chan_tx(c)));
	CHECK(uvmbus_ring_data_size(dtx) == ring - page, "daemon TX data %u",
	      uvmbus_ring_data_size(dtx));

	for (unsigned r = 0; r < rounds; r++) {
		bool sig = false, any = false;

		/* Sizes that wrap the data areas many times over. */
		for (unsigned i = 0; i < batch; i++) {
			uint8_t pl[2048];
			size_t len = 8 * (1 + (size_t)((r * 131 + i * 977) % 250));

			for (size_t k = 0; k < len; k++)
				pl[k] = (uint8_t)(sent + k);
			rc = uvmbus_pkt_write_inband(uvmbus_chan_tx(c), sent + 1,
						     VMBUS_PKT_FLAG_COMPLETION_REQUESTED, pl, len,
						     &sig);
			CHECK(rc == 0, "write %u: %d", sent, rc);
			any |= sig;
			sent++;
		}
		if (r == 0) {
			/* The first request sits at the data area's start, one
			 * whole page in (the header is the 4 KiB VMbus layout
			 * padded to the page). */
			const struct vmbus_pkt_desc *d = (const void *)(map + page);

			CHECK(d->type == VMBUS_PKT_DATA_INBAND && d->trans_id == 1,
			      "first packet at the page: type %u", d->type);
		}
		if (any) {
			CHECK(uvmbus_chan_signal(c) == 0, "signal");
			uint32_t v = 0;

			CHECK(recv(sv[0], &v, sizeof(v), 0) == sizeof(v) && v == 1, "doorbell %u",
			      v);
			signals++;
		}
		served += serve(dtx, drx, sv[0]);
		/* The client: wait for the event, read the answers. */
		CHECK(uvmbus_chan_wait(c, 2000) == 1, "wait");
		for (;;) {
			uint8_t pkt[4096];
			struct uvmbus_pkt p;
			size_t len;

			if (uvmbus_ring_read(uvmbus_chan_rx(c), pkt, sizeof(pkt), &len))
				break;
			CHECK(!uvmbus_pkt_parse(pkt, len, &p) && p.trans_id == answered + 1,
			      "answer %u: trans_id %llu", answered, (unsigned long long)p.trans_id);
			for (size_t k = 0; k < p.payload_len; k++)
				if (p.payload[k] != (uint8_t)(answered + p.payload_len - 1 - k)) {
					CHECK(0, "answer %u byte %zu", answered, k);
					break;
				}
			answered++;
		}
		uvmbus_ring_read_commit(uvmbus_chan_rx(c), &(bool){false});
	}
	uvmbus_chan_get_stats(c, &st);
	CHECK(served == sent && answered == sent, "sent %u served %u answered %u", sent, served,
	      answered);
	printf("ok: session rings of %zu bytes (header page %zu, data %zu), page %zu: %u requests, "
	       "%u answers, %u doorbells, %llu client signals\n",
	       ring, page, ring - page, page, sent, answered, signals,
	       (unsigned long long)st.signals);
out:
	if (dev)
		uvmbus_dev_close(dev);
	uvmbus_ring_detach(dtx);
	uvmbus_ring_detach(drx);
	munmap(map, 2 * ring);
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	rounding(page);
	refused(page);
	session(page);
	printf("broker_vchan_pages (page %zu): %d failed\n", page, fails);
	return fails != 0;
}
