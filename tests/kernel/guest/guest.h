/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * kstub guest test program: runs inside the QEMU guest as root (PID 1's
 * child), talks to the real uvmbus_kstub module. Every check prints one
 * PASS/FAIL line; counters live in shared memory so forked children count.
 */
#ifndef KSTUB_GUEST_H
#define KSTUB_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uapi/uvmbus_kstub.h>
#include <uvmbus/kstub.h>

#define PAGE	4096UL
#define HUGE	(2UL << 20)
#define MODNAME "uvmbus_kstub"

/* Checks and their counters (shared with forked children). */
void checks_init(void);
bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
unsigned checks_failed(void);
unsigned checks_passed(void);
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* System state. */
uint64_t pagemap_pfn(const void *addr); /* 0: not present */
long pins_outstanding(void);		/* nr_foll_pin_acquired - released */
long meminfo(const char *key);		/* value of a /proc/meminfo line */
long vmpin_kib(void);			/* VmPin of this process */
long module_refcnt(void);		/* -1: module not loaded */
long module_param(const char *name);	/* -1: not readable */
uint64_t now_ms(void);
/* Wait until no file and no quarantine holds the module; ms since or -1. */
long wait_module_idle(uint64_t since, uint64_t timeout_ms);
void sleep_ms(unsigned ms);

/* Memory. */
void *map_anon(size_t len);	  /* 4 KiB pages (no THP), touched */
void *map_huge(size_t len);	  /* private MAP_HUGETLB, touched; NULL: none */
void *map_huge_memfd(size_t len); /* shared hugetlb memfd mapping; NULL: none */

/* Raw ioctls: 0 or -errno. */
int kopen(void);
int kreg(int fd, const void *addr, size_t len, uint32_t flags, uint64_t *pfns, size_t cap,
	 uint32_t *id, uint64_t *npfn);
int kunreg(int fd, uint32_t id);
int kquery(int fd, struct uvmbus_kstub_query *q);
int kioctl(int fd, unsigned long cmd, void *arg);

/* Compare n pfns of [addr...) with pagemap; true if all equal. */
bool pfns_match(const void *addr, const uint64_t *pfns, size_t n);

/* Library log capture: the last message logged through capture_log. */
extern const struct uvmbus_log capture_log;
const char *last_log(void);
void clear_log(void);

/* Test groups. */
void test_version(void);
void test_pfns(void);
void test_errnos(void);
void test_memlock(void);
void test_concurrency(void);
void test_library(void);
void test_library_no_module(void);
void test_quarantine(void);
void test_mem_kstub(void);
void test_filemap(void);
void test_post_unload(void);

#endif /* KSTUB_GUEST_H */
