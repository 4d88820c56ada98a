// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* A session's shared memory: sealed memfds and its ring pair (rings.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <uvmbus/wire.h>

#include "rings.h"

/* F_SEAL_SEAL comes with F_SEAL_FUTURE_WRITE once the client has mapped
 * them (forward.c, seal()). */
#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW)

size_t azd_ring_round(uint64_t bytes, size_t page)
{
	uint64_t r = (bytes + page - 1) / page * page;

	return r < 2 * (uint64_t)page ? 2 * page : (size_t)r;
}

size_t azd_ring_default(size_t page)
{
	return azd_ring_round((uint64_t)page + (512u << 10), page);
}

int azd_memfd(const char *name, size_t len, bool huge, bool *got_huge, uint8_t **map)
{
	for (int attempt = huge ? 0 : 1; attempt < 2; attempt++) {
		unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING | (attempt ? 0 : MFD_HUGETLB);
		int fd = memfd_create(name, flags);
		void *p;

		if (fd < 0)
			continue;
		if (ftruncate(fd, (off_t)len) || fcntl(fd, F_ADD_SEALS, SEALS)) {
			close(fd);
			continue;
		}
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
		if (p == MAP_FAILED) {
			close(fd);
			continue;
		}
		*map = p;
		if (got_huge)
			*got_huge = !attempt;
		return fd;
	}
	return -ENOMEM;
}

static void ring_header(uint8_t *base)
{
	struct vmbus_ring_hdr *h = (struct vmbus_ring_hdr *)base;

	memset(h, 0, sizeof(*h));
	h->feature_bits = VMBUS_RING_FEAT_PENDING_SEND_SZ;
}

int azd_rings_create(size_t ring_bytes, size_t page, uint8_t **map)
{
	int fd;

	if (!page || ring_bytes != azd_ring_round(ring_bytes, page))
		return -EINVAL;
	fd = azd_memfd("azblobd-rings", 2 * ring_bytes, false, NULL, map);
	if (fd < 0)
		return fd;
	ring_header(*map);
	ring_header(*map + ring_bytes);
	return fd;
}
