// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Backend "rest": each guest request (docs/FORMAT.md) is forwarded to an
 * Azure Blob REST endpoint with libcurl and the answer is written back
 * into the guest's response and data buffers. docs/REST.md has the rules.
 * This file is the HTTP client; the guest's head is parsed in
 * sim_rest_head.c, Shared Key signing is sim_rest_sign.c.
 *
 * open() arg: URL[;sas=TOKEN] or URL;account=NAME;key=BASE64KEY.
 *
 * The guest's head is untrusted: it is parsed and validated (method,
 * target characters, no dot segments, header names and values) before a
 * URL is built as the configured URL + the guest's path, so the guest
 * chooses the path and query only, never the scheme, host or port (checked
 * again on the final URL). Only x-ms-* and the headers Shared Key signs
 * are forwarded. Redirects are not followed.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include <azblob/sim.h>

#include "sim_ops.h"
#include "sim_rest.h"
#include "sim_rest_internal.h"

#define MAX_ERRBODY	4096
#define MAX_RESP_HDRS	8192
#define DEFAULT_TIMEOUT 60000u

struct rest {
	CURL *curl;
	struct uvmbus_log log;
	char base[2048];      /* scheme://authority[/path], no trailing '/' */
	char base_path[1024]; /* the [/path] part, for CanonicalizedResource */
	char host[256];	      /* host and port of base, to check final URLs */
	char port[16];
	bool loopback;
	char sas[2048]; /* without '?' */
	char account[256];
	unsigned char key[128];
	size_t key_len;
	/* per-request scratch (the sim serves from one thread) */
	struct rhead head;
	char url[2048 + 2 * MAX_TARGET + 2048 + 4];
	char sts[32768];
	char errbuf[CURL_ERROR_SIZE];
	/* response being received */
	int code;
	char reason[128];
	char rhdrs[MAX_RESP_HDRS];
	size_t rhdrs_len;
	bool rhdrs_full;
	long long content_length; /* upstream Content-Length, -1 unknown */
	struct azblob_sim_req *req;
	uint64_t body_bytes; /* body bytes received (all of them) */
	uint32_t data_written;
	bool too_small;
	char errbody[MAX_ERRBODY];
	size_t errbody_len;
};

#define rlog(b, lvl, ...) uvmbus_log_printf(&(b)->log, (lvl), __VA_ARGS__)

/* ---- open / close ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool url_part(CURLU *u, CURLUPart part, char *out, size_t cap, unsigned flags)
{
	char *v = NULL;

	out[0] = 0;
	if (curl_url_get(u, part, &v, flags) != CURLUE_OK)
		return false;
	snprintf(out, cap, "%s", v);
	curl_free(v);
	return true;
}

/* Scheme, host and port of `url` (default port filled in). */
static int url_origin(const char *url, char *scheme, size_t scap, char *host, size_t hcap,
		      char *port, size_t pcap)
{
	CURLU *u = curl_url();
	int rc = -EINVAL;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    url_part(u, CURLUPART_SCHEME, scheme, scap, 0) &&
	    url_part(u, CURLUPART_HOST, host, hcap, 0) &&
	    url_part(u, CURLUPART_PORT, port, pcap, CURLU_DEFAULT_PORT))
		rc = 0;
	curl_url_cleanup(u);
	return rc;
}

