// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Azure Storage's CRC-64, the value of x-ms-content-crc64 (docs/BLOB.md).
 *
 * The model (as the Azure SDKs' Crc64Hash / StorageCrc64Calculator compute
 * it; it is the catalogue's CRC-64/NVME): polynomial 0xAD93D23594C93659
 * (reflected: 0x9A6C9329AC4BC9B5), input and output reflected, init and
 * xorout all ones. A running value continues across calls (0 to start).
 * The header carries the 8 bytes of the result little-endian, in base64.
 *
 * Two implementations, chosen at run time:
 *  - table: slicing-by-8 over eight 256-entry tables (any CPU);
 *  - clmul: four 128-bit accumulators folded forward 64 bytes at a time
 *    with a carry-less multiply (x86: PCLMULQDQ; arm64: PMULL, the same
 *    folding with NEON), then folded into one; the last 16 bytes of the
 *    folded state and the tail (< 16 bytes) go through the table. Compiled
 *    with a target attribute, so the library still runs on a CPU without
 *    it (x86: __builtin_cpu_supports decides; arm64: HWCAP_PMULL).
 *
 * Folding (reflected bit order: bit i of a 64-bit lane is x^(63-i)): a
 * 128-bit chunk R = L * x^64 + H (L the low, first, lane) moved D bits on
 * is L * x^(D+64) + H * x^D; modulo P that is L * (x^(D+64) mod P) +
 * H * (x^D mod P), each product 127 bits wide. A carry-less multiply of
 * two reflected lanes yields the product times x, so the constants are
 * x^(D+63) mod P and x^(D-1) mod P, bit-reflected.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <arm_neon.h>
#include <sys/auxv.h>
#define HAVE_ARM64 1
#if defined(__clang__)
#define TARGET_PMULL __attribute__((target("aes")))
#else
#define TARGET_PMULL __attribute__((target("+crypto")))
#endif
#endif

#include "crc64.h"

#define POLY_REFLECTED 0x9A6C9329AC4BC9B5ull

/* Bit-reflected x^n mod P: folding by D = 512 (four accumulators) and by
 * D = 128 (one). */
#define K512_LO 0x0c32cdb31e18a84aull /* x^575 mod P */
#define K512_HI 0x62242240ace5045aull /* x^511 mod P */
#define K128_LO 0xeadc41fd2ba3d420ull /* x^191 mod P */
#define K128_HI 0x21e9761e252621acull /* x^127 mod P */

static uint64_t table[8][256];
static uint64_t (*impl)(uint64_t, const void *, size_t);
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint64_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ POLY_REFLECTED : c >> 1;
		table[0][i] = c;
	}
	for (unsigned i = 0; i < 256; i++)
		for (unsigned t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
	impl = az_crc64_have_clmul() ? az_crc64_clmul : az_crc64_table;
}

/* The register without the all-ones in and out. */
static uint64_t crc_raw(uint64_t c, const uint8_t *p, size_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
		len--;
	}
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		v = __builtin_bswap64(v);
#endif
		v ^= c;
		c = table[7][v & 0xff] ^ table[6][(v >> 8) & 0xff] ^ table[5][(v >> 16) & 0xff] ^
		    table[4][(v >> 24) & 0xff] ^ table[3][(v >> 32) & 0xff] ^
		    table[2][(v >> 40) & 0xff] ^ table[1][(v >> 48) & 0xff] ^ table[0][v >> 56];
	}
	while (len--)
		c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

uint64_t az_crc64_table(uint64_t crc, const void *data, size_t len)
{
	pthread_once(&once, init);
	return ~crc_raw(~crc, data, len);
}

#ifdef HAVE_X86
bool az_crc64_have_clmul(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse2");
}

__attribute__((target("pclmul,sse2"))) static inline __m128i fold(__m128i x, __m128i k,
								  __m128i next)
{
	return _mm_xor_si128(
	    _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)),
	    next);
}

__attribute__((target("pclmul,sse2"))) uint64_t az_crc64_clmul(uint64_t crc, const void *data,
							       size_t len)
{
	const uint8_t *p = data;
	uint64_t c = ~crc;
	__m128i x0, x1, x2, x3, k;
	uint8_t rest[16];

	pthread_once(&once, init);
	if (len < 128)
		return ~crc_raw(c, p, len);
	/* The running value enters as an XOR over the first 8 bytes. */
	x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_set_epi64x(0, (long long)c));
	x1 = _mm_loadu_si128((const __m128i *)(p + 16));
	x2 = _mm_loadu_si128((const __m128i *)(p + 32));
	x3 = _mm_loadu_si128((const __m128i *)(p + 48));
	p += 64;
	len -= 64;
	k = _mm_set_epi64x((long long)K512_HI, (long long)K512_LO);
	for (; len >= 64; p += 64, len -= 64) {
		x0 = fold(x0, k, _mm_loadu_si128((const __m128i *)p));
		x1 = fold(x1, k, _mm_loadu_si128((const __m128i *)(p + 16)));
		x2 = fold(x2, k, _mm_loadu_si128((const __m128i *)(p + 32)));
		x3 = fold(x3, k, _mm_loadu_si128((const __m128i *)(p + 48)));
	}
	k = _mm_set_epi64x((long long)K128_HI, (long long)K128_LO);
	x0 = fold(fold(fold(x0, k, x1), k, x2), k, x3);
	for (; len >= 16; p += 16, len -= 16)
		x0 = fold(x0, k, _mm_loadu_si128((const __m128i *)p));
	/* x0 is congruent to everything so far; its CRC register from 0. */
	_mm_storeu_si128((__m128i *)rest, x0);
	c = crc_raw(0, rest, sizeof(rest));
	return ~crc_raw(c, p, len);
}
#elif defined(HAVE_ARM64)
bool az_crc64_have_clmul(void)
{
	unsigned long hw = getauxval(AT_HWCAP);

	return (hw & HWCAP_PMULL) && (hw & HWCAP_ASIMD);
}

