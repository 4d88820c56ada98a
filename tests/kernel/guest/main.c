/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * kstub_guest PHASE: the in-kernel test of uvmbus_kstub, run by init.sh.
 *   pre   before insmod: the library explains the missing module
 *   main  module loaded (short quarantine_ms): all module checks
 *   post  after rmmod: no pin left, no kernel warning in the log
 *   exit N  report N to QEMU's isa-debug-exit port (0xf4) and power off
 *           (arm64: print it and power off)
 * Exit status: number of failed checks (capped at 100).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
#else
#include <sys/reboot.h>
#endif
#include <sys/klog.h>
#include <unistd.h>

#include "guest.h"

#define DEBUG_EXIT_PORT 0xf4

#if defined(__x86_64__) || defined(__i386__)
static int guest_exit(int code)
{
	if (ioperm(DEBUG_EXIT_PORT, 4, 1) != 0) {
		perror("ioperm");
		return 1;
	}
	outb((unsigned char)code, DEBUG_EXIT_PORT);
	return 1; /* not reached when the device is there */
}
#else
/* No isa-debug-exit (arm64 virt): the console's "failures=N" line is the
 * verdict (run_qemu.sh); power off, QEMU exits. */
static int guest_exit(int code)
{
	printf("kstub_guest: exit %d\n", code);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	perror("reboot");
	return 1;
}
#endif

/* The whole kernel log must be free of warnings, oopses and traces. */
static void check_kernel_log(void)
{
	static const char *const bad[] = {
	    "WARNING:", "BUG:", "Oops", "Call Trace", "general protection", "uvmbus_kstub: bad"};
	static char log[1 << 20];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, sizeof(log) - 1);
	size_t i;

	if (!check(n > 0, "read the kernel log"))
		return;
	log[n] = 0;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *hit = strstr(log, bad[i]);

		if (!check(!hit, "kernel log has no \"%s\"", bad[i]))
			note("%.300s", hit);
	}
}

void test_post_unload(void)
{
	long acquired_minus_released = pins_outstanding();

	check(access("/sys/module/" MODNAME, F_OK) != 0, "module is gone");
	check(access(UVMBUS_KSTUB_DEV_PATH, F_OK) != 0, "device node is gone");
	check(acquired_minus_released == 0, "nr_foll_pin_acquired == nr_foll_pin_released (%ld)",
	      acquired_minus_released);
	check(meminfo("HugePages_Free") == meminfo("HugePages_Total"), "all hugepages free");
	check_kernel_log();
}

int main(int argc, char **argv)
{
	const char *phase = argc > 1 ? argv[1] : "";
	unsigned failed;

	if (strcmp(phase, "exit") == 0)
		return guest_exit(argc > 2 ? atoi(argv[2]) : 1);
	checks_init();
	printf("=== kstub_guest %s\n", phase);
	if (strcmp(phase, "pre") == 0) {
		test_library_no_module();
	} else if (strcmp(phase, "main") == 0) {
		test_version();
		test_pfns();
		test_errnos();
		test_memlock();
		test_concurrency();
		test_library();
		test_mem_kstub();
		test_filemap();
		test_quarantine();
	} else if (strcmp(phase, "post") == 0) {
		test_post_unload();
	} else {
		fprintf(stderr, "usage: kstub_guest pre|main|post|exit N\n");
		return 100;
	}
	failed = checks_failed();
	printf("=== kstub_guest %s: %u checks passed, %u failed\n", phase, checks_passed(), failed);
	return failed > 100 ? 100 : (int)failed;
}
