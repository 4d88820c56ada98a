/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Blob storage behind the sim's HTTP front: containers of named blobs. */
#ifndef SIM_STORE_H
#define SIM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <uvmbus/common.h>

enum sim_container_op { SIM_CONTAINER_CREATE, SIM_CONTAINER_DELETE, SIM_CONTAINER_EXISTS };

/* Errors: -ENODEV no container, -ENOENT no blob (or no container for
 * container ops), -EEXIST container exists, -EINVAL bad name, -ENOSPC the
 * blob is larger than `cap` (*size says how large), -ENOMEM, -EIO. */
struct sim_store_ops {
	int (*open)(void **store, const char *arg, const struct uvmbus_log *log);
	void (*close)(void *store);
	int (*container)(void *store, const char *name, enum sim_container_op op);
	int (*put)(void *store, const char *c, const char *b, const uint8_t *data, size_t len);
	/* out may be NULL (size only). */
	int (*get)(void *store, const char *c, const char *b, uint8_t *out, size_t cap,
		   uint64_t *size);
	int (*del)(void *store, const char *c, const char *b);
};

extern const struct sim_store_ops sim_store_mem;
extern const struct sim_store_ops sim_store_dir;

#endif
