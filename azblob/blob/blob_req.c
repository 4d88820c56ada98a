// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Blob helpers, the format part: build request heads (docs/FORMAT.md),
 * parse response heads, map HTTP statuses to errno, parse the List Blobs
 * and error XML with expat. No I/O, no client.
 */
#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <azblob/blob.h>

#include "blob_internal.h"

int azblob_blob_http_errno(int http)
{
	if (http >= 200 && http < 300)
		return 0;
	switch (http) {
	case 400:
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 409:
		return -EEXIST;
	case 412:
		return -ESTALE;
	case 416:
		return -ERANGE;
	default:
		return http >= 500 ? -EIO : -EPROTO;
	}
}

bool azblob_container_name_ok(const char *n)
{
	size_t len;

	if (!n)
		return false;
	len = strlen(n);
	if (len < 3 || len > 63 || n[0] == '-' || n[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = n[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
			return false;
		if (ch == '-' && n[i + 1] == '-')
			return false;
	}
	return true;
}

bool azblob_blob_name_ok(const char *n)
{
	size_t len;

	if (!n)
		return false;
	len = strlen(n);
	if (len < 1 || len > 1024)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)n[i] < 0x20 || n[i] == 0x7f)
			return false;
	return true;
}

int azblob_blob_url_encode(char *buf, size_t cap, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool keep = isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
			    (keep_slash && *p == '/');

		if (n + (keep ? 1 : 3) >= cap)
			return -ENOSPC;
		if (keep) {
			buf[n++] = (char)*p;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[*p >> 4];
			buf[n++] = hex[*p & 15];
		}
	}
	if (n >= cap)
		return -ENOSPC;
	buf[n] = 0;
	return (int)n;
}

