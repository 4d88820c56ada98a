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

struct stat_args {
	uint32_t requests, in_flight;
	bool json;
};

static const struct cli_opt stat_opts[] = {
    CLI_OPT_U32("requests", struct stat_args, requests, 0, 100000000),
    CLI_OPT_U32("in-flight", struct stat_args, in_flight, 0, AZBLOB_QUEUE_DEPTH),
    CLI_OPT_FLAG("json", struct stat_args, json),
    {0},
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

/* A stat run: its options, buffers and what the requests did. */
struct stat_run {
	struct cli *cli;
	struct stat_args a;
	char *req, **resp; /* the no-op head; a response buffer per request in flight */
	struct one *held;  /* --in-flight: their completions */
	uint32_t failed;
	uint64_t avg_ns;
};

/* The shared no-op head and one response buffer per request in flight. */
static int stat_buffers(struct stat_run *s, uint32_t qd)
{
	struct cli *cli = s->cli;

	s->resp = calloc(qd, sizeof(*s->resp));
	s->held = calloc(qd, sizeof(*s->held));
	s->req = azblob_alloc(cli->c, sizeof(noop_head));
	for (uint32_t i = 0; s->resp && i < qd; i++)
		s->resp[i] = azblob_alloc(cli->c, 1024);
	if (!s->resp || !s->held || !s->req || !s->resp[qd - 1])
		return cli_error(cli, "no buffers from the client's pool");
	memcpy(s->req, noop_head, sizeof(noop_head) - 1);
	return EXIT_OK;
}

/* Submit one no-op request into resp, its completion into o. */
static int submit_noop(struct stat_run *s, char *resp, struct one *o)
{
	struct azblob_request r = {.request = s->req,
				   .request_len = sizeof(noop_head) - 1,
				   .response = resp,
				   .response_len = 1024,
				   .done = on_done,
				   .user = o};

	return azblob_submit(s->cli->c, &r);
}

/* --requests: no-op requests one at a time, their average time. */
static int send_noops(struct stat_run *s)
{
	struct cli *cli = s->cli;
	uint64_t t0 = cli_now_ns();
	char t[32];
	int rc;

	for (uint32_t i = 0; i < s->a.requests; i++) {
		struct one o = {0};

		rc = submit_noop(s, s->resp[0], &o);
		if (!rc)
			rc = azblob_flush(cli->c);
		if (!rc)
			rc = cli_reap_until(cli, &o.done, cli->timeout_ms);
		if (rc && !o.done)
			return cli_error(cli, "no-op request %u: %s (%s)", i, strerror(-rc),
					 cli_errno_name(rc));
		if (o.err || o.status) {
			if (!s->failed)
				cli_error(
				    cli, "no-op request %u failed: %s, VSP status 0x%08x (%s)", i,
				    cli_errno_name(o.err), o.status, cli_status_name(o.status));
			s->failed++;
			if (o.err == -ENODEV)
				break;
		}
	}
	if (!s->a.requests)
		return EXIT_OK;
	s->avg_ns = (cli_now_ns() - t0) / s->a.requests;
	if (!s->a.json)
		printf("Sent %u no-op request%s one at a time: %u failed, %s each on average\n",
		       s->a.requests, s->a.requests == 1 ? "" : "s", s->failed,
		       cli_fmt_ns(s->avg_ns, t, sizeof(t)));
	return EXIT_OK;
}

/* The client's counters and pending requests (or the JSON object). */
static void print_counters(struct stat_run *s)
{
	struct cli *cli = s->cli;
	struct azblob_stats st;
	uint32_t n = azblob_inflight(cli->c);

	azblob_get_stats(cli->c, &st);
	if (s->a.json) {
		print_json(cli, &st, s->a.requests, s->failed, s->avg_ns);
		return;
	}
	if (s->a.in_flight)
		printf("Counters (%u request%s in flight):\n", n, n == 1 ? "" : "s");
	else
		printf("Counters:\n");
	cli_print_client_stats(stdout, &st, true);
	printf("Pending requests:\n");
	cli_print_pending(stdout, cli->c);
}

/* --in-flight: submitted and held (with --sim the simulator stops
 * draining) while the counters are printed, then reaped. */
static int print_in_flight(struct stat_run *s)
{
	struct azblob_sim_faults hold = {.stop_draining = true}, go = {0};
	struct cli *cli = s->cli;
	uint32_t n = s->a.in_flight;
	int rc;

	if (cli->s)
		azblob_sim_set_faults(cli->s, &hold);
	for (uint32_t i = 0; i < n; i++) {
		rc = submit_noop(s, s->resp[i], &s->held[i]);
		if (rc) {
			if (cli->s)
				azblob_sim_set_faults(cli->s, &go);
			return cli_error(cli, "submit: %s (%s)", strerror(-rc), cli_errno_name(rc));
		}
	}
	azblob_flush(cli->c);
	print_counters(s);
	if (cli->s)
		azblob_sim_set_faults(cli->s, &go);
	for (uint32_t i = 0; i < n; i++) {
		rc = cli_reap_until(cli, &s->held[i].done, cli->timeout_ms);
		if (rc && !s->held[i].done)
			return cli_error(cli, "in-flight request %u: %s (%s)", i, strerror(-rc),
					 cli_errno_name(rc));
		s->failed += s->held[i].err || s->held[i].status;
	}
	if (!s->a.json)
		printf("The %u in-flight request%s completed.\n", n, n == 1 ? "" : "s");
	return EXIT_OK;
}

int cmd_stat(struct cli *cli, int argc, char **argv)
{
	struct stat_run s = {.cli = cli};
	struct cli_client_opts co = {.pool_buf_size = 4096};
	char what[600];
	int rc;

	if ((rc = cli_parse(cli, argc, argv, stat_help, stat_opts, &s.a)) != CLI_PARSED)
		return rc;
	if ((rc = cli_check_args(cli, argc, argv)))
		return rc;
	co.queue_depth = s.a.in_flight > 1 ? s.a.in_flight : 1;
	co.pool_bufs = co.queue_depth + 1;
	if ((rc = cli_open(cli, &co)) || (rc = stat_buffers(&s, co.queue_depth)))
		goto out;
	if (!s.a.json)
		printf("Client on %s\n", cli_target(cli, what, sizeof(what)));
	if ((rc = send_noops(&s)))
		goto out;
	if (s.a.in_flight)
		rc = print_in_flight(&s);
	else
		print_counters(&s);
	if (rc)
		goto out;
	if (cli->s && !s.a.json) {
		printf("Simulator counters:\n");
		cli_print_sim_stats(stdout, cli->s);
	}
	if (s.failed)
		rc = cli_error(cli, "%u request%s failed", s.failed, s.failed == 1 ? "" : "s");
out:
	cli_close(cli); /* before the callbacks' memory goes: close cancels */
	free(s.resp);
	free(s.held);
	return rc;
}
