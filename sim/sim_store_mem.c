// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The "memory" store: sorted arrays of containers and blobs; blob content
 * as refcounted blocks shared between the uncommitted list and committed
 * lists (Put Block List moves them, it does not copy). All memory held for
 * data and block entries is charged against max_bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_ops.h"
#include "sim_store.h"

#define BLOCK_COST sizeof(struct sim_mblock)
#define ENTRY	   sizeof(struct sim_mentry)

static int charge(struct sim_mem *m, uint64_t n)
{
	if (n > m->max_bytes || m->bytes > m->max_bytes - n)
		return -ENOSPC;
	m->bytes += n;
	return 0;
}

#define FT_UNIX 116444736000000000ull /* FILETIME of 1970-01-01 */

void sim_mem_etag_set(struct sim_mem *m, uint64_t ft, char *etag)
{
	if (ft > m->etag_last)
		m->etag_last = ft;
	snprintf(etag, SIM_ETAG_LEN, "\"0x%015llX\"", (unsigned long long)ft);
}

uint64_t sim_mem_etag_time(const char *etag)
{
	return strncmp(etag, "\"0x", 3) ? 0 : strtoull(etag + 3, NULL, 16);
}

static void new_etag(struct sim_mem *m, char *etag, int64_t *mtime)
{
	struct timespec ts;
	uint64_t ft;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* FILETIME (100 ns since 1601), as the service's ETags are made of;
	 * strictly increasing so every write has a new one. mtime: its
	 * seconds (Last-Modified), from the ETag so the two agree. */
	ft = (uint64_t)ts.tv_sec * 10000000u + (uint64_t)ts.tv_nsec / 100u + FT_UNIX;
	if (ft <= m->etag_last)
		ft = m->etag_last + 1;
	sim_mem_etag_set(m, ft, etag);
	*mtime = (int64_t)((ft - FT_UNIX) / 10000000u);
}

/* Keep a property's value (absent or too long: "" = the default). */
static void keep_prop(char *dst, size_t cap, const char *v)
{
	size_t n = v ? strlen(v) : 0;

	if (n && n < cap)
		memcpy(dst, v, n + 1);
	else
		dst[0] = 0;
}

/* Apply the props to a blob about to be written. */
static void set_props(struct sim_mblob *b, const struct sim_mprops *p)
{
	keep_prop(b->md5, sizeof(b->md5), p ? p->md5 : NULL);
	keep_prop(b->ctype, sizeof(b->ctype), p ? p->ctype : NULL);
}

struct sim_mem *sim_mem_new(uint64_t max_bytes)
{
	struct sim_mem *m = calloc(1, sizeof(*m));

	if (m)
		m->max_bytes = max_bytes ? max_bytes : SIM_MEM_DEFAULT_MAX;
	return m;
}

static void block_put(struct sim_mem *m, struct sim_mblock *b)
{
	if (b && !--b->refs) {
		m->bytes -= BLOCK_COST + b->len;
		free(b);
	}
}

/* Free n entries, held in an array charged for `charged` of them. */
static void entries_free(struct sim_mem *m, struct sim_mentry *e, uint32_t n, uint32_t charged)
{
	m->bytes -= (uint64_t)charged * ENTRY;
	for (uint32_t i = 0; i < n; i++)
		block_put(m, e[i].blk);
	free(e);
}

static void blob_free(struct sim_mem *m, struct sim_mblob *b)
{
	entries_free(m, b->blocks, b->nblocks, b->nblocks);
	entries_free(m, b->unc, b->nunc, b->unc_cap);
	m->bytes -= sizeof(*b) + strlen(b->name) + 1;
	free(b->name);
	free(b);
}

static void container_free(struct sim_mem *m, struct sim_mcontainer *c)
{
	for (size_t i = 0; i < c->n; i++)
		blob_free(m, c->blobs[i]);
	m->bytes -= sizeof(*c) + strlen(c->name) + 1;
	free(c->blobs);
	free(c->name);
	free(c);
}

void sim_mem_free(struct sim_mem *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		container_free(m, m->cs[i]);
	free(m->cs);
	free(m);
}