static bool header_ok(const char *h)
{
	const char *colon = strchr(h, ':');

	if (!colon || colon == h)
		return false;
	for (const char *p = h; p < colon; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	for (const char *p = colon + 1; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return false;
	return true;
}

/* A head being built: n bytes in buf, always room left for the NUL. */
struct hb {
	char *buf;
	size_t cap, n;
};

/* Append len bytes: false (nothing written) when they and a NUL do not fit. */
static bool put(struct hb *b, const char *s, size_t len)
{
	if (len >= b->cap - b->n)
		return false;
	memcpy(b->buf + b->n, s, len);
	b->n += len;
	return true;
}

#define PUT_LIT(b, lit) put(b, lit, sizeof(lit) - 1)

/*
 * No snprintf: the pieces are appended with memcpy and the blob name
 * percent-encoded in place. The bytes are those of the former
 * "%s /%s%s%s%s%s HTTP/1.1\r\n" + "%s\r\n" per header + "\r\n"
 * format (tests/unit/test_blob_head.c compares them), and so are the
 * errors and their order: a piece that does not fit is -ENOSPC before a
 * later header is checked.
 */
int azblob_blob_build_request(char *buf, size_t cap, const char *method, const char *container,
			      const char *blob, const char *query, const char *const *headers)
{
	struct hb b = {buf, cap, 0};
	bool have_version = false;
	int k;

	if (!buf || !method || !*method || !azblob_container_name_ok(container) ||
	    (blob && !azblob_blob_name_ok(blob)))
		return -EINVAL;
	for (const char *p = method; *p; p++)
		if (!isupper((unsigned char)*p))
			return -EINVAL;
	if (query)
		for (const char *p = query; *p; p++)
			if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
				return -EINVAL;
	if (!put(&b, method, strlen(method)) || !PUT_LIT(&b, " /") ||
	    !put(&b, container, strlen(container)))
		return -ENOSPC;
	if (blob) {
		if (!PUT_LIT(&b, "/"))
			return -ENOSPC;
		k = azblob_blob_url_encode(buf + b.n, cap - b.n, blob, true);
		if (k < 0)
			return -ENOSPC;
		b.n += (size_t)k;
	}
	if (query && *query && (!PUT_LIT(&b, "?") || !put(&b, query, strlen(query))))
		return -ENOSPC;
	if (!PUT_LIT(&b, " HTTP/1.1\r\n"))
		return -ENOSPC;
	for (const char *const *h = headers; h && *h; h++) {
		if (!header_ok(*h))
			return -EINVAL;
		if (!strncasecmp(*h, "x-ms-version:", 13))
			have_version = true;
		if (!put(&b, *h, strlen(*h)) || !PUT_LIT(&b, "\r\n"))
			return -ENOSPC;
	}
	if (!have_version && !PUT_LIT(&b, "x-ms-version: " AZBLOB_BLOB_API_VERSION "\r\n"))
		return -ENOSPC;
	if (!PUT_LIT(&b, "\r\n"))
		return -ENOSPC;
	buf[b.n] = 0;
	return (int)b.n;
}

/* ---- response heads ---- */

static void copy_val(char *dst, size_t cap, const char *v, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, v, len);
	dst[len] = 0;
}

static inline uint64_t ld8(const char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

#define ONES (~(uint64_t)0 / 255) /* 0x0101...01 */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
/* How many of the 8 bytes of w (the first in the low byte) are decimal
 * digits before the first that is not, 0..8. A byte is a digit when its
 * high nibble is 3 and stays 3 with 6 added (0x30..0x39); a carry out of
 * a byte (only from 0xfa..0xff, not digits) can only spoil bytes after
 * the first non-digit, which are not looked at. */
static inline unsigned digits8(uint64_t w)
{
	uint64_t hi = 0xf0 * ONES, x;

	x = ((w & hi) ^ (0x30 * ONES)) | (((w + 6 * ONES) & hi) ^ (0x30 * ONES));
	x = (x | ((x & (0x7f * ONES)) + 0x7f * ONES)) & (0x80 * ONES); /* a byte not 0: its 0x80 */
	return x ? (unsigned)__builtin_ctzll(x) / 8 : 8;
}

/* The value of 8 digit values 0..9 (the first in the low byte), 0..99999999:
 * pairs, then the four pairs in one multiply each for two of them. */
static inline uint64_t value8(uint64_t d)
{
	d = d * 10 + (d >> 8); /* byte 2i: pair i */
	return ((d & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32)) +
		((d >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32))) >>
	       32;
}
#define AZ_SWAR_DIGITS 1
#endif

/* The digits at *s (up to end; the bytes up to lim >= end may be read):
 * 1..19 of them (no wrap), their value in *out and *s moved past them.
 * 0 or -EPROTO. */
static int take_u64(const char **s, const char *end, const char *lim, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	unsigned d;

#ifdef AZ_SWAR_DIGITS
	/* One load: the host's numbers are followed by at least CRLF, so
	 * most (up to 7 digits) are read in one; 8 or more go on below. */
	if (lim - p >= 8) {
		uint64_t w = ld8(p);
		unsigned k = digits8(w);

		if ((size_t)(end - p) < k)
			k = (unsigned)(end - p);
		if (k == 8) {
			v = value8(w - 0x30 * ONES);
			p += 8;
		} else {
			if (k) /* the k digits shifted to the top: leading zeros below */
				v = value8((w - 0x30 * ONES) << (8 * (8 - k)));
			p += k;
			goto done;
		}
	}
#else
	(void)lim;
#endif
	while (p < end && (d = (unsigned)((unsigned char)*p - '0')) < 10) {
		v = v * 10 + d;
		p++;
	}
#ifdef AZ_SWAR_DIGITS
done:
#endif
	if (p == *s || p - *s > 19)
		return -EPROTO;
	*out = v;
	*s = p;
	return 0;
}

/* len bytes that are 1..19 decimal digits (the bytes up to lim may be
 * read). 0 or -EPROTO. */
static int parse_u64(const char *s, size_t len, const char *lim, uint64_t *out)
{
	const char *p = s;

	return take_u64(&p, s + len, lim, out) || p != s + len ? -EPROTO : 0;
}

/* A size from the host: 1..19 decimal digits (no sign, no white space, no
 * wrap) of at most INT64_MAX. 0 or -EPROTO. */
static int parse_size(const char *s, size_t len, const char *lim, uint64_t *out)
{
	uint64_t v;

	if (parse_u64(s, len, lim, &v) || v > INT64_MAX)
		return -EPROTO;
	*out = v;
	return 0;
}

/* Whether the n bytes at p (8 <= n <= 16) are lc in any case: fold has
 * 0x20 where lc has a letter (the case bit ignored there: only that
 * letter in either case matches), 0 elsewhere (the byte itself). As
 * strncasecmp in the C locale, two overlapping words at a time. */
static inline bool name_is(const char *p, const char *lc, const char *fold, size_t n)
{
	return (ld8(p) | ld8(fold)) == ld8(lc) &&
	       (ld8(p + n - 8) | ld8(fold + n - 8)) == ld8(lc + n - 8);
}

/* "bytes FIRST-LAST/TOTAL" or "bytes FIRST-LAST/ *" into g's range: each
 * number 1..19 digits, nothing else between them. */
static int parse_range(const char *v, size_t len, const char *lim, struct az_get_head *g)
{
	const char *end = v + len;

	if (len < 6 || ((unsigned char)v[0] | 0x20) != 'b' || ((unsigned char)v[1] | 0x20) != 'y' ||
	    ((unsigned char)v[2] | 0x20) != 't' || ((unsigned char)v[3] | 0x20) != 'e' ||
	    ((unsigned char)v[4] | 0x20) != 's' || v[5] != ' ')
		return -EPROTO;
	v += 6;
	if (end - v > 2 && v[0] == '*' && v[1] == '/') {
		/* '*' for FIRST-LAST, then /TOTAL: the unsatisfied range of a
		 * 416 (RFC 9110 14.4): no range, only the size. */
		g->range_first = g->range_last = 0;
		return parse_u64(v + 2, (size_t)(end - v - 2), lim, &g->range_total) ? -EPROTO : 0;
	}
	if (take_u64(&v, end, lim, &g->range_first) || v == end || *v++ != '-' ||
	    take_u64(&v, end, lim, &g->range_last) || v == end || *v++ != '/' ||
	    g->range_last < g->range_first)
		return -EPROTO;
	if (end - v == 1 && *v == '*')
		g->range_total = UINT64_MAX;
	else if (parse_u64(v, (size_t)(end - v), lim, &g->range_total))
		return -EPROTO;
	g->has_range = true;
	return 0;
}

/* The status line (HTTP/1.x SP 3DIGIT [SP reason] CRLF) of len bytes at
 * p: the status into g, its line's '\n'; NULL when malformed. */
static const char *status_line(const char *p, size_t len, struct az_get_head *g)
{
	const char *eol = memchr(p, '\n', len);

	if (!eol || eol == p || eol[-1] != '\r' || eol - p < 12 || memcmp(p, "HTTP/1.", 7) ||
	    p[8] != ' ' || !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]) || (eol - 1 > p + 12 && p[12] != ' '))
		return NULL;
	g->http_status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	return g->http_status < 100 ? NULL : eol;
}

