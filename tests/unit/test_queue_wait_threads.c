/*
 * Queues asleep, under TSan: interrupt mode and a sleeping host; a driver
 * thread busy-polls its own queue (reaping everyone's answers) while two
 * threads submit one request at a time on their own queues and sleep in
 * azblob_queue_wait() until it is answered, QUEUE_WAIT_ROUNDS times each,
 * and a fourth thread allocates, frees, registers and reads the stats
 * meanwhile. A wait may never time out (a lost wake-up would: 20 s); each
 * answer comes exactly once, in its own thread. A plain program (TSan).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azblob.h>
#include <azblob/sim.h>

static struct azblob_client *c;
static atomic_bool stop;
static atomic_long failures;
static long rounds;

struct waiter {
	struct azblob_queue *q;
	pthread_t self;
	long calls;
};

static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct waiter *w = user;

	(void)len;
	if (err || status || !pthread_equal(pthread_self(), w->self))
		atomic_fetch_add(&failures, 1);
	w->calls++;
}

static void *waiter_run(void *arg)
{
	static const char head[] = "GET /$sim/noop HTTP/1.1\r\n\r\n";
	struct waiter *w = arg;
	char *req = azblob_alloc(c, sizeof(head)), *resp = azblob_alloc(c, 512);

	w->self = pthread_self();
	if (!req || !resp) {
		atomic_fetch_add(&failures, 1);
		return NULL;
	}
	memcpy(req, head, sizeof(head) - 1);
	for (long i = 0; i < rounds; i++) {
		struct azblob_request r = {.request = req,
					   .request_len = sizeof(head) - 1,
					   .response = resp,
					   .response_len = 512,
					   .done = on_done,
					   .user = w};

		if (azblob_queue_submit(w->q, &r) || azblob_queue_flush(w->q)) {
			atomic_fetch_add(&failures, 1);
			break;
		}
		while (w->calls == i) {
			int rc = azblob_queue_wait(w->q, 20000);

			if (rc != 1) {
				fprintf(stderr, "queue_wait_threads: wait returned %d\n", rc);
				atomic_fetch_add(&failures, 1);
				return NULL;
			}
			azblob_queue_poll(w->q, 0);
		}
	}
	azblob_free(c, req);
	azblob_free(c, resp);
	return NULL;
}

static void *driver_run(void *arg)
{
	struct azblob_queue *q = arg;

	while (!atomic_load(&stop))
		azblob_queue_poll(q, 0);
	return NULL;
}

static void *memory_run(void *arg)
{
	static char plain[8192];

	(void)arg;
	while (!atomic_load(&stop)) {
		struct azblob_stats st;
		void *p = azblob_alloc(c, 128);

		azblob_free(c, p);
		azblob_get_stats(c, &st);
		if (azblob_register(c, plain, sizeof(plain)) == 0)
			azblob_unregister(c, plain);
	}
	return NULL;
}

int main(void)
{
	const char *env = getenv("QUEUE_WAIT_ROUNDS");
	struct azblob_sim_opts so;
	struct azblob_sim *sim;
	struct azblob_opts o;
	struct azblob_queue *dq;
	struct waiter w[2] = {0};
	pthread_t tw[2], td, tm;

	rounds = env ? atol(env) : 2000;
	azblob_sim_opts_init(&so);
	so.ram_bytes = 64u << 20;
	so.no_hugetlb = true;
	if (azblob_sim_create(&sim, &so) || azblob_sim_start(sim))
		return 1;
	azblob_opts_init(&o);
	o.sim_root = azblob_sim_root(sim);
	o.queue_depth = 8;
	o.pool_bufs = 16;
	o.interrupt_mode = true;
	if (azblob_open(&c, &o) || azblob_queue_create(c, 2, &dq) ||
	    azblob_queue_create(c, 1, &w[0].q) || azblob_queue_create(c, 1, &w[1].q))
		return 1;
	pthread_create(&td, NULL, driver_run, dq);
	pthread_create(&tm, NULL, memory_run, NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&tw[i], NULL, waiter_run, &w[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(tw[i], NULL);
	atomic_store(&stop, true);
	pthread_join(td, NULL);
	pthread_join(tm, NULL);
	int ok = !atomic_load(&failures) && w[0].calls == rounds && w[1].calls == rounds;

	for (int i = 0; i < 2; i++)
		ok = ok && azblob_queue_destroy(w[i].q) == 0;
	ok = ok && azblob_queue_destroy(dq) == 0 && azblob_close(c) == 0;
	azblob_sim_destroy(sim);
	printf("queue_wait_threads: 2 sleeping queues x %ld requests, %ld failures: %d passed, "
	       "%d failed\n",
	       rounds, atomic_load(&failures), ok, !ok);
	return ok ? 0 : 1;
}
