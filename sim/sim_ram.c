// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Guest RAM: a memfd (hugetlb when hugepages are free), pages allocated up
 * front so that neither side can fault on a missing hugepage later. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim_internal.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

static int make_fd(struct azblob_sim *s, bool huge)
{
	int fd = memfd_create("azblob-sim-guest-ram", MFD_CLOEXEC | (huge ? MFD_HUGETLB : 0));

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)s->opts.ram_bytes) ||
	    (huge && fallocate(fd, 0, 0, (off_t)s->opts.ram_bytes))) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

int sim_ram_create(struct azblob_sim *s)
{
	int fd = -1;

	if (!s->opts.no_hugetlb) {
		fd = make_fd(s, true);
		if (fd < 0)
			sim_log(
			    s, UVMBUS_LOG_INFO,
			    "guest RAM: no %llu MiB of free hugepages (%s): using shared memory",
			    (unsigned long long)(s->opts.ram_bytes >> 20), strerror(-fd));
		else
			s->ram_huge = true;
	}
	if (fd < 0)
		fd = make_fd(s, false);
	if (fd < 0) {
		sim_log(s, UVMBUS_LOG_ERR, "guest RAM: memfd of %llu bytes: %s",
			(unsigned long long)s->opts.ram_bytes, strerror(-fd));
		return fd;
	}
	s->ram = mmap(NULL, s->opts.ram_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->ram == MAP_FAILED) {
		int err = errno;

		s->ram = NULL;
		close(fd);
		sim_log(s, UVMBUS_LOG_ERR, "guest RAM: mmap: %s", strerror(err));
		return -err;
	}
	s->ram_fd = fd;
	s->ram_pages = s->opts.ram_bytes / SIM_PAGE;
	return 0;
}

void sim_ram_destroy(struct azblob_sim *s)
{
	if (s->ram)
		munmap(s->ram, s->opts.ram_bytes);
	if (s->ram_fd >= 0)
		close(s->ram_fd);
	s->ram = NULL;
	s->ram_fd = -1;
}
