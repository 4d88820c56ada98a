/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A session's shared memory: sealed memfds, and the ring pair the client
 * opens with uvmbus_dev_open_vchan() (docs/BROKER.md, "Ring sizes and
 * kernel pages"). Each ring is a whole number of kernel pages
 * (sysconf(_SC_PAGESIZE)): one header page, whose first bytes are the
 * VMbus ring header (docs/WIRE.md 1), then the data area. The RX ring starts
 * at ring_bytes, on a page boundary, as the device layer requires of any
 * channel. In azblobd_core so that a test builds the rings as the daemon
 * does.
 */
#ifndef AZBLOBD_RINGS_H
#define AZBLOBD_RINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --ring's bounds, before rounding. */
#define AZD_RING_MIN (12u << 10)
#define AZD_RING_MAX (64u << 20)

/* `bytes` rounded up to whole pages of `page` bytes, and at least two (a
 * header page and one data page). */
size_t azd_ring_round(uint64_t bytes, size_t page);

/* The default: one header page and 512 KiB of data (516K with 4 KiB pages,
 * 576K with 64 KiB). */
size_t azd_ring_default(size_t page);

/* A sealed (against shrinking and growing) memfd of `len` bytes, mapped
 * shared and populated at *map: hugetlb when `huge` and possible
 * (*got_huge says). Returns the fd or -ENOMEM. */
int azd_memfd(const char *name, size_t len, bool huge, bool *got_huge, uint8_t **map);

/* The ring pair of a session: a memfd of 2 * ring_bytes (TX then RX), each
 * header zeroed but for feature bit 0 (pending_send_sz), as the kernel
 * sets it at a channel open. `ring_bytes` must be azd_ring_round()'s:
 * -EINVAL otherwise. Returns the fd, the mapping in *map. */
int azd_rings_create(size_t ring_bytes, size_t page, uint8_t **map);

#endif
