// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_arena_punch: a client punches holes (fallocate PUNCH_HOLE) in its
 * own arena, and at the end in its rings, while its echoes are out at a
 * slow host (200 ms). The daemon must neither crash (a read of a hole is
 * a SIGBUS on a hugetlb arena with no free huge page) nor stall, and a
 * second client's echoes come back intact and in time meanwhile. With the
 * daemon's seal (F_SEAL_FUTURE_WRITE once the client has mapped its
 * memory: at its first request) the punches are refused with EPERM from
 * then on (a few may go through before the daemon has read that request:
 * the holes are filled again at the seal); the test prints how many went
 * through and how many were refused, and which memory the arenas were
 * (hugetlb when huge pages are free).
 *
 * --hugetlb (cuse_qemu runs it in its guest, with huge pages reserved
 * there): the arenas are hugetlb, and the puncher, its echoes out, punches
 * its arena and takes every free huge page: without the seal the daemon's
 * copy of the answers into the hole is a SIGBUS, and the daemon dies with
 * every session. Exit 77 without 6 free huge pages.
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "harness.h"

#define QD     8
#define DATA   65536u
#define ROUNDS 5
static void submit(struct azblob_client *c, struct bh_req *o, uint8_t pattern)
{
	BH_CHECK(bh_submit(c, o, DATA, pattern) == 0, "submit");
}

static struct azblob_client *open_client(const struct bh *h, struct bh_req *o)
{
	struct azblob_client *c = bh_client(h, QD, DATA + 8192);

	bh_alloc(c, o, QD, DATA);
	return c;
}

/* This process's memfd named `name` (the daemon's arena or rings). */
static int find_memfd(const char *name)
{
	char path[64], target[256];

	for (int fd = 3; fd < 1024; fd++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strstr(target, name))
			return fd;
	}
	return -1;
}

/* A file this process maps (the rings, whose fd the library closed after
 * mapping them), opened again through /proc/self/map_files (root). */
static int find_mapped(const char *name)
{
	char line[512], path[128];
	unsigned long lo, hi;
	int fd = -1;
	FILE *f = fopen("/proc/self/maps", "re");

	while (f && fd < 0 && fgets(line, sizeof(line), f))
		if (strstr(line, name) && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", lo, hi);
			fd = open(path, O_RDWR | O_CLOEXEC);
		}
	if (f)
		fclose(f);
	return fd;
}

static int punch(int fd, int *ok, int *refused)
{
	struct stat st;
	int rc;

	BH_CHECK(fstat(fd, &st) == 0, "fstat");
	rc = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, st.st_size);
	if (rc == 0)
		(*ok)++;
	else
		(*refused)++;
	return rc ? errno : 0;
}

/* The puncher: rounds of 8 echoes, its arena punched whole while they are
 * out; every request answered (its data is its own business). */
static int puncher(const struct bh *h)
{
	struct bh_req o[QD];
	struct azblob_client *c = open_client(h, o);
	int arena = find_memfd("azblobd-arena"), rings = find_mapped("azblobd-rings");
	int ok = 0, refused = 0, ring_ok = 0, ring_refused = 0, last = 0, ok_first = 0;

	BH_CHECK(arena >= 0 && rings >= 0, "the session's memfds in this process");
	for (int round = 0; round < ROUNDS; round++) {
		uint64_t t0 = bh_now_ns();

		for (int i = 0; i < QD; i++)
			submit(c, &o[i], (uint8_t)(0x40 + round));
		azblob_flush(c);
		for (int i = 0; i < QD; i++)
			while (!o[i].done) {
				last = punch(arena, &ok, &refused);
				if (azblob_poll(c, 0) == 0)
					azblob_wait(c, 5);
				BH_CHECK(bh_now_ns() - t0 < 10000000000ull,
					 "puncher: round %d not answered in 10 s", round);
			}
		for (int i = 0; i < QD; i++)
			BH_CHECK(!o[i].err, "puncher: request %d: err %d", i, o[i].err);
		if (round == 0)
			ok_first = ok;
	}
	printf("puncher: arena punched whole %d time(s), refused %d time(s) (last: %s)\n", ok,
	       refused, last ? strerror(last) : "done");
	/* Sealed at its first request: nothing punched after the first round. */
	BH_CHECK(ok == ok_first && last == EPERM,
		 "puncher: %d punch(es) after the first round went through", ok - ok_first);
	/* Its rings last: at worst its own session ends. */
	for (int i = 0; i < QD; i++)
		submit(c, &o[i], 0x7f);
	azblob_flush(c);
	last = punch(rings, &ring_ok, &ring_refused);
	printf("puncher: rings punched %d time(s), refused %d (%s)\n", ring_ok, ring_refused,
	       last ? strerror(last) : "done");
	for (int i = 0; i < QD; i++) {
		uint64_t t0 = bh_now_ns();

		while (!o[i].done && bh_now_ns() - t0 < 5000000000ull)
			if (azblob_poll(c, 0) <= 0)
				azblob_wait(c, 5);
	}
	fflush(stdout);
	azblob_close(c);
	return 0;
}

