/* azblob-bench --threads (threads.c). */
#ifndef BENCH_THREADS_H
#define BENCH_THREADS_H

/* Requests per second of no-op requests against the host published at
 * `root`: `nthreads` threads on their own queues of one client, total
 * queue depth qd; nthreads 0: the plain client on one thread. Client
 * threads are pinned on `cpu` (-1: not pinned). 0 or a negative errno. */
int bench_threads(const char *root, unsigned nthreads, unsigned qd, double warmup, double secs,
		  int cpu, double *rps);

#endif
