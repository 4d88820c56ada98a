/*
 * azblob-bench --modes cost: instructions per request, deterministically.
 * One thread runs the client and a stepped host (azblob_sim_step(), no sim
 * thread; the null host, or with --host sim the normal one): per round it
 * submits QD requests, flushes, steps the host once (every request
 * answered), and polls until all QD came back. Each phase is counted on
 * its own: the client's (submit, flush, poll with its callbacks), then
 * the host's steps (in runs of their own, so the client's figures are
 * the client's alone).
 *
 * The counter: this machine has no PMU in user space, so the benchmark
 * re-executes itself under `valgrind --tool=callgrind --collect-atstart=no`
 * (the hidden first argument --cost-child) and toggles collection around
 * each counted call (CALLGRIND_TOGGLE_COLLECT); after the rounds of one
 * phase it dumps (CALLGRIND_DUMP_STATS_AT, the point and the request count
 * in the dump's name) and zeroes. The parent reads the dumps' totals (Ir)
 * and divides by the requests.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_CALLGRIND_H
#include <valgrind/callgrind.h> /* includes valgrind.h: RUNNING_ON_VALGRIND */
#else				/* built without valgrind's headers: cost_measure() says so */
#define CALLGRIND_TOGGLE_COLLECT      ((void)0)
#define CALLGRIND_ZERO_STATS	      ((void)0)
#define CALLGRIND_DUMP_STATS_AT(name) ((void)(name))
#define RUNNING_ON_VALGRIND	      0
#endif

#include <azblob.h>
#include <azblob/sim.h>

#include "cost.h"

/* The library's poll itself: azblob-bench links with --wrap=azblob_poll
 * for the get point (cost_get.c); the no-op rounds count no wrapper. */
int __real_azblob_poll(struct azblob_client *c, unsigned max);

#define COST_DATA  65536u /* the large request: one registered (pool) buffer */
#define COST_MAXQD 1024u

static const char *const phase_name[COST_PHASES] = {"submit", "flush", "poll", "host"};

/* ---- the child: runs under callgrind ---- */

static unsigned long answered;
static struct azblob_prep **preps; /* --api prepared: one template per request of a round */
static uint64_t host_ns;	   /* the host phase's steps, timed (outside valgrind) */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void cost_done(void *user, int err, uint32_t status, uint32_t len)
{
	(void)user;
	(void)len;
	if (!err && !status)
		answered++;
}