/* A header's value [*val, *vend) without the white space around it. */
static void trim(const char **val, const char **vend)
{
	while (*val < *vend && (**val == ' ' || **val == '\t'))
		(*val)++;
	while (*vend > *val && ((*vend)[-1] == ' ' || (*vend)[-1] == '\t'))
		(*vend)--;
}

/* Content-Length's value into g: repeated, only with the same value (RFC
 * 9110 8.6). 0 or -EPROTO. */
static int content_length(const char *val, const char *vend, const char *lim, struct az_get_head *g)
{
	uint64_t v;

	if (parse_size(val, (size_t)(vend - val), lim, &v) ||
	    (g->content_length >= 0 && (uint64_t)g->content_length != v))
		return -EPROTO;
	g->content_length = (int64_t)v;
	return 0;
}

/* Content-Range's value into g: repeated, only with the same value (as
 * Content-Length: which one would be the answer's?). 0 or -EPROTO. */
static int content_range(const char *val, const char *vend, const char *lim, struct az_get_head *g,
			 bool *seen)
{
	struct az_get_head was = *g;

	if (parse_range(val, (size_t)(vend - val), lim, g) ||
	    (*seen && (g->has_range != was.has_range || g->range_first != was.range_first ||
		       g->range_last != was.range_last || g->range_total != was.range_total)))
		return -EPROTO;
	*seen = true;
	return 0;
}

#define FOLD5 "\x20\x20\x20\x20\x20"
#define FOLD6 FOLD5 "\x20"
#define FOLD7 FOLD6 "\x20"

