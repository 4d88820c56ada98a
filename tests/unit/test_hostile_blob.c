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
