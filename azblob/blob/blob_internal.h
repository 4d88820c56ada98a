/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Blob helpers: what blob_req.c, blob_engine.c and blob_ops.c share (not exported). */
#ifndef AZBLOB_BLOB_INTERNAL_H
#define AZBLOB_BLOB_INTERNAL_H

#include <stddef.h>

#define AZBLOB_BLOB_API_VERSION "2021-08-06"

/* Code and Message of an <Error> XML body. 0 or -EBADMSG. */
int az_blob_parse_error(const void *xml, size_t len, char *code, size_t code_cap, char *message,
			size_t message_cap);

#endif