static int parse_arg(struct rest *b, const char *arg)
{
	const char *semi = strchr(arg, ';');
	size_t n = semi ? (size_t)(semi - arg) : strlen(arg);
	char scheme[16], *ps;
	bool have_key = false;

	if (n == 0 || n >= sizeof(b->base))
		return -EINVAL;
	memcpy(b->base, arg, n);
	b->base[n] = 0;
	while (n > 0 && b->base[n - 1] == '/')
		b->base[--n] = 0;
	if (strpbrk(b->base, "?#") || !strstr(b->base, "://"))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)b->base[i] <= 0x20 || (unsigned char)b->base[i] >= 0x7f)
			return -EINVAL;
	if (url_origin(b->base, scheme, sizeof(scheme), b->host, sizeof(b->host), b->port,
		       sizeof(b->port)))
		return -EINVAL;
	if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))
		return -EINVAL;
	ps = strstr(b->base, "://") + 3;
	ps = strchr(ps, '/');
	snprintf(b->base_path, sizeof(b->base_path), "%s", ps ? ps : "");
	b->loopback = !strcmp(b->host, "127.0.0.1") || !strcmp(b->host, "[::1]") ||
		      !strcmp(b->host, "localhost");

	for (const char *p = semi; p && *p;) {
		const char *opt = p + 1, *next = strchr(opt, ';');
		size_t ol = next ? (size_t)(next - opt) : strlen(opt);

		if (ol > 4 && !strncmp(opt, "sas=", 4)) {
			const char *t = opt + 4;
			size_t tl = ol - 4;

			if (*t == '?')
				t++, tl--;
			if (tl == 0 || tl >= sizeof(b->sas))
				return -EINVAL;
			memcpy(b->sas, t, tl);
			b->sas[tl] = 0;
			for (size_t i = 0; i < tl; i++)
				if (!sim_rest_target_char_ok((unsigned char)b->sas[i]))
					return -EINVAL;
		} else if (ol > 8 && !strncmp(opt, "account=", 8)) {
			if (ol - 8 >= sizeof(b->account))
				return -EINVAL;
			memcpy(b->account, opt + 8, ol - 8);
			b->account[ol - 8] = 0;
		} else if (ol > 4 && !strncmp(opt, "key=", 4)) {
			unsigned char tmp[sizeof(b->key) + 4];
			size_t kl = ol - 4;
			int dl;

			if (kl % 4 || kl / 4 * 3 > sizeof(tmp))
				return -EINVAL;
			dl = EVP_DecodeBlock(tmp, (const unsigned char *)opt + 4, (int)kl);
			if (dl < 0)
				return -EINVAL;
			if (opt[4 + kl - 1] == '=')
				dl--;
			if (opt[4 + kl - 2] == '=')
				dl--;
			if (dl <= 0 || (size_t)dl > sizeof(b->key))
				return -EINVAL;
			memcpy(b->key, tmp, (size_t)dl);
			b->key_len = (size_t)dl;
			have_key = true;
		} else if (ol) {
			return -EINVAL;
		}
		p = next;
	}
	if (have_key != (b->account[0] != 0) || (have_key && b->sas[0]))
		return -EINVAL;
	return 0;
}

int sim_rest_open(void **state, const char *arg, const struct uvmbus_log *log)
{
	struct rest *b;
	int rc;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return -EIO;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	if (log)
		b->log = *log;
	if (!arg || (rc = parse_arg(b, arg))) {
		rlog(b, UVMBUS_LOG_ERR,
		     "rest: backend_arg must be URL[;sas=TOKEN] or URL;account=NAME;key=BASE64");
		free(b);
		return -EINVAL;
	}
	b->curl = curl_easy_init();
	if (!b->curl) {
		free(b);
		return -ENOMEM;
	}
	rlog(b, UVMBUS_LOG_INFO, "rest: forwarding to %s (%s)", b->base,
	     b->key_len	 ? "Shared Key"
	     : b->sas[0] ? "SAS"
			 : "anonymous");
	*state = b;
	return 0;
}

void sim_rest_close(void *state)
{
	struct rest *b = state;

	if (!b)
		return;
	curl_easy_cleanup(b->curl);
	OPENSSL_cleanse(b->key, sizeof(b->key));
	free(b);
}

/* ---- answering ---- */

/* A locally produced answer (the request never left the sim). */
static uint32_t respond_local(struct azblob_sim_req *r, uint32_t *rlen, int code, const char *err)
{
	return sim_http_respond(r, rlen, code, err, 0, NULL, false);
}

