/* Blob helpers against a hostile host: numbers in response heads and in
 * the List Blobs XML (negative, overflowing, not numbers, repeated with
 * different values) are -EPROTO, never a wrapped size; the ranged Get's
 * lean head parser (az_blob_parse_get) takes only what the full one
 * takes, and a download refuses answers that do not match its request
 * or that would show an earlier answer's bytes. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azblob/blob.h>

#include "../../azblob/blob/blob_internal.h"

/* ---- List Blobs XML: <Content-Length> of a blob ---- */

static int items;
static uint64_t last_size;

static int count_item(void *user, const struct azblob_blob_item *it)
{
	(void)user;
	items++;
	last_size = it->size;
	return 0;
}

static int parse_size(const char *size)
{
	char xml[512];
	int n = snprintf(xml, sizeof(xml),
			 "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs>"
			 "<Blob><Name>a</Name><Properties><Content-Length>%s</Content-Length>"
			 "</Properties></Blob></Blobs><NextMarker/></EnumerationResults>",
			 size);

	items = 0;
	last_size = 0;
	return azblob_blob_parse_list(xml, (size_t)n, count_item, NULL, NULL, 0);
}

Test(azblob_hostile_blob, list_size_negative)
{
	int rc = parse_size("-5");

	cr_expect_eq(rc, -EPROTO, "Content-Length -5: rc %d, size %llu, expected %d", rc,
		     (unsigned long long)last_size, -EPROTO);
	cr_expect_eq(items, 0, "no item for a bad size");
}

Test(azblob_hostile_blob, list_size_overflow)
{
	static const char *const bad[] = {"18446744073709551616", "99999999999999999999999",
					  "9223372036854775808"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse_size(bad[i]);

		cr_expect_eq(rc, -EPROTO, "Content-Length %s: rc %d, size %llu, expected %d",
			     bad[i], rc, (unsigned long long)last_size, -EPROTO);
	}
}

Test(azblob_hostile_blob, list_size_not_a_number)
{
	static const char *const bad[] = {"12abc", "", "+5", "0x10", "1 2"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse_size(bad[i]);

		cr_expect_eq(rc, -EPROTO, "Content-Length '%s': rc %d, expected %d", bad[i], rc,
			     -EPROTO);
	}
}

Test(azblob_hostile_blob, list_size_valid)
{
	cr_expect_eq(parse_size("0"), 0);
	cr_expect_eq(parse_size("9223372036854775807"), 0);
	cr_expect_eq(last_size, 9223372036854775807ull);
	cr_expect_eq(parse_size(" 100\n"), 0, "surrounding XML white space");
	cr_expect_eq(last_size, 100u);
	cr_expect_eq(items, 1);
}

Test(azblob_hostile_blob, list_size_repeated)
{
	cr_expect_eq(parse_size("5</Content-Length><Content-Length>5"), 0, "the same: accepted");
	cr_expect_eq(parse_size("5</Content-Length><Content-Length>6"), -EPROTO);
}

/* ---- response heads: Content-Length ---- */

static int head(const char *h, struct azblob_blob_resp *r)
{
	return azblob_blob_parse_response(h, strlen(h), r);
}

Test(azblob_hostile_blob, head_length_negative_and_overflow)
{
	struct azblob_blob_resp r;

	cr_expect_eq(head("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", &r), -EPROTO);
	cr_expect_eq(head("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", &r),
		     -EPROTO);
	cr_expect_eq(head("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n", &r),
		     -EPROTO);
	cr_expect_eq(head("HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n", &r), -EPROTO);
}

Test(azblob_hostile_blob, head_length_repeated_differing)
{
	struct azblob_blob_resp r;
	int rc = head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"x\"\r\n"
		      "Content-Length: 500000\r\n\r\n",
		      &r);

	cr_expect_eq(rc, -EPROTO, "Content-Length 5 then 500000: rc %d, length %lld, expected %d",
		     rc, (long long)r.content_length, -EPROTO);
	rc = head("HTTP/1.1 200 OK\r\ncontent-length: 7\r\nCONTENT-LENGTH: 8\r\n\r\n", &r);
	cr_expect_eq(rc, -EPROTO, "7 then 8 (names in other cases): rc %d, expected %d", rc,
		     -EPROTO);
}

