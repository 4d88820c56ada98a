// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The allow-list (allow.h): parsing, checking, peer credentials. */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "allow.h"

void azd_allow_init(struct azd_allow *a)
{
	memset(a, 0, sizeof(*a));
}

static int parse_id(const char *s, bool group, unsigned long *id)
{
	char *end;

	if (isdigit((unsigned char)*s)) {
		errno = 0;
		*id = strtoul(s, &end, 10);
		return errno || *end || *id >= 0xffffffffu ? -EINVAL : 0;
	}
	if (group) {
		struct group *g = getgrnam(s);

		if (!g)
			return -ENOENT;
		*id = g->gr_gid;
	} else {
		struct passwd *p = getpwnam(s);

		if (!p)
			return -ENOENT;
		*id = p->pw_uid;
	}
	return 0;
}

int azd_allow_add(struct azd_allow *a, bool group, const char *spec, char *err, size_t errlen)
{
	unsigned long id;
	int rc = parse_id(spec, group, &id);
	size_t *n = group ? &a->ngids : &a->nuids;

	if (rc) {
		snprintf(err, errlen, "%s '%s': %s", group ? "group" : "user", spec,
			 rc == -ENOENT ? "no such name" : "not a name or a number");
		return rc;
	}
	if (*n == AZD_ALLOW_MAX) {
		snprintf(err, errlen, "more than %d %s entries", AZD_ALLOW_MAX,
			 group ? "group" : "user");
		return -ENOSPC;
	}
	if (group)
		a->gids[(*n)++] = (gid_t)id;
	else
		a->uids[(*n)++] = (uid_t)id;
	return 0;
}

int azd_allow_load(struct azd_allow *a, const char *path, char *err, size_t errlen)
{
	struct azd_allow t;
	char line[512], why[256];
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	azd_allow_init(&t);
	while (!rc && fgets(line, sizeof(line), f)) {
		char kind[16], name[256], extra[2];
		char *hash = strchr(line, '#');
		int n;

		lineno++;
		if (hash)
			*hash = 0;
		n = sscanf(line, "%15s %255s %1s", kind, name, extra);
		if (n <= 0)
			continue;
		if (n != 2 || (strcmp(kind, "user") && strcmp(kind, "group"))) {
			snprintf(err, errlen, "%s:%u: expected 'user NAME|UID' or 'group NAME|GID'",
				 path, lineno);
			rc = -EINVAL;
			break;
		}
		rc = azd_allow_add(&t, kind[0] == 'g', name, why, sizeof(why));
		if (rc)
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
	}
	if (!rc && ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	}
	fclose(f);
	if (!rc)
		*a = t;
	return rc;
}

bool azd_allow_check(const struct azd_allow *a, uid_t uid, const gid_t *gids, size_t ngids)
{
	if (uid == 0)
		return true;
	for (size_t i = 0; i < a->nuids; i++)
		if (a->uids[i] == uid)
			return true;
	for (size_t k = 0; k < ngids; k++)
		for (size_t i = 0; i < a->ngids; i++)
			if (a->gids[i] == gids[k])
				return true;
	return false;
}

/* Append v to the malloc'd list *g of *n (capacity *cap). */
static int push_gid(gid_t **g, size_t *n, size_t *cap, gid_t v)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		gid_t *t;

		if (*n >= AZD_GROUPS_MAX + 1)
			return -E2BIG;
		t = realloc(*g, c * sizeof(gid_t));
		if (!t)
			return -ENOMEM;
		*g = t;
		*cap = c;
	}
	(*g)[(*n)++] = v;
	return 0;
}

int azd_status_groups(FILE *f, gid_t gid, gid_t **gids, size_t *ngids)
{
	char *line = NULL;
	size_t linecap = 0, n = 0, cap = 0;
	gid_t *g = NULL;
	int rc = push_gid(&g, &n, &cap, gid);
	bool seen = false;

	/* getline: a Groups: line of 65536 groups is ~450 KB, read whole. */
	while (!rc && !seen && getline(&line, &linecap, f) >= 0) {
		char *p = line + 7, *end;

		if (strncmp(line, "Groups:", 7))
			continue;
		seen = true;
		for (;;) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '\n' || !*p)
				break;
			if (!isdigit((unsigned char)*p)) {
				rc = -EINVAL;
				break;
			}
			errno = 0;
			unsigned long v = strtoul(p, &end, 10);

			if (errno || v > 0xfffffffful) {
				rc = -EINVAL;
				break;
			}
			rc = push_gid(&g, &n, &cap, (gid_t)v);
			if (rc)
				break;
			p = end;
		}
	}
	if (!rc && !seen)
		rc = ferror(f) ? -EIO : -ENODATA;
	free(line);
	if (rc) {
		free(g);
		g = NULL;
		n = 0;
	}
	*gids = g;
	*ngids = n;
	return rc;
}

int azd_proc_groups(pid_t pid, gid_t gid, gid_t **gids, size_t *ngids)
{
	char path[64];
	FILE *f;
	int rc;

	*gids = NULL;
	*ngids = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	rc = azd_status_groups(f, gid, gids, ngids);
	fclose(f);
	return rc;
}

int azd_peer_creds(int fd, uid_t *uid, pid_t *pid, gid_t **gids, size_t *ngids)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	*uid = (uid_t)-1;
	*pid = 0;
	*gids = NULL;
	*ngids = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) || len != sizeof(cr))
		return errno ? -errno : -EPROTO;
	*uid = cr.uid;
	*pid = cr.pid;
#ifdef SO_PEERGROUPS
	/* Supplementary groups (Linux 4.13+): as many as there are. Where
	 * the room is short the kernel says how much it needs (ERANGE). */
	size_t cap = 64;
	gid_t *g = NULL;

	for (;;) {
		gid_t *t = realloc(g, (cap + 1) * sizeof(gid_t));

		if (!t) {
			free(g);
			return -ENOMEM;
		}
		g = t;
		len = (socklen_t)(cap * sizeof(gid_t));
		if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g + 1, &len))
			break;
		int err = errno;

		if (err != ERANGE || len / sizeof(gid_t) <= cap ||
		    len / sizeof(gid_t) > AZD_GROUPS_MAX) {
			free(g);
			return err == ERANGE ? -E2BIG : -err;
		}
		cap = len / sizeof(gid_t);
	}
	g[0] = cr.gid;
	*gids = g;
	*ngids = 1 + len / sizeof(gid_t);
	return 0;
#else
	return -ENOPROTOOPT;
#endif
}
