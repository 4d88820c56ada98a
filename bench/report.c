/* azblob-bench: the report of the measured points, a text table (and the
 * cost table, the memcpy comparisons, the headline ratios) or one JSON
 * object. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "report.h"

static void print_table(const struct result *r, unsigned n)
{
	printf("%-10s %5s %9s %12s %10s %8s %8s %8s %8s %9s %9s %8s %7s %7s %7s %6s\n", "mode",
	       "qd", "size", "req/s", "MB/s", "min_ns", "p50_ns", "p90_ns", "p99_ns", "p99.9_ns",
	       "max_ns", "cpu_ns", "sig/req", "irq/req", "sys/req", "alloc");
	for (unsigned i = 0; i < n; i++) {
		const struct hist *h = &r[i].h;

		if (r[i].counter)
			continue; /* print_cost_table() */
		printf(
		    "%-10s %5u %9u %12.0f %10.1f %8llu %8llu %8llu %8llu %9llu %9llu %8.0f %7.3f "
		    "%7.3f %7.3f %6.3f\n",
		    r[i].mode, r[i].qd, r[i].size, r[i].rps, r[i].bps / 1e6,
		    (unsigned long long)hist_min(h), (unsigned long long)hist_pct(h, 50),
		    (unsigned long long)hist_pct(h, 90), (unsigned long long)hist_pct(h, 99),
		    (unsigned long long)hist_pct(h, 99.9), (unsigned long long)hist_max(h),
		    r[i].cpu_ns, r[i].signals_per_req, r[i].interrupts_per_req,
		    r[i].syscalls_per_req, r[i].allocs_per_req);
	}
}

static void print_cost_table(const struct result *r, unsigned n, const char *host)
{
	bool first = true;

	for (unsigned i = 0; i < n; i++) {
		if (!r[i].counter)
			continue;
		if (r[i].op) {
			printf("%s: %s, qd %u, %u-byte chunks: %.1f client instructions per "
			       "request (+%.0f per download)\n",
			       r[i].op, r[i].counter, r[i].qd, r[i].size, r[i].ins_total,
			       r[i].ins_overhead);
			continue;
		}
		if (first)
			printf("instructions per request (%s, stepped %s host, %s submits; total: "
			       "the client's):\n%-6s %5s %9s %9s %9s %9s %9s %9s\n",
			       r[i].counter, host, r[i].api, "mode", "qd", "size", "submit",
			       "flush", "poll", "total", "host");
		first = false;
		printf("%-6s %5u %9u %9.1f %9.1f %9.1f %9.1f %9.1f\n", r[i].mode, r[i].qd,
		       r[i].size, r[i].ins_submit, r[i].ins_flush, r[i].ins_poll, r[i].ins_total,
		       r[i].ins_host);
	}
}

/* A JSON number, or null where the figure does not exist (a point that
 * completed nothing divides by zero: NaN is not JSON). */
static const char *jnum(char b[40], double v, int prec)
{
	if (!isfinite(v))
		return "null";
	snprintf(b, 40, "%.*f", prec, v);
	return b;
}

static void print_json(const struct result *r, unsigned n, const char *cpu, const char *host)
{
	printf("{\"cpu\":\"%s\",\"host\":\"%s\",\"clock\":\"%s\",\"results\":[", cpu, host,
	       bench_clock_name());
	for (unsigned i = 0; i < n; i++) {
		const struct hist *h = &r[i].h;
		char b[13][40];

		printf("%s{\"mode\":\"%s\",\"qd\":%u,\"size\":%u,\"requests\":%llu,\"rps\":%s,"
		       "\"bytes_per_s\":%s,\"min_ns\":%llu,\"p50_ns\":%llu,\"p90_ns\":%llu,"
		       "\"p99_ns\":%llu,\"p999_ns\":%llu,\"max_ns\":%llu,\"cpu_ns_per_req\":%s,"
		       "\"signals_per_req\":%s,\"interrupts_per_req\":%s,"
		       "\"syscalls_per_req\":%s,\"allocs_per_req\":%s,\"ring_full\":%llu,"
		       "\"memcpy_bytes_per_s\":%s",
		       i ? "," : "", r[i].mode, r[i].qd, r[i].size,
		       (unsigned long long)r[i].requests, jnum(b[0], r[i].rps, 0),
		       jnum(b[1], r[i].bps, 0), (unsigned long long)hist_min(h),
		       (unsigned long long)hist_pct(h, 50), (unsigned long long)hist_pct(h, 90),
		       (unsigned long long)hist_pct(h, 99), (unsigned long long)hist_pct(h, 99.9),
		       (unsigned long long)hist_max(h), jnum(b[2], r[i].cpu_ns, 1),
		       jnum(b[3], r[i].signals_per_req, 4), jnum(b[4], r[i].interrupts_per_req, 4),
		       jnum(b[5], r[i].syscalls_per_req, 4), jnum(b[6], r[i].allocs_per_req, 4),
		       (unsigned long long)r[i].ring_full, jnum(b[7], r[i].memcpy_bps, 0));
		if (r[i].api)
			printf(",\"api\":\"%s\"", r[i].api);
		if (r[i].op)
			printf(",\"op\":\"%s\",\"download_overhead_instructions\":%s", r[i].op,
			       jnum(b[0], r[i].ins_overhead, 0));
		if (r[i].counter)
			printf(",\"counter\":\"%s\",\"instructions_per_req\":%s,"
			       "\"submit_instructions_per_req\":%s,"
			       "\"flush_instructions_per_req\":%s,"
			       "\"poll_instructions_per_req\":%s,"
			       "\"host_instructions_per_req\":%s",
			       r[i].counter, jnum(b[8], r[i].ins_total, 1),
			       jnum(b[9], r[i].ins_submit, 1), jnum(b[10], r[i].ins_flush, 1),
			       jnum(b[11], r[i].ins_poll, 1), jnum(b[12], r[i].ins_host, 1));
		printf("}");
	}
	printf("]}\n");
}

