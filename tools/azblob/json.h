/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * azblob CLI: a streaming JSON writer for --json (docs/CLI.md). One value
 * per call; the writer puts the commas, quotes and escapes. Keys are
 * NULL inside arrays. The output is one line, ended by json_end().
 */
#ifndef AZBLOB_CLI_JSON_H
#define AZBLOB_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *f;
	int depth;
	bool first[16]; /* per nesting level: no comma before the next value */
};

void json_begin(struct json *j, FILE *f); /* the top-level object */
void json_end(struct json *j);		  /* closes it, newline, flush */
void json_obj(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr(struct json *j, const char *key);
void json_arr_end(struct json *j);
/* A string; NULL or "" (when empty_null) is written as null. */
void json_str(struct json *j, const char *key, const char *v, bool empty_null);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);

#endif /* AZBLOB_CLI_JSON_H */
