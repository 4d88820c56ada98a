/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Checks, /proc readers, mappings and raw ioctl wrappers for the guest. */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

struct counters {
	unsigned passed, failed;
};
static struct counters *ctr;

void checks_init(void)
{
	ctr = mmap(NULL, sizeof(*ctr), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctr == MAP_FAILED) {
		perror("mmap counters");
		exit(100);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
}

bool check(bool ok, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	__atomic_fetch_add(ok ? &ctr->passed : &ctr->failed, 1, __ATOMIC_RELAXED);
	printf("%s: %s\n", ok ? "PASS" : "FAIL", msg);
	return ok;
}

unsigned checks_failed(void)
{
	return __atomic_load_n(&ctr->failed, __ATOMIC_RELAXED);
}

unsigned checks_passed(void)
{
	return __atomic_load_n(&ctr->passed, __ATOMIC_RELAXED);
}

void note(const char *fmt, ...)
{
	va_list ap;

	printf("  ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

uint64_t pagemap_pfn(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)addr / PAGE * sizeof(e))) != sizeof(e))
		e = 0;
	close(fd);
	if (!(e & (1ULL << 63)))
		return 0;
	return e & ((1ULL << 55) - 1);
}

bool pfns_match(const void *addr, const uint64_t *pfns, size_t n)
{
	const char *p = (const char *)((uintptr_t)addr & ~(PAGE - 1));
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t pm = pagemap_pfn(p + i * PAGE);

		if (pm == 0 || pm != pfns[i]) {
			note("page %zu: kstub pfn %#llx, pagemap %#llx", i,
			     (unsigned long long)pfns[i], (unsigned long long)pm);
			return false;
		}
	}
	return true;
}

/* Value of "key" in a "key value" or "key: value" file, or -1. */
static long read_key(const char *path, const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && (line[klen] == ' ' || line[klen] == ':')) {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

long pins_outstanding(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);

	/* Fold per-cpu counter deltas first, or the numbers lag. */
	if (fd >= 0) {
		if (write(fd, "1\n", 2) < 0)
			note("stat_refresh: %s", strerror(errno));
		close(fd);
	}
	return read_key("/proc/vmstat", "nr_foll_pin_acquired") -
	       read_key("/proc/vmstat", "nr_foll_pin_released");
}

long meminfo(const char *key)
{
	return read_key("/proc/meminfo", key);
}

long vmpin_kib(void)
{
	return read_key("/proc/self/status", "VmPin");
}

static long read_long(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

long module_refcnt(void)
{
	return read_long("/sys/module/" MODNAME "/refcnt");
}

long module_param(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/" MODNAME "/parameters/%s", name);
	return read_long(path);
}

long wait_module_idle(uint64_t since, uint64_t timeout_ms)
{
	while (now_ms() - since < timeout_ms) {
		if (module_refcnt() == 0)
			return (long)(now_ms() - since);
		sleep_ms(50);
	}
	return -1;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *touch(void *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += PAGE)
		((volatile char *)p)[i] = 1;
	return p;
}

void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(100);
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	return touch(p, len);
}

void *map_huge(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
		       -1, 0);

	return p == MAP_FAILED ? NULL : touch(p, len);
}

void *map_huge_memfd(size_t len)
{
	int fd = memfd_create("kstub-huge", MFD_CLOEXEC | MFD_HUGETLB);
	void *p;

	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)len) != 0) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : touch(p, len);
}

int kopen(void)
{
	int fd = open(UVMBUS_KSTUB_DEV_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int kioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) == 0 ? 0 : -errno;
}

int kreg(int fd, const void *addr, size_t len, uint32_t flags, uint64_t *pfns, size_t cap,
	 uint32_t *id, uint64_t *npfn)
{
	struct uvmbus_kstub_register r = {
	    .size = sizeof(r),
	    .flags = flags,
	    .addr = (uintptr_t)addr,
	    .len = len,
	    .pfns = (uintptr_t)pfns,
	    .pfn_cap = cap,
	};
	int err = kioctl(fd, UVMBUS_KSTUB_IOC_REGISTER, &r);

	if (id)
		*id = err ? 0 : r.region_id;
	if (npfn)
		*npfn = r.npfn;
	return err;
}

int kunreg(int fd, uint32_t id)
{
	struct uvmbus_kstub_unregister u = {.size = sizeof(u), .region_id = id};

	return kioctl(fd, UVMBUS_KSTUB_IOC_UNREGISTER, &u);
}

int kquery(int fd, struct uvmbus_kstub_query *q)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	return kioctl(fd, UVMBUS_KSTUB_IOC_QUERY, q);
}
