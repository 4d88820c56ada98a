/*
 * Fuzz target: arbitrary ring memory (indices, mask, pending, data) fed to
 * the consumer, with the "host" rewriting bytes between reads; every packet
 * read is parsed. The producer side is then driven over the same memory.
 * Contract under test: no crash, no out-of-bounds access, errors are -EIO /
 * -EPROTO / -EOPNOTSUPP / -EMSGSIZE / -EAGAIN only.
 *
 * Input: [0] data size selector, [1] read buffer size selector,
 *        [2..17] header fields (w, r, mask, pending), then data area bytes,
 *        then (u16 offset, u8 value) mutations applied one per read.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uvmbus/packet.h>

#define HDR 4096u

static void check_rc(int rc)
{
	if (rc && rc != -EIO && rc != -EAGAIN && rc != -EMSGSIZE && rc != -EPROTO &&
	    rc != -EOPNOTSUPP)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	static uint8_t mem[HDR + 2048] __attribute__((aligned(4096)));
	static uint8_t buf[2048];
	struct vmbus_ring_hdr *h = (void *)mem;
	struct uvmbus_ring *r;
	size_t dsize, cap, pos;

	if (n < 18)
		return 0;
	dsize = 48 + 8 * (size_t)(in[0] % 250);
	cap = (size_t)in[1] * 8;
	memset(mem, 0, HDR + dsize);
	memcpy(h, in + 2, 16);
	pos = 18;
	if (n > pos) {
		size_t k = n - pos < dsize ? n - pos : dsize;

		memcpy(mem + HDR, in + pos, k);
		pos += k;
	}

	if (uvmbus_ring_attach(&r, mem, HDR + dsize, HDR, UVMBUS_RING_CONSUMER) == 0) {
		for (int i = 0; i < 64; i++) {
			size_t len = 0;
			int rc = uvmbus_ring_read(r, buf, cap, &len);

			check_rc(rc);
			if (rc == 0) {
				struct uvmbus_pkt p;

				if (len > cap)
					abort();
				check_rc(uvmbus_pkt_parse(buf, len, &p));
				for (uint32_t j = 0; j < p.npfn; j++)
					(void)uvmbus_pkt_pfn(&p, j);
			} else if (rc == -EMSGSIZE) {
				check_rc(uvmbus_ring_skip(r));
			}
			if (i % 8 == 7) {
				bool sig;

				uvmbus_ring_read_commit(r, &sig);
			}
			/* The host changes shared memory behind our back. */
			if (pos + 3 <= n) {
				uint16_t off;

				memcpy(&off, in + pos, 2);
				mem[off % (HDR + dsize)] = in[pos + 2];
				pos += 3;
			}
		}
		uvmbus_ring_read_commit(r, NULL);
		uvmbus_ring_set_interrupt_mask(r, false);
		char line[256];

		uvmbus_ring_dump(r, line, sizeof(line));
		uvmbus_ring_detach(r);
	}

	if (uvmbus_ring_attach(&r, mem, HDR + dsize, HDR, UVMBUS_RING_PRODUCER) == 0) {
		static const uint64_t pfn[3] = {1, 2, 3};

		for (int i = 0; i < 16; i++) {
			int rc = uvmbus_pkt_write_inband(r, 1 + i, 1, buf,
							 (size_t)(in[i % n] % 200), NULL);

			if (rc && rc != -EAGAIN && rc != -EIO && rc != -EMSGSIZE)
				abort();
			rc = uvmbus_pkt_write_gpa(r, 9, 7, 3 * 4096 - 7, pfn, 3, buf, 56, NULL);
			if (rc && rc != -EAGAIN && rc != -EIO && rc != -EMSGSIZE)
				abort();
		}
		uvmbus_ring_detach(r);
	}
	return 0;
}