/* Binary search in a sorted array of structs whose first member is the name. */
static size_t find_pos(void *const *arr, size_t n, const char *name, bool *found)
{
	size_t lo = 0, hi = n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(*(char *const *)arr[mid], name);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert_at(void ***arr, size_t *n, size_t *cap, size_t pos, void *item)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		void **a = realloc(*arr, nc * sizeof(void *));

		if (!a)
			return -ENOMEM;
		*arr = a;
		*cap = nc;
	}
	memmove(*arr + pos + 1, *arr + pos, (*n - pos) * sizeof(void *));
	(*arr)[pos] = item;
	(*n)++;
	return 0;
}

struct sim_mcontainer *sim_mem_container(struct sim_mem *m, const char *name)
{
	bool found;
	size_t pos = find_pos((void *const *)m->cs, m->n, name, &found);

	return found ? m->cs[pos] : NULL;
}

int sim_mem_container_create(struct sim_mem *m, const char *name)
{
	bool found;
	size_t pos = find_pos((void *const *)m->cs, m->n, name, &found);
	struct sim_mcontainer *c;

	if (found)
		return -EEXIST;
	if (charge(m, sizeof(*c) + strlen(name) + 1))
		return -ENOSPC;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->name = strdup(name)) ||
	    insert_at((void ***)&m->cs, &m->n, &m->cap, pos, c)) {
		if (c)
			free(c->name);
		free(c);
		m->bytes -= sizeof(*c) + strlen(name) + 1;
		return -ENOMEM;
	}
	new_etag(m, c->etag, &c->mtime);
	if (m->hooks) {
		int rc = m->hooks->container_create(m->hooks->arg, name);

		if (rc) {
			container_free(m, c);
			memmove(m->cs + pos, m->cs + pos + 1, (m->n - pos - 1) * sizeof(void *));
			m->n--;
			return rc;
		}
	}
	return 0;
}

int sim_mem_container_delete(struct sim_mem *m, const char *name)
{
	bool found;
	size_t pos = find_pos((void *const *)m->cs, m->n, name, &found);

	if (!found)
		return -ENOENT;
	if (m->hooks) {
		int rc = m->hooks->container_delete(m->hooks->arg, name);

		if (rc)
			return rc;
	}
	container_free(m, m->cs[pos]);
	memmove(m->cs + pos, m->cs + pos + 1, (m->n - pos - 1) * sizeof(void *));
	m->n--;
	return 0;
}

struct sim_mblob *sim_mem_blob(struct sim_mcontainer *c, const char *name, size_t *pos)
{
	bool found;
	size_t p = find_pos((void *const *)c->blobs, c->n, name, &found);

	if (pos)
		*pos = p;
	return found ? c->blobs[p] : NULL;
}

static struct sim_mblob *blob_get_or_new(struct sim_mem *m, struct sim_mcontainer *c,
					 const char *name)
{
	size_t pos, nl = strlen(name);
	struct sim_mblob *b = sim_mem_blob(c, name, &pos);

	if (b)
		return b;
	if (charge(m, sizeof(*b) + nl + 1))
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b || !(b->name = strdup(name)) ||
	    insert_at((void ***)&c->blobs, &c->n, &c->cap, pos, b)) {
		if (b)
			free(b->name);
		free(b);
		m->bytes -= sizeof(*b) + nl + 1;
		return NULL;
	}
	return b;
}

static void blob_remove(struct sim_mem *m, struct sim_mcontainer *c, struct sim_mblob *b)
{
	size_t pos;

	if (sim_mem_blob(c, b->name, &pos) != b)
		return;
	memmove(c->blobs + pos, c->blobs + pos + 1, (c->n - pos - 1) * sizeof(void *));
	c->n--;
	blob_free(m, b);
}

static struct sim_mblock *block_new(struct sim_mem *m, const uint8_t *data, size_t len)
{
	struct sim_mblock *k;

	if (charge(m, BLOCK_COST + len))
		return NULL;
	k = malloc(sizeof(*k) + len);
	if (!k) {
		m->bytes -= BLOCK_COST + len;
		return NULL;
	}
	k->refs = 1;
	k->len = len;
	if (len)
		memcpy(k->data, data, len);
	return k;
}

