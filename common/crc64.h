/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Azure Storage's CRC-64 (CRC-64/NVME, crc64.c): az_crc64() picks the
 * carry-less or the table path at run time; libazblob exports it as
 * azblob_crc64(), the emulator and the tests call these directly. */
#ifndef AZ_CRC64_H
#define AZ_CRC64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Continue crc (a previous result, 0 to start) over len bytes, on the
 * fastest path the CPU has. */
uint64_t az_crc64(uint64_t crc, const void *data, size_t len);
/* Both continue crc (a previous result, 0 to start) over len bytes. */
uint64_t az_crc64_table(uint64_t crc, const void *data, size_t len);
/* Only when az_crc64_have_clmul(). */
uint64_t az_crc64_clmul(uint64_t crc, const void *data, size_t len);
/* The CPU has a carry-less multiply (x86: PCLMULQDQ and SSE2; arm64:
 * PMULL, HWCAP_PMULL): the carry-less path may run. */
bool az_crc64_have_clmul(void);

/* The 12-character base64 of the 8 little-endian bytes of crc, as the
 * x-ms-content-crc64 header carries it (out: 13 bytes with the NUL). */
#define AZ_CRC64_B64_LEN 12
void az_crc64_b64(uint64_t crc, char out[AZ_CRC64_B64_LEN + 1]);
/* The other way: 0, or -EINVAL when s is not the base64 of 8 bytes. */
int az_crc64_from_b64(const char *s, uint64_t *crc);

#endif
