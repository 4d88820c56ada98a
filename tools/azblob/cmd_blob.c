// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob put/get/ls/rm/stat/mb/rb: blobs and containers through the
 * blob helpers of libazblob (include/azblob/blob.h, docs/BLOB.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <azblob/blob.h>

#include "cmd_blob.h"
#include "common.h"
#include "json.h"

#define BLOB_OPTIONS_HELP                                                                          \
	"Blob options:\n"                                                                          \
	"  --backend SPEC     with --sim: the simulator's storage: memory (default),\n"            \
	"                     dir=PATH, or rest=URL[;sas=TOKEN|;account=NAME;key=KEY]\n"           \
	"                     (an Azure Blob REST endpoint, e.g. Azurite; docs/REST.md)\n"         \
	"  --qd N             requests in flight for large transfers, 1..256 (default 8)\n"        \
	"  --chunk SIZE       bytes per request (Put Blob, Put Block, ranged Get),\n"              \
	"                     64K..32M (default 4M)\n"                                             \
	"  --quiet            no progress bar or summary\n"                                        \
	"\n"

#define BLOB_EXIT_HELP                                                                             \
	"Exit status: 0 ok; 1 the request failed (the HTTP status and the Azure error\n"           \
	"code on standard error) or the device could not be opened; 2 usage.\n"                    \
	"\n"

const char put_help[] =
    "Usage: " PROG " put [OPTIONS] FILE CONTAINER/BLOB\n"
    "\n"
    "Upload FILE ('-': standard input) as a block blob. Up to one chunk: one Put\n"
    "Blob; larger: Put Block of each chunk, --qd in flight, then Put Block List.\n"
    "CONTAINER/ or CONTAINER alone: the blob is named after FILE.\n"
    "\n"
    "Each request's body carries its CRC-64 (x-ms-content-crc64), which the\n"
    "service checks.\n"
    "\n"
    "  --content-type T   the blob's Content-Type\n"
    "  --md5              also the whole blob's MD5, hashed as FILE is read and\n"
    "                     kept by the service as the blob's Content-MD5\n"
    "                     (x-ms-blob-content-md5); off by default\n"
    "  --check C          each body's check: crc64 (default), md5 (Content-MD5)\n"
    "                     or none\n"
    "\n" BLOB_OPTIONS_HELP BLOB_EXIT_HELP CLI_GLOBAL_OPTIONS_HELP;

const char get_help[] =
    "Usage: " PROG " get [OPTIONS] CONTAINER/BLOB FILE\n"
    "\n"
    "Download a blob into FILE ('-': standard output): ranged Gets of a chunk\n"
    "each, --qd in flight (one at a time for standard output), all against the\n"
    "ETag the blob had when the download started.\n"
    "\n" BLOB_OPTIONS_HELP BLOB_EXIT_HELP CLI_GLOBAL_OPTIONS_HELP;

const char ls_help[] =
    "Usage: " PROG " ls [OPTIONS] CONTAINER[/PREFIX]\n"
    "\n"
    "List the blobs of a container (those whose names start with PREFIX): one\n"
    "line each, size, last modified, name. Follows the pages of List Blobs.\n"
    "\n"
    "  --page-size N      blobs per List Blobs request, 1..5000 (default: what\n"
    "                     fits a chunk)\n"
    "  --delimiter D      group names at D (e.g. '/'): prefixes show as 'PRE name'\n"
    "  --json             one JSON object: the items (name, prefix, size,\n"
    "                     last_modified), blobs, bytes (docs/CLI.md)\n"
    "\n" BLOB_OPTIONS_HELP BLOB_EXIT_HELP CLI_GLOBAL_OPTIONS_HELP;

const char rm_help[] = "Usage: " PROG " rm [OPTIONS] CONTAINER/BLOB\n"
		       "\n"
		       "Delete a blob.\n"
		       "\n" BLOB_OPTIONS_HELP BLOB_EXIT_HELP CLI_GLOBAL_OPTIONS_HELP;

const char mb_help[] = "Usage: " PROG " mb [OPTIONS] CONTAINER\n"
		       "\n"
		       "Make a container (3..63 characters: a-z, 0-9, '-').\n"
		       "\n" BLOB_OPTIONS_HELP BLOB_EXIT_HELP CLI_GLOBAL_OPTIONS_HELP;

const char rb_help[] = "Usage: " PROG " rb [OPTIONS] CONTAINER\n"
		       "\n"
		       "Remove a container and its blobs.\n"
		       "\n" BLOB_OPTIONS_HELP BLOB_EXIT_HELP CLI_GLOBAL_OPTIONS_HELP;

static const char blob_stat_help[] =
    "Usage: " PROG " stat [OPTIONS] CONTAINER/BLOB\n"
    "\n"
    "With a blob argument: the blob's properties (Get Blob Properties): size,\n"
    "ETag, Last-Modified, Content-Type, blob type.\n"
    "\n"
    "  --json             one JSON object with these properties (docs/CLI.md)\n"
    "\n" BLOB_OPTIONS_HELP;

enum {
	OPT_BACKEND = 0x300,
	OPT_QD,
	OPT_CHUNK,
	OPT_CONTENT_TYPE,
	OPT_PAGE_SIZE,
	OPT_MD5,
	OPT_CHECK,
};

static const struct option blob_opts[] = {
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"qd", required_argument, NULL, OPT_QD},
    {"chunk", required_argument, NULL, OPT_CHUNK},
    {"quiet", no_argument, NULL, 'q'},
    {"content-type", required_argument, NULL, OPT_CONTENT_TYPE},
    {"md5", no_argument, NULL, OPT_MD5},
    {"check", required_argument, NULL, OPT_CHECK},
    {"page-size", required_argument, NULL, OPT_PAGE_SIZE},
    {"delimiter", required_argument, NULL, 'd'},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

enum blob_cmd { B_PUT, B_GET, B_LS, B_RM, B_STAT, B_MB, B_RB };

struct bopts {
	const char *backend;
	uint32_t qd, chunk, page_size;
	bool quiet, md5, json;
	enum azblob_blob_check check;
	const char *content_type, *delimiter;
};

/* ---- the simulator with a backend ---- */

static const char *main_backend; /* --backend before the command */

void blob_set_backend(const char *spec)
{
	main_backend = spec;
}

int blob_backend_set(void)
{
	return main_backend != NULL;
}

int blob_command(const char *name)
{
	static const char *const names[] = {"put", "get", "ls", "rm", "stat", "mb", "rb"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], name))
			return 1;
	return 0;
}