/* The blob b as it will be with these committed entries: persisted
 * through the hook (0, or its error: nothing changed), then applied. */
static int blob_commit(struct sim_mem *m, struct sim_mcontainer *c, struct sim_mblob *b,
		       struct sim_mentry *e, uint32_t n, uint64_t size, const struct sim_mprops *p)
{
	struct sim_mblob nb = *b;

	nb.blocks = e;
	nb.nblocks = n;
	nb.size = size;
	new_etag(m, nb.etag, &nb.mtime);
	nb.ctime = b->committed ? b->ctime : nb.mtime;
	set_props(&nb, p);
	if (m->hooks) {
		int rc = m->hooks->blob_write(m->hooks->arg, c->name, &nb);

		if (rc)
			return rc;
	}
	entries_free(m, b->blocks, b->nblocks, b->nblocks);
	entries_free(m, b->unc, b->nunc, b->unc_cap);
	b->unc = NULL;
	b->nunc = b->unc_cap = 0;
	b->blocks = e;
	b->nblocks = n;
	b->size = size;
	memcpy(b->etag, nb.etag, sizeof(b->etag));
	b->mtime = nb.mtime;
	b->ctime = nb.ctime;
	memcpy(b->md5, nb.md5, sizeof(b->md5));
	memcpy(b->ctype, nb.ctype, sizeof(b->ctype));
	b->committed = true;
	return 0;
}

int sim_mem_put_blob(struct sim_mem *m, struct sim_mcontainer *c, const char *name,
		     const uint8_t *data, size_t len, const struct sim_mprops *p,
		     struct sim_mblob **out)
{
	struct sim_mblob *b = blob_get_or_new(m, c, name);
	struct sim_mentry *e = NULL;
	bool fresh;
	int rc;

	if (!b)
		return -ENOMEM;
	fresh = !b->committed && !b->nunc;
	if (len) {
		e = charge(m, ENTRY) ? NULL : calloc(1, sizeof(*e));
		if (!e || !(e->blk = block_new(m, data, len))) {
			if (e)
				m->bytes -= ENTRY;
			free(e);
			if (fresh)
				blob_remove(m, c, b);
			return -ENOMEM;
		}
	}
	rc = blob_commit(m, c, b, e, e ? 1 : 0, len, p);
	if (rc) {
		if (e)
			entries_free(m, e, 1, 1);
		if (fresh)
			blob_remove(m, c, b);
		return rc;
	}
	b->idlen = 0;
	if (out)
		*out = b;
	return 0;
}

int sim_mem_put_block(struct sim_mem *m, struct sim_mcontainer *c, const char *name, const char *id,
		      const uint8_t *data, size_t len)
{
	struct sim_mblob *b = blob_get_or_new(m, c, name);
	struct sim_mblock *k;
	size_t idl = strlen(id);
	uint32_t i;

	if (!b)
		return -ENOMEM;
	if (b->idlen && b->idlen != idl)
		return -EINVAL;
	for (i = 0; i < b->nunc && strcmp(b->unc[i].id, id); i++)
		;
	if (i == b->nunc && b->nunc >= SIM_MAX_UNCOMMITTED)
		return -E2BIG;
	k = block_new(m, data, len);
	if (!k)
		goto fail;
	if (i == b->nunc) {
		if (b->nunc == b->unc_cap) {
			uint32_t nc = b->unc_cap ? b->unc_cap * 2 : 16;
			struct sim_mentry *a = NULL;

			if (!charge(m, (uint64_t)(nc - b->unc_cap) * ENTRY)) {
				a = realloc(b->unc, nc * sizeof(*a));
				if (!a)
					m->bytes -= (uint64_t)(nc - b->unc_cap) * ENTRY;
			}
			if (!a) {
				block_put(m, k);
				goto fail;
			}
			b->unc = a;
			b->unc_cap = nc;
		}
		memset(&b->unc[i], 0, sizeof(b->unc[i]));
		memcpy(b->unc[i].id, id, idl + 1);
		b->nunc++;
	} else {
		block_put(m, b->unc[i].blk);
	}
	b->unc[i].blk = k;
	b->idlen = idl;
	return 0;
fail:
	if (!b->committed && !b->nunc)
		blob_remove(m, c, b);
	return -ENOMEM;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp((*(struct sim_mentry *const *)a)->id, (*(struct sim_mentry *const *)b)->id);
}