Test(azblob_hostile_blob, head_length_repeated_identical)
{
	struct azblob_blob_resp r;

	cr_assert_eq(
	    head("HTTP/1.1 200 OK\r\nContent-Length: 42\r\nContent-Length: 42\r\n\r\n", &r), 0,
	    "RFC 9110 8.6: identical repeats may be accepted");
	cr_expect_eq(r.content_length, 42);
}

/* ---- the ranged Get's lean parser against the full one ---- */

static const char get_head[] = "HTTP/1.1 206 Partial Content\r\n"
			       "x-ms-request-id: 6a1e-0001\r\n"
			       "Content-Length: 4096\r\n"
			       "Content-Type: application/octet-stream\r\n"
			       "Content-Range: bytes 8192-12287/50331648\r\n"
			       "ETag: \"0x8DC1\"\r\n"
			       "x-ms-blob-type: BlockBlob\r\n"
			       "\r\n";

/* Both parsers on the len bytes of h: the lean one's result, after
 * checking that the full one agrees (same result; same status, length,
 * range and head length when taken). */
static int both(const char *h, size_t len, struct az_get_head *g)
{
	struct azblob_blob_resp r;
	int lean = az_blob_parse_get(h, len, g);
	int full = azblob_blob_parse_response(h, len, &r);

	cr_assert_eq(lean, full, "lean %d, full %d on \"%.*s\"", lean, full, (int)len, h);
	if (!lean) {
		cr_assert_eq(g->http_status, r.http_status);
		cr_assert_eq(g->content_length, r.content_length);
		cr_assert_eq(g->has_range, r.has_range);
		cr_assert_eq(g->range_first, r.range_first);
		cr_assert_eq(g->range_last, r.range_last);
		cr_assert_eq(g->range_total, r.range_total);
		cr_assert_eq(g->head_len, r.head_len);
	}
	return lean;
}

static int both_str(const char *h)
{
	struct az_get_head g;

	return both(h, strlen(h), &g);
}

Test(azblob_hostile_blob, get_head_parsed)
{
	struct az_get_head g;

	cr_assert_eq(both(get_head, sizeof(get_head) - 1, &g), 0);
	cr_expect_eq(g.http_status, 206);
	cr_expect_eq(g.content_length, 4096);
	cr_expect(g.has_range);
	cr_expect_eq(g.range_first, 8192u);
	cr_expect_eq(g.range_last, 12287u);
	cr_expect_eq(g.range_total, 50331648u);
	cr_expect_eq(g.head_len, sizeof(get_head) - 1);
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\ncontent-range: BYTES 0-0/*\r\n"
			      "CONTENT-LENGTH:1\r\n\r\n"),
		     0, "names and 'bytes' in any case, '*' for the total");
	/* Only letters fold: a CR (0x0d | 0x20 is '-') or '_' is another name,
	 * ignored by both parsers (both() compares the lengths: -1). */
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\nContent\rLength: 5\r\n\r\n"), 0);
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\nContent_Range: bytes 0-0/1\r\n\r\n"), 0);
	cr_expect_eq(
	    both_str("HTTP/1.1 206 P\r\nContent-Length: 5\r\nContent-Range: BYTES\r0-0/1\r\n"
		     "\r\n"),
	    -EPROTO, "'bytes' then a CR");
}

/* Every prefix of a head lacks its empty line (or more): -EPROTO, read
 * from a buffer of exactly that length (ASan sees a read past it). */
Test(azblob_hostile_blob, get_head_truncated)
{
	for (size_t n = 0; n < sizeof(get_head) - 1; n++) {
		char *h = malloc(n ? n : 1);
		struct az_get_head g;

		memcpy(h, get_head, n);
		cr_assert_eq(both(h, n, &g), -EPROTO, "the first %zu bytes", n);
		free(h);
	}
}

