// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The `rest` backend: Shared Key signing of a guest's request (the
 * string-to-sign and its HMAC-SHA256), docs/REST.md.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sim_rest.h"
#include "sim_rest_internal.h"

#define MAX_PARAMS 32

struct sbuf {
	char *p;
	size_t cap, len;
	bool over;
};

static void sb_add(struct sbuf *s, const char *t, size_t n)
{
	if (s->over || n >= s->cap - s->len) {
		s->over = true;
		return;
	}
	memcpy(s->p + s->len, t, n);
	s->len += n;
	s->p[s->len] = 0;
}

static void sb_str(struct sbuf *s, const char *t)
{
	sb_add(s, t, strlen(t));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode n bytes of s into out (NUL-terminated; '+' stays '+'). */
static void pct_decode(const char *s, size_t n, char *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
		int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;

		if (s[i] == '%' && hi >= 0 && lo >= 0) {
			out[k++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[k++] = s[i];
		}
	}
	out[k] = 0;
}

struct qparam {
	char name[256];
	char value[MAX_TARGET];
};

static int cmp_param(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static int cmp_hdr(const void *a, const void *b)
{
	return strcmp(((const struct rhdr *)a)->name, ((const struct rhdr *)b)->name);
}

/* Append a header value with linear whitespace folded to single spaces. */
static void sb_folded(struct sbuf *s, const char *v)
{
	bool sp = false;

	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			sp = true;
			continue;
		}
		if (sp)
			sb_add(s, " ", 1);
		sp = false;
		sb_add(s, v, 1);
	}
}

/*
 * The Shared Key string-to-sign (blob service, versions 2015-02-21 and
 * later): VERB, Content-Encoding, Content-Language, Content-Length (empty
 * when 0), Content-MD5, Content-Type, Date (empty: x-ms-date is used),
 * If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since, Range,
 * each followed by '\n', then the canonicalized x-ms-* headers
 * ("name:value\n", lower-case names sorted) and the canonicalized
 * resource ("/account/path" + "\nname:v1,v2" per query parameter, names
 * lower-cased and sorted, values decoded and sorted).
 */
int sim_rest_string_to_sign(const struct rhead *h, const char *account, const char *base_path,
			    uint32_t content_len, char *out, size_t cap)
{
	struct qparam *params;
	struct rhdr *xms;
	struct sbuf s = {out, cap, 0, false};
	char num[16];
	int nx = 0, np = 0, rc = 0;

	if (cap == 0)
		return -ENOSPC;
	params = malloc(MAX_PARAMS * sizeof(*params));
	xms = malloc(MAX_HEADERS * sizeof(*xms));
	if (!params || !xms) {
		rc = -ENOMEM;
		goto out;
	}
	out[0] = 0;
	sb_str(&s, h->method);
	sb_add(&s, "\n", 1);
	for (size_t i = 0; i < SIM_REST_NSIGNED; i++) {
		const char *v = sim_rest_hget(h, sim_rest_signed_std[i]);

		if (i == 2) { /* Content-Length, then Content-MD5 ... */
			if (content_len)
				snprintf(num, sizeof(num), "%u", content_len);
			sb_str(&s, content_len ? num : "");
			sb_add(&s, "\n", 1);
		}
		if (i == 4) { /* Date, after Content-Type */
			sb_add(&s, "\n", 1);
		}
		sb_str(&s, v ? v : "");
		sb_add(&s, "\n", 1);
	}
	for (int i = 0; i < h->nh; i++) {
		if (strncasecmp(h->h[i].name, "x-ms-", 5))
			continue;
		xms[nx] = h->h[i];
		for (char *c = xms[nx].name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		nx++;
	}
	qsort(xms, (size_t)nx, sizeof(xms[0]), cmp_hdr);
	for (int i = 0; i < nx; i++) {
		sb_str(&s, xms[i].name);
		sb_add(&s, ":", 1);
		sb_folded(&s, xms[i].value);
		sb_add(&s, "\n", 1);
	}
	sb_add(&s, "/", 1);
	sb_str(&s, account);
	sb_str(&s, base_path);
	sb_str(&s, h->path);
	for (const char *q = h->query; *q;) {
		const char *amp = strchr(q, '&'), *eq;
		size_t n = amp ? (size_t)(amp - q) : strlen(q);

		if (n) {
			eq = memchr(q, '=', n);
			size_t nl = eq ? (size_t)(eq - q) : n;

			if (np >= MAX_PARAMS || nl >= sizeof(params[0].name)) {
				rc = -EINVAL;
				goto out;
			}
			pct_decode(q, nl, params[np].name);
			for (char *c = params[np].name; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			if (eq)
				pct_decode(eq + 1, n - nl - 1, params[np].value);
			else
				params[np].value[0] = 0;
			np++;
		}
		if (!amp)
			break;
		q = amp + 1;
	}
	qsort(params, (size_t)np, sizeof(params[0]), cmp_param);
	for (int i = 0; i < np; i++) {
		if (i == 0 || strcmp(params[i].name, params[i - 1].name)) {
			sb_add(&s, "\n", 1);
			sb_str(&s, params[i].name);
			sb_add(&s, ":", 1);
		} else {
			sb_add(&s, ",", 1);
		}
		sb_str(&s, params[i].value);
	}
	if (s.over)
		rc = -ENOSPC;
out:
	free(params);
	free(xms);
	return rc;
}

int sim_rest_auth(const char *account, const uint8_t *key, size_t key_len, const char *sts,
		  char *auth, size_t auth_cap)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char b64[64];

	if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)sts, strlen(sts), mac,
		  &mac_len))
		return -EIO;
	EVP_EncodeBlock((unsigned char *)b64, mac, (int)mac_len);
	int n = snprintf(auth, auth_cap, "SharedKey %s:%s", account, b64);

	return n < 0 || (size_t)n >= auth_cap ? -ENOSPC : 0;
}

int sim_rest_sign(const char *account, const uint8_t *key, size_t key_len, const char *base_path,
		  const uint8_t *head, uint32_t head_len, uint32_t content_len, const char *date,
		  char *sts, size_t sts_cap, char *auth, size_t auth_cap)
{
	struct rhead *h = malloc(sizeof(*h));
	int rc;

	if (!h)
		return -ENOMEM;
	rc = sim_rest_parse_head(head, head_len, h);
	if (!rc)
		rc = sim_rest_prepare_headers(h, date);
	if (!rc)
		rc = sim_rest_string_to_sign(h, account, base_path, content_len, sts, sts_cap);
	if (!rc)
		rc = sim_rest_auth(account, key, key_len, sts, auth, auth_cap);
	free(h);
	return rc;
}
