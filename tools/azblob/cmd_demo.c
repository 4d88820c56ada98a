// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob demo: the README's main command. Finds the device (or starts the
 * in-process simulator), shows a put/get round trip with its content
 * verified, then measures no-op requests at queue depth 1 and at a deeper
 * queue and prints min/p50/p99/max and requests per second.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <azblob/blob.h>
#include <uvmbus/dev.h>

#include "common.h"

const char demo_help[] =
    "Usage: " PROG " demo [--requests N] [--qd N] [--blob-size N] [GLOBAL OPTIONS]\n"
    "\n"
    "Show the client at work, in a few seconds:\n"
    "  1. the device: the one --device, --sim-root or --sim names; else the first\n"
    "     Azure Blob device bound to uio_hv_generic; when this machine has none,\n"
    "     the in-process simulator (memory backend);\n"
    "  2. a round trip (docs/FORMAT.md): create a container, put a blob, get it\n"
    "     back and compare it byte for byte, delete both;\n"
    "  3. latency: N no-op requests (GET /$sim/noop) at queue depth 1, then N at\n"
    "     --qd: min, p50, p99 and max of the per-request times (submit to\n"
    "     completion callback) and requests per second;\n"
    "  4. the client's counters (and the simulator's).\n"
    "\n"
    "Options:\n"
    "  --requests N    no-op requests per latency run, 1..10000000 (default 10000)\n"
    "  --qd N          queue depth of the second run, 1..1024 (default 32)\n"
    "  --blob-size N   size of the round trip's blob, 1..1M (default 4096)\n"
    "\n"
    "Exit status: 0 everything worked and the content matched, 1 a failure\n"
    "(device, request, mismatch), 2 usage.\n"
    "\n" CLI_GLOBAL_OPTIONS_HELP;

struct demo_args {
	uint32_t requests, qd, blob_size;
};

static const struct cli_opt demo_opts[] = {
    CLI_OPT_U32("requests", struct demo_args, requests, 1, 10000000),
    CLI_OPT_U32("qd", struct demo_args, qd, 1, AZBLOB_QUEUE_DEPTH),
    CLI_OPT_SIZE("blob-size", struct demo_args, blob_size, 1, 1u << 20),
    {0},
};

#define CONTAINER    "azblob-demo"
#define BLOB	     "hello.bin"
#define RUN_LIMIT_NS (60ull * 1000000000ull) /* a latency run that takes longer failed */

#define BULK_SIZE  (16u << 20)		      /* the multi-MiB blob */
#define BULK_CHUNK ((1u << 20) + (16u << 10)) /* 1 MiB of data + request/response heads */

static const char noop_head[] = "GET /$sim/noop HTTP/1.1\r\n\r\n";

struct demo;

struct dslot {
	struct demo *d;
	uint32_t idx;
	uint64_t t0;
	uint8_t *resp;
};

struct demo {
	struct cli *cli;
	uint8_t *req; /* the no-op head, shared by all no-ops (the host only reads it) */
	struct dslot *slots;
	uint32_t *free_stack, nfree;
	uint64_t *lat;
	uint32_t ndone, failed;
	int first_err;
	uint32_t first_status;
	/* round trip buffers */
	uint8_t *rt_req, *rt_resp, *rt_data;
};

/* ---- round trip ---- */

struct rt_result {
	bool done;
	int err;
	uint32_t status, len;
	uint64_t t_done;
};

static void rt_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct rt_result *r = user;

	r->done = true;
	r->err = err;
	r->status = status;
	r->len = len;
	r->t_done = cli_now_ns();
}

