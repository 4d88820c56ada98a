// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob put/get/ls/rm/stat/mb/rb, the work: the in-process simulator with
 * a backend, the client, progress, messages, and each command over the blob
 * helpers of libazblob (include/azblob/blob.h, docs/BLOB.md). The command
 * line is cmd_blob.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <azblob/blob.h>

#include "blob_cli.h"
#include "common.h"
#include "fdio.h"
#include "json.h"
#include "regmem.h"

static int start_sim(struct cli *cli, const char *spec, uint64_t ram)
{
	char name[16];
	const char *arg = NULL, *eq;

	eq = strchr(spec, '=');
	if (eq) {
		snprintf(name, sizeof(name), "%.*s", (int)(eq - spec < 15 ? eq - spec : 15), spec);
		arg = eq + 1;
	} else {
		snprintf(name, sizeof(name), "%s", spec);
	}
	if (!azblob_sim_backend_find(name))
		return cli_usage_error(cli,
				       "--backend %s: no backend '%s' (memory, dir=PATH, "
				       "rest=URL)",
				       spec, name);
	if ((!strcmp(name, "dir") || !strcmp(name, "rest")) && (!arg || !*arg))
		return cli_usage_error(cli, "--backend %s: %s needs =%s", spec, name,
				       !strcmp(name, "dir") ? "PATH" : "URL");
	return cli_start_sim(cli, ram, name, arg);
}

static int open_client(struct cli *cli, const struct bopts *b)
{
	struct cli_client_opts co = {0};
	int rc;

	co.queue_depth = b->qd;
	co.pool_buf_size = b->chunk + 16384;
	co.pool_bufs = b->qd + 2;
	co.sim_ram_bytes = (uint64_t)co.pool_buf_size * co.pool_bufs + (64u << 20);
	if (cli->sim && (rc = start_sim(cli, b->backend ? b->backend : "memory", co.sim_ram_bytes)))
		return rc;
	return cli_open(cli, &co);
}

/* ---- messages ---- */

/* What to do about the common Azure errors, or "". */
static const char *hint(const char *code)
{
	static const struct {
		const char *code, *hint;
	} h[] = {
	    {"ContainerNotFound", "; 'azblob mb CONTAINER' makes it"},
	    {"BlobNotFound", "; 'azblob ls CONTAINER' lists the blobs"},
	    {"ContainerAlreadyExists", "; it is there already"},
	    {"ContainerBeingDeleted", "; wait and retry"},
	    {"AuthenticationFailed", "; check the account key or SAS of --backend"},
	    {"AuthorizationFailure", "; the SAS or key lacks the permission"},
	    {"ServerBusy", "; retry later (the service throttles)"},
	    {"OperationTimedOut", "; retry, or a larger --timeout"},
	};

	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		if (!strcmp(code, h[i].code))
			return h[i].hint;
	return "";
}

static int report(struct cli *cli, const char *what, int rc, const struct azblob_blob_status *st)
{
	bool msg = st->message[0] && strcmp(st->message, st->error_code);

	if (st->http_status >= 300)
		cli_error(cli, "%s: %d %s%s%s%s%s", what, st->http_status,
			  st->error_code[0] ? st->error_code : "(no error code)", msg ? " (" : "",
			  msg ? st->message : "", msg ? ")" : "", hint(st->error_code));
	else if (rc == -ETIMEDOUT)
		cli_error(cli,
			  "%s: the host did not answer in time (ETIMEDOUT); retry, or raise "
			  "--timeout MS",
			  what);
	else if (st->vsp_status)
		cli_error(cli, "%s: the host answered with VSP status 0x%08" PRIx32 " %s", what,
			  st->vsp_status, cli_status_name(st->vsp_status));
	else
		cli_error(cli, "%s: %s (%s)", what, strerror(rc < 0 ? -rc : rc),
			  cli_errno_name(rc));
	return EXIT_RUNTIME;
}

static void fmt_bytes(uint64_t n, char *buf, size_t cap)
{
	if (n < 1024)
		snprintf(buf, cap, "%" PRIu64 " B", n);
	else if (n < (1u << 20))
		snprintf(buf, cap, "%.1f KiB", (double)n / 1024);
	else if (n < (1ull << 30))
		snprintf(buf, cap, "%.1f MiB", (double)n / (1 << 20));
	else
		snprintf(buf, cap, "%.2f GiB", (double)n / (1 << 30));
}