/* x86's fold() in NEON: lane 0 is the low (first) 8 bytes, as there. */
TARGET_PMULL static inline uint64x2_t fold(uint64x2_t x, poly64x2_t k, uint64x2_t next)
{
	poly64x2_t px = vreinterpretq_p64_u64(x);
	uint64x2_t lo =
	    vreinterpretq_u64_p128(vmull_p64(vgetq_lane_p64(px, 0), vgetq_lane_p64(k, 0)));
	uint64x2_t hi = vreinterpretq_u64_p128(vmull_high_p64(px, k));

	return veorq_u64(veorq_u64(lo, hi), next);
}

static inline uint64x2_t load16(const uint8_t *p)
{
	return vreinterpretq_u64_u8(vld1q_u8(p));
}

static inline poly64x2_t consts(uint64_t lo, uint64_t hi)
{
	return vreinterpretq_p64_u64(vcombine_u64(vcreate_u64(lo), vcreate_u64(hi)));
}

TARGET_PMULL uint64_t az_crc64_clmul(uint64_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t c = ~crc;
	uint64x2_t x0, x1, x2, x3;
	poly64x2_t k;
	uint8_t rest[16];

	pthread_once(&once, init);
	if (len < 128)
		return ~crc_raw(c, p, len);
	/* The running value enters as an XOR over the first 8 bytes. */
	x0 = veorq_u64(load16(p), vcombine_u64(vcreate_u64(c), vcreate_u64(0)));
	x1 = load16(p + 16);
	x2 = load16(p + 32);
	x3 = load16(p + 48);
	p += 64;
	len -= 64;
	k = consts(K512_LO, K512_HI);
	for (; len >= 64; p += 64, len -= 64) {
		x0 = fold(x0, k, load16(p));
		x1 = fold(x1, k, load16(p + 16));
		x2 = fold(x2, k, load16(p + 32));
		x3 = fold(x3, k, load16(p + 48));
	}
	k = consts(K128_LO, K128_HI);
	x0 = fold(fold(fold(x0, k, x1), k, x2), k, x3);
	for (; len >= 16; p += 16, len -= 16)
		x0 = fold(x0, k, load16(p));
	/* x0 is congruent to everything so far; its CRC register from 0. */
	vst1q_u8(rest, vreinterpretq_u8_u64(x0));
	c = crc_raw(0, rest, sizeof(rest));
	return ~crc_raw(c, p, len);
}
#else
bool az_crc64_have_clmul(void)
{
	return false;
}

uint64_t az_crc64_clmul(uint64_t crc, const void *data, size_t len)
{
	return az_crc64_table(crc, data, len);
}
#endif

uint64_t az_crc64(uint64_t crc, const void *data, size_t len)
{
	pthread_once(&once, init);
	return impl(crc, data, len);
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void az_crc64_b64(uint64_t crc, char out[AZ_CRC64_B64_LEN + 1])
{
	uint8_t b[9] = {0};
	size_t o = 0;

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(crc >> (8 * i));
	for (int i = 0; i < 9; i += 3) {
		uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];

		out[o++] = B64[(v >> 18) & 63];
		out[o++] = B64[(v >> 12) & 63];
		out[o++] = B64[(v >> 6) & 63];
		out[o++] = B64[v & 63];
	}
	out[11] = '='; /* 8 bytes: the last group holds 2 */
	out[12] = 0;
}

int az_crc64_from_b64(const char *s, uint64_t *crc)
{
	uint8_t b[9];
	size_t o = 0;

	if (!s || strlen(s) != AZ_CRC64_B64_LEN || s[11] != '=' || s[10] == '=')
		return -EINVAL;
	for (int i = 0; i < 12; i += 4) {
		uint32_t v = 0;

		for (int j = 0; j < 4; j++) {
			const char *q = s[i + j] == '=' ? B64 : strchr(B64, s[i + j]);

			if (!q || !s[i + j])
				return -EINVAL;
			v = v << 6 | (uint32_t)(q - B64);
		}
		b[o++] = (uint8_t)(v >> 16);
		b[o++] = (uint8_t)(v >> 8);
		b[o++] = (uint8_t)v;
	}
	if (b[8])
		return -EINVAL; /* non-zero padding bits */
	*crc = 0;
	for (int i = 7; i >= 0; i--)
		*crc = *crc << 8 | b[i];
	return 0;
}
