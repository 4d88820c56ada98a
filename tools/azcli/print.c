// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* azblob CLI: printing HTTP heads as text and the counters. */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

/* ---- HTTP heads as text ---- */

void cli_print_text(FILE *f, const uint8_t *p, size_t len, const char *indent)
{
	bool bol = true;

	for (size_t i = 0; i < len; i++) {
		uint8_t ch = p[i];

		if (ch == '\r' && i + 1 < len && p[i + 1] == '\n')
			continue;
		if (bol && ch != '\n')
			fputs(indent, f);
		bol = ch == '\n';
		if (ch == '\n' || ch == '\t' || (ch >= 0x20 && ch < 0x7f))
			fputc(ch, f);
		else
			fprintf(f, "\\x%02x", ch);
	}
	if (!bol)
		fputc('\n', f);
}

const char *cli_first_line(const uint8_t *p, size_t len, char *buf, size_t cap)
{
	size_t n = 0;

	while (n < len && p[n] != '\r' && p[n] != '\n')
		n++;
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	buf[n] = 0;
	return buf;
}

long long cli_content_length(const uint8_t *p, size_t len)
{
	static const char key[] = "\ncontent-length:";
	const size_t kl = sizeof(key) - 1;

	for (size_t i = 0; i + kl <= len; i++) {
		if (strncasecmp((const char *)p + i, key, kl))
			continue;
		size_t j = i + kl;
		long long v = 0;
		bool digits = false;

		while (j < len && (p[j] == ' ' || p[j] == '\t'))
			j++;
		while (j < len && isdigit(p[j]) && v < (1ll << 50)) {
			v = v * 10 + (p[j++] - '0');
			digits = true;
		}
		return digits ? v : -1;
	}
	return -1;
}

/* ---- counters ---- */

void cli_print_client_stats(FILE *f, const struct azblob_stats *st, bool all)
{
	const struct {
		const char *name;
		uint64_t v;
		const char *what;
	} rows[] = {
	    {"submitted", st->submitted, "requests queued to the host"},
	    {"completed", st->completed, "answers delivered to callbacks"},
	    {"errors", st->errors, "answers with a non-zero VSP status"},
	    {"timeouts", st->timeouts, "-ETIMEDOUT delivered"},
	    {"late", st->late, "answers after a timeout, absorbed"},
	    {"unknown", st->unknown, "answers matching no request, dropped"},
	    {"duplicates", st->duplicates, "answers already delivered, dropped"},
	    {"bad_packets", st->bad_packets, "not a completion or too short"},
	    {"oversize", st->oversize, "response_len beyond the buffer (-EPROTO)"},
	    {"signals", st->signals, "host signals sent"},
	    {"ring_full", st->ring_full, "submits refused for ring room"},
	    {"queue_full", st->queue_full, "submits refused for slots"},
	    {"copied", st->copied, "slow path: plain memory copied"},
	    {"cancelled", st->cancelled, "-ECANCELED at close"},
	    {"rescinded", st->rescinded, "device rescinds seen"},
	};
	uint64_t max = 0, total = 0;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (all || rows[i].v || i < 2)
			fprintf(f, "  %-12s %12" PRIu64 "   %s\n", rows[i].name, rows[i].v,
				rows[i].what);
	for (int i = 0; i < 40; i++) {
		total += st->latency_hist[i];
		if (st->latency_hist[i] > max)
			max = st->latency_hist[i];
	}
	if (!total) {
		fprintf(f, "  latency      no completions yet\n");
		return;
	}
	fprintf(f, "  latency (completion time, log2 buckets):\n");
	for (int i = 0; i < 40; i++) {
		char lo[32], hi[32];
		int bar;

		if (!st->latency_hist[i])
			continue;
		bar = (int)((st->latency_hist[i] * 40 + max - 1) / max);
		fprintf(f, "    %10s .. %-10s %10" PRIu64 "  %.*s\n",
			cli_fmt_ns(1ull << i, lo, sizeof(lo)),
			cli_fmt_ns(1ull << (i + 1), hi, sizeof(hi)), st->latency_hist[i], bar,
			"########################################");
	}
}

void cli_print_pending(FILE *f, const struct azblob_client *c)
{
	int n = azblob_dump_pending(c, NULL, 0);
	char *buf;

	if (n <= 0) {
		fprintf(f, "  none\n");
		return;
	}
	buf = malloc((size_t)n + 1);
	if (!buf) {
		fprintf(f, "  (out of memory)\n");
		return;
	}
	azblob_dump_pending(c, buf, (size_t)n + 1);
	cli_print_text(f, (const uint8_t *)buf, (size_t)n, "  ");
	free(buf);
}

void cli_print_sim_stats(FILE *f, struct azblob_sim *s)
{
	char buf[2048];
	int n = azblob_sim_format_stats(s, buf, sizeof(buf));
	const char *p = buf, *sp;

	if (n <= 0)
		return;
	/* one counter per line: "name=value" -> "  name  value" */
	while (*p) {
		const char *eq;

		sp = strchr(p, ' ');
		if (!sp)
			sp = p + strlen(p);
		eq = memchr(p, '=', (size_t)(sp - p));
		if (eq)
			fprintf(f, "  %-16.*s %12.*s\n", (int)(eq - p), p, (int)(sp - eq - 1),
				eq + 1);
		p = *sp ? sp + 1 : sp;
	}
}