int az_blob_parse_get(const void *buf, size_t len, struct az_get_head *g)
{
	const char *p = buf, *end = p + len, *eol;
	bool range_seen = false;

	memset(g, 0, sizeof(*g));
	g->content_length = -1;
	if (!buf || !(eol = status_line(p, len, g)))
		return -EPROTO;
	for (p = eol + 1;; p = eol + 1) {
		const char *val, *vend;
		size_t n;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol || eol == p || eol[-1] != '\r')
			return -EPROTO;
		n = (size_t)(eol - 1 - p); /* the line without its CRLF */
		if (!n) {
			g->head_len = (size_t)(eol + 1 - (const char *)buf);
			return 0;
		}
		vend = eol - 1;
		/* Only the two names looked at; the colon's place tells first.
		 * Any other line must still be "name:..." (as the full parser
		 * wants it). */
		if (n > 14 && p[14] == ':' && name_is(p, "content-length", FOLD7 "\0" FOLD6, 14)) {
			val = p + 15;
			trim(&val, &vend);
			if (content_length(val, vend, end, g))
				return -EPROTO;
		} else if (n > 13 && p[13] == ':' &&
			   name_is(p, "content-range", FOLD7 "\0" FOLD5, 13)) {
			val = p + 14;
			trim(&val, &vend);
			if (content_range(val, vend, end, g, &range_seen))
				return -EPROTO;
		} else if (p[0] == ':' || !memchr(p, ':', n)) {
			return -EPROTO;
		}
	}
}

int azblob_blob_parse_response(const void *buf, size_t len, struct azblob_blob_resp *r)
{
	const char *p = buf, *end = p + len, *eol;
	struct az_get_head g = {.content_length = -1};
	bool range_seen = false;

	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	if (!buf || !(eol = status_line(p, len, &g)))
		return -EPROTO;
	r->http_status = g.http_status;
	if (eol - 1 > p + 13)
		copy_val(r->reason, sizeof(r->reason), p + 13, (size_t)(eol - 1 - (p + 13)));
	p = eol + 1;
	for (;;) {
		const char *colon, *val, *vend;
		size_t nlen;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol || eol == p || eol[-1] != '\r')
			return -EPROTO;
		if (eol - p == 1) { /* the empty line */
			r->head_len = (size_t)(eol + 1 - (const char *)buf);
			r->content_length = g.content_length;
			r->has_range = g.has_range;
			r->range_first = g.range_first;
			r->range_last = g.range_last;
			r->range_total = g.range_total;
			return 0;
		}
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			return -EPROTO;
		nlen = (size_t)(colon - p);
		val = colon + 1;
		vend = eol - 1;
		trim(&val, &vend);
#define IS(name) (nlen == sizeof(name) - 1 && !strncasecmp(p, name, nlen))
		if (IS("Content-Length")) {
			if (content_length(val, vend, end, &g))
				return -EPROTO;
		} else if (IS("ETag")) {
			copy_val(r->etag, sizeof(r->etag), val, (size_t)(vend - val));
		} else if (IS("Last-Modified")) {
			copy_val(r->last_modified, sizeof(r->last_modified), val,
				 (size_t)(vend - val));
		} else if (IS("Content-Type")) {
			copy_val(r->content_type, sizeof(r->content_type), val,
				 (size_t)(vend - val));
		} else if (IS("Content-MD5")) {
			copy_val(r->content_md5, sizeof(r->content_md5), val, (size_t)(vend - val));
		} else if (IS("x-ms-blob-type")) {
			copy_val(r->blob_type, sizeof(r->blob_type), val, (size_t)(vend - val));
		} else if (IS("x-ms-error-code")) {
			copy_val(r->error_code, sizeof(r->error_code), val, (size_t)(vend - val));
		} else if (IS("x-ms-request-id")) {
			copy_val(r->request_id, sizeof(r->request_id), val, (size_t)(vend - val));
		} else if (IS("Content-Range")) {
			if (content_range(val, vend, end, &g, &range_seen))
				return -EPROTO;
		}
#undef IS
		p = eol + 1;
	}
}

/* ---- XML (expat) ---- */

#define XML_TEXT_MAX 2048
#define XML_DEPTH    8

