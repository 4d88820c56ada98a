// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_e2e_two_clients (and _poll, _interrupt: the daemon's other
 * modes; the default is hybrid): two processes put and get blobs at the same
 * time through one azblobd on a simulator, with the blob helpers of
 * libazblob switched to the broker by azblob_opts.broker; every blob read
 * back is compared byte for byte. Then the daemon's and the simulator's
 * counters: both sessions served and freed, no request refused, no buffer
 * reused while the host could write it, nothing left open.
 */
#include "harness.h"

#define ROUNDS 4

static const size_t sizes[] = {1, 4096, 100000, 3u << 20};

static int client(const struct bh *h, int id)
{
	struct azblob_client *c = bh_client(h, 8, (1u << 20) + 16384);
	struct azblob_blob_status st;
	char cont[32], name[32];
	size_t max = 3u << 20, got;
	uint8_t *in = malloc(max), *out = malloc(max);

	snprintf(cont, sizeof(cont), "client-%d", id);
	BH_CHECK(!azblob_container_create(c, cont, &st), "client %d: container", id);
	for (int r = 0; r < ROUNDS; r++) {
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			uint32_t seed = (uint32_t)(id * 1000 + r * 10 + (int)k);

			snprintf(name, sizeof(name), "b%d-%zu", r, k);
			bh_fill(in, sizes[k], seed);
			BH_CHECK(!azblob_blob_put(c, cont, name, in, sizes[k], NULL, &st),
				 "client %d: put %s (%zu bytes): HTTP %d", id, name, sizes[k],
				 st.http_status);
			memset(out, 0, max);
			BH_CHECK(!azblob_blob_get(c, cont, name, 0, out, max, &got, NULL, &st),
				 "client %d: get %s", id, name);
			BH_CHECK(got == sizes[k] && !memcmp(in, out, got),
				 "client %d: %s read back differs (%zu of %zu bytes)", id, name,
				 got, sizes[k]);
		}
	}
	BH_CHECK(azblob_close(c) == 0, "client %d: close", id);
	free(in);
	free(out);
	printf("client %d: %d rounds of %zu blobs put, read back and compared\n", id, ROUNDS,
	       sizeof(sizes) / sizeof(sizes[0]));
	return 0;
}

int main(int argc, char **argv)
{
	struct azblob_sim_stats ss;
	struct bh h;
	char text[8192];
	pid_t kids[2];
	int fds0, status;

	BH_CHECK(argc >= 2, "usage: %s AZBLOBD [DAEMON OPTION...]", argv[0]);
	bh_start(&h, argv[1], (const char *const *)argv + 2, NULL);
	fds0 = bh_fds(h.pid);
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(client(&h, i));
		}
	}
	for (int i = 0; i < 2; i++) {
		BH_CHECK(waitpid(kids[i], &status, 0) == kids[i], "waitpid");
		BH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "client %d failed (%#x)", i,
			 status);
	}
	BH_CHECK(!bh_wait_idle(&h, 5000), "sessions not freed");
	BH_CHECK(bh_stats(&h, text, sizeof(text)) > 0, "stats");
	printf("%s", text);
	BH_CHECK(bh_num(text, "total") == 2, "two sessions served");
	BH_CHECK(bh_num(text, "arenas") == 0, "arenas all released");
	BH_CHECK(bh_fds_settle(h.pid, fds0) == fds0, "daemon fds %d, %d before the clients",
		 bh_fds(h.pid), fds0);
	azblob_sim_get_stats(h.sim, &ss);
	printf("sim: requests %llu violations %llu reused_buffers %llu\n",
	       (unsigned long long)ss.requests, (unsigned long long)ss.violations_total,
	       (unsigned long long)ss.reused_buffers);
	BH_CHECK(ss.requests > 2 * ROUNDS * 4, "the host saw the requests");
	BH_CHECK(!ss.violations_total && !ss.reused_buffers, "clean at the host");
	status = bh_stop(&h);
	BH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "azblobd exit %#x", status);
	printf("ok\n");
	return 0;
}
