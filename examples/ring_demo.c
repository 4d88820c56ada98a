/*
 * uvmbus-ring-demo: a channel's two rings in one mapping, as uio_hv_generic
 * lays them out (TX at offset 0, RX right after), with the guest and a toy
 * host in one process. The guest sends Azure Blob requests (GPA-direct
 * packets), the host parses them and answers with completions; every step
 * prints what happened, including the signal decisions and ring state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azblob/vsp_wire.h>
#include <uvmbus.h>

#define PAGE	 4096u
#define RING_SZ	 (PAGE + 16u * PAGE) /* header page + 64 KiB data */
#define REQUESTS 5

static void dump(const char *who, const struct uvmbus_ring *r)
{
	char line[512];

	uvmbus_ring_dump(r, line, sizeof(line));
	printf("    %-8s %s\n", who, line);
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "uvmbus-ring-demo: %s: %s\n", what, strerror(-rc));
	return 1;
}

int main(void)
{
	uint8_t *chan = aligned_alloc(PAGE, 2 * RING_SZ);
	struct uvmbus_ring *g_tx, *g_rx, *h_tx, *h_rx;
	uint8_t buf[1024];
	int rc, signals = 0;

	if (!chan)
		return 1;
	memset(chan, 0, 2 * RING_SZ);
	printf("uvmbus %s ring demo: one channel, TX ring at offset 0, RX ring at %u, "
	       "%u data bytes each\n\n",
	       uvmbus_version(), RING_SZ, RING_SZ - PAGE);

	/* Guest: producer on TX, consumer on RX. Host: the mirror image. */
	if ((rc = uvmbus_ring_attach(&g_tx, chan, RING_SZ, PAGE, UVMBUS_RING_PRODUCER)) ||
	    (rc = uvmbus_ring_attach(&g_rx, chan + RING_SZ, RING_SZ, PAGE, UVMBUS_RING_CONSUMER)) ||
	    (rc = uvmbus_ring_attach(&h_rx, chan, RING_SZ, PAGE, UVMBUS_RING_CONSUMER)) ||
	    (rc = uvmbus_ring_attach(&h_tx, chan + RING_SZ, RING_SZ, PAGE, UVMBUS_RING_PRODUCER)))
		return fail("attach", rc);
	printf("largest packet this ring carries: %u bytes (an 8192-page request needs %zu)\n\n",
	       uvmbus_ring_max_packet(g_tx), (size_t)AZBLOB_VSP_PKT_LEN(AZBLOB_MAX_PAGES));

	printf("guest: submits %d requests (data page, request page, response page)\n", REQUESTS);
	for (int i = 0; i < REQUESTS; i++) {
		uint64_t pfn[3] = {0x1000 + 3 * i, 0x1001 + 3 * i, 0x1002 + 3 * i};
		struct azblob_vsp_request rq = {
		    .timeout_ms = 30000,
		    .data_buffer_offset = 0,
		    .data_buffer_length = 4096,
		    .data_buffer_valid = 4096,
		    .operation_type = AZBLOB_VSP_OP_USER_REQUEST,
		    .request_buffer_offset = PAGE + 0,
		    .request_buffer_length = 128,
		    .response_buffer_offset = 2 * PAGE,
		    .response_buffer_length = 512,
		};
		bool sig;

		rq.transaction_id[0] = (uint8_t)i;
		rc =
		    uvmbus_pkt_write_gpa(g_tx, 100 + i, 0, 3 * PAGE, pfn, 3, &rq, sizeof(rq), &sig);
		if (rc)
			return fail("write request", rc);
		signals += sig;
		printf("  request trans_id=%d: %zu-byte GPA-direct packet, signal host: %s\n",
		       100 + i, (size_t)AZBLOB_VSP_PKT_LEN(3),
		       sig ? "yes (ring was empty)" : "no (batched)");
	}
	dump("guest TX", g_tx);

	printf("\nhost: drains TX, validates each packet, completes it on RX\n");
	for (;;) {
		struct uvmbus_pkt p;
		struct azblob_vsp_request rq;
		size_t len;

		rc = uvmbus_ring_read(h_rx, buf, sizeof(buf), &len);
		if (rc == -EAGAIN)
			break;
		if (rc)
			return fail("host read", rc);
		rc = uvmbus_pkt_parse(buf, len, &p);
		if (rc || p.type != VMBUS_PKT_DATA_GPA_DIRECT || p.payload_len < sizeof(rq))
			return fail("host parse", rc ? rc : -EPROTO);
		memcpy(&rq, p.payload, sizeof(rq));
		printf("  got trans_id=%llu type=%u pages=%u first pfn=%#llx op=%#x request %u@%u "
		       "response %u@%u\n",
		       (unsigned long long)p.trans_id, p.type, p.npfn,
		       (unsigned long long)uvmbus_pkt_pfn(&p, 0), rq.operation_type,
		       rq.request_buffer_length, rq.request_buffer_offset,
		       rq.response_buffer_length, rq.response_buffer_offset);
		struct azblob_vsp_response rsp = {
		    .length = sizeof(rsp), .error = 0, .response_len = 64};

		rc = uvmbus_pkt_write_completion(h_tx, p.trans_id, &rsp, sizeof(rsp), NULL);
		if (rc)
			return fail("host complete", rc);
	}
	bool sig;
	uint32_t freed = uvmbus_ring_read_commit(h_rx, &sig);

	printf("  host published its read index once: %u bytes freed, signal guest: %s\n", freed,
	       sig ? "yes" : "no (guest was not waiting for room)");
	dump("host RX", h_rx);

	printf("\nguest: polls RX for completions\n");
	int done = 0;

	for (;;) {
		struct uvmbus_pkt p;
		struct azblob_vsp_response rsp;
		size_t len;

		rc = uvmbus_ring_read(g_rx, buf, sizeof(buf), &len);
		if (rc == -EAGAIN)
			break;
		if (rc)
			return fail("guest read", rc);
		rc = uvmbus_pkt_parse(buf, len, &p);
		if (rc || p.type != VMBUS_PKT_COMPLETION || p.payload_len < sizeof(rsp))
			return fail("guest parse", rc ? rc : -EPROTO);
		memcpy(&rsp, p.payload, sizeof(rsp));
		printf("  completion trans_id=%llu status=%u response_len=%u\n",
		       (unsigned long long)p.trans_id, rsp.error, rsp.response_len);
		done++;
	}
	uvmbus_ring_read_commit(g_rx, NULL);
	dump("guest RX", g_rx);

	printf("\n%d requests sent, %d completed, %d host signal(s) for the batch\n", REQUESTS,
	       done, signals);
	uvmbus_ring_detach(g_tx);
	uvmbus_ring_detach(g_rx);
	uvmbus_ring_detach(h_tx);
	uvmbus_ring_detach(h_rx);
	free(chan);
	return done == REQUESTS && signals == 1 ? 0 : 1;
}
