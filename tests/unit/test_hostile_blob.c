/* Blob helpers against a hostile host: numbers in response heads and in
 * the List Blobs XML (negative, overflowing, not numbers, repeated with
 * different values) are -EPROTO, never a wrapped size. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>

#include <azblob/blob.h>

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
