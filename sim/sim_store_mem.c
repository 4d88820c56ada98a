// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The "memory" store: containers and blobs in lists (the sim serves one
 * guest; the request path of interest is the guest's, not this). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_store.h"

struct blob {
	struct blob *next;
	char *name;
	uint8_t *data;
	size_t len;
};

struct container {
	struct container *next;
	char *name;
	struct blob *blobs;
};

struct mem_store {
	struct container *containers;
};

static struct container **find_c(struct mem_store *m, const char *name)
{
	struct container **pp = &m->containers;

	while (*pp && strcmp((*pp)->name, name))
		pp = &(*pp)->next;
	return pp;
}

static struct blob **find_b(struct container *c, const char *name)
{
	struct blob **pp = &c->blobs;

	while (*pp && strcmp((*pp)->name, name))
		pp = &(*pp)->next;
	return pp;
}

static int mem_open(void **store, const char *arg, const struct uvmbus_log *log)
{
	(void)arg;
	(void)log;
	*store = calloc(1, sizeof(struct mem_store));
	return *store ? 0 : -ENOMEM;
}

static void free_blob(struct blob *b)
{
	free(b->name);
	free(b->data);
	free(b);
}

static void free_container(struct container *c)
{
	while (c->blobs) {
		struct blob *b = c->blobs;

		c->blobs = b->next;
		free_blob(b);
	}
	free(c->name);
	free(c);
}

static void mem_close(void *store)
{
	struct mem_store *m = store;

	while (m->containers) {
		struct container *c = m->containers;

		m->containers = c->next;
		free_container(c);
	}
	free(m);
}

static int mem_container(void *store, const char *name, enum sim_container_op op)
{
	struct container **pp = find_c(store, name), *c;

	switch (op) {
	case SIM_CONTAINER_CREATE:
		if (*pp)
			return -EEXIST;
		c = calloc(1, sizeof(*c));
		if (!c || !(c->name = strdup(name))) {
			free(c);
			return -ENOMEM;
		}
		*pp = c;
		return 0;
	case SIM_CONTAINER_DELETE:
		if (!*pp)
			return -ENOENT;
		c = *pp;
		*pp = c->next;
		free_container(c);
		return 0;
	default:
		return *pp ? 0 : -ENOENT;
	}
}

static int mem_put(void *store, const char *cn, const char *bn, const uint8_t *data, size_t len)
{
	struct container *c = *find_c(store, cn);
	struct blob **pp, *b;
	uint8_t *copy;

	if (!c)
		return -ENODEV;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, data, len);
	pp = find_b(c, bn);
	if (!*pp) {
		b = calloc(1, sizeof(*b));
		if (!b || !(b->name = strdup(bn))) {
			free(b);
			free(copy);
			return -ENOMEM;
		}
		*pp = b;
	}
	b = *pp;
	free(b->data);
	b->data = copy;
	b->len = len;
	return 0;
}

static int mem_get(void *store, const char *cn, const char *bn, uint8_t *out, size_t cap,
		   uint64_t *size)
{
	struct container *c = *find_c(store, cn);
	struct blob *b;

	if (!c)
		return -ENODEV;
	b = *find_b(c, bn);
	if (!b)
		return -ENOENT;
	*size = b->len;
	if (!out)
		return 0;
	if (b->len > cap)
		return -ENOSPC;
	memcpy(out, b->data, b->len);
	return 0;
}

static int mem_del(void *store, const char *cn, const char *bn)
{
	struct container *c = *find_c(store, cn);
	struct blob **pp, *b;

	if (!c)
		return -ENODEV;
	pp = find_b(c, bn);
	if (!*pp)
		return -ENOENT;
	b = *pp;
	*pp = b->next;
	free_blob(b);
	return 0;
}

const struct sim_store_ops sim_store_mem = {
    .open = mem_open,
    .close = mem_close,
    .container = mem_container,
    .put = mem_put,
    .get = mem_get,
    .del = mem_del,
};
