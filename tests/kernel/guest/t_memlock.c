/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * RLIMIT_MEMLOCK: pinned pages are charged to the user (its locked_vm, as
 * io_uring does), for the region's whole life, quarantine included. An
 * unprivileged user (uid 65534, no CAP_IPC_LOCK) is held to its limit with
 * ENOMEM, however many processes and open files it spreads the pins over;
 * root's CAP_IPC_LOCK bypasses it. Runs in forked children so the test
 * process keeps its credentials.
 */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

#define LIMIT	    (64 * 1024UL)
#define LIMIT_PAGES (LIMIT / PAGE)
#define NOBODY	    65534
#define ROUNDS	    64 /* processes that each try to pin the whole limit */

static void set_limit(void)
{
	struct rlimit rl = {.rlim_cur = LIMIT, .rlim_max = LIMIT};

	if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0)
		check(false, "setrlimit(RLIMIT_MEMLOCK, 64 KiB): %s", strerror(errno));
}

/* Take the 64 KiB limit and become uid 65534 (open the node before: 0600 root). */
static void become_nobody(const char *what)
{
	set_limit();
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)) {
		check(false, "%s: drop to uid 65534: %s", what, strerror(errno));
		_exit(1);
	}
}

/* The library's ENOMEM message names the per-user limit and the user. */
static bool says_user_limit(const char *msg)
{
	return strstr(msg, "RLIMIT_MEMLOCK is 65536 bytes") && strstr(msg, "uid 65534") &&
	       strstr(msg, "quarantine");
}