Test(azblob_hostile_blob, get_head_huge_length)
{
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\nContent-Length: 9223372036854775808\r\n\r\n"),
		     -EPROTO, "INT64_MAX + 1");
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\nContent-Length: 18446744073709551616\r\n\r\n"),
		     -EPROTO, "2^64: would wrap");
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\nContent-Length: 000000000000000000001\r\n\r\n"),
		     -EPROTO, "21 digits");
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\nContent-Length: 9223372036854775807\r\n\r\n"), 0,
		     "INT64_MAX is a size (the download then checks it against its request)");
	cr_expect_eq(
	    both_str("HTTP/1.1 206 P\r\nContent-Range: bytes 0-18446744073709551616/1\r\n\r\n"),
	    -EPROTO, "a range end past 2^64");
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\nContent-Range: bytes 0-1/100000000000000000000\r\n"
			      "\r\n"),
		     -EPROTO, "a total of 21 digits");
}

Test(azblob_hostile_blob, get_head_repeated_headers)
{
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
		     0, "the same Content-Length twice");
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n"),
		     -EPROTO, "two Content-Lengths");
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\nContent-Range: bytes 0-4/9\r\n"
			      "Content-Range: bytes 0-4/9\r\n\r\n"),
		     0, "the same Content-Range twice");
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\nContent-Range: bytes 0-4/9\r\n"
			      "CONTENT-RANGE: bytes 5-8/9\r\n\r\n"),
		     -EPROTO, "two ranges: which one was sent?");
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\nContent-Range: bytes 0-4/9\r\n"
			      "Content-Range: bytes 0-4/*\r\n\r\n"),
		     -EPROTO, "two totals");
	cr_expect_eq(both_str("HTTP/1.1 206 P\r\nContent-Range: bytes 0-4/9\r\n"
			      "Content-Range: bytes */9\r\n\r\n"),
		     -EPROTO, "a range, then none");
}

Test(azblob_hostile_blob, get_head_missing_crlf)
{
	static const char *const bad[][2] = {
	    {"HTTP/1.1 206 P\nContent-Length: 5\r\n\r\n", "status line ends in a bare LF"},
	    {"HTTP/1.1 206 P\r\nContent-Length: 5\n\r\n", "a header ends in a bare LF"},
	    {"HTTP/1.1 206 P\r\nContent-Length: 5\r\n\n", "the empty line is a bare LF"},
	    {"HTTP/1.1 206 P\r\nContent-Length: 5\r\n\r", "the empty line lacks its LF"},
	    {"HTTP/1.1 206 P\r\nContent-Length: 5\r\r\n\r\n", "CR CR LF: the value ends in a CR"},
	    {"HTTP/1.1 206 P\r\nContent-Length: 5\r\nx-ms-foo\r\n\r\n", "a line without a colon"},
	    {"HTTP/1.1 206 P\r\n: 5\r\n\r\n", "a header without a name"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(both_str(bad[i][0]), -EPROTO, "%s", bad[i][1]);
}

Test(azblob_hostile_blob, get_head_not_numbers)
{
	static const char *const lengths[] = {"12a", "+5", "-1",  "0x10",    "1 2",
					      "",    " ",  "1e3", "\xd9\xa1"};
	static const char *const ranges[] = {
	    "bytes 1-a/10", "bytes -5/10",   "bytes 5-3/10", "bytes 1-2/x",   "bytes 1-2/",
	    "bytes 1-2",    "bytes 1/2-3",   "bytes=1-2/10", "bytes 1 -2/10", "bytes +1-2/10",
	    "bytes 1-2/*x", "bytes */",	     "bytes */*",    "byte 1-2/10",   "bytes 1--2/10",
	    "bytes 1-2/1/", "bytes 0x1-2/9", "bytes",	     "bytes 1-2/-3"};
	char h[256];

	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		snprintf(h, sizeof(h), "HTTP/1.1 206 P\r\nContent-Length: %s\r\n\r\n", lengths[i]);
		cr_expect_eq(both_str(h), -EPROTO, "Content-Length: '%s'", lengths[i]);
	}
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		snprintf(h, sizeof(h), "HTTP/1.1 206 P\r\nContent-Range: %s\r\n\r\n", ranges[i]);
		cr_expect_eq(both_str(h), -EPROTO, "Content-Range: '%s'", ranges[i]);
	}
	cr_expect_eq(both_str("HTTP/1.1 2x6 P\r\n\r\n"), -EPROTO, "a status that is not a number");
	cr_expect_eq(both_str("HTTP/1.1 099 P\r\n\r\n"), -EPROTO, "a status under 100");
}

