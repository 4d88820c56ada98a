// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob-fuse: what the daemon remembers besides the blobs (docs/FUSE.md,
 * caching rules): stats learnt from listings (for list_timeout), the
 * directories made by mkdir that hold nothing yet (virtual: they live in
 * this mount only), and the paths open for writing (their staged size is
 * what stat says until close commits them).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fs.h"

#define CACHE_BUCKETS 4096u
#define CACHE_MAX     200000u /* entries; beyond, the cache starts again */

struct fs_cached {
	struct fs_cached *next;
	uint64_t size;
	time_t mtime;
	double expires;
	bool dir;
	char name[];
};

struct fs_vdir {
	struct fs_vdir *next;
	char name[];
};

struct fs_wfile {
	struct fs_wfile *next;
	int refs;
	int sfd; /* the first writer's staging file: its size */
	char name[];
};

static struct fs_cached **buckets(struct fs *fs)
{
	return (struct fs_cached **)fs->cache;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % CACHE_BUCKETS;
}

static void drop_all_locked(struct fs *fs)
{
	struct fs_cached **b = buckets(fs);

	if (!b)
		return;
	for (unsigned i = 0; i < CACHE_BUCKETS; i++) {
		while (b[i]) {
			struct fs_cached *e = b[i];

			b[i] = e->next;
			free(e);
		}
	}
	fs->cache_count = 0;
}

void fs_cache_drop_all(struct fs *fs)
{
	pthread_mutex_lock(&fs->meta);
	drop_all_locked(fs);
	pthread_mutex_unlock(&fs->meta);
}

static struct fs_cached **find(struct fs *fs, const char *name)
{
	struct fs_cached **p = &buckets(fs)[hash(name)];

	while (*p && strcmp((*p)->name, name))
		p = &(*p)->next;
	return p;
}

void fs_cache_put(struct fs *fs, const char *name, bool dir, uint64_t size, time_t mtime)
{
	struct fs_cached **p, *e;
	size_t n = strlen(name);

	if (fs->conf.list_timeout <= 0)
		return;
	pthread_mutex_lock(&fs->meta);
	if (!fs->cache)
		fs->cache = calloc(CACHE_BUCKETS, sizeof(struct fs_cached *));
	if (!fs->cache)
		goto out;
	if (fs->cache_count >= CACHE_MAX)
		drop_all_locked(fs);
	p = find(fs, name);
	e = *p;
	if (!e) {
		e = malloc(sizeof(*e) + n + 1);
		if (!e)
			goto out;
		memcpy(e->name, name, n + 1);
		e->next = NULL;
		*p = e;
		fs->cache_count++;
	}
	e->dir = dir;
	e->size = size;
	e->mtime = mtime;
	e->expires = now_s() + fs->conf.list_timeout;
out:
	pthread_mutex_unlock(&fs->meta);
}

bool fs_cache_get(struct fs *fs, const char *name, bool *dir, uint64_t *size, time_t *mtime)
{
	struct fs_cached *e;
	bool hit = false;

	pthread_mutex_lock(&fs->meta);
	if (fs->cache && (e = *find(fs, name)) && e->expires > now_s()) {
		*dir = e->dir;
		*size = e->size;
		*mtime = e->mtime;
		hit = true;
	}
	pthread_mutex_unlock(&fs->meta);
	return hit;
}

void fs_cache_drop(struct fs *fs, const char *name)
{
	struct fs_cached **p, *e;

	pthread_mutex_lock(&fs->meta);
	if (fs->cache && (e = *(p = find(fs, name)))) {
		*p = e->next;
		free(e);
		fs->cache_count--;
	}
	pthread_mutex_unlock(&fs->meta);
}

void fs_meta_free(struct fs *fs)
{
	drop_all_locked(fs);
	free(fs->cache);
	fs->cache = NULL;
	while (fs->vdirs) {
		struct fs_vdir *v = fs->vdirs;

		fs->vdirs = v->next;
		free(v);
	}
}

/* ---- virtual directories ---- */

