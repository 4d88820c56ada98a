// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* broker_allow: the allow-list file (users, groups, names, numbers,
 * comments, errors with their line) and the check against credentials. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allow.h"

static const char *write_file(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/broker-allow-XXXXXX");
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

Test(broker_allow, file_entries_and_check)
{
	struct azd_allow a;
	char err[256] = "";
	const char *p = write_file("# who may attach\n"
				   "user 1000\n"
				   "  user root   # a name\n"
				   "\n"
				   "group 2000\n"
				   "group daemon\n");
	gid_t g2000 = 2000, g5 = 5, gd[2] = {7, 1}; /* daemon is gid 1 on Debian */

	cr_assert_eq(azd_allow_load(&a, p, err, sizeof(err)), 0, "%s", err);
	unlink(p);
	cr_assert_eq(a.nuids, 2);
	cr_assert_eq(a.ngids, 2);
	cr_assert(azd_allow_check(&a, 1000, &g5, 1));
	cr_assert(azd_allow_check(&a, 1234, &g2000, 1));
	cr_assert(azd_allow_check(&a, 1234, gd, 2), "a supplementary group counts");
	cr_assert_not(azd_allow_check(&a, 1234, &g5, 1));
	cr_assert_not(azd_allow_check(&a, 1234, NULL, 0));
	cr_assert(azd_allow_check(&a, 0, NULL, 0), "root always");
}

Test(broker_allow, errors_name_the_line_and_keep_the_list)
{
	struct azd_allow a;
	char err[256];

	azd_allow_init(&a);
	cr_assert_eq(azd_allow_add(&a, false, "4242", err, sizeof(err)), 0);
	const char *p = write_file("user 1\nfriend 2\n");

	cr_assert_eq(azd_allow_load(&a, p, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, ":2:"), "%s", err);
	unlink(p);
	p = write_file("user no-such-user-here\n");
	cr_assert_eq(azd_allow_load(&a, p, err, sizeof(err)), -ENOENT);
	unlink(p);
	p = write_file("group 12x\n");
	cr_assert_eq(azd_allow_load(&a, p, err, sizeof(err)), -EINVAL);
	unlink(p);
	cr_assert_eq(azd_allow_load(&a, "/nonexistent/allow", err, sizeof(err)), -ENOENT);
	/* nothing changed */
	cr_assert_eq(a.nuids, 1);
	cr_assert_eq(a.uids[0], 4242);
}

/* A process with 3000 supplementary groups (a Groups: line of ~18 KB in
 * /proc/PID/status): every one is read, the last one too. Needs root
 * (setgroups in a child); skipped otherwise. */
Test(broker_allow, proc_groups_long_line)
{
	int st;
	pid_t p;

	if (geteuid())
		cr_skip("needs root (setgroups)");
	p = fork();
	if (p == 0) {
		static gid_t g[3000];
		gid_t *got = NULL;
		size_t n = 0;

		for (int i = 0; i < 3000; i++)
			g[i] = 100000 + (gid_t)i;
		if (setgroups(3000, g))
			_exit(2);
		int rc = azd_proc_groups(getpid(), 7, &got, &n);

		printf("azd_proc_groups: %d\n", rc);
		printf("azd_proc_groups: %zu groups read (3000 + the primary), last %u\n", n,
		       n ? (unsigned)got[n - 1] : 0);
		fflush(stdout);
		_exit(!rc && n == 3001 && got[0] == 7 && got[3000] == 102999 ? 0 : 1);
	}
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "every group read (exit %#x)", st);
}

/* azd_status_groups() on a status file with this text. */
static int groups_of(const char *text, gid_t **g, size_t *n)
{
	const char *p = write_file(text);
	FILE *f = fopen(p, "re");
	int rc;

	cr_assert(f);
	rc = azd_status_groups(f, 5, g, n);
	fclose(f);
	unlink(p);
	return rc;
}

/* A status file whose Groups: line is 65536 groups long (~400 KB): every
 * one read; a line garbled or missing is an error, never a short list. */
Test(broker_allow, status_groups_any_length)
{
	size_t len = 0, cap = 65536 * 8 + 256, n;
	char *text = malloc(cap);
	gid_t *g;

	cr_assert(text);
	len += (size_t)snprintf(text + len, cap - len, "Name:\tx\nUid:\t1\t1\t1\t1\nGroups:\t");
	for (unsigned i = 0; i < 65536; i++)
		len += (size_t)snprintf(text + len, cap - len, "%u ", 1000000 + i);
	snprintf(text + len, cap - len, "\nNSpid:\t1\n");
	cr_assert_eq(groups_of(text, &g, &n), 0);
	free(text);
	cr_assert_eq(n, 65537);
	cr_assert_eq(g[0], 5);
	cr_assert_eq(g[65536], 1065535u);
	free(g);

	cr_assert_eq(groups_of("Name:\tx\nGroups:\t1 2 x3\n", &g, &n), -EINVAL, "garbage");
	cr_assert_null(g);
	cr_assert_eq(n, 0);
	cr_assert_eq(groups_of("Name:\tx\n", &g, &n), -ENODATA, "no Groups: line");
	cr_assert_eq(azd_proc_groups(999999999, 5, &g, &n), -ESRCH, "a process gone");
}