/* The numbers are read up to 8 bytes at a time (blob_req.c, take_u64):
 * every width of 1..21 digits, with every byte value after the first k
 * digits (k = 1..9, then a 7), in each of the four numbers' places, from
 * a buffer of exactly the head's length (ASan sees a read past it). The
 * value is checked against a digit-by-digit reference. */
static void widths_at(const char *fmt, int which)
{
	static const char digits[] = "9182736450918273645091";
	char v[32];

	for (size_t k = 1; k <= 21; k++) {
		for (unsigned b = 0; b < 256; b++) {
			struct az_get_head g;
			uint64_t ref = 0, got;
			size_t vl = 0, hl;
			bool ok = isdigit((int)b) && k + 2 <= 19;
			char *buf;
			int rc;

			if (b > 0 && k > 9)
				break; /* wider: only the digits alone (b = 0 below) */
			memcpy(v, digits, k);
			vl = k;
			if (k <= 9) {
				v[vl++] = (char)b;
				v[vl++] = '7';
			} else {
				ok = k <= 19;
			}
			for (size_t i = 0; ok && i < vl; i++)
				ref = ref * 10 + (uint64_t)(v[i] - '0');
			if (ok && which == 0 && ref > INT64_MAX)
				ok = false;
			/* the value in place of the %.*s (it may hold a NUL) */
			{
				const char *at = strstr(fmt, "%.*s");
				size_t pre = (size_t)(at - fmt), post = strlen(at + 4);

				buf = malloc(pre + vl + post);
				memcpy(buf, fmt, pre);
				memcpy(buf + pre, v, vl);
				memcpy(buf + pre + vl, at + 4, post);
				hl = pre + vl + post;
			}
			rc = both(buf, hl, &g);
			free(buf);
			if (!ok) {
				cr_assert_eq(rc, -EPROTO, "place %d: %zu digits, byte 0x%02x",
					     which, k, b);
				continue;
			}
			cr_assert_eq(rc, 0, "place %d: %zu digits, byte 0x%02x", which, k, b);
			got = which == 0   ? (uint64_t)g.content_length
			      : which == 1 ? g.range_first
			      : which == 2 ? g.range_last
					   : g.range_total;
			cr_assert_eq(got, ref, "place %d: %zu digits, byte 0x%02x", which, k, b);
		}
	}
}

Test(azblob_hostile_blob, get_head_numbers_every_width)
{
	widths_at("HTTP/1.1 206 P\r\nContent-Length: %.*s\r\n\r\n", 0);
	widths_at("HTTP/1.1 206 P\r\nContent-Range: bytes %.*s-9999999999999999999/*\r\n\r\n", 1);
	widths_at("HTTP/1.1 206 P\r\nContent-Range: bytes 0-%.*s/*\r\n\r\n", 2);
	widths_at("HTTP/1.1 206 P\r\nContent-Range: bytes 0-0/%.*s\r\n\r\n", 3);
}

/* ---- List Blobs against a host whose NextMarker does not advance ---- */

#include <stdatomic.h>

#include "mem_fixture.h" /* log sink */
#include "sim_client.h"

enum host_mode {
	HOST_STUCK, /* every page: no blob, NextMarker "m1" */
	HOST_CYCLE, /* one blob per page, NextMarker "a", "b", "a", ... (never the one asked) */
};

/* Past this many pages the host answers 500: code that would list forever
 * ends (with -EIO) instead of hanging the test. */
#define HOST_GUARD (AZBLOB_BLOB_LIST_MAX_PAGES + 50u)

static _Atomic int host_mode;
static atomic_uint host_pages;

