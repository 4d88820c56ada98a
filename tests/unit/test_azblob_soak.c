/*
 * Soak: SOAK_REQUESTS random requests (no-op, echo with data, put/get of
 * self-checking blobs) at random queue depths while the simulator injects
 * random faults (delays, duplicates, unknown ids, oversized responses,
 * dropped answers, pauses). Every request must complete exactly once; the
 * simulator checks that no response/data buffer is handed to it again
 * while an earlier request may still write it (buffers are freed in the
 * callback, even after -ETIMEDOUT: the library must defer that); no leak
 * (ASan), no race (TSan: a plain program for that reason).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azblob.h>
#include <azblob/sim.h>

#define MAX_QD	 64
#define KEYS	 16
#define BLOB_MAX 6000

struct soak {
	struct azblob_client *c;
	uint8_t *seen; /* callbacks per request */
	long done, errors, timeouts, proto, bad_blob;
	uint64_t rng;
};

struct req_ctx {
	struct soak *s;
	long idx;
	int kind; /* 0 noop, 1 echo, 2 put, 3 get */
	char *req, *resp;
	uint8_t *data;
	uint32_t data_len;
};

static uint64_t rnd(struct soak *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

/* A blob that checks itself: [u32 len][u32 key][bytes f(key, len, i)]. */
static void fill_blob(uint8_t *b, uint32_t len, uint32_t key)
{
	memcpy(b, &len, 4);
	memcpy(b + 4, &key, 4);
	for (uint32_t i = 8; i < len; i++)
		b[i] = (uint8_t)(key * 31 + len * 7 + i);
}

static bool blob_ok(const uint8_t *b, uint32_t got, uint32_t key)
{
	uint32_t len, k;

	if (got < 8)
		return false;
	memcpy(&len, b, 4);
	memcpy(&k, b + 4, 4);
	if (len != got || k != key)
		return false;
	for (uint32_t i = 8; i < len; i++)
		if (b[i] != (uint8_t)(key * 31 + len * 7 + i))
			return false;
	return true;
}

static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct req_ctx *x = user;
	struct soak *s = x->s;

	s->seen[x->idx]++;
	s->done++;
	if (err == -ETIMEDOUT)
		s->timeouts++;
	else if (err == -EPROTO)
		s->proto++;
	else if (err || status)
		s->errors++;
	if (!err && !status && x->kind == 3 && strstr(x->resp, " 200 OK")) {
		const char *cl = strstr(x->resp, "Content-Length: ");
		unsigned key;

		if (!cl || sscanf(x->req, "GET /soak/k%u", &key) != 1 ||
		    !blob_ok(x->data, (uint32_t)atoi(cl + 16), key))
			s->bad_blob++;
	}
	(void)len;
	/* Freed here whatever happened: after -ETIMEDOUT the library must keep
	 * the memory away from the pool until the host is done with it. */
	azblob_free(s->c, x->req);
	azblob_free(s->c, x->resp);
	azblob_free(s->c, x->data);
	free(x);
}

static int submit_one(struct soak *s, long idx)
{
	struct req_ctx *x = calloc(1, sizeof(*x));
	uint32_t key = (uint32_t)(rnd(s) % KEYS);
	int rc;

	x->s = s;
	x->idx = idx;
	x->kind = (int)(rnd(s) % 4);
	x->req = azblob_alloc(s->c, 256);
	x->resp = azblob_alloc(s->c, 1024);
	if (!x->req || !x->resp) {
		azblob_free(s->c, x->req);
		azblob_free(s->c, x->resp);
		free(x);
		return -EAGAIN; /* pool exhausted by held buffers: reap first */
	}
	struct azblob_request r = {.request = x->req,
				   .response = x->resp,
				   .response_len = 1024,
				   .timeout_ms = 300,
				   .done = on_done,
				   .user = x};

	switch (x->kind) {
	case 0:
		strcpy(x->req, "GET /$sim/noop HTTP/1.1\r\n\r\n");
		break;
	case 1:
	case 2:
		x->data_len = 8 + (uint32_t)(rnd(s) % (BLOB_MAX - 8));
		x->data = azblob_alloc(s->c, BLOB_MAX);
		if (!x->data)
			break;
		fill_blob(x->data, x->data_len, key);
		if (x->kind == 1)
			strcpy(x->req, "POST /$sim/echo HTTP/1.1\r\n\r\n");
		else
			snprintf(x->req, 256, "PUT /soak/k%u HTTP/1.1\r\n\r\n", key);
		r.data = x->data;
		r.data_len = r.data_valid = x->data_len;
		break;
	default:
		x->data = azblob_alloc(s->c, BLOB_MAX);
		snprintf(x->req, 256, "GET /soak/k%u HTTP/1.1\r\n\r\n", key);
		r.data = x->data;
		r.data_len = BLOB_MAX;
		break;
	}
	if (x->kind && !x->data) {
		azblob_free(s->c, x->req);
		azblob_free(s->c, x->resp);
		free(x);
		return -EAGAIN;
	}
	r.request_len = (uint32_t)strlen(x->req);
	rc = azblob_submit(s->c, &r);
	if (rc) {
		azblob_free(s->c, x->req);
		azblob_free(s->c, x->resp);
		azblob_free(s->c, x->data);
		free(x);
	}
	return rc;
}

