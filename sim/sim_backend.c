// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Backends: the request buffer holds an HTTP/1.1 request head in the
 * format of docs/FORMAT.md (parsed by sim_ops_http.c). "memory" is
 * sim_ops_mem.c (the Azure Blob operations on sim_store_mem.c); "dir" is
 * the same operations on that store persisted under a directory
 * (sim_store_dir.c); "rest" is sim_backend_rest.c. Special targets: /$sim/noop, /$sim/echo.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim_internal.h"
#include "sim_ops.h"
#include "sim_rest.h"
#include "sim_store.h"

static const struct azblob_sim_backend backends[] = {
    {"memory", sim_mem_backend_open, sim_mem_backend_handle, sim_mem_backend_close},
    {"dir", sim_dir_backend_open, sim_mem_backend_handle, sim_dir_backend_close},
    {"rest", sim_rest_open, sim_rest_handle, sim_rest_close},
};

const struct azblob_sim_backend *azblob_sim_backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strcmp(backends[i].name, name))
			return &backends[i];
	return NULL;
}
