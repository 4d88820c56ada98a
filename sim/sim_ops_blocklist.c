// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Put Block List bodies: <BlockList><Latest|Committed|Uncommitted>id</..>
 * ...</BlockList>, parsed with expat. The body is untrusted: no DTDs
 * (entity tricks stop there), ids are bounded, the count is bounded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "sim_ops.h"

struct bl {
	XML_Parser p;
	int depth, err;
	bool root_seen;
	struct sim_blockref *v, cur;
	size_t n, cap, max, idn;
	bool in_id, toolong;
};

static void stop(struct bl *s, int err)
{
	if (!s->err)
		s->err = err;
	XML_StopParser(s->p, XML_FALSE);
}

static void on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct bl *s = arg;

	(void)attrs;
	s->depth++;
	if (s->depth == 1) {
		if (strcmp(name, "BlockList") || s->root_seen)
			stop(s, -EINVAL);
		s->root_seen = true;
		return;
	}
	if (s->depth != 2) {
		stop(s, -EINVAL);
		return;
	}
	if (!strcmp(name, "Latest"))
		s->cur.kind = 'L';
	else if (!strcmp(name, "Committed"))
		s->cur.kind = 'C';
	else if (!strcmp(name, "Uncommitted"))
		s->cur.kind = 'U';
	else {
		stop(s, -EINVAL);
		return;
	}
	s->in_id = true;
	s->toolong = false;
	s->idn = 0;
}

static void on_end(void *arg, const XML_Char *name)
{
	struct bl *s = arg;
	size_t a = 0, b = s->idn;

	(void)name;
	if (s->depth-- != 2 || !s->in_id)
		return;
	s->in_id = false;
	/* Blanks around the id are not part of it. */
	while (a < b && strchr(" \t\r\n", s->cur.id[a]))
		a++;
	while (b > a && strchr(" \t\r\n", s->cur.id[b - 1]))
		b--;
	memmove(s->cur.id, s->cur.id + a, b - a);
	s->cur.id[b - a] = 0;
	if (s->toolong)
		strcpy(s->cur.id, "!"); /* no block has this id */
	if (s->n >= s->max) {
		stop(s, -E2BIG);
		return;
	}
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct sim_blockref *v = realloc(s->v, nc * sizeof(*v));

		if (!v) {
			stop(s, -ENOMEM);
			return;
		}
		s->v = v;
		s->cap = nc;
	}
	s->v[s->n++] = s->cur;
}

static void on_text(void *arg, const XML_Char *t, int len)
{
	struct bl *s = arg;

	if (!s->in_id) {
		/* Only blanks between elements. */
		for (int i = 0; i < len; i++)
			if (!strchr(" \t\r\n", t[i])) {
				stop(s, -EINVAL);
				return;
			}
		return;
	}
	if (s->toolong || (size_t)len >= sizeof(s->cur.id) - s->idn) {
		s->toolong = true; /* longer than any valid id */
		return;
	}
	memcpy(s->cur.id + s->idn, t, (size_t)len);
	s->idn += (size_t)len;
	s->cur.id[s->idn] = 0;
}

static void on_doctype(void *arg, const XML_Char *name, const XML_Char *sys, const XML_Char *pub,
		       int internal)
{
	(void)name;
	(void)sys;
	(void)pub;
	(void)internal;
	stop(arg, -EINVAL);
}

int sim_blocklist_parse(const uint8_t *xml, size_t len, size_t max, struct sim_blockref **out)
{
	struct bl s = {.max = max};
	enum XML_Status st;

	*out = NULL;
	if (len > (size_t)INT32_MAX)
		return -EINVAL;
	s.p = XML_ParserCreate("UTF-8");
	if (!s.p)
		return -ENOMEM;
	XML_SetUserData(s.p, &s);
	XML_SetElementHandler(s.p, on_start, on_end);
	XML_SetCharacterDataHandler(s.p, on_text);
	XML_SetStartDoctypeDeclHandler(s.p, on_doctype);
	st = XML_Parse(s.p, (const char *)xml, (int)len, XML_TRUE);
	XML_ParserFree(s.p);
	if (!s.err && (st != XML_STATUS_OK || !s.root_seen))
		s.err = -EINVAL;
	if (s.err) {
		free(s.v);
		return s.err;
	}
	*out = s.v;
	return (int)s.n;
}