static int start_sim(struct cli *cli, const char *spec, uint64_t ram)
{
	struct azblob_sim_opts so;
	char name[16];
	const char *arg = NULL, *eq;
	int rc;

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
	azblob_sim_opts_init(&so);
	if (ram < (64u << 20))
		ram = 64u << 20;
	so.ram_bytes = (ram + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
	so.guid = cli->device;
	so.backend = name;
	so.backend_arg = arg;
	so.faults = cli->faults;
	so.log = cli_log(cli);
	so.log.arg = (void *)"azblob: sim";
	rc = azblob_sim_create(&cli->s, &so);
	if (!rc)
		rc = azblob_sim_start(cli->s);
	if (rc) {
		azblob_sim_destroy(cli->s);
		cli->s = NULL;
		return cli_error(cli, "cannot start the in-process simulator (backend %s): %s",
				 name, strerror(-rc));
	}
	return EXIT_OK;
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

/* ---- commands ---- */

struct file_src {
	int fd;
	const uint8_t *mem;
};

static int file_read(void *user, void *buf, size_t len, uint64_t off)
{
	struct file_src *f = user;
	size_t got = 0;

	if (f->mem) {
		memcpy(buf, f->mem + off, len);
		return 0;
	}
	while (got < len) {
		ssize_t n = pread(f->fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA; /* the file shrank */
		got += (size_t)n;
	}
	return 0;
}

static int do_put(struct cli *cli, const struct bopts *b, const char *file, const char *target)
{
	char container[64], blobname[1100], what[1200], extra[128];
	struct azblob_blob_status st;
	struct azblob_blob_xfer x = {0};
	struct file_src src = {.fd = -1};
	struct prog pg = {0};
	uint8_t *mem = NULL;
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
	rc = azblob_blob_upload(cli->c, container, blobname, size, file_read, &src, &x, &st);
	if (rc) {
		if (pg.drawn)
			fputc('\n', stderr);
		rc = report(cli, what, rc, &st);
		goto out;
	}
	if (size > b->chunk)
		snprintf(extra, sizeof(extra), " (%" PRIu64 " blocks, QD %" PRIu32 ")",
			 (size + b->chunk - 1) / b->chunk, b->qd);
	else
		snprintf(extra, sizeof(extra), " (one Put Blob)");
	prog_end(&pg, cli, what, size, extra);
	rc = EXIT_OK;
out:
	if (src.fd >= 0)
		close(src.fd);
	free(mem);
	return rc;
}

struct file_dst {
	int fd;
	bool seq; /* standard output: in order, written as they come */
};

static int file_write(void *user, const void *buf, size_t len, uint64_t off)
{
	struct file_dst *f = user;
	size_t done = 0;

	while (done < len) {
		ssize_t n = f->seq ? write(f->fd, (const uint8_t *)buf + done, len - done)
				   : pwrite(f->fd, (const uint8_t *)buf + done, len - done,
					    (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

static int do_get(struct cli *cli, struct bopts *b, const char *target, const char *file)
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
	rc = azblob_blob_download(cli->c, container, blob, 0, UINT64_MAX, file_write, &dst, &x, &p,
				  &st);
	if (rc) {
		if (pg.drawn)
			fputc('\n', stderr);
		if (!dst.seq)
			close(dst.fd);
		return report(cli, what, rc, &st);
	}
	if (!dst.seq && close(dst.fd))
		return cli_error(cli, "%s: %s", file, strerror(errno));
	prog_end(&pg, cli, what, p.size, "");
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

static int do_ls(struct cli *cli, struct bopts *b, const char *target)
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

static int do_simple(struct cli *cli, struct bopts *b, enum blob_cmd which, const char *target)
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

static int run(struct cli *cli, int argc, char **argv, enum blob_cmd which, const char *help)
{
	struct bopts b = {.backend = main_backend, .qd = 8, .chunk = 4u << 20};
	const int nargs[] = {2, 2, 1, 1, 1, 1, 1};
	char *arg, *pos[2];
	int c, rc, n = 0;

	while ((c = cli_getopt(cli, argc, argv, blob_opts, &arg)) != CLI_OPT_END) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(help, stdout);
			return EXIT_OK;
		case CLI_OPT_USAGE:
			return EXIT_USAGE;
		case OPT_BACKEND:
			b.backend = arg;
			break;
		case OPT_QD:
			if (cli_opt_u32(cli, "--qd", arg, false, 1, 256, &b.qd))
				return EXIT_USAGE;
			break;
		case OPT_CHUNK:
			if (cli_opt_u32(cli, "--chunk", arg, true, 64u << 10, 32u << 20, &b.chunk))
				return EXIT_USAGE;
			break;
		case 'q':
			b.quiet = true;
			break;
		case OPT_CONTENT_TYPE:
			if (which != B_PUT)
				return cli_usage_error(cli, "--content-type goes with put");
			b.content_type = arg;
			break;
		case OPT_MD5:
			if (which != B_PUT)
				return cli_usage_error(cli, "--md5 goes with put");
			b.md5 = true;
			break;
		case OPT_CHECK:
			if (which != B_PUT)
				return cli_usage_error(cli, "--check goes with put");
			if (!strcmp(arg, "crc64"))
				b.check = AZBLOB_BLOB_CHECK_CRC64;
			else if (!strcmp(arg, "md5"))
				b.check = AZBLOB_BLOB_CHECK_MD5;
			else if (!strcmp(arg, "none"))
				b.check = AZBLOB_BLOB_CHECK_NONE;
			else
				return cli_usage_error(cli, "--check %s: crc64, md5 or none", arg);
			break;
		case OPT_PAGE_SIZE:
			if (which != B_LS)
				return cli_usage_error(cli, "--page-size goes with ls");
			if (cli_opt_u32(cli, "--page-size", arg, false, 1, 5000, &b.page_size))
				return EXIT_USAGE;
			break;
		case 'd':
			if (which != B_LS)
				return cli_usage_error(cli, "--delimiter goes with ls");
			b.delimiter = arg;
			break;
		case OPT_JSON:
			if (which != B_LS && which != B_STAT)
				return cli_usage_error(cli,
						       "--json goes with ls, stat and devices");
			b.json = true;
			break;
		default:
			return cli_usage_error(cli, "unexpected option");
		}
	}
	while (optind < argc && n < nargs[which])
		pos[n++] = argv[optind++];
	if (n < nargs[which])
		return cli_usage_error(cli, "%s",
				       nargs[which] == 2
					   ? (which == B_PUT ? "expected FILE CONTAINER/BLOB"
							     : "expected CONTAINER/BLOB FILE")
					   : "missing CONTAINER or CONTAINER/BLOB");
	if ((rc = cli_check_args(cli, argc, argv)))
		return rc;
	if (b.backend && !cli->sim)
		return cli_usage_error(cli, "--backend goes with --sim (the in-process simulator)");
	switch (which) {
	case B_PUT:
		rc = do_put(cli, &b, pos[0], pos[1]);
		break;
	case B_GET:
		rc = do_get(cli, &b, pos[0], pos[1]);
		break;
	case B_LS:
		rc = do_ls(cli, &b, pos[0]);
		break;
	default:
		rc = do_simple(cli, &b, which, pos[0]);
		break;
	}
	cli_close(cli);
	return rc;
}

int cmd_put(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, B_PUT, put_help);
}

int cmd_get(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, B_GET, get_help);
}

int cmd_ls(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, B_LS, ls_help);
}

int cmd_rm(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, B_RM, rm_help);
}

int cmd_mb(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, B_MB, mb_help);
}

int cmd_rb(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, B_RB, rb_help);
}

/*
 * stat: without an argument the client's counters (cmd_stat.c); with
 * CONTAINER/BLOB the blob's properties. The first argument that is not an
 * option (nor an option's value) decides.
 */
int cmd_stat_any(struct cli *cli, int argc, char **argv)
{
	static const char *const with_value[] = {
	    "--device",	  "--sim-root",	 "--sysfs-root", "--dev-root", "--timeout", "--sim-fault",
	    "--requests", "--in-flight", "--backend",	 "--qd",       "--chunk",   NULL,
	};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool takes = false;

		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(stat_help, stdout);
			fputs("\n", stdout);
			fputs(blob_stat_help, stdout);
			return EXIT_OK;
		}
		if (a[0] == '-') {
			for (const char *const *w = with_value; *w; w++)
				if (!strcmp(a, *w))
					takes = true;
			i += takes;
			continue;
		}
		return run(cli, argc, argv, B_STAT, blob_stat_help);
	}
	return cmd_stat(cli, argc, argv);
}