/* One request, waited for. Checks the HTTP code against want (and alt). */
static int rt_step(struct demo *d, const char *method, const char *target, uint32_t data_len,
		   uint32_t data_valid, int want, int alt, const char *note, uint32_t *content_len)
{
	struct cli *cli = d->cli;
	struct rt_result res = {0};
	char line[128], t[32], label[160];
	int n, rc, code = 0;
	uint64_t t0;

	n = snprintf((char *)d->rt_req, 4096, "%s %s HTTP/1.1\r\n\r\n", method, target);
	struct azblob_request r = {
	    .request = d->rt_req,
	    .request_len = (uint32_t)n,
	    .response = d->rt_resp,
	    .response_len = 4096,
	    .data = data_len ? d->rt_data : NULL,
	    .data_len = data_len,
	    .data_valid = data_valid,
	    .done = rt_done,
	    .user = &res,
	};

	memset(d->rt_resp, 0, 4096);
	t0 = cli_now_ns();
	rc = azblob_submit(cli->c, &r);
	if (!rc)
		rc = azblob_flush(cli->c);
	if (!rc)
		rc = cli_reap_until(cli, &res.done, cli->timeout_ms);
	snprintf(label, sizeof(label), "%-6s %s", method, target);
	if (rc && !res.done)
		return cli_error(cli, "%s: %s (%s)", label, strerror(-rc), cli_errno_name(rc));
	if (res.err)
		return cli_error(cli, "%s: %s (%s)", label, strerror(-res.err),
				 cli_errno_name(res.err));
	cli_first_line(d->rt_resp, res.len, line, sizeof(line));
	if (res.status) {
		cli_error(cli, "%s: VSP status 0x%08x (%s); response:", label, res.status,
			  cli_status_name(res.status));
		cli_print_text(stderr, d->rt_resp, res.len, "  ");
		return EXIT_RUNTIME;
	}
	if (sscanf(line, "HTTP/1.1 %d", &code) != 1 || (code != want && code != alt)) {
		cli_error(cli, "%s: expected HTTP %d, the host answered:", label, want);
		cli_print_text(stderr, d->rt_resp, res.len, "  ");
		return EXIT_RUNTIME;
	}
	if (code == alt && alt != want)
		note = "(it was there already)";
	if (content_len) {
		long long cl = cli_content_length(d->rt_resp, res.len);

		*content_len = cl >= 0 && cl <= UINT32_MAX ? (uint32_t)cl : UINT32_MAX;
	}
	printf("  %-44s %-24s %10s%s%s\n", label, line + 9,
	       cli_fmt_ns(res.t_done - t0, t, sizeof(t)), note ? "  " : "", note ? note : "");
	return EXIT_OK;
}

static void fill(uint8_t *p, uint32_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	static const char text[] = "Hello from the azblob demo through the user-space VMbus "
				   "fast path! ";

	for (uint32_t i = 0; i < len; i++) {
		/* readable text, with a sequence that catches shifted bytes */
		if (i % 64 < 56) {
			p[i] = (uint8_t)text[i % (sizeof(text) - 1)];
		} else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[i] = (uint8_t)('a' + x % 26);
		}
	}
}

static int round_trip(struct demo *d, uint32_t blob_size)
{
	uint8_t *expect = malloc(blob_size);
	char target[128], note[96];
	uint32_t clen = 0;
	int rc;

	if (!expect)
		return cli_error(d->cli, "out of memory");
	printf("\nRound trip (requests in the format of docs/FORMAT.md):\n");
	fill(expect, blob_size, blob_size);
	rc = rt_step(d, "PUT", "/" CONTAINER "?restype=container", 0, 0, 201, 409, NULL, NULL);
	if (rc)
		goto out;
	memcpy(d->rt_data, expect, blob_size);
	snprintf(note, sizeof(note), "%u bytes sent", blob_size);
	rc = rt_step(d, "PUT", "/" CONTAINER "/" BLOB, blob_size, blob_size, 201, 201, note, NULL);
	if (rc)
		goto out;
	memset(d->rt_data, 0xee, blob_size);
	rc = rt_step(d, "GET", "/" CONTAINER "/" BLOB, blob_size, 0, 200, 200, "data back", &clen);
	if (rc)
		goto out;
	if (clen != blob_size || memcmp(d->rt_data, expect, blob_size)) {
		uint32_t i = 0;

		while (i < blob_size && d->rt_data[i] == expect[i])
			i++;
		rc = cli_error(d->cli,
			       "GET returned different content: Content-Length %u (sent %u), first "
			       "difference at byte %u",
			       clen, blob_size, i);
		goto out;
	}
	printf("  %-44s content verified: %u bytes, identical\n", "", blob_size);
	snprintf(target, sizeof(target), "/" CONTAINER "/" BLOB);
	rc = rt_step(d, "DELETE", target, 0, 0, 202, 202, NULL, NULL);
	if (!rc)
		rc = rt_step(d, "DELETE", "/" CONTAINER "?restype=container", 0, 0, 202, 202, NULL,
			     NULL);
out:
	free(expect);
	return rc;
}

