// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Whole-buffer file reads and writes (fdio.h). */
#include <errno.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include "fdio.h"

int fdio_write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	size_t done = 0;

	if (off != FDIO_SEQ && (off > INT64_MAX || len > INT64_MAX - off))
		return -EFBIG;
	while (done < len) {
		ssize_t n = off == FDIO_SEQ ? write(fd, p + done, len - done)
					    : pwrite(fd, p + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

int fdio_read_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	size_t got = 0;

	if (off > INT64_MAX || len > INT64_MAX - off)
		return -EFBIG;
	while (got < len) {
		ssize_t n = pread(fd, p + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		got += (size_t)n;
	}
	return 0;
}