static struct sim_mentry **sorted(struct sim_mentry *e, uint32_t n)
{
	struct sim_mentry **s = malloc((n ? n : 1) * sizeof(*s));

	if (!s)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		s[i] = &e[i];
	qsort(s, n, sizeof(*s), cmp_entry);
	return s;
}

static struct sim_mentry *lookup(struct sim_mentry **s, uint32_t n, const char *id)
{
	struct sim_mentry key, *kp = &key, **f;

	if (strlen(id) > SIM_BLOCKID_MAX || !id[0])
		return NULL;
	strcpy(key.id, id);
	f = bsearch(&kp, s, n, sizeof(*s), cmp_entry);
	return f ? *f : NULL;
}

int sim_mem_commit(struct sim_mem *m, struct sim_mcontainer *c, const char *name,
		   const struct sim_blockref *refs, size_t n, const struct sim_mprops *p,
		   struct sim_mblob **out)
{
	struct sim_mblob *b = blob_get_or_new(m, c, name);
	struct sim_mentry **su = NULL, **sc = NULL, *ne = NULL;
	uint64_t off = 0;
	int rc = -ENOMEM;

	if (!b)
		return -ENOMEM;
	if (n > SIM_MAX_COMMITTED) {
		rc = -EINVAL;
		goto out;
	}
	if (charge(m, (uint64_t)n * ENTRY)) {
		rc = -ENOSPC;
		goto out;
	}
	su = sorted(b->unc, b->nunc);
	sc = sorted(b->blocks, b->nblocks);
	ne = calloc(n ? n : 1, sizeof(*ne));
	if (!su || !sc || !ne) {
		m->bytes -= (uint64_t)n * ENTRY;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct sim_mentry *f = NULL;

		if (refs[i].kind != 'C')
			f = lookup(su, b->nunc, refs[i].id);
		if (!f && refs[i].kind != 'U')
			f = lookup(sc, b->nblocks, refs[i].id);
		if (!f) {
			m->bytes -= (uint64_t)n * ENTRY;
			rc = -EINVAL;
			goto out;
		}
		memcpy(ne[i].id, f->id, sizeof(f->id));
		ne[i].blk = f->blk;
		ne[i].off = off;
		off += f->blk->len;
	}
	/* The new list's blocks are referenced before the old lists are
	 * dropped (a block may be in both), and only once persisted. */
	for (size_t i = 0; i < n; i++)
		ne[i].blk->refs++;
	rc = blob_commit(m, c, b, ne, (uint32_t)n, off, p);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			ne[i].blk->refs--; /* still held by the old lists */
		m->bytes -= (uint64_t)n * ENTRY;
		goto out;
	}
	b->idlen = n ? strlen(ne[0].id) : 0;
	ne = NULL;
	rc = 0;
	if (out)
		*out = b;
out:
	free(su);
	free(sc);
	free(ne);
	if (rc && !b->committed && !b->nunc)
		blob_remove(m, c, b);
	return rc;
}

int sim_mem_blob_delete(struct sim_mem *m, struct sim_mcontainer *c, const char *name)
{
	struct sim_mblob *b = sim_mem_blob(c, name, NULL);

	if (!b || !b->committed)
		return -ENOENT;
	if (m->hooks) {
		int rc = m->hooks->blob_delete(m->hooks->arg, c->name, name);

		if (rc)
			return rc;
	}
	blob_remove(m, c, b);
	return 0;
}

void sim_mem_read(const struct sim_mblob *b, uint64_t off, uint64_t len, uint8_t *out)
{
	uint32_t lo = 0, hi = b->nblocks;

	/* The last block starting at or before off. */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (b->blocks[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (uint32_t i = lo; len && i < b->nblocks; i++) {
		const struct sim_mentry *e = &b->blocks[i];
		uint64_t in = off - e->off, k;

		if (off < e->off || in >= e->blk->len)
			continue;
		k = e->blk->len - in < len ? e->blk->len - in : len;
		memcpy(out, e->blk->data + in, k);
		out += k;
		off += k;
		len -= k;
	}
}
