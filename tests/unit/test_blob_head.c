/* The blob helpers' request heads without snprintf (issue 26): the
 * builder azblob_blob_build_request() and the pieces the helpers patch
 * into their heads (az_put_u64, az_put_hdr) give the bytes and errors of
 * the former snprintf formats, kept here as the reference, for names at
 * the limits, names needing escaping, ranges of 0 and UINT64_MAX and
 * every buffer size up to the head's length. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <azblob/blob.h>

#include "../../azblob/blob/blob_internal.h"

/* The former builder (snprintf), validation shared with the library. */
static int ref_build(char *buf, size_t cap, const char *method, const char *container,
		     const char *blob, const char *query, const char *const *headers)
{
	char enc[3 * 1024 + 1];
	bool have_version = false;
	size_t n = 0;
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
	enc[0] = 0;
	if (blob && azblob_blob_url_encode(enc, sizeof(enc), blob, true) < 0)
		return -EINVAL;
	k = snprintf(buf, cap, "%s /%s%s%s%s%s HTTP/1.1\r\n", method, container, blob ? "/" : "",
		     enc, query && *query ? "?" : "", query ? query : "");
	if (k < 0 || (size_t)k >= cap)
		return -ENOSPC;
	n = (size_t)k;
	for (const char *const *h = headers; h && *h; h++) {
		const char *colon = strchr(*h, ':');
		bool ok = colon && colon != *h;

		for (const char *p = *h; ok && p < colon; p++)
			ok = isalnum((unsigned char)*p) || *p == '-' || *p == '_';
		for (const char *p = colon ? colon + 1 : ""; ok && *p; p++)
			ok = (unsigned char)*p >= 0x20 || *p == '\t';
		if (!ok)
			return -EINVAL;
		if (!strncasecmp(*h, "x-ms-version:", 13))
			have_version = true;
		k = snprintf(buf + n, cap - n, "%s\r\n", *h);
		if (k < 0 || (size_t)k >= cap - n)
			return -ENOSPC;
		n += (size_t)k;
	}
	k = snprintf(buf + n, cap - n, "%s\r\n",
		     have_version ? "" : "x-ms-version: " AZBLOB_BLOB_API_VERSION "\r\n");
	if (k < 0 || (size_t)k >= cap - n)
		return -ENOSPC;
	return (int)(n + (size_t)k);
}

static char long_name[1025], long_odd[1025], long_ct[64];

static void init_names(void)
{
	memset(long_name, 'a', 1024);
	for (int i = 0; i < 1024; i++)
		long_odd[i] = " %/#?\xc3\xa9+&="[i % 11];
	memset(long_ct, 'c', 63);
}

/* Every buffer size from 0 to the head's length + 2: same return, same
 * bytes when it fits. */
static void same(const char *method, const char *ct, const char *blob, const char *query,
		 const char *const *h)
{
	static char a[16384], b[16384];
	int full = ref_build(a, sizeof(a), method, ct, blob, query, h);

	cr_assert_eq(azblob_blob_build_request(b, sizeof(b), method, ct, blob, query, h), full);
	if (full < 0)
		return;
	cr_assert_eq(memcmp(a, b, (size_t)full + 1), 0, "%.*s", full, b);
	for (size_t cap = 0; cap <= (size_t)full + 2; cap++) {
		int r = ref_build(a, cap, method, ct, blob, query, h);

		cr_assert_eq(azblob_blob_build_request(b, cap, method, ct, blob, query, h), r,
			     "cap %zu", cap);
		if (r >= 0)
			cr_assert_eq(memcmp(a, b, (size_t)r + 1), 0);
	}
}

