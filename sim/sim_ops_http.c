// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * HTTP for the sim's storage backends: the request head is untrusted, every
 * length is bounded (SIM_HEAD_MAX and friends), nothing here allocates.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include <azblob/blob.h>

#include "crc64.h"
#include "sim_ops.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int decode(const char *src, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)src[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -EINVAL;
			hi = hexval(src[i + 1]);
			lo = hexval(src[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			i += 2;
		}
		if (!c || o + 1 >= cap)
			return -EINVAL;
		out[o++] = (char)c;
	}
	if (o >= cap)
		return -EINVAL;
	out[o] = 0;
	return 0;
}

int sim_pct_decode(const char *src, size_t n, char *out, size_t cap)
{
	int rc = decode(src, n, out, cap);

	if (rc && cap)
		out[0] = 0;
	return rc;
}

/* The first "\r\n\r\n" in p[0..n) (memmem's general search costs more
 * than the head is long). */
static char *blank_line(char *p, size_t n)
{
	for (char *e = p + n, *cr; (cr = memchr(p, '\r', (size_t)(e - p))); p = cr + 1)
		if (e - cr >= 4 && !memcmp(cr, "\r\n\r\n", 4))
			return cr;
	return NULL;
}

int sim_http_parse(const uint8_t *req, uint32_t len, struct sim_http *h)
{
	char *p, *end, *eol, *sp1, *sp2, *q, *target, *slash;
	size_t n;

	h->method = NULL;
	h->container[0] = h->blob[0] = h->query[0] = 0;
	h->nh = 0;
	if (len >= sizeof(h->copy))
		return -EINVAL;
	memcpy(h->copy, req, len);
	h->copy[len] = 0;
	end = blank_line(h->copy, len);
	if (!end)
		return -EINVAL;
	if (memchr(h->copy, 0, (size_t)(end - h->copy)))
		return -EINVAL;
	end += 2; /* the last header line's CRLF stays */
	p = h->copy;
	eol = strstr(p, "\r\n");
	*eol = 0;
	sp1 = strchr(p, ' ');
	if (!sp1 || sp1 == p || sp1 - p > 15)
		return -EINVAL;
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2 || strcmp(sp2 + 1, "HTTP/1.1"))
		return -EINVAL;
	*sp1 = *sp2 = 0;
	h->method = p;
	for (const char *m = p; *m; m++)
		if (*m < 'A' || *m > 'Z')
			return -EINVAL;
	target = sp1 + 1;
	if (target[0] != '/')
		return -EINVAL;
	for (const char *t = target; *t; t++)
		if ((unsigned char)*t < 0x21 || (unsigned char)*t > 0x7e)
			return -EINVAL;
	q = strchr(target, '?');
	if (q) {
		*q++ = 0;
		if (strlen(q) >= sizeof(h->query))
			return -ENAMETOOLONG;
		strcpy(h->query, q);
	}
	target++;
	slash = strchr(target, '/');
	n = slash ? (size_t)(slash - target) : strlen(target);
	if (n > 3 * SIM_NAME_MAX || sim_pct_decode(target, n, h->container, sizeof(h->container)))
		return -ENAMETOOLONG;
	if (slash && sim_pct_decode(slash + 1, strlen(slash + 1), h->blob, sizeof(h->blob)))
		return -ENAMETOOLONG;
	/* Headers: "Name: value" lines up to the empty line. */
	for (p = eol + 2; p < end; p = eol + 2) {
		char *colon, *v, *e;

		eol = strstr(p, "\r\n");
		if (!eol || eol >= end)
			return -EINVAL;
		*eol = 0;
		colon = strchr(p, ':');
		if (!colon || colon == p || h->nh >= SIM_HEADERS_MAX)
			return -EINVAL;
		*colon = 0;
		for (const char *c = p; *c; c++)
			if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
				return -EINVAL;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = 0;
		for (const char *c = v; *c; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return -EINVAL;
		h->h[h->nh].name = p;
		h->h[h->nh].value = v;
		h->nh++;
	}
	return 0;
}

const char *sim_http_header(const struct sim_http *h, const char *name)
{
	for (int i = 0; i < h->nh; i++)
		if (!strcasecmp(h->h[i].name, name))
			return h->h[i].value;
	return NULL;
}

