// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* azblob CLI: the --json writer (json.h). */
#include <inttypes.h>

#include "json.h"

static void raw_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f); /* UTF-8 passes through */
	}
	fputc('"', f);
}

/* Comma and key before a value. */
static void key(struct json *j, const char *k)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (k) {
		raw_str(j->f, k);
		fputc(':', j->f);
	}
}

static void open(struct json *j, const char *k, char c)
{
	key(j, k);
	fputc(c, j->f);
	if (j->depth < (int)(sizeof(j->first) - 1))
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void json_begin(struct json *j, FILE *f)
{
	*j = (struct json){.f = f};
	j->first[0] = true;
	open(j, NULL, '{');
}

void json_end(struct json *j)
{
	while (j->depth > 0)
		close_(j, '}');
	fputc('\n', j->f);
	fflush(j->f);
}

void json_obj(struct json *j, const char *k)
{
	open(j, k, '{');
}

void json_obj_end(struct json *j)
{
	close_(j, '}');
}

void json_arr(struct json *j, const char *k)
{
	open(j, k, '[');
}

void json_arr_end(struct json *j)
{
	close_(j, ']');
}

void json_str(struct json *j, const char *k, const char *v, bool empty_null)
{
	key(j, k);
	if (!v || (empty_null && !*v))
		fputs("null", j->f);
	else
		raw_str(j->f, v);
}

void json_u64(struct json *j, const char *k, uint64_t v)
{
	key(j, k);
	fprintf(j->f, "%" PRIu64, v);
}

void json_i64(struct json *j, const char *k, int64_t v)
{
	key(j, k);
	fprintf(j->f, "%" PRId64, v);
}

void json_bool(struct json *j, const char *k, bool v)
{
	key(j, k);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *k)
{
	key(j, k);
	fputs("null", j->f);
}
