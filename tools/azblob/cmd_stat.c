// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* azblob stat: a client's counters, latency histogram and pending dump. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"

const char stat_help[] =
    "Usage: " PROG " stat [--requests N] [--in-flight N] [GLOBAL OPTIONS]\n"
    "\n"
    "Open a client on the device and print its counters (struct azblob_stats),\n"
    "its completion-latency histogram and its pending requests (GUID, lengths,\n"
    "age, state), like the original driver's debugfs file. The library keeps no\n"
    "global state, so these are the counters of this command's own client:\n"
    "--requests N first sends N no-op requests (GET /$sim/noop) to exercise the\n"
    "path. With --sim, the in-process simulator's counters follow.\n"
    "\n"
    "Options:\n"
    "  --requests N    send N no-op requests one at a time first (default 0)\n"
    "  --in-flight N   leave N no-op requests (1..1024) in flight while the\n"
    "                  counters and pending requests are printed (with --sim the\n"
    "                  simulator holds them until then), then reap them\n"
    "  --json          one JSON object: the target, the counters, the latency\n"
    "                  histogram and the pending requests (docs/CLI.md)\n"
    "\n"
    "Exit status: 0 ok, 1 the device could not be opened or a request failed,\n"
    "2 usage.\n"
    "\n" CLI_GLOBAL_OPTIONS_HELP;

enum { OPT_REQUESTS = 0x200, OPT_IN_FLIGHT };

static const struct option stat_opts[] = {
    {"requests", required_argument, NULL, OPT_REQUESTS},
    {"in-flight", required_argument, NULL, OPT_IN_FLIGHT},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

static const char noop_head[] = "GET /$sim/noop HTTP/1.1\r\n\r\n";

struct one {
	bool done;
	int err;
	uint32_t status;
};

static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct one *o = user;

	(void)len;
	o->done = true;
	o->err = err;
	o->status = status;
}