static int host_open(void **state, const char *arg, const struct uvmbus_log *log)
{
	(void)arg;
	(void)log;
	*state = NULL;
	return 0;
}

static void host_close(void *state)
{
	(void)state;
}

/* The marker= of the request line ("" when none). */
static void asked_marker(const struct azblob_sim_req *r, char *out, size_t cap)
{
	const char *req = (const char *)r->request, *end = req + r->request_len, *m;
	const char *eol = memchr(req, '\r', r->request_len);
	size_t n = 0;

	out[0] = 0;
	m = memmem(req, (size_t)((eol ? eol : end) - req), "&marker=", 8);
	if (!m)
		return;
	for (m += 8; m < end && *m != '&' && *m != ' ' && n + 1 < cap; m++)
		out[n++] = *m;
	out[n] = 0;
}

static uint32_t host_handle(void *state, struct azblob_sim_req *r, uint32_t *rlen, uint32_t *dout)
{
	char asked[64], xml[512];
	const char *next = "m1", *blob = "";
	unsigned page = atomic_fetch_add(&host_pages, 1) + 1;
	int n, h;

	(void)state;
	asked_marker(r, asked, sizeof(asked));
	if (atomic_load(&host_mode) == HOST_CYCLE) {
		next = strcmp(asked, "a") ? "a" : "b";
		blob = "<Blob><Name>x</Name><Properties><Content-Length>1</Content-Length>"
		       "</Properties></Blob>";
	}
	if (page > HOST_GUARD) {
		h = snprintf((char *)r->response, r->response_cap,
			     "HTTP/1.1 500 Guard\r\nContent-Length: 0\r\n\r\n");
		*rlen = (uint32_t)h;
		*dout = 0;
		return 0;
	}
	n = snprintf(xml, sizeof(xml),
		     "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs>%s"
		     "</Blobs><NextMarker>%s</NextMarker></EnumerationResults>",
		     blob, next);
	h = snprintf(
	    (char *)r->response, r->response_cap,
	    "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/xml\r\n\r\n", n);
	memcpy(r->data, xml, (size_t)n);
	*rlen = (uint32_t)h;
	*dout = (uint32_t)n;
	return 0;
}

static const struct azblob_sim_backend hostile_host = {"hostile", host_open, host_handle,
						       host_close};

static struct log_sink sink;
static struct azblob_sim *sim;
static struct azblob_client *cl;

static void start(enum host_mode mode)
{
	atomic_store(&host_mode, mode);
	atomic_store(&host_pages, 0);
	cr_assert_eq(sim_client_open(&sim, &cl, &hostile_host, sink_log(&sink)), 0, "%s",
		     sink.text);
}

static void stop(void)
{
	sim_client_close(&sim, &cl);
}

static int count_blob(void *user, const struct azblob_blob_item *it)
{
	(void)it;
	++*(unsigned *)user;
	return 0;
}

TestSuite(azblob_hostile_list, .fini = stop);

/* List against a host in `mode`: the listing's return. */
static int list(enum host_mode mode, struct azblob_blob_list_opts *lo, unsigned *seen)
{
	start(mode);
	return azblob_blob_list(cl, "cont", lo, count_blob, seen, NULL);
}

Test(azblob_hostile_list, marker_that_does_not_advance)
{
	struct azblob_blob_list_opts lo = {0};
	unsigned seen = 0;
	int rc = list(HOST_STUCK, &lo, &seen);

	cr_expect_eq(rc, -EPROTO, "list returned %d after %u pages, expected %d", rc,
		     atomic_load(&host_pages), -EPROTO);
	cr_expect_eq(atomic_load(&host_pages), 2u, "the second page repeats the marker asked");
	cr_expect_neq(strstr(sink.text, "NextMarker"), NULL, "%s", sink.text);
}

Test(azblob_hostile_list, given_marker_that_does_not_advance)
{
	struct azblob_blob_list_opts lo = {.marker = "m1"};
	unsigned seen = 0;
	int rc = list(HOST_STUCK, &lo, &seen);

	cr_expect_eq(rc, -EPROTO, "list returned %d after %u pages, expected %d", rc,
		     atomic_load(&host_pages), -EPROTO);
	cr_expect_eq(atomic_load(&host_pages), 1u, "the first page gives back the marker asked");
}

