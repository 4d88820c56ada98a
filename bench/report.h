/* azblob-bench: the report of the measured points (report.c). */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include "azblob_bench.h"
#include "result.h"

/* --json: one object with a results array; else the tables, the memcpy
 * comparisons and the headline ratios, on stdout. */
void report_print(const struct cfg *cfg, const struct result *res, unsigned nres);

#endif
