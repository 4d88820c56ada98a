/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Quarantine: regions left registered at close or process death stay
 * pinned (and rmmod is refused) for quarantine_ms, then are unpinned.
 * init.sh loads the module with a short quarantine_ms (a few seconds).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

static long quarantine;

/* Wait until no quarantine is left (module refcount 0); elapsed ms or -1. */
static long wait_quarantine_end(uint64_t since)
{
	return wait_module_idle(since, 10u * (uint64_t)quarantine);
}

static void close_with_regions(void)
{
	long pins0 = pins_outstanding(), elapsed;
	char *buf = map_anon(8 * PAGE);
	uint64_t t0;
	uint32_t id;
	int fd = kopen();

	check(kreg(fd, buf, 8 * PAGE, 0, NULL, 0, &id, NULL) == 0, "close: register 8 pages");
	close(fd);
	t0 = now_ms();
	check(pins_outstanding() - pins0 == 8 && module_refcnt() == 1,
	      "close: regions stay pinned after close (quarantine holds the module)");
	elapsed = wait_quarantine_end(t0);
	check(elapsed >= quarantine - 100 && pins_outstanding() == pins0,
	      "close: unpinned after the quarantine (%ld ms)", elapsed);
}

static void child_holds_regions(int ready)
{
	char *buf = map_anon(16 * PAGE), *huge = map_huge(HUGE);
	uint32_t id;
	int fd = kopen();
	int ok = fd >= 0 && huge && kreg(fd, buf, 16 * PAGE, 0, NULL, 0, &id, NULL) == 0 &&
		 kreg(fd, buf + 100, 2 * PAGE, 0, NULL, 0, &id, NULL) == 0 &&
		 kreg(fd, huge, HUGE, UVMBUS_KSTUB_REG_PFN_2M, NULL, 0, &id, NULL) == 0;

	if (write(ready, ok ? "R" : "E", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static void killed_child(void)
{
	const long held = 16 + 3 + 512;
	long pins0 = pins_outstanding(), hfree0 = meminfo("HugePages_Free"), elapsed;
	struct uvmbus_kstub_query q;
	int p[2], fd, st, err;
	uint64_t t0;
	char c = 0;
	pid_t pid;

	if (pipe(p) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child_holds_regions(p[1]);
	}
	close(p[1]);
	if (!check(read(p[0], &c, 1) == 1 && c == 'R', "kill: child registered 3 regions")) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return;
	}
	check(pins_outstanding() - pins0 == held, "kill: %ld pages pinned by the child", held);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	t0 = now_ms();
	close(p[0]);

	fd = kopen();
	err = kquery(fd, &q);
	check(err == 0 && q.quarantined_regions == 3 && q.quarantined_pages == (uint64_t)held,
	      "kill: query shows 3 regions, %ld pages quarantined (%llu, %llu)", held,
	      (unsigned long long)q.quarantined_regions, (unsigned long long)q.quarantined_pages);
	close(fd);
	check(pins_outstanding() - pins0 == held && meminfo("HugePages_Free") == hfree0 - 1,
	      "kill: pins and the hugepage survive the process");
	check(module_refcnt() == 1, "kill: the quarantine holds one module reference (%ld)",
	      module_refcnt());
	err = syscall(SYS_delete_module, MODNAME, O_NONBLOCK) == 0 ? 0 : errno;
	check((err == EWOULDBLOCK || err == EBUSY) && module_refcnt() == 1,
	      "kill: rmmod during the quarantine is refused (%s)",
	      err ? strerror(err) : "unloaded!");
	/* Halfway through, measured from the kill (the quarantine began earlier). */
	if (now_ms() < t0 + (uint64_t)quarantine / 2)
		sleep_ms((unsigned)(t0 + (uint64_t)quarantine / 2 - now_ms()));
	check(pins_outstanding() - pins0 == held, "kill: still pinned halfway through (%llu ms)",
	      (unsigned long long)(now_ms() - t0));
	elapsed = wait_quarantine_end(t0);
	check(elapsed >= quarantine - 100, "kill: quarantine ended after %ld ms", elapsed);
	check(pins_outstanding() == pins0 && meminfo("HugePages_Free") == hfree0,
	      "kill: pins released and the hugepage freed after the quarantine");
}

void test_quarantine(void)
{
	quarantine = module_param("quarantine_ms");
	if (!check(quarantine >= 1000 && quarantine <= 10000,
		   "quarantine_ms = %ld: short enough to wait for", quarantine))
		return;
	close_with_regions();
	killed_child();
}