/* --op put/get with data: each point next to a memcpy of the same bytes. */
static void print_memcpy(const struct cfg *cfg, const struct result *res, unsigned nres)
{
	for (unsigned i = 0; i < nres; i++)
		if (res[i].memcpy_bps > 0)
			printf("%s %s qd %u size %u: %.2f GiB/s; memcpy of the same bytes "
			       "%.2f GiB/s (%.1fx)\n",
			       cfg->op, res[i].mode, res[i].qd, res[i].size, res[i].bps / (1 << 30),
			       res[i].memcpy_bps / (1 << 30), res[i].memcpy_bps / res[i].bps);
}

/* The QD 1, no-data point of a mode, or NULL. */
static const struct result *qd1(const struct result *res, unsigned nres, const char *mode)
{
	const struct result *found = NULL;

	for (unsigned i = 0; i < nres; i++)
		if (res[i].qd == 1 && !res[i].size && !strcmp(res[i].mode, mode))
			found = &res[i];
	return found;
}

static double p50_ratio(const struct result *a, const struct result *b)
{
	return (double)hist_pct(&a->h, 50) / (double)hist_pct(&b->h, 50);
}

/* The headline ratios, when both sides were measured. */
static void print_ratios(const struct result *res, unsigned nres)
{
	const struct result *fl = qd1(res, nres, "floor"), *po = qd1(res, nres, "poll"),
			    *ir = qd1(res, nres, "interrupt"), *sy = qd1(res, nres, "sync"),
			    *pb = qd1(res, nres, "poll+brk"), *cu = qd1(res, nres, "cuse");

	if (fl && po)
		printf("QD1 poll / floor: p50 %.2fx, p99 %.2fx\n", p50_ratio(po, fl),
		       (double)hist_pct(&po->h, 99) / (double)hist_pct(&fl->h, 99));
	if (po && ir)
		printf("QD1 interrupt / poll: p50 %.1fx\n", p50_ratio(ir, po));
	if (po && cu && ir)
		printf("QD1 cuse / poll: p50 %.1fx; cuse / interrupt: p50 %.2fx\n",
		       p50_ratio(cu, po), p50_ratio(cu, ir));
	if (po && pb)
		printf("QD1 poll through azblobd - direct: p50 %+.0f ns, p99 %+.0f ns\n",
		       (double)hist_pct(&pb->h, 50) - (double)hist_pct(&po->h, 50),
		       (double)hist_pct(&pb->h, 99) - (double)hist_pct(&po->h, 99));
	if (po && sy)
		printf("QD1 sync / poll: p50 %.1fx\n", p50_ratio(sy, po));
}

void report_print(const struct cfg *cfg, const struct result *res, unsigned nres)
{
	char cpu[128];
	bool timed = false;

	cpu_model(cpu, sizeof(cpu));
	if (cfg->json) {
		print_json(res, nres, cpu, cfg->host);
		return;
	}
	printf("azblob-bench: %s, client CPU %d, host CPU %d (azblob-vspd, host %s), op "
	       "%s, clock %s\n",
	       cpu, cfg->client_cpu, cfg->host_cpu, cfg->host, cfg->op, bench_clock_name());
	for (unsigned i = 0; i < nres; i++)
		timed |= !res[i].counter;
	if (timed)
		print_table(res, nres);
	print_cost_table(res, nres, cfg->host);
	print_memcpy(cfg, res, nres);
	print_ratios(res, nres);
}
