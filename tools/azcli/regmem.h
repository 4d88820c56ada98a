/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A file's pages mapped and registered with a client, so that the blob
 * helpers let the host read or write them in place (azblob put/get,
 * azblob-fuse's staged writes). Shared by the CLI and azblob-fuse.
 */
#ifndef AZBLOB_CLI_REGMEM_H
#define AZBLOB_CLI_REGMEM_H

#include <stdbool.h>
#include <stdint.h>

struct azblob_client;

/*
 * size bytes of fd mapped MAP_SHARED (PROT_READ, plus PROT_WRITE when
 * writable) and registered with c. NULL when that cannot be (an empty or
 * too large file, a host that reaches only the pool, mmap or the
 * registration refused: kstub pins only anonymous, shmem and hugetlb
 * pages for writing); *why then says why, for a debug line. The caller
 * then copies through pool buffers.
 */
void *regmem_map(struct azblob_client *c, int fd, uint64_t size, bool writable, const char **why);
/* Unregister and unmap. A mapping the host may still write (a request
 * timed out) stays mapped until the process exits: false then. */
bool regmem_unmap(struct azblob_client *c, void *mem, uint64_t size);

#endif
