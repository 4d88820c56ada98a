// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * List Blobs for the memory backend: the service's EnumerationResults XML
 * into the data buffer, sorted by name, paged by maxresults (NextMarker is
 * the last name the page covered, as Azurite's; the next page starts after
 * it), BlobPrefix with a delimiter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_ops.h"
#include "sim_store.h"

#define LIST_MAX 5000

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static void elem(FILE *f, const char *name, const char *v)
{
	fprintf(f, "<%s>", name);
	esc(f, v);
	fprintf(f, "</%s>", name);
}

uint32_t sim_ops_list(const struct sim_http *h, struct sim_mem *m, struct azblob_sim_req *r,
		      uint32_t *rlen, uint32_t *dout, struct sim_hdrs *x)
{
	char prefix[SIM_NAME_MAX + 1] = "", marker[SIM_NAME_MAX + 1] = "", delim[64] = "";
	char maxs[24] = "", last_prefix[SIM_NAME_MAX + 1] = "";
	int hp = sim_http_query(h, "prefix", prefix, sizeof(prefix));
	int hm = sim_http_query(h, "marker", marker, sizeof(marker));
	int hd = sim_http_query(h, "delimiter", delim, sizeof(delim));
	int hx = sim_http_query(h, "maxresults", maxs, sizeof(maxs));
	struct sim_mcontainer *c;
	unsigned long long max = LIST_MAX;
	size_t pos, pl, count = 0, size = 0;
	const char *consumed = NULL;
	bool more = false;
	char *xml = NULL, *e;
	uint32_t st;
	FILE *f;

	if (hp < 0 || hm < 0 || hd < 0 || hx < 0)
		return sim_http_respond(r, rlen, 400, "InvalidQueryParameterValue", 0, x, false);
	if (hx > 0) {
		if (maxs[0] < '0' || maxs[0] > '9')
			return sim_http_respond(r, rlen, 400, "InvalidQueryParameterValue", 0, x,
						false);
		errno = 0;
		max = strtoull(maxs, &e, 10);
		if (*e || errno)
			return sim_http_respond(r, rlen, 400, "InvalidQueryParameterValue", 0, x,
						false);
		if (!max)
			return sim_http_respond(r, rlen, 400, "OutOfRangeQueryParameterValue", 0, x,
						false);
		if (max > LIST_MAX)
			max = LIST_MAX;
	}
	c = sim_mem_container(m, h->container);
	if (!c)
		return sim_http_respond(r, rlen, 404, "ContainerNotFound", 0, x, false);
	f = open_memstream(&xml, &size);
	if (!f)
		return sim_http_respond(r, rlen, 500, "InternalError", 0, x, false);
	fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "
	      "ServiceEndpoint=\"https://sim.blob.core.windows.net/\" ContainerName=\"",
	      f);
	esc(f, h->container);
	fputs("\">", f);
	if (hp > 0)
		elem(f, "Prefix", prefix);
	if (hm > 0)
		elem(f, "Marker", marker);
	if (hx > 0)
		fprintf(f, "<MaxResults>%llu</MaxResults>", max);
	if (hd > 0)
		elem(f, "Delimiter", delim);
	fputs("<Blobs>", f);
	pl = strlen(prefix);
	/* The marker is the last name of the previous page (as Azurite's):
	 * the page starts after it. */
	if (sim_mem_blob(c, marker, &pos))
		pos++;
	for (; pos < c->n; pos++) {
		const struct sim_mblob *b = c->blobs[pos];
		const char *d;
		char date[40], cdate[40], etag[SIM_ETAG_LEN];

		int pc = strncmp(b->name, prefix, pl);

		if (pc > 0)
			break; /* sorted: no more names with the prefix */
		if (!b->committed || pc)
			continue;
		d = delim[0] ? strstr(b->name + pl, delim) : NULL;
		if (d) {
			size_t n = (size_t)(d - b->name) + strlen(delim);

			if (strlen(last_prefix) == n && !strncmp(last_prefix, b->name, n)) {
				consumed = b->name; /* that prefix is out already */
				continue;
			}
			if (count == max) {
				more = true;
				break;
			}
			memcpy(last_prefix, b->name, n);
			last_prefix[n] = 0;
			fputs("<BlobPrefix>", f);
			elem(f, "Name", last_prefix);
			fputs("</BlobPrefix>", f);
			consumed = b->name;
			count++;
			continue;
		}
		if (count == max) {
			more = true;
			break;
		}
		sim_http_date(b->mtime, date, sizeof(date));
		sim_http_date(b->ctime, cdate, sizeof(cdate));
		/* The service lists ETags without the quotes of the header. */
		snprintf(etag, sizeof(etag), "%.*s", (int)strlen(b->etag) - 2, b->etag + 1);
		fputs("<Blob>", f);
		elem(f, "Name", b->name);
		fprintf(f,
			"<Properties><Creation-Time>%s</Creation-Time><Last-Modified>%s"
			"</Last-Modified><Etag>%s</Etag><Content-Length>%llu</Content-Length>"
			"<Content-Type>application/octet-stream</Content-Type>"
			"<Content-MD5>%s</Content-MD5><BlobType>BlockBlob</BlobType>"
			"<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>"
			"</Properties></Blob>",
			cdate, date, etag, (unsigned long long)b->size, b->md5);
		consumed = b->name;
		count++;
	}
	fputs("</Blobs>", f);
	if (more && consumed)
		elem(f, "NextMarker", consumed);
	else
		fputs("<NextMarker />", f);
	fputs("</EnumerationResults>", f);
	if (fclose(f) || !xml) {
		free(xml);
		return sim_http_respond(r, rlen, 500, "InternalError", 0, x, false);
	}
	sim_hdr_add(x, "Content-Type", "application/xml");
	st = sim_http_respond(r, rlen, 200, NULL, size, x, false);
	if (!st && size > r->data_len)
		st = AZBLOB_VSP_STATUS_BUFFER_TOO_SMALL;
	if (!st) {
		memcpy(r->data, xml, size);
		*dout = (uint32_t)size;
	}
	free(xml);
	return st;
}
