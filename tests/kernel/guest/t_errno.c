/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Every bad input gets its errno, and none leaks a pin or a memlock charge. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest.h"

static void expect(int got, int want, const char *what)
{
	check(got == -want, "%s: %s (got %s)", what, strerror(want), got ? strerror(-got) : "0");
}

static struct uvmbus_kstub_register reg_req(const void *addr, size_t len)
{
	struct uvmbus_kstub_register r = {
	    .size = sizeof(r),
	    .addr = (uintptr_t)addr,
	    .len = len,
	};
	return r;
}

static void bad_commands(int fd, char *buf)
{
	struct uvmbus_kstub_register r = reg_req(buf, PAGE);
	struct uvmbus_kstub_unregister u = {.size = sizeof(u), .region_id = 1};
	struct uvmbus_kstub_version v = {.size = sizeof(v) + 4};
	struct uvmbus_kstub_query q = {.size = 0};
	char raw[64] = {0};

	expect(kioctl(fd, _IOWR(UVMBUS_KSTUB_IOC_MAGIC, 0x0f, struct uvmbus_kstub_register), &r),
	       ENOTTY, "unknown command number");
	expect(kioctl(fd, _IOWR(UVMBUS_KSTUB_IOC_MAGIC, 0x01, char[48]), raw), ENOTTY,
	       "register with another struct size in the command");
	expect(kioctl(fd, _IOWR('x', 0x01, struct uvmbus_kstub_register), &r), ENOTTY,
	       "foreign ioctl type");
	expect(kioctl(fd, UVMBUS_KSTUB_IOC_REGISTER, NULL), EFAULT, "register, NULL argument");
	expect(kioctl(fd, UVMBUS_KSTUB_IOC_QUERY, NULL), EFAULT, "query, NULL argument");
	expect(kioctl(fd, UVMBUS_KSTUB_IOC_VERSION, (void *)8), EFAULT, "version, bad pointer");
	expect(kioctl(fd, UVMBUS_KSTUB_IOC_VERSION, &v), EINVAL, "version, size field wrong");
	expect(kioctl(fd, UVMBUS_KSTUB_IOC_QUERY, &q), EINVAL, "query, size field 0");
	u.size = 4;
	expect(kioctl(fd, UVMBUS_KSTUB_IOC_UNREGISTER, &u), EINVAL, "unregister, size field wrong");
	r.size = sizeof(r) - 8;
	expect(kioctl(fd, UVMBUS_KSTUB_IOC_REGISTER, &r), EINVAL, "register, size field wrong");
	r = reg_req(buf, PAGE);
	r.flags = 0x80;
	expect(kioctl(fd, UVMBUS_KSTUB_IOC_REGISTER, &r), EINVAL, "register, unknown flag");
	r = reg_req(buf, PAGE);
	r.reserved = 1;
	expect(kioctl(fd, UVMBUS_KSTUB_IOC_REGISTER, &r), EINVAL, "register, reserved != 0");
}

