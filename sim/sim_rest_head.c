// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The `rest` backend: the guest's request head, parsed and validated
 * (untrusted), and the headers forwarded upstream (docs/REST.md).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sim_rest_internal.h"

static bool is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Path segments "." and ".." (also percent-encoded) would let curl or the
 * server move out of the configured URL's path. */
static bool dot_segment(const char *s, size_t n)
{
	int dots = 0;

	for (size_t i = 0; i < n;) {
		if (s[i] == '.') {
			i++;
		} else if (n - i >= 3 && s[i] == '%' && s[i + 1] == '2' &&
			   (s[i + 2] == 'e' || s[i + 2] == 'E')) {
			i += 3;
		} else {
			return false;
		}
		dots++;
	}
	return dots == 1 || dots == 2;
}

bool sim_rest_target_char_ok(unsigned char c)
{
	return c >= 0x21 && c < 0x7f && c != '#' && c != '\\';
}

int sim_rest_parse_head(const uint8_t *req, uint32_t len, struct rhead *h)
{
	const char *p = (const char *)req, *end, *eol, *sp1, *sp2, *q;
	size_t n;

	h->nh = 0;
	h->query[0] = 0;
	end = memmem(p, len, "\r\n\r\n", 4);
	if (!end)
		return -EINVAL;
	end += 2; /* the last header line's CRLF */
	eol = memmem(p, (size_t)(end - p), "\r\n", 2);
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	if (!sp1 || sp1 == p || (size_t)(sp1 - p) >= sizeof(h->method))
		return -EINVAL;
	memcpy(h->method, p, (size_t)(sp1 - p));
	h->method[sp1 - p] = 0;
	if (strcmp(h->method, "GET") && strcmp(h->method, "HEAD") && strcmp(h->method, "PUT") &&
	    strcmp(h->method, "POST") && strcmp(h->method, "DELETE"))
		return -EINVAL;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || (size_t)(eol - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.1", 8))
		return -EINVAL;
	n = (size_t)(sp2 - sp1 - 1);
	if (n == 0 || n >= MAX_TARGET || sp1[1] != '/')
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!sim_rest_target_char_ok((unsigned char)sp1[1 + i]))
			return -EINVAL;
	q = memchr(sp1 + 1, '?', n);
	size_t plen = q ? (size_t)(q - sp1 - 1) : n;

	memcpy(h->path, sp1 + 1, plen);
	h->path[plen] = 0;
	if (q) {
		memcpy(h->query, q + 1, n - plen - 1);
		h->query[n - plen - 1] = 0;
	}
	for (const char *s = h->path + 1;;) {
		const char *e = strchr(s, '/');
		size_t sl = e ? (size_t)(e - s) : strlen(s);

		if (dot_segment(s, sl))
			return -EINVAL;
		if (!e)
			break;
		s = e + 1;
	}
	/* Header lines. */
	for (p = eol + 2; p < end;) {
		const char *le = memmem(p, (size_t)(end - p), "\r\n", 2), *colon, *v, *ve;

		colon = memchr(p, ':', (size_t)(le - p));
		if (!colon || colon == p || (size_t)(colon - p) >= MAX_HNAME ||
		    h->nh >= MAX_HEADERS)
			return -EINVAL;
		for (const char *c = p; c < colon; c++)
			if (!is_tchar((unsigned char)*c))
				return -EINVAL;
		for (v = colon + 1; v < le && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = le; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
		if ((size_t)(ve - v) >= MAX_HVALUE)
			return -EINVAL;
		for (const char *c = v; c < ve; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return -EINVAL;
			else if ((unsigned char)*c == 0x7f)
				return -EINVAL;
		struct rhdr *hd = &h->h[h->nh];

		memcpy(hd->name, p, (size_t)(colon - p));
		hd->name[colon - p] = 0;
		for (int i = 0; i < h->nh; i++)
			if (!strcasecmp(h->h[i].name, hd->name))
				return -EINVAL; /* duplicates are refused */
		memcpy(hd->value, v, (size_t)(ve - v));
		hd->value[ve - v] = 0;
		h->nh++;
		p = le + 2;
	}
	return 0;
}

/* The standard headers Shared Key signs, in string-to-sign order
 * (Content-Length and Date are handled apart). */
const char *const sim_rest_signed_std[SIM_REST_NSIGNED] = {
    "Content-Encoding", "Content-Language",    "Content-MD5",
    "Content-Type",	"If-Modified-Since",   "If-Match",
    "If-None-Match",	"If-Unmodified-Since", "Range",
};

static bool forwarded(const char *name)
{
	if (!strncasecmp(name, "x-ms-", 5))
		return strcasecmp(name, "x-ms-date") != 0; /* ours replaces it */
	for (size_t i = 0; i < SIM_REST_NSIGNED; i++)
		if (!strcasecmp(name, sim_rest_signed_std[i]))
			return true;
	return false;
}

const char *sim_rest_hget(const struct rhead *h, const char *name)
{
	for (int i = 0; i < h->nh; i++)
		if (!strcasecmp(h->h[i].name, name))
			return h->h[i].value;
	return NULL;
}

/* Fold runs of spaces and tabs into one space, in place (the value is
 * already trimmed). */
static void fold_ws(char *v)
{
	char *o = v;
	bool sp = false;

	for (const char *i = v; *i; i++) {
		if (*i == ' ' || *i == '\t') {
			sp = true;
			continue;
		}
		if (sp)
			*o++ = ' ';
		sp = false;
		*o++ = *i;
	}
	*o = 0;
}

/* Keep only the forwarded headers; add x-ms-date and (when missing)
 * x-ms-version. x-ms-* values are sent folded as Shared Key signs them
 * (servers differ in whether they fold before checking the signature). */
int sim_rest_prepare_headers(struct rhead *h, const char *date)
{
	int k = 0;

	for (int i = 0; i < h->nh; i++)
		if (forwarded(h->h[i].name)) {
			h->h[k] = h->h[i];
			if (!strncasecmp(h->h[k].name, "x-ms-", 5))
				fold_ws(h->h[k].value);
			k++;
		}
	h->nh = k;
	if (h->nh + 2 > MAX_HEADERS)
		return -EINVAL;
	snprintf(h->h[h->nh].name, MAX_HNAME, "x-ms-date");
	snprintf(h->h[h->nh].value, MAX_HVALUE, "%s", date);
	h->nh++;
	if (!sim_rest_hget(h, "x-ms-version")) {
		snprintf(h->h[h->nh].name, MAX_HNAME, "x-ms-version");
		snprintf(h->h[h->nh].value, MAX_HVALUE, REST_VERSION);
		h->nh++;
	}
	return 0;
}