/* ---- a multi-MiB blob through the blob helpers (blocks, ranged gets) ---- */

static int bulk(struct demo *d, uint32_t size)
{
	struct azblob_blob_status st;
	uint8_t *src = malloc(size), *back = malloc(size);
	size_t got = 0;
	uint64_t t0, t1, t2;
	int rc = 0;
	char a[32], b[32];

	if (!src || !back) {
		rc = cli_error(d->cli, "out of memory");
		goto out;
	}
	fill(src, size, 7);
	printf("\nA %u MiB blob (Put Block x N + Put Block List, then ranged parallel Gets):\n",
	       size >> 20);
	rc = azblob_container_create(d->cli->c, CONTAINER "-bulk", &st);
	t0 = cli_now_ns();
	if (!rc)
		rc = azblob_blob_put(d->cli->c, CONTAINER "-bulk", "big.bin", src, size, NULL, &st);
	t1 = cli_now_ns();
	if (!rc)
		rc = azblob_blob_get(d->cli->c, CONTAINER "-bulk", "big.bin", 0, back, size, &got,
				     NULL, &st);
	t2 = cli_now_ns();
	if (rc) {
		rc = cli_error(d->cli, "bulk transfer failed: %s (HTTP %d %s)", strerror(-rc),
			       st.http_status, st.error_code);
		goto out;
	}
	if (got != size || memcmp(src, back, size)) {
		rc = cli_error(d->cli, "the %u-byte blob came back different (%zu bytes)", size,
			       got);
		goto out;
	}
	printf("  put  %u MiB in %-10s %8.1f MiB/s\n", size >> 20,
	       cli_fmt_ns(t1 - t0, a, sizeof(a)),
	       (double)size / 1048576.0 / ((double)(t1 - t0) / 1e9));
	printf("  get  %u MiB in %-10s %8.1f MiB/s   content verified, identical\n", size >> 20,
	       cli_fmt_ns(t2 - t1, b, sizeof(b)),
	       (double)size / 1048576.0 / ((double)(t2 - t1) / 1e9));
	azblob_blob_delete(d->cli->c, CONTAINER "-bulk", "big.bin", &st);
	azblob_container_delete(d->cli->c, CONTAINER "-bulk", &st);
out:
	free(src);
	free(back);
	return rc;
}

/* ---- latency ---- */

static void noop_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct dslot *s = user;
	struct demo *d = s->d;

	(void)len;
	d->lat[d->ndone++] = cli_now_ns() - s->t0;
	if (err || status) {
		if (!d->failed) {
			d->first_err = err;
			d->first_status = status;
		}
		d->failed++;
	}
	d->free_stack[d->nfree++] = s->idx;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least p% of the values <= it. */
static uint64_t pct(const uint64_t *v, uint32_t n, unsigned p)
{
	uint64_t rank = ((uint64_t)n * p + 99) / 100;

	return v[rank ? rank - 1 : 0];
}