/* ---- progress ---- */

struct prog {
	bool tty, quiet;
	uint64_t start, last;
	bool drawn;
};

static void on_progress(void *user, uint64_t done, uint64_t total)
{
	struct prog *p = user;
	uint64_t now = cli_now_ns();
	double secs, rate;
	char d[32], t[32], r[32], eta[32];
	int pct, bar;

	if (!p->tty || p->quiet || (now - p->last < 100000000ull && done < total))
		return;
	p->last = now;
	secs = (double)(now - p->start) / 1e9;
	rate = secs > 0 ? (double)done / secs : 0;
	pct = total ? (int)(done * 100 / total) : 100;
	bar = pct / 5;
	fmt_bytes(done, d, sizeof(d));
	fmt_bytes(total, t, sizeof(t));
	fmt_bytes((uint64_t)rate, r, sizeof(r));
	if (rate > 0 && done < total) {
		uint64_t s = (uint64_t)((double)(total - done) / rate);

		snprintf(eta, sizeof(eta), "ETA %" PRIu64 ":%02" PRIu64, s / 60, s % 60);
	} else {
		snprintf(eta, sizeof(eta), "         ");
	}
	fprintf(stderr, "\r[%-20.*s] %3d%% %10s / %-10s %10s/s %s", bar, "####################",
		pct, d, t, r, eta);
	p->drawn = true;
}

static void prog_end(struct prog *p, struct cli *cli, const char *what, uint64_t bytes,
		     const char *extra)
{
	double secs = (double)(cli_now_ns() - p->start) / 1e9;
	char b[32], r[32];

	if (p->drawn)
		fputc('\n', stderr);
	if (p->quiet)
		return;
	fmt_bytes(bytes, b, sizeof(b));
	fmt_bytes(secs > 0 ? (uint64_t)((double)bytes / secs) : 0, r, sizeof(r));
	fprintf(stderr, PROG " %s: %s: %" PRIu64 " bytes (%s) in %.2f s, %s/s%s\n", cli->cmd, what,
		bytes, b, secs, r, extra);
}

/* ---- targets ---- */

/* "container[/blob]" into its parts (blob NULL when absent or empty). */
static int split_target(struct cli *cli, const char *t, char *container, size_t cap,
			const char **blob, bool need_blob, bool allow_blob)
{
	const char *slash = strchr(t, '/');
	size_t n = slash ? (size_t)(slash - t) : strlen(t);

	if (n >= cap)
		n = cap - 1;
	memcpy(container, t, n);
	container[n] = 0;
	*blob = slash && slash[1] ? slash + 1 : NULL;
	if (!azblob_container_name_ok(container))
		return cli_usage_error(cli,
				       "'%s': not a container name (3..63 characters of a-z, 0-9 "
				       "and '-', no '--', starting and ending with a letter or "
				       "digit)",
				       container);
	if (need_blob && !*blob)
		return cli_usage_error(cli, "'%s': expected CONTAINER/BLOB", t);
	if (!allow_blob && slash)
		return cli_usage_error(cli, "'%s': expected a container name alone", t);
	if (*blob && !azblob_blob_name_ok(*blob))
		return cli_usage_error(cli, "'%s': not a blob name", *blob);
	return EXIT_OK;
}

/* ---- registered file memory (in place) ---- */

