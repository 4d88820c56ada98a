/* --plot DIR: PNG charts with gnuplot: latency CDF per mode (QD 1, smallest
 * size), requests/s and p99 against queue depth. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "result.h"

static int run_gnuplot(const char *script)
{
	FILE *g = popen("gnuplot", "w");

	if (!g) {
		fprintf(stderr, "azblob-bench: cannot run gnuplot: %s\n", strerror(errno));
		return -1;
	}
	fputs(script, g);
	return pclose(g) == 0 ? 0 : -1;
}

int plot(const char *dir, const struct result *r, unsigned n)
{
	char path[1024], script[8192];
	size_t used = 0;
	FILE *f;

	mkdir(dir, 0755);
	/* latency CDF: one data file per mode at QD 1 */
	used +=
	    (size_t)snprintf(script + used, sizeof(script) - used,
			     "set terminal pngcairo size 900,600\nset output '%s/latency_cdf.png'\n"
			     "set title 'QD 1 round-trip latency (CDF)'\nset logscale x\n"
			     "set xlabel 'ns'\nset ylabel 'fraction'\nset key bottom right\nplot ",
			     dir);
	int first = 1;

	for (unsigned i = 0; i < n; i++) {
		if (r[i].qd != 1 || !r[i].h.n)
			continue;
		snprintf(path, sizeof(path), "%s/cdf_%s_%u.dat", dir, r[i].mode, r[i].size);
		f = fopen(path, "w");
		if (!f)
			return -1;
		uint64_t seen = 0;

		for (unsigned b = 0; b < HIST_BUCKETS; b++) {
			if (!r[i].h.count[b])
				continue;
			seen += r[i].h.count[b];
			fprintf(f, "%llu %.6f\n", (unsigned long long)hist_value(b),
				(double)seen / (double)r[i].h.n);
		}
		fclose(f);
		used += (size_t)snprintf(script + used, sizeof(script) - used,
					 "%s'%s' with lines lw 2 title '%s size %u'",
					 first ? "" : ", ", path, r[i].mode, r[i].size);
		first = 0;
	}
	used += (size_t)snprintf(script + used, sizeof(script) - used, "\n");
	/* requests/s and p99 against queue depth, poll and interrupt */
	snprintf(path, sizeof(path), "%s/by_qd.dat", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s %u %u %.0f %llu\n", r[i].mode, r[i].qd, r[i].size, r[i].rps,
			(unsigned long long)hist_pct(&r[i].h, 99));
	fclose(f);
	snprintf(
	    script + used, sizeof(script) - used,
	    "set output '%s/rps_by_qd.png'\nset title 'requests/s against queue depth'\n"
	    "unset logscale\nset logscale x 2\nset xlabel 'queue depth'\nset ylabel 'req/s'\n"
	    "plot '%s' using 2:(strcol(1) eq 'poll' ? $4 : 1/0) with linespoints title 'poll', "
	    "'%s' using 2:(strcol(1) eq 'interrupt' ? $4 : 1/0) with linespoints title "
	    "'interrupt'\n"
	    "set output '%s/p99_by_qd.png'\nset title 'p99 latency against queue depth'\n"
	    "set ylabel 'ns'\nset logscale y\n"
	    "plot '%s' using 2:(strcol(1) eq 'poll' ? $5 : 1/0) with linespoints title 'poll', "
	    "'%s' using 2:(strcol(1) eq 'interrupt' ? $5 : 1/0) with linespoints title "
	    "'interrupt'\n",
	    dir, path, path, dir, path, path);
	return run_gnuplot(script);
}