/* Response headers passed back to the guest (Content-Length is rewritten),
 * in this spelling whatever the server's; x-ms-* ones in lower case. */
static const char *passed_back(const char *name, size_t n)
{
	static const char *const keep[] = {
	    "ETag",	     "Last-Modified",	    "Content-Range",	"Content-Type",
	    "Content-MD5",   "Content-Encoding",    "Content-Language", "Accept-Ranges",
	    "Cache-Control", "Content-Disposition",
	};

	if (n > 5 && !strncasecmp(name, "x-ms-", 5))
		return "";
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (strlen(keep[i]) == n && !strncasecmp(name, keep[i], n))
			return keep[i];
	return NULL;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *arg)
{
	struct rest *b = arg;
	size_t n = size * nitems, len = n;
	const char *colon;

	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len >= 5 && !memcmp(buf, "HTTP/", 5)) {
		/* A status line (a new one after 100 Continue starts over). */
		const char *sp = memchr(buf, ' ', len), *sp2;

		b->code = 0;
		b->reason[0] = 0;
		b->rhdrs_len = 0;
		b->rhdrs_full = false;
		b->content_length = -1;
		if (sp && (size_t)(buf + len - sp) > 3) {
			b->code = atoi(sp + 1);
			sp2 = memchr(sp + 1, ' ', (size_t)(buf + len - sp - 1));
			if (sp2) {
				size_t rl = (size_t)(buf + len - sp2 - 1);

				if (rl >= sizeof(b->reason))
					rl = sizeof(b->reason) - 1;
				memcpy(b->reason, sp2 + 1, rl);
				b->reason[rl] = 0;
				for (size_t i = 0; i < rl; i++)
					if ((unsigned char)b->reason[i] < 0x20 ||
					    (unsigned char)b->reason[i] >= 0x7f)
						b->reason[i] = ' ';
			}
		}
		return n;
	}
	colon = memchr(buf, ':', len);
	if (!colon)
		return n;
	size_t nl = (size_t)(colon - buf);
	const char *v = colon + 1;

	while (v < buf + len && (*v == ' ' || *v == '\t'))
		v++;
	if (nl == 14 && !strncasecmp(buf, "Content-Length", 14)) {
		b->content_length = strtoll(v, NULL, 10);
		return n;
	}
	const char *spelling = passed_back(buf, nl);
	char *o = b->rhdrs + b->rhdrs_len;
	size_t vl = (size_t)(buf + len - v);

	if (!spelling)
		return n;
	if (nl + 2 + vl + 2 >= sizeof(b->rhdrs) - b->rhdrs_len) {
		b->rhdrs_full = true;
		return n;
	}
	for (size_t i = 0; i < nl; i++)
		o[i] = spelling[0] ? spelling[i] : (char)tolower((unsigned char)buf[i]);
	memcpy(o + nl, ": ", 2);
	memcpy(o + nl + 2, v, vl);
	for (size_t i = 0; i < vl; i++)
		if ((unsigned char)o[nl + 2 + i] < 0x20 && o[nl + 2 + i] != '\t')
			o[nl + 2 + i] = ' ';
	b->rhdrs_len += nl + 2 + vl;
	memcpy(b->rhdrs + b->rhdrs_len, "\r\n", 2);
	b->rhdrs_len += 2;
	return n;
}

static size_t on_body(char *buf, size_t size, size_t nitems, void *arg)
{
	struct rest *b = arg;
	struct azblob_sim_req *r = b->req;
	size_t n = size * nitems;

	b->body_bytes += n;
	if (b->code < 200 || b->code > 299) {
		size_t k = sizeof(b->errbody) - b->errbody_len;

		if (k > n)
			k = n;
		memcpy(b->errbody + b->errbody_len, buf, k);
		b->errbody_len += k;
		return n;
	}
	if (b->too_small)
		return n;
	if (n > (size_t)(r->data_len - b->data_written)) {
		b->too_small = true;
		/* With the size known, stop the transfer; else count it all. */
		return b->content_length >= 0 ? 0 : n;
	}
	memcpy(r->data + b->data_written, buf, n);
	b->data_written += (uint32_t)n;
	return n;
}

