// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* azblob raw: one request from files, its status and response printed. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common.h"

const char raw_help[] =
    "Usage: " PROG " raw --request FILE [--data FILE] [--data-size N]\n"
    "                  [--response-size N] [--out FILE] [--response-out FILE]\n"
    "                  [--guid GUID] [--crlf] [GLOBAL OPTIONS]\n"
    "\n"
    "Send one request to the Azure Blob device and wait for its answer. The\n"
    "request buffer holds FILE (an HTTP/1.1 request head, docs/FORMAT.md); the\n"
    "data buffer holds the --data file (data_valid = its size) and has room for\n"
    "--data-size bytes the host may write back. Prints the transaction GUID, the\n"
    "VSP status, response_len, the time it took and the response (CR LF shown as\n"
    "line ends, other control bytes as \\xNN).\n"
    "\n"
    "Options:\n"
    "  --request FILE       the request buffer ('-': standard input); required\n"
    "  --crlf               turn the request's bare LF line ends into CR LF\n"
    "  --data FILE          data sent with the request (data_valid = its size)\n"
    "  --data-size N        data buffer size, for reads such as GET (default: the\n"
    "                       size of --data, or no data buffer)\n"
    "  --response-size N    response buffer size (default 4096)\n"
    "  --out FILE           write the returned data: Content-Length bytes when the\n"
    "                       response head has it, else the whole data buffer\n"
    "  --response-out FILE  write the response buffer's response_len bytes as is\n"
    "  --guid GUID          the request's transaction GUID (default: random)\n"
    "Sizes are bytes, with an optional K, M or G suffix (powers of 1024). The\n"
    "buffers of one request span at most 8192 pages (32 MiB).\n"
    "\n"
    "Exit status: 0 answered with VSP status 0 (whatever the HTTP status in the\n"
    "response), 1 no answer (timeout, rescind, device or I/O error), 2 usage,\n"
    "3 answered with a non-zero VSP status.\n"
    "\n"
    "Example:\n"
    "  printf 'GET /$sim/noop HTTP/1.1\\r\\n\\r\\n' > req\n"
    "  " PROG " raw --sim --request req\n"
    "\n" CLI_GLOBAL_OPTIONS_HELP;

#define MAX_REQUEST  (1u << 20)
#define MAX_RESPONSE (16u << 20)
#define MAX_DATA     (31u << 20)

struct result {
	bool done;
	int err;
	uint32_t status, len;
	uint64_t t_done;
};

static void on_done(void *user, int err, uint32_t status, uint32_t len)
{
	struct result *r = user;

	r->done = true;
	r->err = err;
	r->status = status;
	r->len = len;
	r->t_done = cli_now_ns();
}

static int hexval(int ch)
{
	return isdigit(ch) ? ch - '0' : tolower(ch) - 'a' + 10;
}

/* Text order to the wire's mixed-endian GUID (as azblob_dump_pending
 * prints it: the first three groups little-endian). */
static bool parse_guid(const char *s, uint8_t g[16])
{
	static const int pos[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
	uint8_t b[16];
	int k = 0;

	if (*s == '{')
		s++;
	for (int i = 0; k < 16 && s[i]; i++) {
		if (s[i] == '-' && (i == 8 || i == 13 || i == 18 || i == 23))
			continue;
		if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]))
			return false;
		b[k++] = (uint8_t)(hexval(s[i]) << 4 | hexval(s[i + 1]));
		i++;
	}
	if (k != 16)
		return false;
	for (int i = 0; i < 16; i++)
		g[pos[i]] = b[i];
	return true;
}

static void format_guid(const uint8_t *g, char *buf, size_t cap)
{
	snprintf(buf, cap, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12],
		 g[13], g[14], g[15]);
}

/* Bare LF -> CR LF. Returns a new buffer or NULL. */
static uint8_t *to_crlf(const uint8_t *p, size_t len, size_t *out_len)
{
	uint8_t *q = malloc(2 * len + 1);
	size_t n = 0;

	if (!q)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			q[n++] = '\r';
		q[n++] = p[i];
	}
	*out_len = n;
	return q;
}

static uint32_t round_page(uint64_t n)
{
	return (uint32_t)((n + 4095) & ~(uint64_t)4095);
}

/* The options of raw. */
struct raw_args {
	const char *request, *data, *out, *response_out;
	uint32_t data_size, response_size;
	bool data_size_set, crlf, guid_set;
	uint8_t guid[16];
};

