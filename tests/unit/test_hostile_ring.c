/* A hostile host on the RX ring, through the in-process simulator: the
 * test writes packets into RX by hand (as the host) and checks what the
 * client gives back. Every packet consumed is committed, used or skipped,
 * so a host waiting on pending_send_sz is never stalled. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sys/mman.h>

#include <uvmbus/packet.h>

#include "fake_sysfs.h"
#include "mem_fixture.h"
#include "sim_client.h"

static struct log_sink sink;
static struct azblob_sim *sim;
static struct azblob_client *cl;
static uint8_t *ring;
static size_t ring_len;
static struct uvmbus_ring *host_rx; /* the host's producer end of RX */
static struct vmbus_ring_hdr *rx_hdr;

static void start(void)
{
	size_t half;

	cr_assert_eq(sim_client_open(&sim, &cl, NULL, sink_log(&sink)), 0, "%s", sink.text);
	ring = sim_ring_map(sim, &ring_len);
	half = ring_len / 2;
	rx_hdr = (struct vmbus_ring_hdr *)(ring + half);
	cr_assert_eq(uvmbus_ring_attach(&host_rx, ring + half, half, 4096, UVMBUS_RING_PRODUCER),
		     0);
}

static void stop(void)
{
	uvmbus_ring_detach(host_rx);
	if (ring)
		munmap(ring, ring_len);
	sim_client_close(&sim, &cl);
	host_rx = NULL;
	ring = NULL;
}

TestSuite(azblob_hostile_rx, .fini = stop);

/* Only a skipped packet (longer than any completion) in RX: the poll
 * consumes it, and the host must see the read index move, and be signalled
 * when it was waiting for exactly that room. */
/* 216 bytes whose in-band payload (8 bytes at offset8 * 8 = 208) cannot
 * hold a VSP response: skipped, whatever its length. */
static int write_unusable(uint64_t tid)
{
	uint8_t big[216];
	struct vmbus_pkt_desc d = {
	    .type = VMBUS_PKT_COMPLETION, .offset8 = 26, .len8 = 27, .trans_id = tid};
	struct iovec iov = {.iov_base = big, .iov_len = sizeof(big)};

	memset(big, 0x5a, sizeof(big));
	memcpy(big, &d, sizeof(d));
	return uvmbus_ring_writev(host_rx, &iov, 1, NULL);
}

Test(azblob_hostile_rx, skipped_packet_alone_is_committed)
{
	start();
	cr_assert_eq(write_unusable(1), 0);
	uint32_t w = rx_hdr->write_index, dsize = (uint32_t)(ring_len / 2) - 4096;

	cr_assert_eq(w, 224u);
	/* The host waits for room that only this packet's release gives. */
	rx_hdr->pending_send_sz = dsize - 100;
	struct azblob_stats st;

	cr_expect_eq(azblob_poll(cl, 0), 0, "no callback ran");
	azblob_get_stats(cl, &st);
	cr_expect_eq(st.bad_packets, 1u);
	cr_expect_eq(rx_hdr->read_index, w, "RX read_index the host sees: %u, expected %u",
		     rx_hdr->read_index, w);
	cr_expect_eq(st.signals, 1u, "the waiting host was signalled %llu time(s)",
		     (unsigned long long)st.signals);

	/* Again without a waiting host: committed, no signal. */
	rx_hdr->pending_send_sz = 0;
	cr_assert_eq(write_unusable(2), 0);
	cr_expect_eq(azblob_poll(cl, 0), 0);
	azblob_get_stats(cl, &st);
	cr_expect_eq(rx_hdr->read_index, 2 * w, "RX read_index the host sees: %u, expected %u",
		     rx_hdr->read_index, 2 * w);
	cr_expect_eq(st.signals, 1u, "no signal when the host is not waiting");
	cr_expect_eq(st.bad_packets, 2u);
}

/* A long packet with a short payload between two short ones of other
 * types: all three consumed and committed in one batch. */
Test(azblob_hostile_rx, mixed_bad_packets_all_committed)
{
	uint8_t small[4] = {0};

	start();
	cr_assert_eq(uvmbus_pkt_write_inband(host_rx, 3, 0, small, sizeof(small), NULL), 0);
	cr_assert_eq(write_unusable(4), 0);
	cr_assert_eq(uvmbus_pkt_write_completion(host_rx, 5, small, sizeof(small), NULL), 0);
	uint32_t w = rx_hdr->write_index;

	struct azblob_stats st;

	azblob_poll(cl, 0);
	azblob_get_stats(cl, &st);
	cr_expect_eq(st.bad_packets, 3u);
	cr_expect_eq(st.completed, 0u);
	cr_expect_eq(rx_hdr->read_index, w, "RX read_index the host sees: %u, expected %u",
		     rx_hdr->read_index, w);
}
