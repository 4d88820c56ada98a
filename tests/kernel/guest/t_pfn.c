/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* ABI version and pfn correctness against /proc/self/pagemap. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

void test_version(void)
{
	struct uvmbus_kstub_version v = {.size = sizeof(v)};
	int fd = kopen();

	if (!check(fd >= 0, "open %s (%s)", UVMBUS_KSTUB_DEV_PATH, fd < 0 ? strerror(-fd) : "ok"))
		return;
	/* Act first, then check: argument evaluation order is unspecified. */
	int err = kioctl(fd, UVMBUS_KSTUB_IOC_VERSION, &v);

	check(err == 0 && v.abi_version == UVMBUS_KSTUB_ABI_VERSION && v.pfn_shift == 12 &&
		  (v.features & UVMBUS_KSTUB_FEAT_PFN_2M),
	      "version: abi %u, pfn_shift %u, features %#x", v.abi_version, v.pfn_shift,
	      v.features);
	close(fd);
}

/*
 * Register [addr, addr+len), compare every 4 KiB pfn with pagemap, check
 * usage accounting (regions, pins, VmPin), unregister, check it all returns.
 */
static void reg_and_compare(int fd, const char *what, void *addr, size_t len)
{
	size_t n = (((uintptr_t)addr + len - 1) / PAGE) - ((uintptr_t)addr / PAGE) + 1;
	uint64_t *pfns = calloc(n, sizeof(*pfns));
	long pins0 = pins_outstanding(), pin0 = vmpin_kib();
	struct uvmbus_kstub_query q;
	uint64_t npfn = 0;
	uint32_t id;
	int err;

	err = kreg(fd, addr, len, 0, pfns, n, &id, &npfn);
	if (!check(err == 0 && npfn == n && id > 0, "%s: register %zu bytes -> %zu pfns (%s)", what,
		   len, n, strerror(-err))) {
		free(pfns);
		return;
	}
	check(pfns_match(addr, pfns, n), "%s: pfns equal pagemap", what);
	err = kquery(fd, &q);
	check(err == 0 && q.regions == 1 && q.pinned_pages == n,
	      "%s: query regions %llu pinned %llu", what, (unsigned long long)q.regions,
	      (unsigned long long)q.pinned_pages);
	check(pins_outstanding() - pins0 == (long)n, "%s: %zu FOLL_PIN pins held", what, n);
	check(vmpin_kib() - pin0 == (long)(n * 4), "%s: VmPin grew by %zu KiB", what, n * 4);
	check(kunreg(fd, id) == 0, "%s: unregister", what);
	check(pins_outstanding() == pins0 && vmpin_kib() == pin0,
	      "%s: unregister released pins and memlock", what);
	free(pfns);
}

static void test_2m_form(int fd, const char *what, char *huge, size_t len)
{
	uint64_t pfns[8] = {0}, npfn = 0;
	size_t i, n = len / HUGE;
	bool ok = true;
	uint32_t id;
	int err;

	err = kreg(fd, huge, len, UVMBUS_KSTUB_REG_PFN_2M, pfns, 8, &id, &npfn);
	if (!check(err == 0 && npfn == n, "%s: 2 MiB form, %zu pfns (%s)", what, n, strerror(-err)))
		return;
	for (i = 0; i < n; i++)
		ok &= pfns[i] == pagemap_pfn(huge + i * HUGE) && pfns[i] != 0;
	check(ok, "%s: 2 MiB form pfns equal pagemap", what);
	check(kunreg(fd, id) == 0, "%s: unregister 2 MiB form", what);
}

/* A pinned private page keeps its pfn when the process forks and the
 * child writes to it (the kernel copies pinned pages at fork). */
static void test_fork_keeps_pfns(int fd)
{
	char *buf = map_anon(4 * PAGE);
	uint64_t pfns[4];
	uint32_t id;
	pid_t pid;
	int st = 0;

	if (!check(kreg(fd, buf, 4 * PAGE, 0, pfns, 4, &id, NULL) == 0, "fork: register"))
		return;
	pid = fork();
	if (pid == 0) {
		memset(buf, 0x5a, 4 * PAGE);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	buf[0] = 1;
	check(pfns_match(buf, pfns, 4), "fork: parent's pinned pages kept their pfns");
	check(kunreg(fd, id) == 0, "fork: unregister");
	munmap(buf, 4 * PAGE);
}

void test_pfns(void)
{
	int fd = kopen();
	char *buf, *huge, *mfd;

	if (!check(fd >= 0, "open for pfn tests"))
		return;
	buf = map_anon(64 * PAGE);
	reg_and_compare(fd, "4k aligned", buf, 16 * PAGE);
	reg_and_compare(fd, "4k unaligned", buf + 123, 3 * PAGE + 7);
	reg_and_compare(fd, "4k one byte", buf + PAGE - 1, 1);
	reg_and_compare(fd, "4k straddle", buf + PAGE - 1, 2);
	reg_and_compare(fd, "4k large", buf, 64 * PAGE);

	check(meminfo("HugePages_Total") >= 8, "hugepages reserved: %ld",
	      meminfo("HugePages_Total"));
	huge = map_huge(2 * HUGE);
	if (check(huge != NULL, "mmap 2 x 2 MiB MAP_HUGETLB")) {
		reg_and_compare(fd, "2M pages", huge, 2 * HUGE);
		reg_and_compare(fd, "2M unaligned", huge + 5000, HUGE);
		test_2m_form(fd, "2M private", huge, 2 * HUGE);
		munmap(huge, 2 * HUGE);
	}
	mfd = map_huge_memfd(HUGE);
	if (check(mfd != NULL, "mmap hugetlb memfd")) {
		reg_and_compare(fd, "2M memfd", mfd, HUGE);
		test_2m_form(fd, "2M memfd", mfd, HUGE);
		munmap(mfd, HUGE);
	}
	test_fork_keeps_pfns(fd);
	munmap(buf, 64 * PAGE);
	close(fd);
}