/* Build the guest's response head from what came back; an error body
 * (when any) follows it, cut to what fits, and Content-Length is then the
 * number of body bytes included. */
static uint32_t respond_upstream(struct rest *b, struct azblob_sim_req *r, uint32_t *rlen,
				 uint64_t content_len, const char *body, size_t body_len)
{
	char *o = (char *)r->response;
	size_t cap = r->response_cap, room;
	const char *rs = b->reason[0] ? b->reason : sim_http_reason(b->code);
	int n;

	if (body_len) {
		/* The head's length with body_len's digits: k <= body_len fits too. */
		n = snprintf(NULL, 0, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n", b->code, rs,
			     body_len);
		room =
		    (size_t)n + b->rhdrs_len + 2 < cap ? cap - ((size_t)n + b->rhdrs_len + 2) : 0;
		if (body_len > room)
			body_len = room;
		content_len = body_len;
	}
	n = snprintf(o, cap, "HTTP/1.1 %d %s\r\nContent-Length: %llu\r\n", b->code, rs,
		     (unsigned long long)content_len);
	if (n < 0 || (size_t)n + b->rhdrs_len + 2 > cap) {
		if (n > 0 && (size_t)n < cap)
			memcpy(o + n, b->rhdrs,
			       cap - (size_t)n < b->rhdrs_len ? cap - (size_t)n : b->rhdrs_len);
		*rlen = (uint32_t)cap;
		return AZBLOB_VSP_STATUS_BUFFER_TOO_SMALL;
	}
	memcpy(o + n, b->rhdrs, b->rhdrs_len);
	n += (int)b->rhdrs_len;
	memcpy(o + n, "\r\n", 2);
	n += 2;
	if (body_len) {
		memcpy(o + n, body, body_len);
		n += (int)body_len;
	}
	*rlen = (uint32_t)n;
	return AZBLOB_VSP_STATUS_OK;
}

static bool same_origin(struct rest *b, const char *url)
{
	char scheme[16], host[256], port[16];

	return !url_origin(url, scheme, sizeof(scheme), host, sizeof(host), port, sizeof(port)) &&
	       !strcasecmp(host, b->host) && !strcmp(port, b->port);
}