/* One round at queue depth qd; `phase` (or -1) is counted. 0 or -1. */
static int cost_round(struct azblob_client *c, struct azblob_sim *sim,
		      const struct azblob_request *rq, unsigned qd, int phase)
{
	unsigned long want = answered + qd;

	for (unsigned i = 0; i < qd; i++) {
		int rc;

		if (phase == 0)
			CALLGRIND_TOGGLE_COLLECT;
		rc = preps
			 ? azblob_prep_submit(c, preps[i], AZBLOB_PREP_SAME, AZBLOB_PREP_SAME, NULL)
			 : azblob_submit(c, &rq[i]);
		if (phase == 0)
			CALLGRIND_TOGGLE_COLLECT;
		if (rc)
			return -1;
	}
	if (phase == 1)
		CALLGRIND_TOGGLE_COLLECT;
	int rc = azblob_flush(c);

	if (phase == 1)
		CALLGRIND_TOGGLE_COLLECT;
	if (rc)
		return -1;
	for (int spins = 0; answered < want; spins++) {
		if (spins > 1000000)
			return -1;
		uint64_t h0 = phase == 3 ? mono_ns() : 0;

		if (phase == 3)
			CALLGRIND_TOGGLE_COLLECT;
		rc = azblob_sim_step(sim);
		if (phase == 3) {
			CALLGRIND_TOGGLE_COLLECT;
			host_ns += mono_ns() - h0;
		}
		if (rc < 0)
			return -1;
		if (phase == 2)
			CALLGRIND_TOGGLE_COLLECT;
		rc = __real_azblob_poll(c, 0);
		if (phase == 2)
			CALLGRIND_TOGGLE_COLLECT;
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* --api prepared: the round's requests as templates (the old ones destroyed). */
static int make_preps(struct azblob_client *c, const struct azblob_request *rq, unsigned qd)
{
	for (unsigned i = 0; i < qd; i++) {
		azblob_prep_destroy(preps[i]);
		preps[i] = NULL;
		if (azblob_prep_create(c, &rq[i], &preps[i]))
			return -1;
	}
	return 0;
}

static int cost_child(const unsigned *qds, unsigned nqd, unsigned long reqs, bool null_host,
		      bool prepared)
{
	struct azblob_sim_opts so;
	struct azblob_sim *sim;
	struct azblob_opts o;
	struct azblob_client *c = NULL;
	char root[96], head[64];
	unsigned maxqd = 1;
	int rc;

	for (unsigned i = 0; i < nqd; i++)
		maxqd = qds[i] > maxqd ? qds[i] : maxqd;
	snprintf(root, sizeof(root), "/dev/shm/azblob-bench-%d-cost", (int)getpid());
	azblob_sim_opts_init(&so);
	so.root = root;
	so.backend = null_host ? "null" : NULL; /* NULL: the memory backend */
	so.poll = true;
	so.no_hugetlb = true;
	so.ram_bytes =
	    ((64ull << 20) + (uint64_t)(COST_DATA + 8192) * (maxqd + 4) + (2u << 20) - 1) &
	    ~((2ull << 20) - 1);
	rc = azblob_sim_create(&sim, &so);
	if (rc) {
		fprintf(stderr, "azblob-bench: cost: no simulator: %s\n", strerror(-rc));
		return 1;
	}
	/* the client's open waits for the host's hello: serve from a thread
	 * until then, then step in this one */
	rc = azblob_sim_start(sim);
	if (rc) {
		azblob_sim_destroy(sim);
		return 1;
	}
	azblob_opts_init(&o);
	o.sim_root = root;
	o.queue_depth = maxqd;
	o.pool_buf_size = COST_DATA > 512 * maxqd ? COST_DATA : 512 * maxqd;
	o.pool_bufs = maxqd + 4;
	rc = azblob_open(&c, &o);
	azblob_sim_join(sim);
	if (rc) {
		fprintf(stderr, "azblob-bench: cost: open: %s\n", strerror(-rc));
		azblob_sim_destroy(sim);
		return 1;
	}
	char *req = azblob_alloc(c, 128), *resp = azblob_alloc(c, 512 * maxqd);
	struct azblob_request *rq = calloc(maxqd, sizeof(*rq));
	uint8_t **data = calloc(maxqd, sizeof(*data));
	uint64_t *round_ns = calloc(reqs, sizeof(*round_ns)); /* rounds <= reqs */

	if (prepared)
		preps = calloc(maxqd, sizeof(*preps));
	rc = !req || !resp || !rq || !data || !round_ns || (prepared && !preps);
	for (unsigned i = 0; !rc && i < maxqd; i++)
		rc = !(data[i] = azblob_alloc(c, COST_DATA));
	for (unsigned qi = 0; !rc && qi < nqd; qi++) {
		unsigned qd = qds[qi];

		for (uint32_t size = 0; !rc && size <= COST_DATA; size += COST_DATA) {
			unsigned long rounds = (reqs + qd - 1) / qd;

			snprintf(head, sizeof(head), "%s HTTP/1.1\r\n\r\n",
				 size ? "POST /$sim/echo" : "GET /$sim/noop");
			memcpy(req, head, strlen(head));
			for (unsigned i = 0; i < qd; i++)
				rq[i] = (struct azblob_request){
				    .request = req,
				    .request_len = (uint32_t)strlen(head),
				    .response = resp + 512 * i,
				    .response_len = 512,
				    .data = size ? data[i] : NULL,
				    .data_len = size,
				    .data_valid = size,
				    .done = cost_done,
				};
			if (preps)
				rc = make_preps(c, rq, qd);
			/* warm-up: caches, the slot ring, the host's TX mask */
			for (unsigned long r = 0; !rc && r < 16 + rounds / 8; r++)
				rc = cost_round(c, sim, rq, qd, -1);
			for (int ph = 0; !rc && ph < COST_PHASES; ph++) {
				char name[96];

				CALLGRIND_ZERO_STATS;
				for (unsigned long r = 0; !rc && r < rounds; r++) {
					host_ns = 0;
					rc = cost_round(c, sim, rq, qd, ph);
					if (ph == 3)
						round_ns[r] = host_ns;
				}
				/* Run without valgrind (azblob-bench --cost-child QD
				 * REQUESTS HOST): the host's time per request, the
				 * median round (a preempted round does not move it). */
				if (ph == 3 && !rc && !RUNNING_ON_VALGRIND) {
					qsort(round_ns, rounds, sizeof(*round_ns), u64_cmp);
					printf("qd %u size %u: host %.1f ns/request (median of %lu "
					       "rounds)\n",
					       qd, size, (double)round_ns[rounds / 2] / qd, rounds);
				}
				snprintf(name, sizeof(name), "cost:%u:%u:%s:%lu", qd, size,
					 phase_name[ph], rounds * qd);
				CALLGRIND_DUMP_STATS_AT(name);
			}
		}
	}
	if (rc)
		fprintf(stderr, "azblob-bench: cost: a request failed\n");
	for (unsigned i = 0; preps && i < maxqd; i++)
		azblob_prep_destroy(preps[i]);
	free(preps);
	azblob_close(c);
	azblob_sim_destroy(sim);
	free(rq);
	free(data);
	free(round_ns);
	return rc ? 1 : 0;
}

int cost_child_main(int argc, char **argv)
{
	unsigned qds[32], n = 0;
	unsigned long reqs;

	bool get = argc == 6 && !strcmp(argv[4], "get");

	if (argc != 6 || (strcmp(argv[4], "null") && strcmp(argv[4], "sim") && !get) ||
	    (!get && strcmp(argv[5], "plain") && strcmp(argv[5], "prepared")))
		return 2;
	reqs = strtoul(argv[3], NULL, 10);
	for (char *save = NULL, *t = strtok_r(argv[2], ",", &save); t && n < 32;
	     t = strtok_r(NULL, ",", &save))
		qds[n++] = (unsigned)strtoul(t, NULL, 10);
	for (unsigned i = 0; i < n; i++)
		if (!qds[i] || qds[i] > COST_MAXQD)
			return 2;
	if (!n || !reqs)
		return 2;
	if (get)
		return cost_get_child(qds, n, (uint32_t)strtoul(argv[5], NULL, 10));
	return cost_child(qds, n, reqs, !strcmp(argv[4], "null"), !strcmp(argv[5], "prepared"));
}

/* ---- the parent: runs the child under callgrind, reads its dumps ---- */

static int read_dump(const char *path, struct cost_point *pts, unsigned *npts, unsigned cap)
{
	FILE *f = fopen(path, "r");
	char line[512], name[128] = "";
	unsigned long long total = 0;
	bool have_total = false;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "Client Request: cost:");

		if (!strncmp(line, "desc: Trigger:", 14) && p)
			snprintf(name, sizeof(name), "%s", p + strlen("Client Request: "));
		else if (sscanf(line, "totals: %llu", &total) == 1 ||
			 sscanf(line, "summary: %llu", &total) == 1)
			have_total = true;
	}
	fclose(f);
	if (!name[0] || !have_total)
		return 0; /* the dump at exit, or not ours */

	unsigned qd, size;
	unsigned long reqs;
	char phase[16];

	if (sscanf(name, "cost:%u:%u:%15[a-z0-9]:%lu", &qd, &size, phase, &reqs) != 4 || !reqs)
		return -1;
	unsigned i = 0;

	while (i < *npts && !(pts[i].qd == qd && pts[i].size == size))
		i++;
	if (i == *npts) {
		if (*npts == cap)
			return -1;
		memset(&pts[i], 0, sizeof(pts[i]));
		pts[i].qd = qd;
		pts[i].size = size;
		(*npts)++;
	}
	if (!strcmp(phase, "get1") || !strcmp(phase, "get2")) {
		int k = phase[3] - '1';

		pts[i].get_total[k] = (double)total;
		pts[i].get_n[k] = reqs;
		pts[i].have |= 1u << (COST_PHASES + k);
	}
	for (int ph = 0; ph < COST_PHASES; ph++)
		if (!strcmp(phase, phase_name[ph])) {
			pts[i].ins[ph] = (double)total / (double)reqs;
			pts[i].requests = reqs;
			pts[i].have |= 1u << ph;
		}
	return 0;
}