struct list_parse {
	XML_Parser xp;
	int depth;
	const char *path[XML_DEPTH]; /* element names (static strings) or NULL: other */
	char text[XML_TEXT_MAX + 1];
	size_t tlen;
	bool overflow;
	int rc;
	bool root_ok;
	/* the current item */
	bool in_item, is_prefix;
	char name[XML_TEXT_MAX + 1];
	char etag[80], last_modified[40], content_type[80], blob_type[24];
	uint64_t size;
	bool have_size;
	azblob_blob_list_fn cb;
	void *user;
	char *next_marker;
	size_t next_marker_cap;
	/* error bodies */
	char *code, *message;
	size_t code_cap, message_cap;
};

static const char *const known[] = {
    "EnumerationResults", "Blobs",	    "Blob",  "BlobPrefix",    "Name",
    "Properties",	  "Content-Length", "Etag",  "Last-Modified", "Content-Type",
    "BlobType",		  "NextMarker",	    "Error", "Code",	      "Message",
};

static const char *intern(const char *n)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(known[i], n))
			return known[i];
	return NULL;
}

static bool at(const struct list_parse *lp, int depth, const char *a, const char *b, const char *c2)
{
	const char *want[3] = {a, b, c2};

	if (lp->depth != depth)
		return false;
	for (int i = 0; i < depth && i < 3; i++)
		if (!lp->path[i] || strcmp(lp->path[i], want[i]))
			return false;
	return true;
}

static void XMLCALL on_start(void *u, const XML_Char *name, const XML_Char **attrs)
{
	struct list_parse *lp = u;

	(void)attrs;
	if (lp->depth == 0)
		lp->root_ok = !strcmp(name, "EnumerationResults") || !strcmp(name, "Error");
	if (lp->depth < XML_DEPTH)
		lp->path[lp->depth] = intern(name);
	lp->depth++;
	lp->tlen = 0;
	lp->overflow = false;
	if (at(lp, 3, "EnumerationResults", "Blobs", "Blob") ||
	    at(lp, 3, "EnumerationResults", "Blobs", "BlobPrefix")) {
		lp->in_item = true;
		lp->is_prefix = !strcmp(name, "BlobPrefix");
		lp->name[0] = lp->etag[0] = lp->last_modified[0] = 0;
		lp->content_type[0] = lp->blob_type[0] = 0;
		lp->size = 0;
		lp->have_size = false;
	}
}

static void XMLCALL on_text(void *u, const XML_Char *s, int len)
{
	struct list_parse *lp = u;

	if (len < 0)
		return;
	if (lp->tlen + (size_t)len > XML_TEXT_MAX) {
		lp->overflow = true;
		return;
	}
	memcpy(lp->text + lp->tlen, s, (size_t)len);
	lp->tlen += (size_t)len;
}

static void stop(struct list_parse *lp, int rc)
{
	if (!lp->rc)
		lp->rc = rc;
	XML_StopParser(lp->xp, XML_FALSE);
}

static bool xml_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* The text of an item's <Content-Length> (XML white space around it
 * allowed): a size as parse_size() takes it, the same if repeated.
 * 0 or -EPROTO. */
static int item_size(struct list_parse *lp)
{
	const char *t = lp->text, *end = t + lp->tlen;
	uint64_t v;

	while (t < end && xml_space(*t))
		t++;
	while (end > t && xml_space(end[-1]))
		end--;
	if (parse_size(t, (size_t)(end - t), end, &v) || (lp->have_size && v != lp->size))
		return -EPROTO;
	lp->size = v;
	lp->have_size = true;
	return 0;
}