uint32_t sim_rest_handle(void *state, struct azblob_sim_req *r, uint32_t *rlen, uint32_t *dout)
{
	struct rest *b = state;
	struct rhead *h = &b->head;
	struct curl_slist *hl = NULL, *t;
	char date[64], line[MAX_HNAME + MAX_HVALUE + 4], auth[512];
	bool body = false;
	uint32_t st;
	CURLcode cc;
	CURL *c = b->curl;

	*dout = 0;
	*rlen = 0;
	if (sim_rest_parse_head(r->request, r->request_len, h))
		return respond_local(r, rlen, 400, "InvalidHttpRequest");
	if (!strncmp(h->path, "/$sim/", 6)) {
		if (!strcmp(h->path, "/$sim/noop"))
			return respond_local(r, rlen, 200, NULL);
		return respond_local(r, rlen, 404, "ResourceNotFound");
	}
	sim_http_date((int64_t)time(NULL), date, sizeof(date));
	if (sim_rest_prepare_headers(h, date))
		return respond_local(r, rlen, 400, "InvalidHttpRequest");
	body = !strcmp(h->method, "PUT") || !strcmp(h->method, "POST");

	snprintf(b->url, sizeof(b->url), "%s%s%s%s%s%s", b->base, h->path,
		 h->query[0] || b->sas[0] ? "?" : "", h->query, h->query[0] && b->sas[0] ? "&" : "",
		 b->sas);
	if (!same_origin(b, b->url)) {
		rlog(b, UVMBUS_LOG_WARN, "rest: refused a request for another origin (%s %.200s)",
		     h->method, h->path);
		return respond_local(r, rlen, 400, "InvalidUri");
	}

	/* Headers: the forwarded ones, auth, and curl's defaults removed. */
	for (int i = 0; i < h->nh; i++) {
		snprintf(line, sizeof(line), "%s: %s", h->h[i].name, h->h[i].value);
		if (!(t = curl_slist_append(hl, line)))
			goto oom;
		hl = t;
	}
	if (b->key_len) {
		if (sim_rest_string_to_sign(h, b->account, b->base_path, body ? r->data_valid : 0,
					    b->sts, sizeof(b->sts)) ||
		    sim_rest_auth(b->account, b->key, b->key_len, b->sts, auth, sizeof(auth)))
			return respond_local(r, rlen, 400, "InvalidHttpRequest");
		snprintf(line, sizeof(line), "Authorization: %s", auth);
		if (!(t = curl_slist_append(hl, line)))
			goto oom;
		hl = t;
	}
	static const char *const drop[] = {"Expect:", "Accept:", "Content-Type:"};

	for (size_t i = 0; i < 3; i++) {
		if (i == 2 && sim_rest_hget(h, "Content-Type"))
			break;
		if (!(t = curl_slist_append(hl, drop[i])))
			goto oom;
		hl = t;
	}

	curl_easy_reset(c);
	uint32_t tmo = r->timeout_ms ? r->timeout_ms : DEFAULT_TIMEOUT;

	b->errbuf[0] = 0;
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, b->errbuf);
	curl_easy_setopt(c, CURLOPT_URL, b->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)tmo);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(tmo < 10000 ? tmo : 10000));
	if (b->loopback)
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, b);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	if (!strcmp(h->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (body) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, h->method);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->data_valid);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->data_valid ? (char *)r->data : "");
	} else if (!strcmp(h->method, "DELETE")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}

	b->req = r;
	b->code = 0;
	b->reason[0] = 0;
	b->rhdrs_len = 0;
	b->rhdrs_full = false;
	b->content_length = -1;
	b->body_bytes = 0;
	b->data_written = 0;
	b->too_small = false;
	b->errbody_len = 0;
	cc = curl_easy_perform(c);
	curl_slist_free_all(hl);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	/* The body (when any) was read from guest memory; do not keep it. */
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	b->req = NULL;

	if (b->too_small && (cc == CURLE_OK || cc == CURLE_WRITE_ERROR)) {
		uint64_t size =
		    b->content_length >= 0 ? (uint64_t)b->content_length : b->body_bytes;

		st = respond_upstream(b, r, rlen, size, NULL, 0);
		return st ? st : AZBLOB_VSP_STATUS_BUFFER_TOO_SMALL;
	}
	if (cc != CURLE_OK) {
		rlog(b, UVMBUS_LOG_ERR, "rest: %s %.200s: %s", h->method, h->path,
		     b->errbuf[0] ? b->errbuf : curl_easy_strerror(cc));
		return cc == CURLE_OPERATION_TIMEDOUT ? AZBLOB_VSP_STATUS_IO_TIMEOUT
						      : AZBLOB_VSP_STATUS_INTERNAL_ERROR;
	}
	if (b->rhdrs_full)
		rlog(b, UVMBUS_LOG_WARN, "rest: %s %.200s: response headers cut", h->method,
		     h->path);
	if (b->code >= 200 && b->code <= 299) {
		uint64_t size = !strcmp(h->method, "HEAD") && b->content_length >= 0
				    ? (uint64_t)b->content_length
				    : b->data_written;

		*dout = b->data_written;
		return respond_upstream(b, r, rlen, size, NULL, 0);
	}
	/* An error: its (XML) body after the head, cut to what fits. */
	return respond_upstream(b, r, rlen, 0, b->errbody, b->errbody_len);
oom:
	curl_slist_free_all(hl);
	rlog(b, UVMBUS_LOG_ERR, "rest: out of memory");
	return AZBLOB_VSP_STATUS_INTERNAL_ERROR;
}
