/* Test helpers for the memory layer: a simulator-style guest-RAM memfd,
 * a log collector, and pagemap lookups. */
#ifndef TEST_MEM_FIXTURE_H
#define TEST_MEM_FIXTURE_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <uvmbus/mem.h>

/* The huge page reservation (root): tests that reserve restore it. */
#define NR_HP "/proc/sys/vm/nr_hugepages"

static inline long nr_hugepages_read(void)
{
	FILE *f = fopen(NR_HP, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static inline bool nr_hugepages_write(long v)
{
	FILE *f = fopen(NR_HP, "w");

	if (!f)
		return false;
	fprintf(f, "%ld\n", v);
	return fclose(f) == 0;
}

struct log_sink {
	char text[8192];
	int warnings, errors;
};

static inline void sink_fn(void *arg, enum uvmbus_log_level lvl, const char *msg)
{
	struct log_sink *s = arg;
	size_t used = strlen(s->text);

	snprintf(s->text + used, sizeof(s->text) - used, "%s\n", msg);
	s->warnings += lvl == UVMBUS_LOG_WARN;
	s->errors += lvl == UVMBUS_LOG_ERR;
}

static inline struct uvmbus_log sink_log(struct log_sink *s)
{
	memset(s, 0, sizeof(*s));
	return (struct uvmbus_log){.fn = sink_fn, .arg = s, .max_level = UVMBUS_LOG_DEBUG};
}

/* A guest-RAM memfd of `size` bytes (plain shmem: no hugepages needed). */
static inline int guest_ram(size_t size)
{
	int fd = memfd_create("test-guest-ram", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* pfn of the 4 KiB page holding va, straight from /proc/self/pagemap. */
static inline uint64_t pagemap_pfn(const void *va)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;

	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, (off_t)((uintptr_t)va >> 12) * 8) != 8)
		e = 0;
	close(fd);
	return (e >> 63) ? e & ((1ull << 55) - 1) : 0;
}

#endif