int sim_http_query(const struct sim_http *h, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	for (const char *p = h->query; *p;) {
		const char *amp = strchr(p, '&'), *e = amp ? amp : p + strlen(p);

		if ((size_t)(e - p) >= nl && !strncmp(p, name, nl) &&
		    (p[nl] == '=' || p + nl == e)) {
			const char *v = p + nl + (p[nl] == '=');

			return sim_pct_decode(v, (size_t)(e - v), out, cap) ? -EINVAL : 1;
		}
		p = amp ? amp + 1 : e;
	}
	return 0;
}

void sim_hdr_add(struct sim_hdrs *x, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->n >= sizeof(x->buf))
		return;
	n = snprintf(x->buf + x->n, sizeof(x->buf) - x->n, "%s: ", name);
	if (n < 0 || (size_t)n >= sizeof(x->buf) - x->n)
		goto full;
	x->n += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(x->buf + x->n, sizeof(x->buf) - x->n, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 >= sizeof(x->buf) - x->n)
		goto full;
	x->n += (size_t)n;
	memcpy(x->buf + x->n, "\r\n", 3);
	x->n += 2;
	return;
full:
	x->n = sizeof(x->buf); /* the response will not fit: BUFFER_TOO_SMALL */
}

const char *sim_http_reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 206:
		return "Partial Content";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Request Entity Too Large";
	case 416:
		return "Range Not Satisfiable";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	default:
		return "Error";
	}
}

static const char *message(const char *code)
{
	static const char *const m[][2] = {
	    {"BlobNotFound", "The specified blob does not exist."},
	    {"ContainerNotFound", "The specified container does not exist."},
	    {"ContainerAlreadyExists", "The specified container already exists."},
	    {"BlobAlreadyExists", "The specified blob already exists."},
	    {"InvalidResourceName", "The specified resource name contains invalid characters."},
	    {"OutOfRangeInput",
	     "The specified resource name length is not within the permissible limits."},
	    {"InvalidBlockList", "The specified block list is invalid."},
	    {"InvalidBlobOrBlock", "The specified blob or block content is invalid."},
	    {"InvalidRange",
	     "The range specified is invalid for the current size of the resource."},
	    {"ConditionNotMet",
	     "The condition specified using HTTP conditional header(s) is not met."},
	    {"InvalidXmlDocument", "XML specified is not syntactically valid."},
	    {"MissingRequiredHeader",
	     "An HTTP header that's mandatory for this request is not specified."},
	    {"InvalidHeaderValue",
	     "The value for one of the HTTP headers is not in the correct format."},
	    {"Md5Mismatch", "The MD5 value specified in the request did not match with the MD5 "
			    "value calculated by the server."},
	    {"Crc64Mismatch", "The CRC64 value specified in the request did not match with the "
			      "CRC64 value calculated by the server."},
	    {"InvalidMd5", "The MD5 value specified in the request is invalid. The MD5 value "
			   "must be 128 bits and Base64-encoded."},
	    {"InternalError",
	     "The server encountered an internal error. Please retry the request."},
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcmp(m[i][0], code))
			return m[i][1];
	return code;
}

/* The head of a plain answer (no error, no extra headers), the common one
 * (no-op, echo, reads), built without printf: it is on every request. */