/* Markers that change but go round: only the bound ends the listing. */
Test(azblob_hostile_list, cycling_markers_stop_at_the_bound, .timeout = 120)
{
	char next[16] = "";
	struct azblob_blob_list_opts lo = {.next_marker = next, .next_marker_cap = sizeof(next)};
	unsigned seen = 0;
	int rc = list(HOST_CYCLE, &lo, &seen);

	cr_expect_eq(rc, -E2BIG, "list returned %d after %u pages, expected %d", rc,
		     atomic_load(&host_pages), -E2BIG);
	cr_expect_eq(atomic_load(&host_pages), AZBLOB_BLOB_LIST_MAX_PAGES);
	cr_expect_eq(seen, AZBLOB_BLOB_LIST_MAX_PAGES, "every page's blob was given");
	cr_expect_str_eq(next, AZBLOB_BLOB_LIST_MAX_PAGES % 2 ? "a" : "b",
			 "next_marker: where to go on");
}

/* ---- ranged Gets against a host whose answers do not match ---- */

enum get_mode {
	GET_OK,		/* 206, the range asked */
	GET_SHIFTED,	/* Content-Range one byte off */
	GET_LENGTH_OFF, /* Content-Length one more than the range */
	GET_TOTAL_OFF,	/* the blob's size in Content-Range not the HEAD's */
	GET_TWO_RANGES, /* the range asked, then another */
	GET_NO_BLANK,	/* the head without its empty line */
	GET_HUGE,	/* Content-Length past INT64_MAX */
	GET_STALE,	/* the 2nd Get: only a status line written, the 1st's length claimed */
	GET_STALE_HEAD, /* the 1st Get: only a status line written, the HEAD's length claimed */
};

#define GET_SIZE 8192u

static _Atomic int get_mode;
static atomic_uint get_seen;
static uint32_t get_last_len; /* the host thread's only */

static uint32_t get_handle(void *state, struct azblob_sim_req *r, uint32_t *rlen, uint32_t *dout)
{
	const char *req = (const char *)r->request, *rg;
	char *out = (char *)r->response;
	unsigned long long a = 0, z = 0;
	unsigned k = atomic_fetch_add(&get_seen, 1);
	int mode = atomic_load(&get_mode), h;

	(void)state;
	*dout = 0;
	if (r->request_len > 5 && !memcmp(req, "HEAD ", 5)) {
		h = snprintf(out, r->response_cap,
			     "HTTP/1.1 200 OK\r\nContent-Length: %u\r\nETag: \"e1\"\r\n"
			     "x-ms-request-id: head-answer\r\n\r\n",
			     GET_SIZE);
		*rlen = get_last_len = (uint32_t)h;
		return 0;
	}
	rg = memmem(req, r->request_len, "Range: bytes=", 13);
	if (!rg || sscanf(rg + 13, "%llu-%llu", &a, &z) != 2 || z < a || z - a >= r->data_len)
		return 0xC0000001u; /* not what these tests send */
	if ((mode == GET_STALE && k == 2) || (mode == GET_STALE_HEAD && k == 1)) {
		/* a status line as long as the last answer's, nothing else */
		const char *sl =
		    mode == GET_STALE ? "HTTP/1.1 503 ServerIsBusyNow\r\n" : "HTTP/1.1 503 NO\r\n";

		memcpy(out, sl, strlen(sl));
		*rlen = get_last_len;
		return 0;
	}
	memset(r->data, 'D', (size_t)(z - a + 1));
	*dout = (uint32_t)(z - a + 1);
	h = snprintf(out, r->response_cap,
		     "HTTP/1.1 206 Partial Content\r\nContent-Length: %s%llu\r\n"
		     "Content-Range: bytes %llu-%llu/%u\r\n%sx-ms-request-id: get-%u\r\n%s",
		     mode == GET_HUGE ? "9" : "", z - a + 1 + (mode == GET_LENGTH_OFF),
		     a + (mode == GET_SHIFTED), z + (mode == GET_SHIFTED),
		     GET_SIZE + (mode == GET_TOTAL_OFF),
		     mode == GET_TWO_RANGES ? "Content-Range: bytes 0-0/8192\r\n" : "", k,
		     mode == GET_NO_BLANK ? "" : "\r\n");
	if (mode == GET_HUGE) /* 9 then 19 more digits: over INT64_MAX */
		h = snprintf(
		    out, r->response_cap,
		    "HTTP/1.1 206 Partial Content\r\nContent-Length: 9999999999999999999\r\n"
		    "Content-Range: bytes %llu-%llu/%u\r\n\r\n",
		    a, z, GET_SIZE);
	*rlen = get_last_len = (uint32_t)h;
	return 0;
}

