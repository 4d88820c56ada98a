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
 */
#include <fcntl.h>
#include <linux/falloc.h>
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
	char text[8192], line[128];
	int status;
	struct bh h;
	pid_t a, b;
	FILE *m;

	BH_CHECK(argc == 2, "usage: %s AZBLOBD", argv[0]);
	m = fopen("/proc/meminfo", "re");
	while (m && fgets(line, sizeof(line), m))
		if (!strncmp(line, "HugePages_Free:", 15))
			printf("arenas: %s", strtol(line + 15, NULL, 10)
						 ? "hugetlb where one fits\n"
						 : "shmem (no free huge page)\n");
	if (m)
		fclose(m);
	fflush(stdout);
	bh_start(&h, argv[1], NULL, &f);
	b = bh_spawn(other, &h);
	a = bh_spawn(puncher, &h);
	BH_CHECK(waitpid(a, &status, 0) == a && WIFEXITED(status) && !WEXITSTATUS(status),
		 "the puncher failed (%#x)", status);
	BH_CHECK(waitpid(b, &status, 0) == b && WIFEXITED(status) && !WEXITSTATUS(status),
		 "the other client failed (%#x)", status);
	BH_CHECK(waitpid(h.pid, &status, WNOHANG) == 0, "azblobd died (%#x)", status);
	BH_CHECK(!bh_wait_idle(&h, 10000), "sessions not freed");
	bh_stats(&h, text, sizeof(text));
	printf("at the end:\n%s", text);
	BH_CHECK(bh_num(text, "arenas") == 0, "no arena left");
	status = bh_stop(&h);
	BH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "azblobd exit %#x", status);
	printf("ok\n");
	return 0;
}