static void random_fault(struct soak *s, struct azblob_sim *sim, long i)
{
	struct azblob_sim_faults f = {0};

	switch (rnd(s) % 7) {
	case 0:
		f.delay_us = 50;
		f.jitter_us = 200;
		break;
	case 1:
		f.duplicate = 1 + (uint32_t)(rnd(s) % 3);
		break;
	case 2:
		f.unknown_tid = 1;
		break;
	case 3:
		f.oversize_response = 1;
		break;
	case 4:
		if (i % 50000 < 500) /* rare: each one costs a 300 ms timeout */
			f.drop = 1;
		break;
	case 5:
		f.pause_ms = 2;
		break;
	default:
		break; /* quiet period */
	}
	azblob_sim_set_faults(sim, &f);
}

int main(void)
{
	const char *env = getenv("SOAK_REQUESTS");
	long n = env ? atol(env) : 1000000, sent = 0;
	struct azblob_sim_opts so;
	struct azblob_sim *sim;
	struct azblob_opts o;
	struct soak s = {.rng = 0x2545f4914f6cdd1dull};
	unsigned qd = 8;
	long next_qd = 0, next_fault = 0;

	if (n <= 0)
		return 1;
	s.seen = calloc((size_t)n, 1);
	azblob_sim_opts_init(&so);
	so.ram_bytes = 64u << 20;
	so.no_hugetlb = true;
	so.seed = 7;
	so.poll = getenv("SOAK_SLEEPING_HOST") == NULL; /* busy host unless asked */
	if (azblob_sim_create(&sim, &so) || azblob_sim_start(sim))
		return 1;
	azblob_opts_init(&o);
	o.sim_root = azblob_sim_root(sim);
	o.queue_depth = MAX_QD;
	o.pool_buf_size = 8192;
	o.pool_bufs = 3 * MAX_QD + 64;
	if (azblob_open(&s.c, &o))
		return 1;

	while (s.done < n) {
		if (sent >= next_qd) {
			qd = 1 + (unsigned)(rnd(&s) % MAX_QD);
			next_qd = sent + 1000;
		}
		if (sent >= next_fault && sent < n) {
			random_fault(&s, sim, sent);
			next_fault = sent + 500;
		}
		while (sent < n && azblob_inflight(s.c) < qd) {
			int rc = submit_one(&s, sent);

			if (rc == -EAGAIN)
				break;
			if (rc) {
				fprintf(stderr, "soak: submit %ld: %d\n", sent, rc);
				return 1;
			}
			sent++;
		}
		azblob_flush(s.c);
		int got = azblob_poll(s.c, 0);

		if (got < 0) {
			fprintf(stderr, "soak: poll: %d\n", got);
			return 1;
		}
		if (!got)
			azblob_wait(s.c, 5);
	}
	struct azblob_sim_stats st;
	struct azblob_stats cs;

	/* let held duplicates and late answers arrive, then look */
	struct azblob_sim_faults none = {0};

	azblob_sim_set_faults(sim, &none);
	for (int i = 0; i < 50; i++) {
		azblob_poll(s.c, 0);
		azblob_wait(s.c, 5);
	}
	azblob_sim_get_stats(sim, &st);
	azblob_get_stats(s.c, &cs);
	long once = 0;

	for (long i = 0; i < n; i++)
		once += s.seen[i] == 1;
	printf("soak: %ld requests, %ld answered exactly once; %ld timeouts, %ld EPROTO, %ld "
	       "host errors; client: %llu duplicates, %llu unknown, %llu late absorbed; sim: "
	       "%llu faults, %llu reused buffers, %llu violations, %ld bad blobs\n",
	       n, once, s.timeouts, s.proto, s.errors, (unsigned long long)cs.duplicates,
	       (unsigned long long)cs.unknown, (unsigned long long)cs.late,
	       (unsigned long long)st.faults, (unsigned long long)st.reused_buffers,
	       (unsigned long long)st.violations_total, s.bad_blob);
	int ok = once == n && !st.reused_buffers && !st.violations_total && !s.bad_blob;

	azblob_close(s.c);
	azblob_sim_destroy(sim);
	free(s.seen);
	printf("soak: %d passed, %d failed\n", ok, !ok);
	return ok ? 0 : 1;
}
