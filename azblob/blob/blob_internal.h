/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Blob helpers: what blob_req.c, blob_engine.c and blob_ops.c share (not exported). */
#ifndef AZBLOB_BLOB_INTERNAL_H
#define AZBLOB_BLOB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define AZBLOB_BLOB_API_VERSION "2021-08-06"

/* Code and Message of an <Error> XML body. 0 or -EBADMSG. */
int az_blob_parse_error(const void *xml, size_t len, char *code, size_t code_cap, char *message,
			size_t message_cap);

/* What a ranged Get's answer head says (az_blob_parse_get). */
struct az_get_head {
	int http_status;
	int64_t content_length; /* -1: absent */
	/* Content-Range as in struct azblob_blob_resp */
	bool has_range;
	uint64_t range_first, range_last, range_total;
	size_t head_len; /* bytes up to and including the empty line */
};

/* The lean parse of a Get's answer head (docs/BLOB.md): the status line,
 * Content-Length and Content-Range; every other line is only checked to
 * be "name:value" CRLF. It takes the heads azblob_blob_parse_response
 * takes, with the same status, length and range (the fuzz target checks
 * it). 0 or -EPROTO. */
int az_blob_parse_get(const void *buf, size_t len, struct az_get_head *g);

/* The pieces of heads, without snprintf (docs/PERFORMANCE.md, issue 26). */

/* v in decimal at p, no NUL: its length (1..20). Two digits per
 * division, from a table; the length from the bit length first. */
static inline size_t az_put_u64(char *p, uint64_t v)
{
	static const char d2[] = "0001020304050607080910111213141516171819"
				 "2021222324252627282930313233343536373839"
				 "4041424344454647484950515253545556575859"
				 "6061626364656667686970717273747576777879"
				 "8081828384858687888990919293949596979899";
	static const uint64_t p10[20] = {1ull,
					 10ull,
					 100ull,
					 1000ull,
					 10000ull,
					 100000ull,
					 1000000ull,
					 10000000ull,
					 100000000ull,
					 1000000000ull,
					 10000000000ull,
					 100000000000ull,
					 1000000000000ull,
					 10000000000000ull,
					 100000000000000ull,
					 1000000000000000ull,
					 10000000000000000ull,
					 100000000000000000ull,
					 1000000000000000000ull,
					 10000000000000000000ull};
	/* floor(log10(v)) is t or t - 1 (1233 / 4096 ~ log10(2)) */
	unsigned t = (unsigned)(64 - __builtin_clzll(v | 1)) * 1233u >> 12;
	size_t n = t + 1 - ((v | 1) < p10[t]);
	char *q = p + n;

	while (v >= 100) {
		q -= 2;
		memcpy(q, d2 + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(q - 2, d2 + 2 * v, 2);
	else
		q[-1] = (char)('0' + v);
	return n;
}

/* "name: value" into out (cap > 0), cut to fit as snprintf would cut it,
 * NUL-terminated: its length. */
static inline size_t az_put_hdr(char *out, size_t cap, const char *name, const char *value)
{
	size_t n = 0;

	for (const char *s = name; *s && n + 1 < cap; s++)
		out[n++] = *s;
	for (const char *s = ": "; *s && n + 1 < cap; s++)
		out[n++] = *s;
	for (const char *s = value; *s && n + 1 < cap; s++)
		out[n++] = *s;
	out[n] = 0;
	return n;
}

#endif
