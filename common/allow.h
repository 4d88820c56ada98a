/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Who may use the broker: an allow-list of uids and gids, checked against
 * the peer credentials of a unix socket (SO_PEERCRED, SO_PEERGROUPS).
 * Shared by azblobd and its front ends (e.g. a CUSE /dev/azure_blob).
 *
 * File format, one entry a line, '#' starts a comment:
 *     user NAME|UID
 *     group NAME|GID
 * Root (uid 0) is always allowed: it can open the device directly anyway.
 */
#ifndef AZBLOBD_ALLOW_H
#define AZBLOBD_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define AZD_ALLOW_MAX 256

struct azd_allow {
	uid_t uids[AZD_ALLOW_MAX];
	gid_t gids[AZD_ALLOW_MAX];
	size_t nuids, ngids;
};

/* Empty list: only root. */
void azd_allow_init(struct azd_allow *a);
/* Add "user X" or "group X" entries from a spec (a name or a number):
 * 0, or -EINVAL / -ENOENT (unknown name) / -ENOSPC, with a message in err. */
int azd_allow_add(struct azd_allow *a, bool group, const char *spec, char *err, size_t errlen);
/* Replace *a with the file's entries (nothing changes on error):
 * 0 or a negative errno with "path:line: why" in err. */
int azd_allow_load(struct azd_allow *a, const char *path, char *err, size_t errlen);
/* True when uid, or one of the ngids groups in gids, is allowed. */
bool azd_allow_check(const struct azd_allow *a, uid_t uid, const gid_t *gids, size_t ngids);
/* Groups read in full up to this (the kernel's NGROUPS_MAX). */
#define AZD_GROUPS_MAX 65536

/* The peer of a connected unix socket: uid, pid and all its groups (the
 * primary first) in *gids, malloc'd (the caller frees it). 0, or a
 * negative errno with *gids NULL: when SO_PEERCRED failed *uid is
 * (uid_t)-1; when only the groups could not be read (SO_PEERGROUPS
 * missing or failing) *uid and *pid are set. Never a partial list. */
int azd_peer_creds(int fd, uid_t *uid, pid_t *pid, gid_t **gids, size_t *ngids);

/* A process's groups for azd_allow_check: gid (the primary) first, then
 * every supplementary group the kernel lists in /proc/PID/status (a line
 * of any length), malloc'd in *gids (the caller frees it). 0, or a
 * negative errno (-ESRCH: the process is gone) with *gids NULL and
 * *ngids 0: the caller refuses, it never falls back to the primary. */
int azd_proc_groups(pid_t pid, gid_t gid, gid_t **gids, size_t *ngids);
/* The same from a status file already open (tests). */
int azd_status_groups(FILE *f, gid_t gid, gid_t **gids, size_t *ngids);

#endif
