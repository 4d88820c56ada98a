// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The owner thread: the only thread that calls the libazblob client. Loop
 * threads queue jobs; the owner submits them, flushes once per batch,
 * polls, and wakes each job's thread from the completion callback. While
 * requests are out it busy-polls for a while (the fast path), then sleeps
 * on the client's interrupt fd in 1 ms steps; with nothing out it sleeps
 * on a condition variable until a job comes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuse_internal.h"

#define SPIN_NS 50000 /* busy-poll this long after the last completion */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Completion callback (owner thread, inside azblob_poll or a failed
 * submit): hand the result to the waiting loop thread. */
static void job_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct azcuse_job *j = user;
	struct azcuse *s = j->s;

	pthread_mutex_lock(&s->mu);
	j->err = err;
	j->status = status;
	j->response_len = len;
	j->done = true;
	s->inflight--;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Submit what is queued (mu held; dropped around the client calls). Stops
 * at -EAGAIN (slots or ring full): the job stays first in the queue. */
static void submit_queued(struct azcuse *s)
{
	struct azcuse_job *j;

	while ((j = s->head)) {
		int rc;

		s->inflight++; /* before the submit: a failure calls back at once */
		pthread_mutex_unlock(&s->mu);
		rc = azblob_submit(s->c, &j->r);
		pthread_mutex_lock(&s->mu);
		if (rc == -EAGAIN) {
			s->inflight--;
			return;
		}
		s->head = j->next;
		if (!s->head)
			s->tail = &s->head;
		if (rc) { /* refused: no callback comes */
			pthread_mutex_unlock(&s->mu);
			job_done(j, rc, 0, 0);
			pthread_mutex_lock(&s->mu);
		}
	}
}

static void *owner_main(void *arg)
{
	struct azcuse *s = arg;
	uint64_t last = now_ns();

	pthread_mutex_lock(&s->mu);
	while (!s->stop || s->inflight || s->head) {
		int n;

		submit_queued(s);
		pthread_mutex_unlock(&s->mu);
		azblob_flush(s->c);
		n = azblob_poll(s->c, 0);
		if (n > 0) {
			last = now_ns();
		} else if (azblob_inflight(s->c)) {
			if (now_ns() - last > SPIN_NS)
				azblob_wait(s->c, 1);
		}
		pthread_mutex_lock(&s->mu);
		if (n < 0 && s->head) {
			/* Rescinded or broken: what is queued fails the same way
			 * (what was in flight was called back by the library). */
			while (s->head) {
				struct azcuse_job *j = s->head;

				s->head = j->next;
				s->inflight++;
				pthread_mutex_unlock(&s->mu);
				job_done(j, n, 0, 0);
				pthread_mutex_lock(&s->mu);
			}
			s->tail = &s->head;
		}
		if (!s->inflight && !s->head && !s->stop)
			pthread_cond_wait(&s->work, &s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int azcuse_owner_start(struct azcuse *s)
{
	s->tail = &s->head;
	return -pthread_create(&s->owner, NULL, owner_main, s);
}

void azcuse_owner_stop(struct azcuse *s)
{
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->owner, NULL);
}

void azcuse_run_job(struct azcuse *s, struct azcuse_job *j)
{
	j->s = s;
	j->next = NULL;
	j->done = false;
	j->r.done = job_done;
	j->r.user = j;
	pthread_cond_init(&j->cv, NULL);
	pthread_mutex_lock(&s->mu);
	*s->tail = j;
	s->tail = &j->next;
	pthread_cond_signal(&s->work);
	while (!j->done)
		pthread_cond_wait(&j->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	pthread_cond_destroy(&j->cv);
}

int azcuse_run_staged(struct azcuse *s, struct azcuse_arena *ar, struct azcuse_job *j)
{
	azcuse_run_job(s, j);
	if (j->err != -ETIMEDOUT)
		return 0;
	/* The host may still write the arena: never reuse it. */
	atomic_fetch_add(&s->lost, 1);
	AZCUSE_LOG(s, UVMBUS_LOG_WARN, "cuse: request timed out; its staging arena is retired");
	azcuse_arena_put(s, ar, true);
	return -ETIMEDOUT;
}

struct azcuse_arena *azcuse_arena_get(struct azcuse *s, uint32_t timeout_ms)
{
	struct timespec until;
	struct azcuse_arena *got = NULL;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	for (;;) {
		for (unsigned i = 0; i < s->narenas && !got; i++)
			if (!s->arenas[i].busy && !s->arenas[i].lost)
				got = &s->arenas[i];
		if (got || pthread_cond_timedwait(&s->arena_cv, &s->mu, &until) == ETIMEDOUT)
			break;
	}
	if (got)
		got->busy = true;
	pthread_mutex_unlock(&s->mu);
	return got;
}

void azcuse_arena_put(struct azcuse *s, struct azcuse_arena *a, bool lost)
{
	pthread_mutex_lock(&s->mu);
	a->busy = false;
	a->lost = lost;
	if (!lost)
		pthread_cond_signal(&s->arena_cv);
	pthread_mutex_unlock(&s->mu);
}

static int take_arenas(struct azcuse *s)
{
	s->narenas = s->o.arenas ? s->o.arenas : 4;
	s->arenas = calloc(s->narenas, sizeof(*s->arenas));
	if (!s->arenas)
		return -ENOMEM;
	for (unsigned i = 0; i < s->narenas; i++) {
		s->arenas[i].base = azblob_alloc(s->c, AZCUSE_MAX_BYTES);
		if (!s->arenas[i].base || ((uintptr_t)s->arenas[i].base & (AZCUSE_PAGE - 1))) {
			AZCUSE_LOG(s, UVMBUS_LOG_ERR,
				   "cuse: staging arena %u of %u: the client needs a pool of "
				   "page-aligned 32 MiB buffers (azcuse_client_opts)",
				   i + 1, s->narenas);
			return -ENOMEM;
		}
	}
	return 0;
}

static void give_arenas(struct azcuse *s)
{
	for (unsigned i = 0; s->arenas && i < s->narenas; i++)
		if (s->arenas[i].base && !s->arenas[i].lost)
			azblob_free(s->c, s->arenas[i].base);
	free(s->arenas);
}

int azcuse_core_init(struct azcuse *s, struct azblob_client *c, const struct azcuse_opts *o)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->c = c;
	s->o = *o;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->arena_cv, NULL);
	rc = take_arenas(s);
	if (rc)
		azcuse_core_fini(s);
	return rc;
}

void azcuse_core_fini(struct azcuse *s)
{
	give_arenas(s);
	s->arenas = NULL;
	pthread_cond_destroy(&s->arena_cv);
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->mu);
}