static int opt_data_size(struct cli *cli, const struct cli_opt *o, void *target, const char *arg)
{
	struct raw_args *a = target;
	int rc = cli_opt_u32(cli, "--data-size", arg, true, 0, MAX_DATA, &a->data_size);

	(void)o;
	a->data_size_set |= !rc;
	return rc;
}

static int opt_guid(struct cli *cli, const struct cli_opt *o, void *target, const char *arg)
{
	struct raw_args *a = target;

	(void)o;
	if (!parse_guid(arg, a->guid))
		return cli_usage_error(cli, "--guid %s: not a GUID", arg);
	a->guid_set = true;
	return EXIT_OK;
}

static const struct cli_opt raw_opts[] = {
    CLI_OPT_STR("request", struct raw_args, request),
    CLI_OPT_STR("data", struct raw_args, data),
    CLI_OPT_FN("data-size", opt_data_size),
    CLI_OPT_SIZE("response-size", struct raw_args, response_size, 1, MAX_RESPONSE),
    CLI_OPT_STR("out", struct raw_args, out),
    CLI_OPT_STR("response-out", struct raw_args, response_out),
    CLI_OPT_FN("guid", opt_guid),
    CLI_OPT_FLAG("crlf", struct raw_args, crlf),
    {0},
};

/* A raw run: the options, the files' bytes, the client's buffers. */
struct raw_run {
	struct cli *cli;
	struct raw_args a;
	uint8_t *req, *data; /* the files */
	size_t req_len, data_len;
	uint8_t *breq, *bresp, *bdata; /* the client's pool */
	struct result res;
	uint64_t t0;
};

/* What the options need of each other. EXIT_OK or EXIT_USAGE. */
static int raw_check(const struct cli *cli, const struct raw_args *a)
{
	if (!a->request)
		return cli_usage_error(cli, "--request FILE is required");
	if (a->out && !a->data && !a->data_size)
		return cli_usage_error(cli, "--out needs a data buffer (--data-size N or --data)");
	if (a->data && !strcmp(a->data, "-") && !strcmp(a->request, "-"))
		return cli_usage_error(cli, "--request and --data cannot both be standard input");
	return EXIT_OK;
}

/* The request file (with --crlf its line ends turned), the data file, the
 * data buffer's size. */
static int raw_read_files(struct raw_run *r)
{
	struct cli *cli = r->cli;
	struct raw_args *a = &r->a;
	int rc;

	if ((rc = cli_read_file(cli, a->request, &r->req, &r->req_len, MAX_REQUEST)))
		return rc;
	if (a->crlf) {
		uint8_t *q = to_crlf(r->req, r->req_len, &r->req_len);

		free(r->req);
		r->req = q;
		if (!r->req || r->req_len > MAX_REQUEST)
			return cli_error(cli, "%s: too large with CR LF line ends", a->request);
	}
	if (!r->req_len)
		return cli_usage_error(cli, "%s is empty: a request needs at least one byte",
				       a->request);
	if (a->data && (rc = cli_read_file(cli, a->data, &r->data, &r->data_len, MAX_DATA)))
		return rc;
	if (!a->data_size_set)
		a->data_size = (uint32_t)r->data_len;
	if (a->data_size < r->data_len)
		return cli_usage_error(cli, "--data-size %u is smaller than %s (%zu bytes)",
				       a->data_size, a->data, r->data_len);
	return EXIT_OK;
}

