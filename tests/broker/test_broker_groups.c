// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_groups: a user allowed only through a supplementary group, with
 * more groups than SO_PEERGROUPS had room for before issue 22 (63): 100
 * groups, then 2000, the allowed one last. Each attaches and is served
 * (a child of the root test: setgroups(), then setgid/setuid to 65534).
 * Before issue 22 the call failed with ERANGE and only the primary gid
 * was checked: EACCES.
 */
#include "harness.h"

#define ALLOWED_GID 20999u

static int child(const struct bh *h, int ngroups)
{
	static gid_t g[4096];
	struct azblob_client *c = NULL;
	struct azblob_blob_status st;
	struct azblob_opts o;
	int rc;

	for (int i = 0; i < ngroups; i++)
		g[i] = ALLOWED_GID - (gid_t)ngroups + 1 + (gid_t)i; /* the allowed one last */
	BH_CHECK(setgroups((size_t)ngroups, g) == 0 && setgid(65534) == 0 && setuid(65534) == 0,
		 "drop to 65534 with %d groups: %s", ngroups, strerror(errno));
	azblob_opts_init(&o);
	o.broker = h->sock;
	o.queue_depth = 4;
	o.pool_buf_size = 64 * 1024;
	o.pool_bufs = 4;
	rc = azblob_open(&c, &o);
	printf("uid 65534 with %d groups (gid %u last): azblob_open: %d (%s)\n", ngroups,
	       ALLOWED_GID, rc, rc ? strerror(-rc) : "ok");
	fflush(stdout);
	if (rc)
		return 1;
	char name[32];

	snprintf(name, sizeof(name), "groups-%d", ngroups);
	rc = azblob_container_create(c, name, &st);
	printf("uid 65534 with %d groups: a request: %s\n", ngroups, rc ? strerror(-rc) : "ok");
	azblob_close(c);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *extra[] = {"--allow-group", "20999", NULL};
	static const int sizes[] = {100, 2000};
	char text[8192];
	int status;
	struct bh h;

	BH_CHECK(argc == 2, "usage: %s AZBLOBD", argv[0]);
	bh_start(&h, argv[1], extra, NULL);
	chmod(h.dir, 0755);
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fflush(stdout);
		pid_t p = bh_fork();

		if (p == 0)
			bh_exit(child(&h, sizes[i]));
		BH_CHECK(waitpid(p, &status, 0) == p && WIFEXITED(status) && !WEXITSTATUS(status),
			 "a user allowed by its last of %d groups is served", sizes[i]);
	}
	BH_CHECK(!bh_wait_idle(&h, 5000), "sessions freed");
	bh_stats(&h, text, sizeof(text));
	printf("%s", text);
	BH_CHECK(bh_num(text, "refused") == 0, "nobody refused");
	status = bh_stop(&h);
	BH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "azblobd exit %#x", status);
	printf("ok\n");
	return 0;
}