/* Free huge pages (HugePages_Free), or -1. */
static long huge_free(void)
{
	char line[128];
	long n = -1;
	FILE *m = fopen("/proc/meminfo", "re");

	while (m && fgets(line, sizeof(line), m))
		if (!strncmp(line, "HugePages_Free:", 15))
			n = strtol(line + 15, NULL, 10);
	if (m)
		fclose(m);
	return n;
}

/* --hugetlb: the attack on a hugetlb arena. Its echoes are out (copied
 * into the daemon's pool already), it punches its arena and takes every
 * free huge page itself: the daemon's copy of the answers back into the
 * arena would find a hole and no page to fill it (SIGBUS) but for the
 * seal. */
static int puncher_huge(const struct bh *h)
{
	struct bh_req o[QD];
	struct azblob_client *c = open_client(h, o);
	int arena = find_memfd("azblobd-arena"), ok = 0, refused = 0, err, hog;
	long n;

	BH_CHECK(arena >= 0, "the arena's memfd in this process");
	for (int i = 0; i < QD; i++)
		submit(c, &o[i], 0x40);
	azblob_flush(c);
	bh_sleep_ms(50); /* at the host */
	err = punch(arena, &ok, &refused);
	n = huge_free();
	hog = memfd_create("hog", MFD_HUGETLB | MFD_CLOEXEC);
	BH_CHECK(hog >= 0 && !ftruncate(hog, (off_t)n << 21) &&
		     (n == 0 || mmap(NULL, (size_t)n << 21, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_POPULATE, hog, 0) != MAP_FAILED),
		 "take the %ld free huge pages", n);
	printf("puncher (hugetlb): arena punch: %s; took the %ld free huge page(s): %ld left\n",
	       err ? strerror(err) : "done", n, huge_free());
	fflush(stdout);
	for (int i = 0; i < QD; i++) {
		uint64_t t0 = bh_now_ns();

		while (!o[i].done && bh_now_ns() - t0 < 5000000000ull)
			if (azblob_poll(c, 0) <= 0)
				azblob_wait(c, 5);
		BH_CHECK(o[i].done && !o[i].err, "puncher: request %d: done %d err %d", i,
			 o[i].done, o[i].err);
	}
	azblob_close(c);
	return 0;
}

/* The other client: rounds of echoes, each with its own pattern, each
 * back intact within a bound. */
static int other(const struct bh *h)
{
	struct bh_req o[QD];
	struct azblob_client *c = open_client(h, o);

	for (int round = 0; round < 2 * ROUNDS; round++) {
		uint64_t t0 = bh_now_ns();

		for (int i = 0; i < QD; i++)
			submit(c, &o[i], (uint8_t)(round * QD + i + 1));
		azblob_flush(c);
		for (int i = 0; i < QD; i++)
			bh_expect_echo(c, &o[i], DATA, (uint8_t)(round * QD + i + 1),
				       "other: echo");
		BH_CHECK(bh_now_ns() - t0 < 5000000000ull, "other: round %d took over 5 s", round);
	}
	BH_CHECK(azblob_close(c) == 0, "close");
	printf("other client: %d rounds of %d echoes intact\n", 2 * ROUNDS, QD);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct azblob_sim_faults f = {.delay_us = 200000};
	char text[8192];
	int status, sa, sb;
	struct bh h;
	pid_t a, b;
	bool huge;

	BH_CHECK(argc == 2 || (argc == 3 && !strcmp(argv[2], "--hugetlb")),
		 "usage: %s AZBLOBD [--hugetlb]", argv[0]);
	huge = argc == 3;
	printf("arenas: %s (%ld free huge pages)\n",
	       huge_free() > 0 ? "hugetlb where one fits" : "shmem", huge_free());
	if (huge && huge_free() < 6) {
		printf("skipped: --hugetlb needs 6 free huge pages (2 arenas of 6 MiB)\n");
		return 77;
	}
	fflush(stdout);
	bh_start(&h, argv[1], NULL, &f);
	b = bh_spawn(other, &h);
	a = bh_spawn(huge ? puncher_huge : puncher, &h);
	waitpid(a, &sa, 0);
	waitpid(b, &sb, 0);
	if (waitpid(h.pid, &status, WNOHANG) == h.pid)
		BH_FAIL("azblobd died: %s",
			WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited");
	BH_CHECK(WIFEXITED(sa) && !WEXITSTATUS(sa), "the puncher failed (%#x)", sa);
	BH_CHECK(WIFEXITED(sb) && !WEXITSTATUS(sb), "the other client failed (%#x)", sb);
	BH_CHECK(!bh_wait_idle(&h, 10000), "sessions not freed");
	bh_stats(&h, text, sizeof(text));
	printf("at the end:\n%s", text);
	BH_CHECK(bh_num(text, "arenas") == 0, "no arena left");
	status = bh_stop(&h);
	BH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "azblobd exit %#x", status);
	printf("ok\n");
	return 0;
}
