/* Azure Storage's CRC-64 (azblob/crc64.c): both implementations against
 * published vectors, against a bit-at-a-time reference of the definition
 * and against each other on random data of odd lengths and alignments;
 * the base64 form of the x-ms-content-crc64 header. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azblob/blob.h>

#include "crc64.h"

/* Published vectors. The Azure SDK for C++'s Crc64Hash test,
 * Azure/azure-sdk-for-cpp sdk/storage/azure-storage-common/test/ut/
 * crypt_functions_test.cpp (Crc64Hash_Basic): "" -> "AAAAAAAAAAA=",
 * "Hello Azure!" -> "DtjZpL9/o8c=" (base64 of the 8 little-endian bytes).
 * And the CRC catalogue's check value of CRC-64/NVME, the same model
 * (reveng.sourceforge.io/crc-catalogue, width=64 poly=0xad93d23594c93659
 * init=xorout=0xffffffffffffffff refin=refout=true): "123456789" ->
 * 0xae8b14860a799888. */
static const struct {
	const char *in, *b64;
	uint64_t v;
} vec[] = {
    {"", "AAAAAAAAAAA=", 0},
    {"Hello Azure!", "DtjZpL9/o8c=", 0xc7a37fbfa4d9d80eull},
    {"123456789", "iJh5CoYUi64=", 0xae8b14860a799888ull},
};

typedef uint64_t (*crc_fn)(uint64_t, const void *, size_t);

/* The definition, one bit at a time (reflected poly, all-ones in and out). */
static uint64_t bitwise(uint64_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x9A6C9329AC4BC9B5ull : crc >> 1;
	}
	return ~crc;
}

static bool have_clmul(void)
{
	if (!az_crc64_have_clmul()) {
		fprintf(stderr,
			"azblob_crc64: no PCLMULQDQ on this CPU: carry-less path skipped\n");
		return false;
	}
	return true;
}

static void check_vectors(crc_fn f, const char *name)
{
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		char b[AZ_CRC64_B64_LEN + 1];
		uint64_t v = f(0, vec[i].in, strlen(vec[i].in));

		cr_expect_eq(v, vec[i].v, "%s(\"%s\") = %#llx", name, vec[i].in,
			     (unsigned long long)v);
		az_crc64_b64(v, b);
		cr_expect_str_eq(b, vec[i].b64, "%s(\"%s\")", name, vec[i].in);
	}
}

Test(azblob_crc64, vectors)
{
	check_vectors(bitwise, "reference");
	check_vectors(az_crc64_table, "table");
	check_vectors(azblob_crc64, "azblob_crc64");
	if (have_clmul())
		check_vectors(az_crc64_clmul, "clmul");
}

static uint8_t *random_bytes(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n);

	cr_assert_not_null(p);
	srand(seed);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rand();
	return p;
}

/* Every length to 1100 at every alignment to 15, from a non-zero start:
 * the table against the reference, the carry-less path against the table. */
Test(azblob_crc64, lengths_and_alignments)
{
	uint8_t *buf = random_bytes(1200, 7);
	bool clmul = have_clmul();

	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len <= 1100; len += off ? 7 : 1) {
			uint64_t start = off * 0x0123456789abcdefull, want;

			want = bitwise(start, buf + off, len);
			cr_assert_eq(az_crc64_table(start, buf + off, len), want,
				     "table: len %zu off %zu", len, off);
			if (clmul)
				cr_assert_eq(az_crc64_clmul(start, buf + off, len), want,
					     "clmul: len %zu off %zu", len, off);
		}
	free(buf);
}

/* Large buffers of odd sizes, and continuation: crc(a || b) is crc over b
 * from crc(a), split anywhere. */
Test(azblob_crc64, large_and_split)
{
	size_t n = (4u << 20) + 12345;
	uint8_t *buf = random_bytes(n, 11);
	uint64_t whole = az_crc64_table(0, buf, n);

	cr_expect_eq(bitwise(0, buf, 1 << 20), az_crc64_table(0, buf, 1 << 20));
	if (have_clmul()) {
		cr_expect_eq(az_crc64_clmul(0, buf, n), whole);
		cr_expect_eq(az_crc64_clmul(0, buf + 3, n - 3), az_crc64_table(0, buf + 3, n - 3));
	}
	cr_expect_eq(azblob_crc64(0, buf, n), whole);
	for (size_t cut = 0; cut < n; cut += 333331) {
		uint64_t a = azblob_crc64(0, buf, cut);

		cr_expect_eq(azblob_crc64(a, buf + cut, n - cut), whole, "split at %zu", cut);
		cr_expect_eq(az_crc64_table(az_crc64_table(0, buf, cut), buf + cut, n - cut),
			     whole);
	}
	free(buf);
}

Test(azblob_crc64, base64)
{
	uint64_t v;

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		cr_expect_eq(az_crc64_from_b64(vec[i].b64, &v), 0);
		cr_expect_eq(v, vec[i].v);
	}
	cr_expect_eq(az_crc64_from_b64("AAAAAAAAAA==", &v), -EINVAL); /* 7 bytes */
	cr_expect_eq(az_crc64_from_b64("AAAAAAAAAAA", &v), -EINVAL);
	cr_expect_eq(az_crc64_from_b64("AAAAAAAAAAB=", &v), -EINVAL); /* padding bits */
	cr_expect_eq(az_crc64_from_b64("AAAAAAA*AAA=", &v), -EINVAL);
	cr_expect_eq(az_crc64_from_b64("AAAAAAAAAAAAAAA=", &v), -EINVAL);
	cr_expect_eq(az_crc64_from_b64(NULL, &v), -EINVAL);
}