static uint32_t plain_head(struct azblob_sim_req *r, uint32_t *rlen, int code, uint64_t content_len)
{
	static const char cl[] = "\r\nContent-Length: ";
	static const char tail[] = "\r\nx-ms-version: 2021-08-06\r\n\r\n";
	const char *reason = sim_http_reason(code);
	char head[160], digits[24];
	size_t n = 0, rl = strlen(reason), nd = 0;

	if (code < 100 || code > 999 || rl > 64)
		return UINT32_MAX;
	do
		digits[nd++] = (char)('0' + content_len % 10);
	while ((content_len /= 10));
	memcpy(head, "HTTP/1.1 ", 9);
	n = 9;
	head[n++] = (char)('0' + code / 100);
	head[n++] = (char)('0' + code / 10 % 10);
	head[n++] = (char)('0' + code % 10);
	head[n++] = ' ';
	memcpy(head + n, reason, rl);
	n += rl;
	memcpy(head + n, cl, sizeof(cl) - 1);
	n += sizeof(cl) - 1;
	while (nd)
		head[n++] = digits[--nd];
	memcpy(head + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	if (n >= r->response_cap) {
		*rlen = r->response_cap;
		return AZBLOB_VSP_STATUS_BUFFER_TOO_SMALL;
	}
	memcpy(r->response, head, n);
	r->response[n] = 0; /* as snprintf left it */
	*rlen = (uint32_t)n;
	return AZBLOB_VSP_STATUS_OK;
}

uint32_t sim_http_respond(struct azblob_sim_req *r, uint32_t *rlen, int code, const char *err,
			  uint64_t content_len, const struct sim_hdrs *extra, bool no_body)
{
	char body[512] = "";
	size_t blen = 0;
	uint32_t st;
	int n;

	if (!err && (!extra || !extra->n) &&
	    (st = plain_head(r, rlen, code, content_len)) != UINT32_MAX)
		return st;

	if (err && !no_body) {
		n = snprintf(body, sizeof(body),
			     "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code>"
			     "<Message>%s</Message></Error>",
			     err, message(err));
		blen = n > 0 && (size_t)n < sizeof(body) ? (size_t)n : 0;
	}
	if (err)
		content_len = blen;
	if (extra && extra->n >= sizeof(extra->buf))
		goto small;
	n = snprintf((char *)r->response, r->response_cap,
		     "HTTP/1.1 %d %s\r\nContent-Length: %llu\r\nx-ms-version: 2021-08-06\r\n"
		     "%.*s%s%s%s%s\r\n%s",
		     code, sim_http_reason(code), (unsigned long long)content_len,
		     extra ? (int)extra->n : 0, extra ? extra->buf : "",
		     blen ? "Content-Type: application/xml\r\n" : "",
		     err ? "x-ms-error-code: " : "", err ? err : "", err ? "\r\n" : "", body);
	if (n < 0 || (uint32_t)n >= r->response_cap)
		goto small;
	*rlen = (uint32_t)n;
	return AZBLOB_VSP_STATUS_OK;
small:
	*rlen = r->response_cap;
	return AZBLOB_VSP_STATUS_BUFFER_TOO_SMALL;
}

uint32_t sim_http_special(const struct sim_http *h, struct azblob_sim_req *r, uint32_t *rlen,
			  uint32_t *dout)
{
	if (!strcmp(h->blob, "noop"))
		return sim_http_respond(r, rlen, 200, NULL, 0, NULL, false);
	if (!strcmp(h->blob, "echo")) {
		/* The data comes back as it went (in place); the head is
		 * copied into the response after ours. */
		uint32_t st = sim_http_respond(r, rlen, 200, NULL, r->data_valid, NULL, false), k;

		if (st)
			return st;
		*dout = r->data_valid;
		k = r->request_len < r->response_cap - *rlen ? r->request_len
							     : r->response_cap - *rlen;
		memcpy(r->response + *rlen, r->request, k);
		*rlen += k;
		return st;
	}
	return sim_http_respond(r, rlen, 404, "ResourceNotFound", 0, NULL, false);
}

void sim_http_date(int64_t t, char *out, size_t cap)
{
	static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char mons[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
		 mons[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void sim_md5_b64(const void *data, size_t len, char out[SIM_MD5_B64_LEN + 1])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = 0;
	if (EVP_Digest(data ? data : (const void *)"", len, d, &n, EVP_md5(), NULL) == 1 && n == 16)
		EVP_EncodeBlock((unsigned char *)out, d, 16);
}

const char *sim_http_check_body(const struct sim_http *h, const void *data, size_t len,
				struct sim_body_sums *out)
{
	const char *md5 = sim_http_header(h, "Content-MD5");
	const char *crc = sim_http_header(h, "x-ms-content-crc64");
	uint64_t want;

	memset(out, 0, sizeof(*out));
	if (md5 && crc)
		return "InvalidHeaderValue"; /* the service: 400 when both are sent */
	if (md5) {
		if (strlen(md5) != SIM_MD5_B64_LEN || strcmp(md5 + 22, "=="))
			return "InvalidMd5";
		sim_md5_b64(data, len, out->md5);
		out->has_md5 = true;
		return strcmp(md5, out->md5) ? "Md5Mismatch" : NULL;
	}
	/* Without Content-MD5 the service answers the body's CRC-64. */
	out->crc = az_crc64(0, data, len);
	out->has_crc = true;
	if (crc && az_crc64_from_b64(crc, &want))
		return "InvalidHeaderValue";
	return crc && want != out->crc ? "Crc64Mismatch" : NULL;
}

void sim_hdr_add_body_sums(struct sim_hdrs *x, const struct sim_body_sums *s)
{
	char b[AZ_CRC64_B64_LEN + 1];

	if (s->has_md5)
		sim_hdr_add(x, "Content-MD5", "%s", s->md5);
	if (s->has_crc) {
		az_crc64_b64(s->crc, b);
		sim_hdr_add(x, "x-ms-content-crc64", "%s", b);
	}
}
