/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Blob helpers: what blob_req.c, blob_engine.c and blob_ops.c share (not exported). */
#ifndef AZBLOB_BLOB_INTERNAL_H
#define AZBLOB_BLOB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define AZBLOB_BLOB_API_VERSION "2021-08-06"

/* Code and Message of an <Error> XML body. 0 or -EBADMSG. */
int az_blob_parse_error(const void *xml, size_t len, char *code, size_t code_cap, char *message,
			size_t message_cap);

/* The pieces of heads, without snprintf (docs/PERFORMANCE.md, issue 26). */

/* v in decimal at p, no NUL: its length (1..20). */
static inline size_t az_put_u64(char *p, uint64_t v)
{
	char t[20];
	size_t n = 0;

	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	for (size_t i = 0; i < n; i++)
		p[i] = t[n - 1 - i];
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