static void XMLCALL on_end(void *u, const XML_Char *name)
{
	struct list_parse *lp = u;
	const char *leaf;
	int d = lp->depth;

	(void)name;
	lp->text[lp->tlen] = 0;
	leaf = d <= XML_DEPTH ? lp->path[d - 1] : NULL;
	if (lp->in_item && leaf && d >= 4) {
		if (lp->overflow) {
			stop(lp, -ENAMETOOLONG);
			return;
		}
		if (d == 4 && !strcmp(leaf, "Name")) {
			memcpy(lp->name, lp->text, lp->tlen + 1);
		} else if (d == 5 && lp->path[3] && !strcmp(lp->path[3], "Properties")) {
			if (!strcmp(leaf, "Content-Length")) {
				if (item_size(lp)) {
					stop(lp, -EPROTO);
					return;
				}
			} else if (!strcmp(leaf, "Etag")) {
				copy_val(lp->etag, sizeof(lp->etag), lp->text, lp->tlen);
			} else if (!strcmp(leaf, "Last-Modified")) {
				copy_val(lp->last_modified, sizeof(lp->last_modified), lp->text,
					 lp->tlen);
			} else if (!strcmp(leaf, "Content-Type")) {
				copy_val(lp->content_type, sizeof(lp->content_type), lp->text,
					 lp->tlen);
			} else if (!strcmp(leaf, "BlobType")) {
				copy_val(lp->blob_type, sizeof(lp->blob_type), lp->text, lp->tlen);
			}
		}
	}
	if (lp->in_item && d == 3) {
		struct azblob_blob_item it = {
		    .name = lp->name,
		    .is_prefix = lp->is_prefix,
		    .size = lp->size,
		    .etag = lp->etag,
		    .last_modified = lp->last_modified,
		    .content_type = lp->content_type,
		    .blob_type = lp->blob_type,
		};
		int rc;

		lp->in_item = false;
		if (!lp->name[0]) {
			stop(lp, -EBADMSG);
			return;
		}
		rc = lp->cb ? lp->cb(lp->user, &it) : 0;
		if (rc) {
			stop(lp, rc);
			return;
		}
	}
	if (at(lp, 2, "EnumerationResults", "NextMarker", NULL) && lp->next_marker) {
		if (lp->overflow || lp->tlen >= lp->next_marker_cap) {
			stop(lp, -ENAMETOOLONG);
			return;
		}
		memcpy(lp->next_marker, lp->text, lp->tlen + 1);
	}
	if (at(lp, 2, "Error", "Code", NULL) && lp->code)
		snprintf(lp->code, lp->code_cap, "%s", lp->text);
	if (at(lp, 2, "Error", "Message", NULL) && lp->message) {
		char *nl;

		snprintf(lp->message, lp->message_cap, "%s", lp->text);
		nl = strpbrk(lp->message, "\r\n");
		if (nl)
			*nl = 0;
	}
	lp->depth--;
	lp->tlen = 0;
}

static int run_parser(struct list_parse *lp, const void *xml, size_t len)
{
	enum XML_Status s;

	if (len > INT32_MAX)
		return -EBADMSG;
	lp->xp = XML_ParserCreate("UTF-8");
	if (!lp->xp)
		return -ENOMEM;
	XML_SetUserData(lp->xp, lp);
	XML_SetElementHandler(lp->xp, on_start, on_end);
	XML_SetCharacterDataHandler(lp->xp, on_text);
	s = XML_Parse(lp->xp, xml, (int)len, XML_TRUE);
	XML_ParserFree(lp->xp);
	if (lp->rc)
		return lp->rc;
	if (s != XML_STATUS_OK || !lp->root_ok)
		return -EBADMSG;
	return 0;
}

int azblob_blob_parse_list(const void *xml, size_t len, azblob_blob_list_fn cb, void *user,
			   char *next_marker, size_t next_marker_cap)
{
	struct list_parse *lp = calloc(1, sizeof(*lp));
	int rc;

	if (!lp)
		return -ENOMEM;
	lp->cb = cb;
	lp->user = user;
	lp->next_marker = next_marker_cap ? next_marker : NULL;
	lp->next_marker_cap = next_marker_cap;
	if (lp->next_marker)
		lp->next_marker[0] = 0;
	rc = xml ? run_parser(lp, xml, len) : -EBADMSG;
	free(lp);
	return rc;
}

int az_blob_parse_error(const void *xml, size_t len, char *code, size_t code_cap, char *message,
			size_t message_cap)
{
	struct list_parse *lp = calloc(1, sizeof(*lp));
	int rc;

	if (!lp)
		return -ENOMEM;
	lp->code = code;
	lp->code_cap = code_cap;
	lp->message = message;
	lp->message_cap = message_cap;
	rc = run_parser(lp, xml, len);
	free(lp);
	return rc;
}