static int latency_run(struct demo *d, uint32_t qd, uint32_t n)
{
	struct azblob_client *c = d->cli->c;
	uint32_t submitted = 0;
	uint64_t start = cli_now_ns(), last = start, now, elapsed;
	char a[32], b[32], e[32], f[32];
	int rc;

	d->ndone = d->failed = 0;
	while (d->ndone < n) {
		bool queued = false;

		while (submitted < n && d->nfree && azblob_inflight(c) < qd) {
			struct dslot *s = &d->slots[d->free_stack[--d->nfree]];
			struct azblob_request r = {.request = d->req,
						   .request_len = sizeof(noop_head) - 1,
						   .response = s->resp,
						   .response_len = 512,
						   .done = noop_done,
						   .user = s};

			s->t0 = cli_now_ns();
			rc = azblob_submit(c, &r);
			if (rc) {
				d->nfree++;
				if (rc == -EAGAIN)
					break;
				return cli_error(d->cli, "submit: %s (%s)", strerror(-rc),
						 cli_errno_name(rc));
			}
			submitted++;
			queued = true;
		}
		if (queued && (rc = azblob_flush(c)))
			return cli_error(d->cli, "flush: %s (%s)", strerror(-rc),
					 cli_errno_name(rc));
		rc = azblob_poll(c, 0);
		if (rc < 0)
			return cli_error(d->cli, "poll: %s (%s)", strerror(-rc),
					 cli_errno_name(rc));
		now = cli_now_ns();
		if (rc > 0) {
			last = now;
		} else if (now - last > 200000) {
			/* The host is slow (or we took its CPU): sleep on the fd
			 * instead of spinning. */
			rc = azblob_wait(c, 1);
			if (rc == -ENODEV)
				return cli_error(d->cli, "the device went away (rescind)");
		}
		if (now - start > RUN_LIMIT_NS)
			return cli_error(d->cli, "%u of %u requests answered after %s: giving up",
					 d->ndone, n, cli_fmt_ns(now - start, a, sizeof(a)));
	}
	elapsed = cli_now_ns() - start;
	qsort(d->lat, n, sizeof(d->lat[0]), cmp_u64);
	printf("  %4u %10u   %9s %9s %9s %9s   %12.0f\n", qd, n,
	       cli_fmt_ns(d->lat[0], a, sizeof(a)), cli_fmt_ns(pct(d->lat, n, 50), b, sizeof(b)),
	       cli_fmt_ns(pct(d->lat, n, 99), e, sizeof(e)),
	       cli_fmt_ns(d->lat[n - 1], f, sizeof(f)), (double)n * 1e9 / (double)elapsed);
	if (d->failed)
		return cli_error(d->cli,
				 "%u of %u no-op requests failed (first: %s, VSP status "
				 "0x%08x %s)",
				 d->failed, n, cli_errno_name(d->first_err), d->first_status,
				 cli_status_name(d->first_status));
	return EXIT_OK;
}

/* ---- the device ---- */

/* No target given: a real Azure Blob device ready for us, else the sim. */
static void choose_target(struct cli *cli)
{
	struct uvmbus_dev_opts o;
	struct uvmbus_dev_info info;
	const char *root = cli->sysfs_root		 ? cli->sysfs_root
			   : getenv("UVMBUS_SYSFS_ROOT") ? getenv("UVMBUS_SYSFS_ROOT")
							 : "/sys";

	if (cli->sim || cli->sim_root || cli->device)
		return;
	uvmbus_dev_opts_init(&o);
	o.sysfs_root = cli->sysfs_root;
	if (cli->verbose)
		o.log = cli_log(cli);
	if (uvmbus_dev_find_class(&o, AZBLOB_CLASS_GUID_STR, &info)) {
		printf("Device: none (no Azure Blob device under %s/bus/vmbus): using the\n"
		       "        in-process simulator, memory backend.\n",
		       root);
		cli->sim = true;
		cli->sysfs_root = cli->dev_root = NULL;
	} else if (strcmp(info.driver, "uio_hv_generic") || info.uio < 0) {
		printf(
		    "Device: %s is %s%s, not bound to uio_hv_generic\n"
		    "        (scripts/bind_uio.sh bind azblob): using the in-process simulator.\n",
		    info.guid, info.driver[0] ? "bound to " : "unbound", info.driver);
		cli->sim = true;
		cli->sysfs_root = cli->dev_root = NULL;
	} else {
		printf("Device: Azure Blob device %s (relid %u, NUMA node %d, uio%d)\n", info.guid,
		       info.relid, info.numa_node, info.uio);
	}
}

