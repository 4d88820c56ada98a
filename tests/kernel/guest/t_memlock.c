/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * RLIMIT_MEMLOCK: an unprivileged user (uid 65534, no CAP_IPC_LOCK) is held
 * to its limit with ENOMEM; root's CAP_IPC_LOCK bypasses it. Runs in forked
 * children so the test process keeps its credentials.
 */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

#define LIMIT (64 * 1024UL)

static void set_limit(void)
{
	struct rlimit rl = {.rlim_cur = LIMIT, .rlim_max = LIMIT};

	if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0)
		check(false, "setrlimit(RLIMIT_MEMLOCK, 64 KiB): %s", strerror(errno));
}

static void unprivileged_child(void)
{
	struct uvmbus_kstub *k = NULL;
	struct uvmbus_kstub_query q;
	char *buf = map_anon(64 * PAGE);
	uint32_t a, b, c;
	int fd = kopen(), err;

	/* Open both handles as root: the node is 0600 root. */
	check(fd >= 0 && uvmbus_kstub_open(&k, NULL, &capture_log) == 0, "memlock: open as root");
	set_limit();
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
		check(false, "memlock: drop to uid 65534: %s", strerror(errno));
		_exit(1);
	}
	err = kquery(fd, &q);
	check(err == 0 && !(q.flags & UVMBUS_KSTUB_QUERY_CAP_IPC_LOCK) && q.memlock_limit == LIMIT,
	      "memlock: uid 65534 has no CAP_IPC_LOCK, limit %llu",
	      (unsigned long long)q.memlock_limit);
	check(kreg(fd, buf, 8 * PAGE, 0, NULL, 0, &a, NULL) == 0, "memlock: 32 KiB of 64 pinned");
	err = kreg(fd, buf, 16 * PAGE, 0, NULL, 0, NULL, NULL);
	check(err == -ENOMEM, "memlock: 32+64 KiB over the limit: ENOMEM (got %s)", strerror(-err));
	check(vmlck_kib() == 32, "memlock: failed registration charged nothing (VmLck %ld)",
	      vmlck_kib());
	check(kreg(fd, buf, 8 * PAGE, 0, NULL, 0, &b, NULL) == 0, "memlock: exactly 64 KiB fits");
	check(kreg(fd, buf, 1, 0, NULL, 0, &c, NULL) == -ENOMEM, "memlock: one byte more: ENOMEM");

	clear_log();
	err = k ? uvmbus_kstub_register(k, buf, 32 * PAGE, &c, NULL, 0, NULL) : -1;
	check(err == -ENOMEM && strstr(last_log(), "RLIMIT_MEMLOCK is 65536 bytes") &&
		  strstr(last_log(), "131072"),
	      "memlock: library says limit and need: \"%s\"", last_log());
	check(kunreg(fd, a) == 0 && kunreg(fd, b) == 0 && vmlck_kib() == 0,
	      "memlock: unregister returns the charge");

	clear_log();
	uvmbus_kstub_close(k);
	k = NULL;
	err = uvmbus_kstub_open(&k, NULL, &capture_log);
	check(err == -EACCES && strstr(last_log(), "mode 0600") &&
		  strstr(last_log(), "bind_uio.sh kstub"),
	      "permission: library open as uid 65534: EACCES, \"%s\"", last_log());
	uvmbus_kstub_close(k);
	close(fd);
	_exit(0);
}

static void privileged_child(void)
{
	struct uvmbus_kstub_query q;
	char *buf = map_anon(256 * PAGE);
	uint32_t id;
	int fd = kopen(), err;

	set_limit();
	err = kquery(fd, &q);
	check(err == 0 && (q.flags & UVMBUS_KSTUB_QUERY_CAP_IPC_LOCK),
	      "memlock: root reports CAP_IPC_LOCK");
	err = kreg(fd, buf, 256 * PAGE, 0, NULL, 0, &id, NULL);
	check(err == 0 && vmlck_kib() == 1024,
	      "memlock: CAP_IPC_LOCK pins 1 MiB over a 64 KiB limit, still counted (VmLck %ld)",
	      vmlck_kib());
	check(kunreg(fd, id) == 0 && vmlck_kib() == 0, "memlock: bypassed charge returned");
	close(fd);
	_exit(0);
}

static void run_child(void (*fn)(void), const char *what)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0)
		fn();
	check(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "%s child exited cleanly", what);
}

void test_memlock(void)
{
	long pins0 = pins_outstanding();

	run_child(unprivileged_child, "unprivileged");
	run_child(privileged_child, "privileged");
	check(pins_outstanding() == pins0, "memlock: no pins left");
}
