/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Concurrent register/unregister: threads sharing one open file, threads
 * racing to unregister the same id, and processes (own files, and a file
 * inherited across fork). Afterwards nothing may be left pinned or charged.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

#define THREADS 4
#define ITERS	150
#define PROCS	3

struct worker {
	pthread_t t;
	int fd;
	int index;
	unsigned errors;
};

/* Register/unregister ranges of 1..4 pages at varying offsets; verify the
 * first pfn of each against pagemap now and then. */
static unsigned churn(int fd, int index)
{
	char *buf = map_anon(8 * PAGE);
	unsigned errors = 0;
	uint64_t pfns[5];
	int i;

	for (i = 0; i < ITERS; i++) {
		size_t off = (size_t)((i * 7 + index * 13) % 4) * PAGE + (size_t)(i % 3) * 100;
		size_t len = (size_t)(i % 4 + 1) * PAGE - (size_t)(i % 2) * 50;
		uint32_t id;

		if (kreg(fd, buf + off, len, 0, pfns, 5, &id, NULL) != 0) {
			errors++;
			continue;
		}
		if (i % 16 == 0 && pfns[0] != pagemap_pfn(buf + off))
			errors++;
		if (kunreg(fd, id) != 0)
			errors++;
	}
	munmap(buf, 8 * PAGE);
	return errors;
}

static void *churn_thread(void *arg)
{
	struct worker *w = arg;

	w->errors = churn(w->fd, w->index);
	return NULL;
}

struct race {
	int fd;
	uint32_t id;
	int result;
	pthread_barrier_t *go;
};

static void *unreg_thread(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(r->go);
	r->result = kunreg(r->fd, r->id);
	return NULL;
}

static void threads_one_file(int fd)
{
	struct worker w[THREADS];
	unsigned errors = 0;
	int i;

	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.fd = fd, .index = i};
		pthread_create(&w[i].t, NULL, churn_thread, &w[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(w[i].t, NULL);
		errors += w[i].errors;
	}
	check(errors == 0, "threads: %d x %d register/unregister on one file, %u errors", THREADS,
	      ITERS, errors);
}

static void threads_race_unregister(int fd)
{
	char *buf = map_anon(PAGE);
	pthread_barrier_t go;
	unsigned bad = 0;
	int i, j;

	pthread_barrier_init(&go, NULL, 2);
	for (i = 0; i < 100; i++) {
		struct race r[2];
		pthread_t t[2];
		uint32_t id;

		if (kreg(fd, buf, PAGE, 0, NULL, 0, &id, NULL) != 0) {
			bad++;
			continue;
		}
		for (j = 0; j < 2; j++) {
			r[j] = (struct race){.fd = fd, .id = id, .go = &go};
			pthread_create(&t[j], NULL, unreg_thread, &r[j]);
		}
		for (j = 0; j < 2; j++)
			pthread_join(t[j], NULL);
		if (!((r[0].result == 0 && r[1].result == -ENOENT) ||
		      (r[1].result == 0 && r[0].result == -ENOENT)))
			bad++;
	}
	pthread_barrier_destroy(&go);
	munmap(buf, PAGE);
	check(bad == 0, "threads: 100 races to unregister one id: exactly one wins (%u bad)", bad);
}

static void processes(int inherited_fd)
{
	pid_t pid[PROCS + 1];
	unsigned ok = 0;
	int i, st;

	for (i = 0; i <= PROCS; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			/* The last child uses the parent's file, the others their own. */
			int fd = i < PROCS ? kopen() : inherited_fd;

			_exit(fd >= 0 && churn(fd, i) == 0 ? 0 : 1);
		}
	}
	for (i = 0; i <= PROCS; i++)
		if (pid[i] > 0 && waitpid(pid[i], &st, 0) == pid[i] && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0)
			ok++;
	check(ok == PROCS + 1, "processes: %d children (one on an inherited file) churned cleanly",
	      PROCS + 1);
}

void test_concurrency(void)
{
	long pins0 = pins_outstanding(), pin0 = vmpin_kib();
	struct uvmbus_kstub_query q;
	int fd = kopen(), err;

	if (!check(fd >= 0, "open for concurrency tests"))
		return;
	threads_one_file(fd);
	threads_race_unregister(fd);
	processes(fd);
	err = kquery(fd, &q);
	check(err == 0 && q.regions == 0 && q.pinned_pages == 0 && q.quarantined_regions == 0,
	      "concurrency: no region left (regions %llu, quarantined %llu)",
	      (unsigned long long)q.regions, (unsigned long long)q.quarantined_regions);
	check(pins_outstanding() == pins0 && vmpin_kib() == pin0,
	      "concurrency: pins and memlock back to start (pins %ld -> %ld)", pins0,
	      pins_outstanding());
	close(fd);
}