static void bad_ranges(int fd, char *buf, uint64_t max_pages)
{
	char *ro, *hole, *none;
	uint64_t pfns[4], npfn = 0;
	int err;

	expect(kreg(fd, buf, 0, 0, NULL, 0, NULL, NULL), EINVAL, "length 0");
	expect(kreg(fd, buf, 1UL << 40, 0, NULL, 0, NULL, NULL), EINVAL, "length 1 TiB");
	expect(kreg(fd, buf, max_pages * PAGE + 1, 0, NULL, 0, NULL, NULL), EINVAL,
	       "length max_region_pages + 1 byte");
	expect(kreg(fd, (void *)(~0UL - 100), 200, 0, NULL, 0, NULL, NULL), EINVAL,
	       "range wraps around");
	expect(kreg(fd, NULL, PAGE, 0, NULL, 0, NULL, NULL), EFAULT, "address 0");
	expect(kreg(fd, (void *)0xffff888000000000UL, PAGE, 0, NULL, 0, NULL, NULL), EFAULT,
	       "kernel address");

	ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect(kreg(fd, ro, PAGE, 0, NULL, 0, NULL, NULL), EFAULT, "read-only mapping");
	none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect(kreg(fd, none, PAGE, 0, NULL, 0, NULL, NULL), EFAULT, "PROT_NONE mapping");
	munmap(none, PAGE);
	expect(kreg(fd, none, PAGE, 0, NULL, 0, NULL, NULL), EFAULT, "unmapped address");

	hole = map_anon(3 * PAGE);
	munmap(hole + PAGE, PAGE);
	expect(kreg(fd, hole, 3 * PAGE, 0, NULL, 0, NULL, NULL), EFAULT,
	       "range with a hole (partial pin undone)");
	munmap(hole, 3 * PAGE);

	expect(kreg(fd, buf, 2 * PAGE, 0, (uint64_t *)8, 2, NULL, NULL), EFAULT,
	       "pfn array at a bad address");
	expect(kreg(fd, buf, 2 * PAGE, 0, (uint64_t *)ro, 2, NULL, NULL), EFAULT,
	       "pfn array read-only");
	munmap(ro, PAGE);
	err = kreg(fd, buf + 1, 4 * PAGE, 0, pfns, 4, NULL, &npfn);
	check(err == -ENOSPC && npfn == 5,
	      "pfn array too small: ENOSPC and npfn = 5 (got %s, %llu)", strerror(-err),
	      (unsigned long long)npfn);

	expect(kreg(fd, buf + PAGE, HUGE, UVMBUS_KSTUB_REG_PFN_2M, pfns, 4, NULL, NULL), EINVAL,
	       "2 MiB form, unaligned address");
	expect(kreg(fd, buf, PAGE, UVMBUS_KSTUB_REG_PFN_2M, pfns, 4, NULL, NULL), EINVAL,
	       "2 MiB form, unaligned length");
}

/* The 2 MiB form on 4 KiB pages must fail whenever they are not contiguous. */
static void noncontiguous_2m(int fd)
{
	char *m = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a = (char *)(((uintptr_t)m + HUGE - 1) & ~(HUGE - 1));
	uint64_t pfn;
	bool contiguous = true;
	size_t i;
	uint32_t id;
	int err;

	madvise(a, HUGE, MADV_NOHUGEPAGE);
	for (i = HUGE / PAGE; i-- > 0;) /* fault backwards: pfns rarely ascend */
		a[i * PAGE] = 1;
	err = kreg(fd, a, HUGE, UVMBUS_KSTUB_REG_PFN_2M, &pfn, 1, &id, NULL);
	for (i = 1; i < HUGE / PAGE; i++)
		contiguous &= pagemap_pfn(a + i * PAGE) == pagemap_pfn(a) + i;
	if (contiguous) {
		check(err == 0, "2 MiB form on 4 KiB pages that happen to be contiguous");
		if (!err)
			kunreg(fd, id);
	} else {
		expect(err, EINVAL, "2 MiB form on non-contiguous 4 KiB pages");
	}
	munmap(m, 2 * HUGE);
}

static void bad_ids(int fd, char *buf)
{
	int fd2 = kopen();
	uint32_t id;

	expect(kunreg(fd, 0), ENOENT, "unregister id 0");
	expect(kunreg(fd, 12345), ENOENT, "unregister unknown id");
	expect(kunreg(fd, 0xffffffffu), ENOENT, "unregister id 2^32-1");
	if (!check(kreg(fd, buf, PAGE, 0, NULL, 0, &id, NULL) == 0, "register without pfns"))
		return;
	expect(kunreg(fd2, id), ENOENT, "unregister another open file's id");
	check(kunreg(fd, id) == 0, "unregister own id");
	expect(kunreg(fd, id), ENOENT, "unregister twice");
	close(fd2);
}

void test_errnos(void)
{
	struct uvmbus_kstub_query q;
	long pins0 = pins_outstanding(), pin0 = vmpin_kib();
	int fd = kopen(), err;
	char *buf;

	if (!check(fd >= 0 && kquery(fd, &q) == 0, "open and query for errno tests"))
		return;
	buf = map_anon(8 * PAGE);
	bad_commands(fd, buf);
	bad_ranges(fd, buf, q.max_region_pages);
	noncontiguous_2m(fd);
	bad_ids(fd, buf);
	err = kquery(fd, &q);
	check(err == 0 && q.regions == 0 && q.pinned_pages == 0, "no region left after bad inputs");
	check(pins_outstanding() == pins0 && vmpin_kib() == pin0,
	      "no pin or memlock charge leaked by bad inputs (pins %ld -> %ld, VmPin %ld -> %ld)",
	      pins0, pins_outstanding(), pin0, vmpin_kib());
	munmap(buf, 8 * PAGE);
	close(fd);
}
