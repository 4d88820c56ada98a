/*
 * uvmbus-mem-bench: cost of describing a buffer to the host, i.e. building
 * the pfn list of a 4 KiB, 1 MiB and 32 MiB buffer from a region's base
 * pfn table (into an array, and straight into a ring reservation).
 * Uses the memfd backend over a memfd: no root, no hugepages needed; the
 * arithmetic is the same for every backend.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <uvmbus.h>

#include "bench_util.h"
#include <uvmbus/mem.h>

int main(int argc, char **argv)
{
	const size_t sizes[3] = {4096, 1u << 20, 32u << 20};
	size_t ram = 40u << 20;
	long iters = argc > 1 ? atol(argv[1]) : 20000;
	int fd = memfd_create("bench-guest-ram", MFD_CLOEXEC);
	struct uvmbus_mem_opts o;
	struct uvmbus_mem *m;
	struct uvmbus_region *r;
	static uint64_t pfn[8193];
	uint8_t *ringmem = aligned_alloc(4096, 4096 + (128u << 10));
	struct uvmbus_ring *tx;
	volatile uint64_t sink = 0;

	if (iters < 10 || fd < 0 || ftruncate(fd, (off_t)ram) || !ringmem) {
		fprintf(stderr, "usage: uvmbus-mem-bench [iterations >= 10]\n");
		return 2;
	}
	uvmbus_mem_opts_init(&o);
	o.backend = UVMBUS_PIN_MEMFD;
	o.memfd = fd;
	o.memfd_size = ram;
	if (uvmbus_mem_open(&m, &o) || uvmbus_mem_alloc(m, 34u << 20, &r)) {
		fprintf(stderr, "uvmbus-mem-bench: memory setup failed\n");
		return 1;
	}
	memset(ringmem, 0, 4096 + (128u << 10));
	if (uvmbus_ring_attach(&tx, ringmem, 4096 + (128u << 10), 4096, UVMBUS_RING_PRODUCER))
		return 1;

	printf("uvmbus %s: building the GPA range (pfn list) of one buffer, %ld iterations\n",
	       uvmbus_version(), iters);
	printf("%-10s %6s %14s %16s\n", "buffer", "pfns", "ns (array)", "ns (ring span)");
	for (int i = 0; i < 3; i++) {
		size_t off = 100; /* unaligned: one more page than the size */
		uint32_t n = uvmbus_region_npfn(r, off, sizes[i]);
		uint64_t t0 = now_ns();

		for (long it = 0; it < iters; it++) {
			uvmbus_region_pfns(r, off, sizes[i], pfn, NULL);
			sink += pfn[n - 1];
		}
		double arr = (double)(now_ns() - t0) / (double)iters;
		struct uvmbus_ring_span s;
		size_t pkt = 8u * n + 16u;

		t0 = now_ns();
		for (long it = 0; it < iters; it++) {
			if (uvmbus_ring_reserve(tx, pkt, &s))
				return 1;
			uvmbus_region_pfns_to_span(r, off, sizes[i], &s, 16);
			/* Not committed: the same room is reserved again next time. */
		}
		double span = (double)(now_ns() - t0) / (double)iters;

		printf("%-10s %6u %14.1f %16.1f\n",
		       i == 0	? "4 KiB"
		       : i == 1 ? "1 MiB"
				: "32 MiB",
		       n, arr, span);
	}
	(void)sink;
	uvmbus_ring_detach(tx);
	uvmbus_region_release(r);
	uvmbus_mem_close(m);
	free(ringmem);
	close(fd);
	return 0;
}