static void unprivileged_child(void)
{
	struct uvmbus_kstub *k = NULL;
	struct uvmbus_kstub_query q;
	char *buf = map_anon(64 * PAGE);
	uint32_t a, b, c;
	int fd = kopen(), err;

	check(fd >= 0 && uvmbus_kstub_open(&k, NULL, &capture_log) == 0, "memlock: open as root");
	become_nobody("memlock");
	err = kquery(fd, &q);
	check(err == 0 && !(q.flags & UVMBUS_KSTUB_QUERY_CAP_IPC_LOCK) && q.memlock_limit == LIMIT,
	      "memlock: uid 65534 has no CAP_IPC_LOCK, limit %llu",
	      (unsigned long long)q.memlock_limit);
	check(kreg(fd, buf, 8 * PAGE, 0, NULL, 0, &a, NULL) == 0, "memlock: 32 KiB of 64 pinned");
	err = kreg(fd, buf, 16 * PAGE, 0, NULL, 0, NULL, NULL);
	check(err == -ENOMEM, "memlock: 32+64 KiB over the limit: ENOMEM (got %s)", strerror(-err));
	err = kquery(fd, &q);
	check(err == 0 && q.locked_vm_pages == 8 && vmpin_kib() == 32,
	      "memlock: failed registration charged nothing (user %llu pages, VmPin %ld KiB)",
	      (unsigned long long)q.locked_vm_pages, vmpin_kib());
	check(kreg(fd, buf, 8 * PAGE, 0, NULL, 0, &b, NULL) == 0, "memlock: exactly 64 KiB fits");
	check(kreg(fd, buf, 1, 0, NULL, 0, &c, NULL) == -ENOMEM, "memlock: one byte more: ENOMEM");

	clear_log();
	err = k ? uvmbus_kstub_register(k, buf, 32 * PAGE, &c, NULL, 0, NULL) : -1;
	check(err == -ENOMEM && says_user_limit(last_log()) && strstr(last_log(), "131072"),
	      "memlock: library says limit, user and need: \"%s\"", last_log());
	err = kunreg(fd, a) || kunreg(fd, b) || kquery(fd, &q);
	check(!err && q.locked_vm_pages == 0 && vmpin_kib() == 0,
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
	err = kreg(fd, buf, 256 * PAGE, 0, NULL, 0, &id, NULL) || kquery(fd, &q);
	check(!err && vmpin_kib() == 1024 && q.locked_vm_pages == 0,
	      "memlock: CAP_IPC_LOCK pins 1 MiB over a 64 KiB limit, uncharged (user %llu pages), "
	      "still counted (VmPin %ld KiB)",
	      (unsigned long long)q.locked_vm_pages, vmpin_kib());
	check(kunreg(fd, id) == 0 && vmpin_kib() == 0, "memlock: bypassed pin released");
	close(fd);
	_exit(0);
}

/* Fork a child running fn(arg); its exit status, or -1. */
static int run(void (*fn)(int), int arg)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
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

/* Exit status of a pin attempt: 0 pinned, 1 ENOMEM, 2 anything else. */
static int pin_status(int err)
{
	return err == 0 ? 0 : err == -ENOMEM ? 1 : 2;
}

static char *shared_buf; /* LIMIT bytes, mapped before the children fork */
static int inherited_fd;

static void pin_inherited(int unused)
{
	(void)unused;
	_exit(pin_status(kreg(inherited_fd, shared_buf, LIMIT, 0, NULL, 0, NULL, NULL)));
}

/*
 * Fork pattern: uid 65534 opens one file, then ROUNDS children each pin
 * 64 KiB through the inherited file and exit. The regions belong to the
 * file, not to the exited children: the user's total must stay <= 64 KiB.
 */
static void fork_owner(void)
{
	struct uvmbus_kstub *k = NULL;
	struct uvmbus_kstub_query q;
	int st[3] = {0}, i, err;
	uint32_t id;

	inherited_fd = kopen();
	check(inherited_fd >= 0 && uvmbus_kstub_open(&k, NULL, &capture_log) == 0,
	      "memlock fork: open as root");
	become_nobody("memlock fork");
	for (i = 0; i < ROUNDS; i++) {
		int s = run(pin_inherited, 0);

		st[s < 0 || s > 2 ? 2 : s]++;
	}
	check(st[0] == 1 && st[1] == ROUNDS - 1 && st[2] == 0,
	      "memlock fork: %d children pin 64 KiB each through one inherited file: %d fit, %d "
	      "ENOMEM, %d other (want 1, %d, 0)",
	      ROUNDS, st[0], st[1], st[2], ROUNDS - 1);
	err = kquery(inherited_fd, &q);
	check(err == 0 && q.pinned_pages <= LIMIT_PAGES && q.locked_vm_pages == q.pinned_pages,
	      "memlock fork: the file pins %llu KiB, uid 65534 is charged %llu KiB (limit 64 KiB)",
	      (unsigned long long)q.pinned_pages * 4, (unsigned long long)q.locked_vm_pages * 4);
	clear_log();
	err = k ? uvmbus_kstub_register(k, shared_buf, PAGE, &id, NULL, 0, NULL) : -1;
	check(err == -ENOMEM && says_user_limit(last_log()),
	      "memlock fork: the parent's next pin is ENOMEM and says why: \"%s\"", last_log());
	uvmbus_kstub_close(k);
	close(inherited_fd); /* its region goes to the quarantine, still charged */
	_exit(0);
}

/* One short-lived opener: own file, 64 KiB, exit (the region is quarantined). */
static void pin_and_exit(int use_library)
{
	struct uvmbus_kstub *k = NULL;
	int fd = kopen(), err;
	uint32_t id;

	if (use_library && uvmbus_kstub_open(&k, NULL, &capture_log) != 0)
		_exit(2);
	become_nobody("memlock openers");
	clear_log();
	if (k) {
		err = uvmbus_kstub_register(k, shared_buf, LIMIT, &id, NULL, 0, NULL);
		if (err == -ENOMEM)
			check(says_user_limit(last_log()),
			      "memlock openers: library names the limit and the quarantine: \"%s\"",
			      last_log());
	} else {
		err = kreg(fd, shared_buf, LIMIT, 0, NULL, 0, NULL, NULL);
	}
	_exit(pin_status(err));
}

/* Exit status: uid 65534's locked_vm in pages as the module sees it (capped). */
static void query_nobody(int unused)
{
	struct uvmbus_kstub_query q;
	int fd = kopen();

	(void)unused;
	become_nobody("memlock probe");
	if (kquery(fd, &q) != 0)
		_exit(255);
	_exit(q.locked_vm_pages > 254 ? 254 : (int)q.locked_vm_pages);
}

/*
 * Many short-lived openers: ROUNDS processes of uid 65534, each with its own
 * file, pin 64 KiB and exit. Their regions stay pinned in quarantine and
 * stay charged: at no time may more than 64 KiB be pinned for the user.
 */
static void short_lived_openers(long pins0)
{
	int st[3] = {0}, i;
	long peak = 0, now, quarantine = module_param("quarantine_ms");

	for (i = 0; i < ROUNDS; i++) {
		int s = run(pin_and_exit, i == 1);

		st[s < 0 || s > 2 ? 2 : s]++;
		now = pins_outstanding() - pins0;
		peak = now > peak ? now : peak;
	}
	check(st[0] >= 1 && st[1] >= 1 && st[2] == 0,
	      "memlock openers: %d processes with their own file: %d fit, %d ENOMEM, %d other",
	      ROUNDS, st[0], st[1], st[2]);
	check(peak <= (long)LIMIT_PAGES,
	      "memlock openers: at most 64 KiB pinned at any time (peak %ld KiB)", peak * 4);
	now = run(query_nobody, 0);
	check(now >= 0 && now <= (long)LIMIT_PAGES,
	      "memlock openers: uid 65534 is charged %ld KiB while quarantined", now * 4);
	check(wait_module_idle(now_ms(), 10u * (uint64_t)quarantine) >= 0,
	      "memlock: quarantines ended");
	now = run(query_nobody, 0);
	check(now == 0 && pins_outstanding() == pins0,
	      "memlock: the quarantine's end returns the user's charge (%ld KiB)", now * 4);
}

void test_memlock(void)
{
	long pins0 = pins_outstanding(), quarantine = module_param("quarantine_ms");

	run_child(unprivileged_child, "unprivileged");
	run_child(privileged_child, "privileged");
	check(pins_outstanding() == pins0, "memlock: no pins left");

	shared_buf = mmap(NULL, LIMIT, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!check(shared_buf != MAP_FAILED, "memlock: map a shared 64 KiB buffer"))
		return;
	memset(shared_buf, 1, LIMIT);
	run_child(fork_owner, "memlock fork owner");
	check(pins_outstanding() - pins0 <= (long)LIMIT_PAGES,
	      "memlock fork: after the owner exited, %ld KiB pinned (at most 64)",
	      (pins_outstanding() - pins0) * 4);
	check(wait_module_idle(now_ms(), 10u * (uint64_t)quarantine) >= 0,
	      "memlock fork: quarantine ended");
	short_lived_openers(pins0);
	munmap(shared_buf, LIMIT);
}
