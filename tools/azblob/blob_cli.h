/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* azblob CLI: what the blob command line (cmd_blob.c) hands the blob
 * commands' work (blob_verbs.c). */
#ifndef AZBLOB_CLI_BLOB_CLI_H
#define AZBLOB_CLI_BLOB_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <azblob/blob.h>

struct cli;

enum blob_cmd { B_PUT, B_GET, B_LS, B_RM, B_STAT, B_MB, B_RB };

struct bopts {
	const char *backend;
	uint32_t qd, chunk, page_size;
	bool quiet, md5, json;
	bool copy; /* put, get: through pool buffers even when the file could be registered */
	enum azblob_blob_check check;
	const char *content_type, *delimiter;
};

/* Each returns an exit code (docs/CLI.md); they open the client (and the
 * in-process simulator with b->backend) themselves. */
int blob_do_put(struct cli *cli, const struct bopts *b, const char *file, const char *target);
int blob_do_get(struct cli *cli, struct bopts *b, const char *target, const char *file);
int blob_do_ls(struct cli *cli, struct bopts *b, const char *target);
/* rm, stat CONTAINER/BLOB, mb, rb. */
int blob_do_simple(struct cli *cli, struct bopts *b, enum blob_cmd which, const char *target);

#endif