Test(blob_head, same_bytes_as_snprintf)
{
	char range0[64], rmax[64], ifm[100];
	const char *none[] = {NULL};
	const char *hs[] = {range0, ifm, NULL};
	const char *hmax[] = {rmax, "x-ms-blob-type: BlockBlob", NULL};
	const char *hver[] = {"X-MS-Version: 2020-01-01", "Content-Type: a/b\tc", NULL};
	const char *bad[] = {"Range: bytes=0-1", "no colon", NULL};
	const char *badv[] = {"A: b\r\nInjected: 1", NULL};
	const char *blobs[] = {
	    NULL,     "a", "dir/sub/file.bin", "sp ace%25#?&=+", "\xc3\xa9t\xc3\xa9", long_name,
	    long_odd, "",  "ctl\x01",	       "del\x7f"};
	const char *cts[] = {"abc", long_ct, "ab", "Abc", "a--b", "-ab"};
	const char *queries[] = {NULL,
				 "",
				 "comp=block&blockid=YXpibGswMDAwMDAw",
				 "restype=container&comp=list&maxresults=5000",
				 "a b",
				 "x#y"};
	const char *const *hsets[] = {NULL, none, hs, hmax, hver, bad, badv};
	const char *methods[] = {"GET", "PUT", "HEAD", "DELETE", "get", ""};

	init_names();
	snprintf(range0, sizeof(range0), "Range: bytes=%" PRIu64 "-%" PRIu64, (uint64_t)0,
		 (uint64_t)0);
	snprintf(rmax, sizeof(rmax), "Range: bytes=%" PRIu64 "-%" PRIu64, UINT64_MAX - 1,
		 UINT64_MAX);
	snprintf(ifm, sizeof(ifm), "If-Match: %s", "\"0x8DC0123456789AB\"");
	for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
		for (size_t c = 0; c < sizeof(cts) / sizeof(cts[0]); c++)
			for (size_t bl = 0; bl < sizeof(blobs) / sizeof(blobs[0]); bl++)
				for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++)
					for (size_t h = 0; h < sizeof(hsets) / sizeof(hsets[0]);
					     h++)
						same(methods[m], cts[c], blobs[bl], queries[q],
						     hsets[h]);
}

Test(blob_head, null_arguments)
{
	char b[64];

	cr_assert_eq(azblob_blob_build_request(NULL, 64, "GET", "abc", NULL, NULL, NULL), -EINVAL);
	cr_assert_eq(azblob_blob_build_request(b, sizeof(b), NULL, "abc", NULL, NULL, NULL),
		     -EINVAL);
	cr_assert_eq(azblob_blob_build_request(b, sizeof(b), "GET", NULL, NULL, NULL, NULL),
		     -EINVAL);
}

Test(blob_head, digits_as_printf)
{
	static const uint64_t v[] = {0,		 1,
				     9,		 10,
				     99,	 100,
				     4194303,	 4194304,
				     UINT32_MAX, (uint64_t)UINT32_MAX + 1,
				     INT64_MAX,	 UINT64_MAX - 1,
				     UINT64_MAX};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char a[32], b[32];
		size_t n = az_put_u64(b, v[i]);

		b[n] = 0;
		snprintf(a, sizeof(a), "%" PRIu64, v[i]);
		cr_assert_str_eq(b, a);
		cr_assert_eq(n, strlen(a));
	}
	/* Every length's edges (the length comes from the bit length and
	 * a power of ten: 10^k - 1, 10^k, 10^k + 1, 2^j - 1, 2^j), and
	 * nothing written past the length. */
	for (unsigned k = 0; k < 64 + 20; k++) {
		uint64_t base = 1;

		if (k < 20)
			for (unsigned i = 0; i < k; i++)
				base *= 10;
		else
			base = k - 20 < 64 ? (uint64_t)1 << (k - 20) : 0;
		for (int d = -1; d <= 1; d++) {
			uint64_t x = base + (uint64_t)(int64_t)d;
			char a[32], b[32];
			size_t n;

			memset(b, 'x', sizeof(b));
			n = az_put_u64(b, x);
			snprintf(a, sizeof(a), "%" PRIu64, x);
			cr_assert_eq(n, strlen(a), "%s: length %zu", a, n);
			cr_assert_eq(memcmp(a, b, n), 0, "%s: %.*s", a, (int)n, b);
			cr_assert_eq(b[n], 'x', "%s: a byte written past it", a);
		}
	}
}

Test(blob_head, header_as_printf)
{
	static const char *vals[] = {"", "\"0x8DC0123456789AB\"", "application/octet-stream",
				     long_name};

	init_names();
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		for (size_t cap = 1; cap < 140; cap += 7) {
			char a[140], b[140];

			snprintf(a, cap, "%s: %s", "Content-Type", vals[i]);
			cr_assert_eq(az_put_hdr(b, cap, "Content-Type", vals[i]), strlen(a));
			cr_assert_str_eq(b, a);
		}
}
