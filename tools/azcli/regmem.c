// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Registered file mappings (regmem.h). */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include <azblob.h>

#include "regmem.h"

void *regmem_map(struct azblob_client *c, int fd, uint64_t size, bool writable, const char **why)
{
	void *mem;

	*why = NULL;
	if (!size || size > SIZE_MAX / 2) {
		*why = size ? "too large to map" : "empty";
		return NULL;
	}
	if (!azblob_registers_in_place(c)) {
		*why = "the host reaches only the pool";
		return NULL;
	}
	mem = mmap(NULL, (size_t)size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
		   fd, 0);
	if (mem == MAP_FAILED) {
		*why = "mmap refused";
		return NULL;
	}
	if (azblob_register(c, mem, (size_t)size)) {
		*why = "registering the file's mapping was refused";
		munmap(mem, (size_t)size);
		return NULL;
	}
	return mem;
}

bool regmem_unmap(struct azblob_client *c, void *mem, uint64_t size)
{
	if (!mem)
		return true;
	if (azblob_unregister(c, mem))
		return false;
	munmap(mem, (size_t)size);
	return true;
}