/* -vv: a debug message, as the library's. */
static void debug(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->verbose < 2)
		return;
	va_start(ap, fmt);
	fprintf(stderr, PROG " %s: ", cli->cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* FILE's size bytes mapped and registered (regmem.h), with the reason at
 * debug level when they are copied through pool buffers instead. */
static void *map_registered(struct cli *cli, const struct bopts *b, int fd, uint64_t size,
			    bool writable)
{
	const char *why;
	void *mem;

	if (b->copy) {
		debug(cli, "copied through pool buffers (--copy)");
		return NULL;
	}
	mem = regmem_map(cli->c, fd, size, writable, &why);
	if (!mem)
		debug(cli, "copied through pool buffers (%s)", why);
	else
		debug(cli, "in place: %" PRIu64 " bytes of the file's mapping registered", size);
	return mem;
}

static void unmap_registered(struct cli *cli, void *mem, uint64_t size)
{
	/* The host may still write it (a request timed out): it stays
	 * mapped until the process exits. */
	if (!regmem_unmap(cli->c, mem, size))
		debug(cli, "the file's mapping stays registered");
}

/* ---- commands ---- */

struct file_src {
	int fd;
	const uint8_t *mem;
};

static int file_read(void *user, void *buf, size_t len, uint64_t off)
{
	struct file_src *f = user;

	if (f->mem) {
		memcpy(buf, f->mem + off, len);
		return 0;
	}
	return fdio_read_all(f->fd, buf, len, off); /* -ENODATA: the file shrank */
}

int blob_do_put(struct cli *cli, const struct bopts *b, const char *file, const char *target)
{
	char container[64], blobname[1100], what[1200], extra[128];
	struct azblob_blob_status st;
	struct azblob_blob_xfer x = {0};
	struct file_src src = {.fd = -1};
	struct prog pg = {0};
	uint8_t *mem = NULL;
	void *map = NULL;
	const char *blob;
	uint64_t size;
	int rc;

	if ((rc = split_target(cli, target, container, sizeof(container), &blob, false, true)))
		return rc;
	if (!blob) {
		const char *base = strrchr(file, '/');

		base = base ? base + 1 : file;
		if (!strcmp(file, "-") || !*base)
			return cli_usage_error(cli, "'%s': give the blob name (CONTAINER/BLOB)",
					       target);
		snprintf(blobname, sizeof(blobname), "%s", base);
	} else {
		snprintf(blobname, sizeof(blobname), "%s", blob);
		if (blobname[strlen(blobname) - 1] == '/') {
			const char *base = strrchr(file, '/');

			base = base ? base + 1 : file;
			if (!strcmp(file, "-") || !*base)
				return cli_usage_error(cli, "'%s': give the blob name", target);
			snprintf(blobname + strlen(blobname), sizeof(blobname) - strlen(blobname),
				 "%s", base);
		}
	}
	if (!strcmp(file, "-")) {
		size_t len;

		if ((rc = cli_read_file(cli, "-", &mem, &len, SIZE_MAX / 2)))
			return rc;
		src.mem = mem;
		size = len;
	} else {
		struct stat sb;

		src.fd = open(file, O_RDONLY | O_CLOEXEC);
		if (src.fd < 0)
			return cli_error(cli, "%s: %s", file, strerror(errno));
		if (fstat(src.fd, &sb) || !S_ISREG(sb.st_mode)) {
			close(src.fd);
			return cli_error(cli, "%s: not a regular file", file);
		}
		size = (uint64_t)sb.st_size;
	}
	if ((rc = open_client(cli, b)))
		goto out;
	pg.tty = isatty(STDERR_FILENO);
	pg.quiet = b->quiet;
	pg.start = cli_now_ns();
	x.chunk_size = b->chunk;
	x.queue_depth = b->qd;
	x.timeout_ms = cli->timeout_ms;
	x.content_type = b->content_type;
	x.body_check = b->check;
	x.blob_md5 = b->md5;
	x.progress = on_progress;
	x.progress_user = &pg;
	snprintf(what, sizeof(what), "%s -> %s/%s", file, container, blobname);
	if (src.fd >= 0)
		map = map_registered(cli, b, src.fd, size, false);
	if (map)
		rc = azblob_blob_put(cli->c, container, blobname, map, (size_t)size, &x, &st);
	else
		rc =
		    azblob_blob_upload(cli->c, container, blobname, size, file_read, &src, &x, &st);
	if (rc) {
		if (pg.drawn)
			fputc('\n', stderr);
		rc = report(cli, what, rc, &st);
		goto out;
	}
	if (size > b->chunk)
		snprintf(extra, sizeof(extra), " (%" PRIu64 " blocks, QD %" PRIu32 ", %s)",
			 (size + b->chunk - 1) / b->chunk, b->qd, map ? "in place" : "copied");
	else
		snprintf(extra, sizeof(extra), " (one Put Blob, %s)", map ? "in place" : "copied");
	prog_end(&pg, cli, what, size, extra);
	rc = EXIT_OK;
out:
	unmap_registered(cli, map, size);
	if (src.fd >= 0)
		close(src.fd);
	free(mem);
	return rc;
}

struct file_dst {
	int fd;
	bool seq;      /* standard output: in order, written as they come */
	bool in_place; /* written in place through its registered mapping */
};

static int file_write(void *user, const void *buf, size_t len, uint64_t off)
{
	struct file_dst *f = user;

	return fdio_write_all(f->fd, buf, len, f->seq ? FDIO_SEQ : off);
}

/*
 * get into a file in place: the blob's size (Get Blob Properties), the file
 * made that size, mapped, registered and filled by the host through ranged
 * Gets; then the ETag asked again: the blob must not have changed between
 * the two (every Get of the download is against the ETag its own first
 * request saw). 0 (done), 1 (the file cannot be registered: truncated to
 * 0 again, the caller copies) or a negative errno (st set).
 */
static int get_in_place(struct cli *cli, const struct bopts *b, const char *container,
			const char *blob, struct file_dst *dst, const struct azblob_blob_xfer *x,
			struct azblob_blob_props *p, struct azblob_blob_status *st)
{
	struct azblob_blob_props again;
	size_t got = 0;
	void *map;
	int rc;

	if (b->copy) {
		debug(cli, "copied through pool buffers (--copy)");
		return 1;
	}
	rc = azblob_blob_get_properties(cli->c, container, blob, p, st);
	if (rc)
		return rc;
	if (ftruncate(dst->fd, (off_t)p->size)) {
		debug(cli, "copied through pool buffers (ftruncate: %s)", strerror(errno));
		return 1;
	}
	map = map_registered(cli, b, dst->fd, p->size, true);
	if (!map) {
		if (ftruncate(dst->fd, 0))
			return -errno;
		return 1;
	}
	rc = azblob_blob_get(cli->c, container, blob, 0, map, (size_t)p->size, &got, x, st);
	unmap_registered(cli, map, p->size);
	if (!rc)
		rc = azblob_blob_get_properties(cli->c, container, blob, &again, st);
	if (!rc && (got != p->size || strcmp(again.etag, p->etag))) {
		memset(st, 0, sizeof(*st));
		st->err = rc = -ESTALE;
		snprintf(st->message, sizeof(st->message), "%s",
			 "the blob changed during the download (another ETag)");
	}
	if (!rc)
		dst->in_place = true;
	return rc;
}

int blob_do_get(struct cli *cli, struct bopts *b, const char *target, const char *file)
{
	char container[64], what[1200];
	struct azblob_blob_status st;
	struct azblob_blob_props p;
	struct azblob_blob_xfer x = {0};
	struct file_dst dst = {.fd = -1};
	struct prog pg = {0};
	const char *blob;
	int rc;

	if ((rc = split_target(cli, target, container, sizeof(container), &blob, true, true)))
		return rc;
	if (!strcmp(file, "-")) {
		dst.fd = STDOUT_FILENO;
		dst.seq = true;
	}
	if ((rc = open_client(cli, b)))
		return rc;
	if (dst.fd < 0) {
		/* Read and write: to map it (in place); write only when that
		 * is all we may. */
		dst.fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (dst.fd < 0 && errno == EACCES)
			dst.fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (dst.fd < 0)
			return cli_error(cli, "%s: %s", file, strerror(errno));
	}
	pg.tty = isatty(STDERR_FILENO);
	pg.quiet = b->quiet;
	pg.start = cli_now_ns();
	x.chunk_size = b->chunk;
	x.queue_depth = dst.seq ? 1 : b->qd;
	x.timeout_ms = cli->timeout_ms;
	x.progress = on_progress;
	x.progress_user = &pg;
	snprintf(what, sizeof(what), "%s/%s -> %s", container, blob, file);
	rc = dst.seq ? 1 : get_in_place(cli, b, container, blob, &dst, &x, &p, &st);
	if (rc > 0)
		rc = azblob_blob_download(cli->c, container, blob, 0, UINT64_MAX, file_write, &dst,
					  &x, &p, &st);
	if (rc) {
		if (pg.drawn)
			fputc('\n', stderr);
		if (!dst.seq)
			close(dst.fd);
		return report(cli, what, rc, &st);
	}
	if (!dst.seq && close(dst.fd))
		return cli_error(cli, "%s: %s", file, strerror(errno));
	prog_end(&pg, cli, what, p.size, dst.seq ? "" : dst.in_place ? " (in place)" : " (copied)");
	return EXIT_OK;
}

struct ls_state {
	uint64_t n, bytes;
	struct json *j; /* --json: items into its "items" array */
};

static int ls_item(void *user, const struct azblob_blob_item *it)
{
	struct ls_state *s = user;

	if (s->j) {
		json_obj(s->j, NULL);
		json_str(s->j, "name", it->name, false);
		json_bool(s->j, "prefix", it->is_prefix);
		if (!it->is_prefix) {
			json_u64(s->j, "size", it->size);
			json_str(s->j, "last_modified", it->last_modified, true);
		}
		json_obj_end(s->j);
	}
	if (it->is_prefix) {
		if (s->j)
			return 0;
		printf("%12s  %-29s  %s\n", "PRE", "", it->name);
		return 0;
	}
	if (!s->j)
		printf("%12" PRIu64 "  %-29s  %s\n", it->size, it->last_modified, it->name);
	s->n++;
	s->bytes += it->size;
	return 0;
}

int blob_do_ls(struct cli *cli, struct bopts *b, const char *target)
{
	struct azblob_blob_list_opts lo = {0};
	struct azblob_blob_status st;
	struct ls_state s = {0};
	struct json j;
	char container[64];
	const char *prefix;
	int rc;

	if ((rc = split_target(cli, target, container, sizeof(container), &prefix, false, true)))
		return rc;
	if ((rc = open_client(cli, b)))
		return rc;
	lo.prefix = prefix;
	lo.delimiter = b->delimiter;
	lo.max_results = b->page_size;
	if (b->json) {
		/* Streamed: the items are printed as the pages come. */
		s.j = &j;
		json_begin(&j, stdout);
		json_str(&j, "container", container, false);
		json_str(&j, "prefix", prefix, true);
		json_str(&j, "delimiter", b->delimiter, true);
		json_arr(&j, "items");
	}
	rc = azblob_blob_list(cli->c, container, &lo, ls_item, &s, &st);
	if (b->json) {
		json_arr_end(&j);
		json_u64(&j, "blobs", s.n);
		json_u64(&j, "bytes", s.bytes);
		json_bool(&j, "complete", rc == 0);
		json_end(&j);
	}
	fflush(stdout);
	if (rc)
		return report(cli, target, rc, &st);
	if (!b->quiet && !isatty(STDOUT_FILENO))
		fprintf(stderr, PROG " ls: %s: %" PRIu64 " blobs, %" PRIu64 " bytes\n", target, s.n,
			s.bytes);
	return EXIT_OK;
}

int blob_do_simple(struct cli *cli, struct bopts *b, enum blob_cmd which, const char *target)
{
	struct azblob_blob_status st;
	struct azblob_blob_props p;
	char container[64];
	const char *blob;
	bool need_blob = which == B_RM || which == B_STAT;
	int rc;

	if ((rc = split_target(cli, target, container, sizeof(container), &blob, need_blob,
			       need_blob)))
		return rc;
	if ((rc = open_client(cli, b)))
		return rc;
	switch (which) {
	case B_RM:
		rc = azblob_blob_delete(cli->c, container, blob, &st);
		break;
	case B_MB:
		rc = azblob_container_create(cli->c, container, &st);
		break;
	case B_RB:
		rc = azblob_container_delete(cli->c, container, &st);
		break;
	default:
		rc = azblob_blob_get_properties(cli->c, container, blob, &p, &st);
		break;
	}
	if (rc)
		return report(cli, target, rc, &st);
	if (which == B_STAT && b->json) {
		struct json j;

		json_begin(&j, stdout);
		json_str(&j, "container", container, false);
		json_str(&j, "blob", blob, false);
		json_u64(&j, "size", p.size);
		json_str(&j, "etag", p.etag, true);
		json_str(&j, "last_modified", p.last_modified, true);
		json_str(&j, "content_type", p.content_type, true);
		json_str(&j, "content_md5", p.content_md5, true);
		json_str(&j, "blob_type", p.blob_type, true);
		json_end(&j);
	} else if (which == B_STAT) {
		printf("blob           %s/%s\n", container, blob);
		printf("size           %" PRIu64 "\n", p.size);
		printf("etag           %s\n", p.etag[0] ? p.etag : "-");
		printf("last-modified  %s\n", p.last_modified[0] ? p.last_modified : "-");
		printf("content-type   %s\n", p.content_type[0] ? p.content_type : "-");
		printf("content-md5    %s\n", p.content_md5[0] ? p.content_md5 : "-");
		printf("blob-type      %s\n", p.blob_type[0] ? p.blob_type : "-");
	} else if (!b->quiet) {
		fprintf(stderr, PROG " %s: %s: %d\n", cli->cmd, target, st.http_status);
	}
	return EXIT_OK;
}