int cmd_demo(struct cli *cli, int argc, char **argv)
{
	struct demo_args args = {.requests = 10000, .qd = 32, .blob_size = 4096};
	uint32_t requests, qd, blob_size, maxqd;
	struct cli_client_opts co = {0};
	struct demo d = {.cli = cli};
	struct azblob_stats st;
	uint64_t t_start = cli_now_ns();
	char t[32];
	int rc;

	if ((rc = cli_parse(cli, argc, argv, demo_help, demo_opts, &args)) != CLI_PARSED)
		return rc;
	requests = args.requests;
	qd = args.qd;
	blob_size = args.blob_size;
	if ((rc = cli_check_args(cli, argc, argv)))
		return rc;
	maxqd = qd > 1 ? qd : 1;
	/* Pool: the shared no-op head, one response per slot, and the round
	 * trip's request, response and data. Buffers are 4 KiB except when the
	 * blob needs more (then the pool must stay reasonable). */
	co.queue_depth = maxqd;
	/* 1 MiB chunks (+16 KiB of heads) for the multi-MiB blob */
	co.pool_buf_size = blob_size > 4096 ? (blob_size + 4095) & ~4095u : 4096;
	if (co.pool_buf_size < BULK_CHUNK)
		co.pool_buf_size = BULK_CHUNK;
	co.pool_bufs = maxqd + 4 + 8; /* + 8 in flight for the multi-MiB blob */
	if ((uint64_t)co.pool_buf_size * co.pool_bufs > (256ull << 20))
		return cli_usage_error(cli,
				       "--qd %u with --blob-size %u needs more than 256 MiB of "
				       "buffers",
				       qd, blob_size);
	co.sim_ram_bytes = (uint64_t)co.pool_buf_size * co.pool_bufs + (64u << 20);

	printf(PROG " demo: libazblob %s, the Azure Blob client in user space\n\n",
	       uvmbus_version());
	choose_target(cli);
	if ((rc = cli_open(cli, &co)))
		goto out;
	if (cli->s)
		printf("        simulator tree: %s (removed at exit)\n", azblob_sim_root(cli->s));
	else if (cli->sim_root)
		printf("Device: the simulator at %s\n", cli->sim_root);
	else if (cli->device)
		printf("Device: %s\n", cli->device);
	printf("Client: queue depth %u, %u pool buffers of %u KiB, polling mode\n", maxqd,
	       co.pool_bufs, co.pool_buf_size / 1024);

	d.slots = calloc(maxqd, sizeof(*d.slots));
	d.free_stack = calloc(maxqd, sizeof(*d.free_stack));
	d.lat = calloc(requests, sizeof(*d.lat));
	if (!d.slots || !d.free_stack || !d.lat) {
		rc = cli_error(cli, "out of memory");
		goto out;
	}
	d.req = azblob_alloc(cli->c, sizeof(noop_head));
	d.rt_req = azblob_alloc(cli->c, 4096);
	d.rt_resp = azblob_alloc(cli->c, 4096);
	d.rt_data = azblob_alloc(cli->c, blob_size);
	for (uint32_t i = 0; i < maxqd; i++) {
		d.slots[i] = (struct dslot){.d = &d, .idx = i, .resp = azblob_alloc(cli->c, 512)};
		d.free_stack[d.nfree++] = maxqd - 1 - i;
		if (!d.slots[i].resp)
			d.req = NULL;
	}
	if (!d.req || !d.rt_req || !d.rt_resp || !d.rt_data) {
		rc = cli_error(cli, "no buffers from the client's pool");
		goto out;
	}
	memcpy(d.req, noop_head, sizeof(noop_head) - 1);

	if ((rc = round_trip(&d, blob_size)))
		goto out;
	if ((rc = bulk(&d, BULK_SIZE)))
		goto out;

	printf("\nLatency of no-op requests (GET /$sim/noop), submit to completion callback:\n");
	printf("  %4s %10s   %9s %9s %9s %9s   %12s\n", "QD", "requests", "min", "p50", "p99",
	       "max", "requests/s");
	if ((rc = latency_run(&d, 1, requests)))
		goto out;
	if (qd > 1 && (rc = latency_run(&d, qd, requests)))
		goto out;

	azblob_get_stats(cli->c, &st);
	printf("\nClient counters (libazblob, this process):\n");
	cli_print_client_stats(stdout, &st, false);
	if (cli->s) {
		printf("Simulator counters (the host side):\n");
		cli_print_sim_stats(stdout, cli->s);
	}
	printf("\nDone in %s: round trip and a %u MiB blob verified, %u no-op requests at QD 1",
	       cli_fmt_ns(cli_now_ns() - t_start, t, sizeof(t)), BULK_SIZE >> 20, requests);
	if (qd > 1)
		printf(" and at QD %u", qd);
	printf(".\n");
	rc = EXIT_OK;
out:
	cli_close(cli); /* before the slots go: close cancels what is in flight */
	free(d.slots);
	free(d.free_stack);
	free(d.lat);
	return rc;
}