/* Without --guid: a random version 4 GUID. */
static void random_guid(uint8_t guid[16])
{
	if (getrandom(guid, 16, 0) != 16) {
		for (int i = 0; i < 16; i++)
			guid[i] = (uint8_t)(cli_now_ns() >> (i % 8 * 8));
	}
	guid[7] = (uint8_t)((guid[7] & 0x0f) | 0x40); /* version 4 */
	guid[8] = (uint8_t)((guid[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

/* The client, one pool buffer per buffer (each big enough for the
 * largest), the request and data copied in. */
static int raw_open(struct raw_run *r)
{
	struct cli *cli = r->cli;
	uint32_t resp_size = r->a.response_size, data_size = r->a.data_size;
	struct cli_client_opts co = {.queue_depth = 1, .pool_bufs = 3};
	int rc;

	co.pool_buf_size = round_page(r->req_len);
	if (round_page(resp_size) > co.pool_buf_size)
		co.pool_buf_size = round_page(resp_size);
	if (round_page(data_size) > co.pool_buf_size)
		co.pool_buf_size = round_page(data_size);
	co.sim_ram_bytes = 3ull * co.pool_buf_size + (64u << 20);
	if ((rc = cli_open(cli, &co)))
		return rc;
	r->breq = azblob_alloc(cli->c, r->req_len);
	r->bresp = azblob_alloc(cli->c, resp_size);
	if (data_size)
		r->bdata = azblob_alloc(cli->c, data_size);
	if (!r->breq || !r->bresp || (data_size && !r->bdata))
		return cli_error(cli, "no buffers from the client's pool");
	memcpy(r->breq, r->req, r->req_len);
	memset(r->bresp, 0, resp_size);
	if (r->bdata) {
		memset(r->bdata, 0, data_size);
		if (r->data_len)
			memcpy(r->bdata, r->data, r->data_len);
	}
	return EXIT_OK;
}

/* Submit the request and wait for its completion (or the timeout). */
static int raw_send(struct raw_run *r)
{
	struct cli *cli = r->cli;
	struct azblob_request q = {
	    .request = r->breq,
	    .request_len = (uint32_t)r->req_len,
	    .response = r->bresp,
	    .response_len = r->a.response_size,
	    .data = r->bdata,
	    .data_len = r->a.data_size,
	    .data_valid = (uint32_t)r->data_len,
	    .timeout_ms = cli->timeout_ms,
	    .guid = r->a.guid,
	    .done = on_done,
	    .user = &r->res,
	};
	int rc;

	r->t0 = cli_now_ns();
	rc = azblob_submit(cli->c, &q);
	if (!rc)
		rc = azblob_flush(cli->c);
	if (rc)
		return cli_error(cli, "submit: %s (%s)", strerror(-rc), cli_errno_name(rc));
	rc = cli_reap_until(cli, &r->res.done, cli->timeout_ms);
	if (rc && !r->res.done)
		return cli_error(cli, "no answer: %s (%s)", strerror(-rc), cli_errno_name(rc));
	return EXIT_OK;
}

/* The answer: printed, written to --response-out and --out. */
static int raw_answer(struct raw_run *r)
{
	struct cli *cli = r->cli;
	const struct result *res = &r->res;
	char gbuf[40], t[32];
	int rc;

	format_guid(r->a.guid, gbuf, sizeof(gbuf));
	printf("transaction   %s\n", gbuf);
	if (res->err) {
		printf("error         %s (%s)\n", cli_errno_name(res->err), strerror(-res->err));
		return cli_error(cli, "the request failed: %s (%s)", strerror(-res->err),
				 cli_errno_name(res->err));
	}
	printf("status        0x%08x %s\n", res->status, cli_status_name(res->status));
	printf("response_len  %u\n", res->len);
	printf("time          %s\n", cli_fmt_ns(res->t_done - r->t0, t, sizeof(t)));
	printf("response:\n");
	cli_print_text(stdout, r->bresp, res->len, "  ");
	if (r->a.response_out && (rc = cli_write_file(cli, r->a.response_out, r->bresp, res->len)))
		return rc;
	if (r->a.out) {
		long long cl = cli_content_length(r->bresp, res->len);
		uint32_t size = r->a.data_size;
		size_t n = cl >= 0 && (unsigned long long)cl <= size ? (size_t)cl : size;

		if ((rc = cli_write_file(cli, r->a.out, r->bdata, n)))
			return rc;
		printf("data          %zu bytes written to %s\n", n, r->a.out);
	}
	if (res->status) {
		fflush(stdout);
		fprintf(stderr, PROG " raw: the host answered with VSP status 0x%08x (%s)\n",
			res->status, cli_status_name(res->status));
		return EXIT_VSP_STATUS;
	}
	return EXIT_OK;
}

int cmd_raw(struct cli *cli, int argc, char **argv)
{
	struct raw_run r = {.cli = cli, .a = {.response_size = 4096}};
	int rc;

	if ((rc = cli_parse(cli, argc, argv, raw_help, raw_opts, &r.a)) != CLI_PARSED)
		return rc;
	if ((rc = cli_check_args(cli, argc, argv)) || (rc = raw_check(cli, &r.a)))
		return rc;
	/* Files first: a bad file is reported before any device is touched. */
	if ((rc = raw_read_files(&r)))
		goto out;
	if (!r.a.guid_set)
		random_guid(r.a.guid);
	if (!(rc = raw_open(&r)) && !(rc = raw_send(&r)))
		rc = raw_answer(&r);
out:
	free(r.req);
	free(r.data);
	cli_close(cli);
	return rc;
}
