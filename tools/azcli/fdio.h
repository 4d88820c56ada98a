/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Whole-buffer file reads and writes for the blob helpers' callbacks
 * (azblob put/get, azblob-fuse's staging file): short transfers and EINTR
 * retried, the end of a file and a write that makes no progress reported
 * instead of looping.
 */
#ifndef AZBLOB_CLI_FDIO_H
#define AZBLOB_CLI_FDIO_H

#include <stddef.h>
#include <stdint.h>

/* The offset that means "at the file's position" (write(2), for a pipe). */
#define FDIO_SEQ UINT64_MAX

/* len bytes of buf to fd at off (FDIO_SEQ: write(2)). 0, -errno, or -EIO
 * for a write that returned 0 (no progress: never retried forever). */
int fdio_write_all(int fd, const void *buf, size_t len, uint64_t off);
/* len bytes of fd at off into buf. 0, -errno, or -ENODATA when the file
 * ends first (it shrank under us). */
int fdio_read_all(int fd, void *buf, size_t len, uint64_t off);

#endif
