// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* broker_allow: the allow-list file (users, groups, names, numbers,
 * comments, errors with their line) and the check against credentials. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
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