bool fs_vdir_has(struct fs *fs, const char *name)
{
	bool has = false;

	pthread_mutex_lock(&fs->meta);
	for (struct fs_vdir *v = fs->vdirs; v && !has; v = v->next)
		has = !strcmp(v->name, name);
	pthread_mutex_unlock(&fs->meta);
	return has;
}

void fs_vdir_add(struct fs *fs, const char *name)
{
	size_t n = strlen(name);
	struct fs_vdir *v = malloc(sizeof(*v) + n + 1);

	if (!v)
		return;
	memcpy(v->name, name, n + 1);
	pthread_mutex_lock(&fs->meta);
	v->next = fs->vdirs;
	fs->vdirs = v;
	pthread_mutex_unlock(&fs->meta);
}

bool fs_vdir_del(struct fs *fs, const char *name)
{
	bool found = false;

	pthread_mutex_lock(&fs->meta);
	for (struct fs_vdir **p = &fs->vdirs; *p; p = &(*p)->next) {
		if (!strcmp((*p)->name, name)) {
			struct fs_vdir *v = *p;

			*p = v->next;
			free(v);
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&fs->meta);
	return found;
}

/* The part of name below dir ("" the root), when it is a direct child. */
static const char *child_of(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	if (n) {
		if (strncmp(name, dir, n) || name[n] != '/')
			return NULL;
		name += n + 1;
	}
	return *name && !strchr(name, '/') ? name : NULL;
}

void fs_vdir_children(struct fs *fs, const char *dir, void (*fn)(void *u, const char *base),
		      void *u)
{
	pthread_mutex_lock(&fs->meta);
	for (struct fs_vdir *v = fs->vdirs; v; v = v->next) {
		const char *base = child_of(dir, v->name);

		if (base)
			fn(u, base);
	}
	pthread_mutex_unlock(&fs->meta);
}

/* ---- files open for writing ---- */

struct fs_wfile *fs_writer_get(struct fs *fs, const char *name, int sfd)
{
	struct fs_wfile *w;
	size_t n = strlen(name);

	/* One entry per open file: each has its own staging file. */
	pthread_mutex_lock(&fs->meta);
	if ((w = malloc(sizeof(*w) + n + 1))) {
		memcpy(w->name, name, n + 1);
		w->refs = 1;
		w->sfd = sfd;
		w->next = fs->writers;
		fs->writers = w;
	}
	pthread_mutex_unlock(&fs->meta);
	return w;
}

void fs_writer_put(struct fs *fs, struct fs_wfile *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&fs->meta);
	if (--w->refs == 0) {
		for (struct fs_wfile **p = &fs->writers; *p; p = &(*p)->next) {
			if (*p == w) {
				*p = w->next;
				break;
			}
		}
		free(w);
	}
	pthread_mutex_unlock(&fs->meta);
}

bool fs_writer_size(struct fs *fs, const char *name, uint64_t *size)
{
	bool found = false;
	struct stat sb;

	pthread_mutex_lock(&fs->meta);
	for (struct fs_wfile *w = fs->writers; w; w = w->next) {
		if (!strcmp(w->name, name)) {
			found = true;
			*size = fstat(w->sfd, &sb) ? 0 : (uint64_t)sb.st_size;
			break;
		}
	}
	pthread_mutex_unlock(&fs->meta);
	return found;
}

void fs_writer_children(struct fs *fs, const char *dir, void (*fn)(void *u, const char *base),
			void *u)
{
	pthread_mutex_lock(&fs->meta);
	for (struct fs_wfile *w = fs->writers; w; w = w->next) {
		const char *base = child_of(dir, w->name);

		if (base)
			fn(u, base);
	}
	pthread_mutex_unlock(&fs->meta);
}

/* "Sun, 06 Dec 2026 23:37:09 GMT" (RFC 9110 IMF-fixdate), or 0. */
time_t fs_parse_http_date(const char *s)
{
	struct tm tm = {0};

	if (!s || !*s || !strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm))
		return 0;
	return timegm(&tm);
}
