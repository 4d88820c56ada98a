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

size_t azd_proc_groups(pid_t pid, gid_t gid, gid_t *gids, size_t cap)
{
	char path[64], line[4096];
	size_t n = 0;
	FILE *f;

	if (cap)
		gids[n++] = gid;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = line + 7, *end;

		if (strncmp(line, "Groups:", 7))
			continue;
		for (unsigned long v = strtoul(p, &end, 10); end != p && n < cap;
		     v = strtoul(p, &end, 10)) {
			gids[n++] = (gid_t)v;
			p = end;
		}
	}
	if (f)
		fclose(f);
	return n;
}

int azd_peer_creds(int fd, uid_t *uid, pid_t *pid, gid_t *gids, size_t *ngids)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	size_t cap = *ngids;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) || len != sizeof(cr))
		return -errno ? -errno : -EPROTO;
	*uid = cr.uid;
	*pid = cr.pid;
	*ngids = 0;
	if (!cap)
		return 0;
	gids[(*ngids)++] = cr.gid;
#ifdef SO_PEERGROUPS
	/* Supplementary groups (Linux 4.13+); without them, the primary only. */
	len = (socklen_t)((cap - 1) * sizeof(gid_t));
	if (cap > 1 && getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, gids + 1, &len) == 0)
		*ngids += len / sizeof(gid_t);
#endif
	return 0;
}
