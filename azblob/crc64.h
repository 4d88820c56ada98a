/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Azure Storage's CRC-64 (crc64.c): the public azblob_crc64() picks one of
 * these at run time; the simulator and the tests use them directly. Not
 * exported from the shared library. */
#ifndef AZBLOB_CRC64_H
#define AZBLOB_CRC64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Both continue crc (a previous result, 0 to start) over len bytes. */
uint64_t azblob_crc64_table(uint64_t crc, const void *data, size_t len);
/* Only when azblob_crc64_have_clmul(). */
uint64_t azblob_crc64_clmul(uint64_t crc, const void *data, size_t len);
/* The CPU has PCLMULQDQ (and SSE4.1): the carry-less path may run. */
bool azblob_crc64_have_clmul(void);

/* The 12-character base64 of the 8 little-endian bytes of crc, as the
 * x-ms-content-crc64 header carries it (out: 13 bytes with the NUL). */
#define AZBLOB_CRC64_B64_LEN 12
void azblob_crc64_b64(uint64_t crc, char out[AZBLOB_CRC64_B64_LEN + 1]);
/* The other way: 0, or -EINVAL when s is not the base64 of 8 bytes. */
int azblob_crc64_from_b64(const char *s, uint64_t *crc);

#endif