/* --json: the counters as one object (docs/CLI.md lists the fields). */
static void print_json(struct cli *cli, const struct azblob_stats *st, uint32_t requests,
		       uint32_t failed, uint64_t avg_ns)
{
	const struct {
		const char *name;
		uint64_t v;
	} rows[] = {
	    {"submitted", st->submitted},
	    {"completed", st->completed},
	    {"errors", st->errors},
	    {"timeouts", st->timeouts},
	    {"late", st->late},
	    {"unknown", st->unknown},
	    {"duplicates", st->duplicates},
	    {"bad_packets", st->bad_packets},
	    {"oversize", st->oversize},
	    {"signals", st->signals},
	    {"ring_full", st->ring_full},
	    {"queue_full", st->queue_full},
	    {"copied", st->copied},
	    {"cancelled", st->cancelled},
	    {"rescinded", st->rescinded},
	    {"broken", st->broken},
	    {"held_slots", st->held_slots},
	    {"slot_timeouts", st->slot_timeouts},
	    {"fd_checks", st->fd_checks},
	    {"idle_signals", st->idle_signals},
	    {"waits", st->waits},
	};
	char what[600], *buf = NULL;
	struct json j;
	int n;

	json_begin(&j, stdout);
	json_str(&j, "target", cli_target(cli, what, sizeof(what)), false);
	json_u64(&j, "requests_sent", requests);
	json_u64(&j, "requests_failed", failed);
	json_u64(&j, "request_avg_ns", avg_ns);
	json_u64(&j, "in_flight", azblob_inflight(cli->c));
	json_obj(&j, "counters");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		json_u64(&j, rows[i].name, rows[i].v);
	json_obj_end(&j);
	/* Non-empty log2 buckets: [lo_ns, hi_ns) and the count. */
	json_arr(&j, "latency");
	for (int i = 0; i < 40; i++) {
		if (!st->latency_hist[i])
			continue;
		json_obj(&j, NULL);
		json_u64(&j, "lo_ns", 1ull << i);
		json_u64(&j, "hi_ns", 1ull << (i + 1));
		json_u64(&j, "count", st->latency_hist[i]);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	/* azblob_dump_pending()'s lines, as strings. */
	json_arr(&j, "pending");
	n = azblob_dump_pending(cli->c, NULL, 0);
	if (n > 0 && (buf = malloc((size_t)n + 1))) {
		azblob_dump_pending(cli->c, buf, (size_t)n + 1);
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
			json_str(&j, NULL, line, false);
	}
	free(buf);
	json_arr_end(&j);
	json_end(&j);
}

int cmd_stat(struct cli *cli, int argc, char **argv)
{
	uint32_t requests = 0, in_flight = 0, failed = 0;
	uint64_t avg_ns = 0;
	bool json = false;
	struct cli_client_opts co = {.pool_buf_size = 4096};
	struct azblob_stats st;
	struct one *held = NULL;
	char *arg, what[600], t[32];
	char *req, **resp = NULL;
	int c, rc;

	while ((c = cli_getopt(cli, argc, argv, stat_opts, &arg)) != CLI_OPT_END) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(stat_help, stdout);
			return EXIT_OK;
		case CLI_OPT_USAGE:
			return EXIT_USAGE;
		case OPT_REQUESTS:
			if (cli_opt_u32(cli, "--requests", arg, false, 0, 100000000, &requests))
				return EXIT_USAGE;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_IN_FLIGHT:
			if (cli_opt_u32(cli, "--in-flight", arg, false, 0, AZBLOB_QUEUE_DEPTH,
					&in_flight))
				return EXIT_USAGE;
			break;
		default:
			return cli_usage_error(cli, "unexpected option");
		}
	}
	if ((rc = cli_check_args(cli, argc, argv)))
		return rc;
	co.queue_depth = in_flight > 1 ? in_flight : 1;
	co.pool_bufs = co.queue_depth + 1;
	if ((rc = cli_open(cli, &co)))
		goto out;
	resp = calloc(co.queue_depth, sizeof(*resp));
	held = calloc(co.queue_depth, sizeof(*held));
	req = azblob_alloc(cli->c, sizeof(noop_head));
	for (uint32_t i = 0; resp && i < co.queue_depth; i++)
		resp[i] = azblob_alloc(cli->c, 1024);
	if (!resp || !held || !req || !resp[co.queue_depth - 1]) {
		rc = cli_error(cli, "no buffers from the client's pool");
		goto out;
	}
	memcpy(req, noop_head, sizeof(noop_head) - 1);
	if (!json)
		printf("Client on %s\n", cli_target(cli, what, sizeof(what)));

	/* --requests: one at a time */
	uint64_t t0 = cli_now_ns();

	for (uint32_t i = 0; i < requests; i++) {
		struct one o = {0};
		struct azblob_request r = {.request = req,
					   .request_len = sizeof(noop_head) - 1,
					   .response = resp[0],
					   .response_len = 1024,
					   .done = on_done,
					   .user = &o};

		rc = azblob_submit(cli->c, &r);
		if (!rc)
			rc = azblob_flush(cli->c);
		if (!rc)
			rc = cli_reap_until(cli, &o.done, cli->timeout_ms);
		if (rc && !o.done) {
			rc = cli_error(cli, "no-op request %u: %s (%s)", i, strerror(-rc),
				       cli_errno_name(rc));
			goto out;
		}
		if (o.err || o.status) {
			if (!failed)
				cli_error(
				    cli, "no-op request %u failed: %s, VSP status 0x%08x (%s)", i,
				    cli_errno_name(o.err), o.status, cli_status_name(o.status));
			failed++;
			if (o.err == -ENODEV)
				break;
		}
	}
	if (requests)
		avg_ns = (cli_now_ns() - t0) / requests;
	if (requests && !json)
		printf("Sent %u no-op request%s one at a time: %u failed, %s each on average\n",
		       requests, requests == 1 ? "" : "s", failed,
		       cli_fmt_ns(avg_ns, t, sizeof(t)));

	/* --in-flight: submitted, not reaped until the dump is printed */
	if (in_flight) {
		struct azblob_sim_faults hold = {.stop_draining = true}, go = {0};

		if (cli->s)
			azblob_sim_set_faults(cli->s, &hold);
		for (uint32_t i = 0; i < in_flight; i++) {
			struct azblob_request r = {.request = req,
						   .request_len = sizeof(noop_head) - 1,
						   .response = resp[i],
						   .response_len = 1024,
						   .done = on_done,
						   .user = &held[i]};

			rc = azblob_submit(cli->c, &r);
			if (rc) {
				if (cli->s)
					azblob_sim_set_faults(cli->s, &go);
				rc = cli_error(cli, "submit: %s (%s)", strerror(-rc),
					       cli_errno_name(rc));
				goto out;
			}
		}
		azblob_flush(cli->c);
		azblob_get_stats(cli->c, &st);
		if (json) {
			print_json(cli, &st, requests, failed, avg_ns);
		} else {
			printf("Counters (%u request%s in flight):\n", azblob_inflight(cli->c),
			       azblob_inflight(cli->c) == 1 ? "" : "s");
			cli_print_client_stats(stdout, &st, true);
			printf("Pending requests:\n");
			cli_print_pending(stdout, cli->c);
		}
		if (cli->s)
			azblob_sim_set_faults(cli->s, &go);
		for (uint32_t i = 0; i < in_flight; i++) {
			rc = cli_reap_until(cli, &held[i].done, cli->timeout_ms);
			if (rc && !held[i].done) {
				rc = cli_error(cli, "in-flight request %u: %s (%s)", i,
					       strerror(-rc), cli_errno_name(rc));
				goto out;
			}
			failed += held[i].err || held[i].status;
		}
		if (!json)
			printf("The %u in-flight request%s completed.\n", in_flight,
			       in_flight == 1 ? "" : "s");
	} else if (json) {
		azblob_get_stats(cli->c, &st);
		print_json(cli, &st, requests, failed, avg_ns);
	} else {
		azblob_get_stats(cli->c, &st);
		printf("Counters:\n");
		cli_print_client_stats(stdout, &st, true);
		printf("Pending requests:\n");
		cli_print_pending(stdout, cli->c);
	}
	if (cli->s && !json) {
		printf("Simulator counters:\n");
		cli_print_sim_stats(stdout, cli->s);
	}
	rc = EXIT_OK;
	if (failed)
		rc = cli_error(cli, "%u request%s failed", failed, failed == 1 ? "" : "s");
out:
	cli_close(cli); /* before the callbacks' memory goes: close cancels */
	free(resp);
	free(held);
	return rc;
}
