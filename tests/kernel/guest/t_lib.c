/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The library's kstub backend (uvmbus/linux/kstub.c) against the real module. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest.h"

static char last[1024];

static void capture(void *arg, enum uvmbus_log_level level, const char *msg)
{
	(void)arg;
	(void)level;
	snprintf(last, sizeof(last), "%s", msg);
}

const struct uvmbus_log capture_log = {
    .fn = capture,
    .max_level = UVMBUS_LOG_INFO,
};

const char *last_log(void)
{
	return last;
}

void clear_log(void)
{
	last[0] = 0;
}

/* Before insmod: the node is missing and the message says what to do. */
void test_library_no_module(void)
{
	struct uvmbus_kstub *k = NULL;
	int err;

	clear_log();
	err = uvmbus_kstub_open(&k, NULL, &capture_log);
	check(err == -ENOENT && k == NULL && strstr(last, "modprobe uvmbus_kstub") &&
		  strstr(last, "scripts/bind_uio.sh kstub"),
	      "library: open without the module: ENOENT, \"%s\"", last);
	clear_log();
	err = uvmbus_kstub_open(&k, "/dev/null", &capture_log);
	check(err == -ENOTTY && strstr(last, "not a uvmbus_kstub device"),
	      "library: open /dev/null: ENOTTY, \"%s\"", last);
}

void test_library(void)
{
	struct uvmbus_kstub *k = NULL;
	struct uvmbus_kstub_usage u;
	char *buf = map_anon(8 * PAGE), *huge = map_huge(HUGE);
	uint64_t pfns[8], hpfn = 0;
	uint32_t a = 0, b = 0;
	size_t n = 0;
	int err;

	err = uvmbus_kstub_open(&k, NULL, &capture_log);
	if (!check(err == 0, "library: open (%s)", strerror(-err)))
		return;
	check(uvmbus_kstub_pfn_count(buf + 10, 2 * PAGE) == 3, "library: pfn_count");
	err = uvmbus_kstub_register(k, buf + 10, 2 * PAGE, &a, pfns, 8, &n);
	check(err == 0 && n == 3 && pfns_match(buf + 10, pfns, 3),
	      "library: register 3 pages, pfns equal pagemap");
	if (huge) {
		err = uvmbus_kstub_register_2m(k, huge, HUGE, &b, &hpfn, 1, &n);
		check(err == 0 && n == 1 && hpfn == pagemap_pfn(huge),
		      "library: register_2m, pfn equals pagemap");
	}
	err = uvmbus_kstub_query(k, &u);
	check(err == 0 && u.regions == 2 && u.pinned_bytes == 3 * PAGE + HUGE && u.cap_ipc_lock &&
		  (long)u.quarantine_ms == module_param("quarantine_ms") &&
		  u.max_region_bytes >= HUGE,
	      "library: query regions %llu, pinned %llu bytes, quarantine %llu ms",
	      (unsigned long long)u.regions, (unsigned long long)u.pinned_bytes,
	      (unsigned long long)u.quarantine_ms);

	clear_log();
	err = uvmbus_kstub_register(k, buf, 4 * PAGE, &a, pfns, 2, &n);
	check(err == -ENOSPC && n == 4 && strstr(last, "4 needed"),
	      "library: small pfn array: ENOSPC, needs %zu, \"%s\"", n, last);
	clear_log();
	err = uvmbus_kstub_register_2m(k, buf, 4 * PAGE, &a, pfns, 8, &n);
	check(err == -EINVAL && strstr(last, "2 MiB"), "library: bad 2 MiB range: \"%s\"", last);
	clear_log();
	err = uvmbus_kstub_register(k, NULL, PAGE, &a, NULL, 0, NULL);
	check(err == -EFAULT && strstr(last, "not mapped writable"),
	      "library: unmapped range: EFAULT, \"%s\"", last);

	check(uvmbus_kstub_unregister(k, a) == 0 && (!huge || uvmbus_kstub_unregister(k, b) == 0),
	      "library: unregister");
	clear_log();
	err = uvmbus_kstub_unregister(k, a);
	check(err == -ENOENT && strstr(last, "no such region"),
	      "library: unregister twice: ENOENT, \"%s\"", last);
	check(uvmbus_kstub_query(k, &u) == 0 && u.regions == 0 && u.pinned_bytes == 0,
	      "library: nothing left registered");
	uvmbus_kstub_close(k);
	if (huge)
		munmap(huge, HUGE);
	munmap(buf, 8 * PAGE);
}
