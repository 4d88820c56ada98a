// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob-fuse-rget: the library's own random ranged Get at QD 1, the
 * reference of azblob-fuse's 4 KiB random-read goal (bench/fuse_bench.sh,
 * PERFORMANCE.md): N Gets of SIZE bytes at random aligned offsets of a
 * blob, each as azblob-fuse asks (Range, If-Match on the ETag, a pool
 * buffer holding data and heads), one at a time; prints p50 and p99.
 *   usage: azblob-fuse-rget SIM_ROOT CONTAINER BLOB [N [SIZE]]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <azblob.h>
#include <azblob/blob.h>

static bool done;
static int err;
static uint32_t vsp;

static void on_done(void *user, int e, uint32_t st, uint32_t len)
{
	(void)user;
	(void)len;
	err = e;
	vsp = st;
	done = true;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct azblob_client *c;
	struct azblob_opts o;
	struct azblob_blob_props p;
	struct azblob_blob_status st;
	unsigned n = argc > 4 ? (unsigned)atoi(argv[4]) : 2000;
	uint32_t size = argc > 5 ? (uint32_t)atoi(argv[5]) : 4096;
	uint64_t *lat;
	uint8_t *buf;
	int rc;

	if (argc < 4 || !n || !size || size > (1u << 20)) {
		fprintf(stderr, "usage: %s SIM_ROOT CONTAINER BLOB [N [SIZE]]\n", argv[0]);
		return 2;
	}
	azblob_opts_init(&o);
	o.sim_root = argv[1];
	o.queue_depth = 4;
	o.pool_buf_size = (1u << 20) + 16384;
	o.pool_bufs = 8;
	if ((rc = azblob_open(&c, &o))) {
		fprintf(stderr, "azblob_open: %s\n", strerror(-rc));
		return 1;
	}
	rc = azblob_blob_get_properties(c, argv[2], argv[3], &p, &st);
	if (rc || p.size < size) {
		fprintf(stderr, "%s/%s: %s\n", argv[2], argv[3], rc ? strerror(-rc) : "too small");
		return 1;
	}
	buf = azblob_alloc(c, size + 16384);
	lat = calloc(n, sizeof(*lat));
	if (!buf || !lat)
		return 1;
	srand(7);
	for (unsigned i = 0; i < n; i++) {
		uint64_t off =
		    ((uint64_t)rand() * RAND_MAX + (uint64_t)rand()) % (p.size / size) * size;
		char range[64], ifm[100];
		const char *h[] = {range, ifm, NULL};
		struct azblob_request r = {0};
		uint64_t t0;
		int len;

		snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-%" PRIu64, off,
			 off + size - 1);
		snprintf(ifm, sizeof(ifm), "If-Match: %s", p.etag);
		t0 = now_ns();
		len = azblob_blob_build_request((char *)buf + size, 8192, "GET", argv[2], argv[3],
						NULL, h);
		if (len < 0)
			return 1;
		r.request = buf + size;
		r.request_len = (uint32_t)len;
		r.response = buf + size + 8192;
		r.response_len = 8192;
		r.data = buf;
		r.data_len = size;
		r.done = on_done;
		done = false;
		if ((rc = azblob_submit(c, &r)) || (rc = azblob_flush(c))) {
			fprintf(stderr, "submit: %s\n", strerror(-rc));
			return 1;
		}
		while (!done)
			if (azblob_poll(c, 0) == 0)
				azblob_wait(c, 1);
		lat[i] = now_ns() - t0;
		if (err || vsp) {
			fprintf(stderr, "Get failed: err %d, VSP status %#x\n", err, vsp);
			return 1;
		}
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("ranged Get %u B at QD 1, %u requests: p50 %.1f us, p99 %.1f us\n", size, n,
	       (double)lat[n / 2] / 1e3, (double)lat[n * 99 / 100] / 1e3);
	azblob_free(c, buf);
	free(lat);
	azblob_close(c);
	return 0;
}