static int point_cmp(const void *a, const void *b)
{
	const struct cost_point *x = a, *y = b;

	if (x->qd != y->qd)
		return x->qd < y->qd ? -1 : 1;
	return x->size < y->size ? -1 : x->size > y->size;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* The per-Get figure of a get point: the cost of the N2 - N1 more ranged
 * Gets of the larger download, each; and what the smaller download cost
 * besides its N1 Gets (its Get Blob Properties, the engine's set-up). */
static int get_figures(struct cost_point *p)
{
	if (p->get_n[1] <= p->get_n[0])
		return -1;
	p->get_per_req = (p->get_total[1] - p->get_total[0]) / (double)(p->get_n[1] - p->get_n[0]);
	p->get_overhead = p->get_total[0] - p->get_per_req * (double)p->get_n[0];
	p->requests = p->get_n[0] + p->get_n[1];
	return 0;
}

int cost_measure(const char *self, const char *host, const char *api, const unsigned *qds,
		 unsigned nqd, unsigned long reqs, struct cost_point *pts, unsigned cap,
		 unsigned *npts)
{
	char dir[] = "/tmp/azblob-cost-XXXXXX", out[128], qlist[256] = "", nreq[32];
	int status, rc = -1;
	size_t used = 0;
	pid_t pid;

	*npts = 0;
#ifndef HAVE_CALLGRIND_H
	fprintf(stderr, "azblob-bench: built without valgrind/callgrind.h: no cost mode "
			"(scripts/deps.sh test installs valgrind)\n");
	return -1;
#endif
	if (!mkdtemp(dir))
		return -1;
	for (unsigned i = 0; i < nqd; i++)
		used += (size_t)snprintf(qlist + used, sizeof(qlist) - used, "%s%u", i ? "," : "",
					 qds[i]);
	snprintf(out, sizeof(out), "--callgrind-out-file=%s/cg.out", dir);
	snprintf(nreq, sizeof(nreq), "%lu", reqs);
	pid = fork();
	if (pid == 0) {
		const char *argv[] = {"valgrind",
				      "--tool=callgrind",
				      "--collect-atstart=no",
				      "-q",
				      out,
				      self,
				      "--cost-child",
				      qlist,
				      nreq,
				      host,
				      api,
				      NULL};

		execvp(argv[0], (char *const *)argv);
		fprintf(stderr,
			"azblob-bench: cost mode needs valgrind (callgrind): %s "
			"(scripts/deps.sh test installs it)\n",
			strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		goto out;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 127)
			fprintf(stderr, "azblob-bench: the cost run under callgrind failed\n");
		goto out;
	}
	DIR *d = opendir(dir);
	struct dirent *e;

	rc = d ? 0 : -1;
	while (d && !rc && (e = readdir(d))) {
		char path[512];

		if (strncmp(e->d_name, "cg.out", 6))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		rc = read_dump(path, pts, npts, cap);
	}
	if (d)
		closedir(d);
	for (unsigned i = 0; !rc && i < *npts; i++)
		if (pts[i].have == COST_GET_BITS)
			rc = get_figures(&pts[i]);
		else if (pts[i].have != (1u << COST_PHASES) - 1)
			rc = -1;
	if (!rc && !*npts)
		rc = -1;
	if (!rc)
		qsort(pts, *npts, sizeof(*pts), point_cmp);
	if (rc)
		fprintf(stderr, "azblob-bench: cannot read the callgrind dumps in %s\n", dir);
out:
	remove_dir(dir);
	return rc;
}

int cost_measure_get(const char *self, const unsigned *qds, unsigned nqd, uint32_t size,
		     struct cost_point *pts, unsigned cap, unsigned *npts)
{
	char sz[16];

	snprintf(sz, sizeof(sz), "%u", size);
	return cost_measure(self, "get", sz, qds, nqd, 1, pts, cap, npts);
}
