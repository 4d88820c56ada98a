/* A program built against an installed uvmbus: one packet round trip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvmbus.h>

int main(void)
{
	size_t sz = 4096 * 2;
	void *mem = aligned_alloc(4096, sz);
	struct uvmbus_ring *p, *c;
	unsigned char buf[64];
	struct uvmbus_pkt pkt;
	size_t len;

	memset(mem, 0, sz);
	if (uvmbus_ring_attach(&p, mem, sz, 4096, UVMBUS_RING_PRODUCER) ||
	    uvmbus_ring_attach(&c, mem, sz, 4096, UVMBUS_RING_CONSUMER) ||
	    uvmbus_pkt_write_inband(p, 42, 0, "hi", 2, NULL) ||
	    uvmbus_ring_read(c, buf, sizeof(buf), &len) || uvmbus_pkt_parse(buf, len, &pkt) ||
	    pkt.trans_id != 42) {
		fprintf(stderr, "consumer: round trip failed\n");
		return 1;
	}
	printf("consumer: uvmbus %s round trip OK\n", uvmbus_version());
	uvmbus_ring_detach(p);
	uvmbus_ring_detach(c);
	free(mem);
	return 0;
}