static const struct azblob_sim_backend get_host = {"hostile-get", host_open, get_handle,
						   host_close};

TestSuite(azblob_hostile_get, .fini = stop);

/* A download of the 8 KiB blob in two ranged Gets of 4 KiB on one op (a
 * plain buffer: through the pool), against a host in `mode`. */
static int get_in(enum get_mode mode, char *buf, struct azblob_blob_status *st)
{
	struct azblob_blob_xfer x = {.no_md5 = true, .chunk_size = 4096, .queue_depth = 1};
	size_t got = 0;

	atomic_store(&get_mode, mode);
	atomic_store(&get_seen, 0);
	cr_assert_eq(sim_client_open(&sim, &cl, &get_host, sink_log(&sink)), 0, "%s", sink.text);
	memset(buf, 'x', GET_SIZE);
	return azblob_blob_get(cl, "cont", "b", 0, buf, GET_SIZE, &got, &x, st);
}

Test(azblob_hostile_get, answers_as_asked)
{
	static char buf[GET_SIZE];
	struct azblob_blob_status st;

	cr_assert_eq(get_in(GET_OK, buf, &st), 0, "%s", sink.text);
	cr_expect_eq(st.http_status, 206);
	for (size_t i = 0; i < GET_SIZE; i++)
		cr_assert_eq(buf[i], 'D', "byte %zu", i);
	cr_expect_eq(atomic_load(&get_seen), 3u, "a HEAD and two ranged Gets");
}

/* Content-Range or Content-Length not the range asked, two ranges, a head
 * cut short, a length past INT64_MAX: -EPROTO, the download stops. */
Test(azblob_hostile_get, answers_not_matching_the_request)
{
	static const enum get_mode modes[] = {GET_SHIFTED,    GET_LENGTH_OFF, GET_TOTAL_OFF,
					      GET_TWO_RANGES, GET_NO_BLANK,   GET_HUGE};
	static const char *const names[] = {"range shifted", "length off",    "total off",
					    "two ranges",    "no empty line", "huge length"};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		static char buf[GET_SIZE];
		struct azblob_blob_status st;
		int rc = get_in(modes[i], buf, &st);

		cr_expect_eq(rc, -EPROTO, "%s: %d (%s)", names[i], rc, sink.text);
		cr_expect_eq(st.err, -EPROTO, "%s", names[i]);
		stop();
	}
}

/* A host that writes a status line only and claims the length of its
 * last answer on the op's buffer: the parse must not read that answer's
 * headers on (they would be another request's: its request id, or the
 * HEAD's). The bytes past what it writes read as zeros: -EPROTO. */
Test(azblob_hostile_get, stale_head_bytes_never_parsed)
{
	static const enum get_mode modes[] = {GET_STALE, GET_STALE_HEAD};

	for (size_t i = 0; i < 2; i++) {
		static char buf[GET_SIZE];
		struct azblob_blob_status st;
		int rc = get_in(modes[i], buf, &st);

		cr_expect_eq(rc, -EPROTO, "%s: %d, request id '%s' (%s)",
			     i ? "after the HEAD" : "after a Get", rc, st.request_id, sink.text);
		cr_expect_eq(st.request_id[0], 0, "the earlier answer's request id '%s'",
			     st.request_id);
		cr_expect_neq(st.http_status, 503, "a 503 read from a head never finished");
		stop();
	}
}
