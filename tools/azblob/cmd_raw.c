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

enum {
	OPT_REQUEST = 0x200,
	OPT_DATA,
	OPT_DATA_SIZE,
	OPT_RESPONSE_SIZE,
	OPT_OUT,
	OPT_RESPONSE_OUT,
	OPT_GUID,
	OPT_CRLF,
};

static const struct option raw_opts[] = {
    {"request", required_argument, NULL, OPT_REQUEST},
    {"data", required_argument, NULL, OPT_DATA},
    {"data-size", required_argument, NULL, OPT_DATA_SIZE},
    {"response-size", required_argument, NULL, OPT_RESPONSE_SIZE},
    {"out", required_argument, NULL, OPT_OUT},
    {"response-out", required_argument, NULL, OPT_RESPONSE_OUT},
    {"guid", required_argument, NULL, OPT_GUID},
    {"crlf", no_argument, NULL, OPT_CRLF},
    {NULL, 0, NULL, 0},
};

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

int cmd_raw(struct cli *cli, int argc, char **argv)
{
	const char *req_path = NULL, *data_path = NULL, *out_path = NULL, *resp_out = NULL;
	uint32_t resp_size = 4096, data_size = 0;
	bool data_size_set = false, crlf = false, guid_set = false;
	uint8_t *req = NULL, *data = NULL, guid[16];
	size_t req_len = 0, data_len = 0;
	struct cli_client_opts co = {.queue_depth = 1, .pool_bufs = 3};
	struct result res = {0};
	char *arg, gbuf[40], t[32];
	uint8_t *breq, *bresp, *bdata = NULL;
	uint64_t t0;
	int c, rc;

	while ((c = cli_getopt(cli, argc, argv, raw_opts, &arg)) != CLI_OPT_END) {
		switch (c) {
		case CLI_OPT_HELP:
			fputs(raw_help, stdout);
			return EXIT_OK;
		case CLI_OPT_USAGE:
			return EXIT_USAGE;
		case OPT_REQUEST:
			req_path = arg;
			break;
		case OPT_DATA:
			data_path = arg;
			break;
		case OPT_DATA_SIZE:
			if (cli_opt_u32(cli, "--data-size", arg, true, 0, MAX_DATA, &data_size))
				return EXIT_USAGE;
			data_size_set = true;
			break;
		case OPT_RESPONSE_SIZE:
			if (cli_opt_u32(cli, "--response-size", arg, true, 1, MAX_RESPONSE,
					&resp_size))
				return EXIT_USAGE;
			break;
		case OPT_OUT:
			out_path = arg;
			break;
		case OPT_RESPONSE_OUT:
			resp_out = arg;
			break;
		case OPT_GUID:
			if (!parse_guid(arg, guid))
				return cli_usage_error(cli, "--guid %s: not a GUID", arg);
			guid_set = true;
			break;
		case OPT_CRLF:
			crlf = true;
			break;
		default:
			return cli_usage_error(cli, "unexpected option");
		}
	}
	if ((rc = cli_check_args(cli, argc, argv)))
		return rc;
	if (!req_path)
		return cli_usage_error(cli, "--request FILE is required");
	if (out_path && !data_path && !data_size)
		return cli_usage_error(cli, "--out needs a data buffer (--data-size N or --data)");
	if (data_path && !strcmp(data_path, "-") && !strcmp(req_path, "-"))
		return cli_usage_error(cli, "--request and --data cannot both be standard input");

	/* Files first: a bad file is reported before any device is touched. */
	if ((rc = cli_read_file(cli, req_path, &req, &req_len, MAX_REQUEST)))
		goto out;
	if (crlf) {
		uint8_t *q = to_crlf(req, req_len, &req_len);

		free(req);
		req = q;
		if (!req || req_len > MAX_REQUEST) {
			rc = cli_error(cli, "%s: too large with CR LF line ends", req_path);
			goto out;
		}
	}
	if (!req_len) {
		rc = cli_usage_error(cli, "%s is empty: a request needs at least one byte",
				     req_path);
		goto out;
	}
	if (data_path && (rc = cli_read_file(cli, data_path, &data, &data_len, MAX_DATA)))
		goto out;
	if (!data_size_set)
		data_size = (uint32_t)data_len;
	if (data_size < data_len) {
		rc = cli_usage_error(cli, "--data-size %u is smaller than %s (%zu bytes)",
				     data_size, data_path, data_len);
		goto out;
	}
	if (!guid_set && getrandom(guid, sizeof(guid), 0) != (ssize_t)sizeof(guid)) {
		for (int i = 0; i < 16; i++)
			guid[i] = (uint8_t)(cli_now_ns() >> (i % 8 * 8));
	}
	if (!guid_set) {
		guid[7] = (uint8_t)((guid[7] & 0x0f) | 0x40); /* version 4 */
		guid[8] = (uint8_t)((guid[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	}

	/* One pool buffer per buffer, each big enough for the largest. */
	co.pool_buf_size = round_page(req_len);
	if (round_page(resp_size) > co.pool_buf_size)
		co.pool_buf_size = round_page(resp_size);
	if (round_page(data_size) > co.pool_buf_size)
		co.pool_buf_size = round_page(data_size);
	co.sim_ram_bytes = 3ull * co.pool_buf_size + (64u << 20);
	if ((rc = cli_open(cli, &co)))
		goto out;
	breq = azblob_alloc(cli->c, req_len);
	bresp = azblob_alloc(cli->c, resp_size);
	if (data_size)
		bdata = azblob_alloc(cli->c, data_size);
	if (!breq || !bresp || (data_size && !bdata)) {
		rc = cli_error(cli, "no buffers from the client's pool");
		goto out;
	}
	memcpy(breq, req, req_len);
	memset(bresp, 0, resp_size);
	if (bdata) {
		memset(bdata, 0, data_size);
		if (data_len)
			memcpy(bdata, data, data_len);
	}
	struct azblob_request r = {
	    .request = breq,
	    .request_len = (uint32_t)req_len,
	    .response = bresp,
	    .response_len = resp_size,
	    .data = bdata,
	    .data_len = data_size,
	    .data_valid = (uint32_t)data_len,
	    .timeout_ms = cli->timeout_ms,
	    .guid = guid,
	    .done = on_done,
	    .user = &res,
	};

	t0 = cli_now_ns();
	rc = azblob_submit(cli->c, &r);
	if (!rc)
		rc = azblob_flush(cli->c);
	if (rc) {
		rc = cli_error(cli, "submit: %s (%s)", strerror(-rc), cli_errno_name(rc));
		goto out;
	}
	rc = cli_reap_until(cli, &res.done, cli->timeout_ms);
	if (rc && !res.done) {
		rc = cli_error(cli, "no answer: %s (%s)", strerror(-rc), cli_errno_name(rc));
		goto out;
	}
	format_guid(guid, gbuf, sizeof(gbuf));
	printf("transaction   %s\n", gbuf);
	if (res.err) {
		printf("error         %s (%s)\n", cli_errno_name(res.err), strerror(-res.err));
		rc = cli_error(cli, "the request failed: %s (%s)", strerror(-res.err),
			       cli_errno_name(res.err));
		goto out;
	}
	printf("status        0x%08x %s\n", res.status, cli_status_name(res.status));
	printf("response_len  %u\n", res.len);
	printf("time          %s\n", cli_fmt_ns(res.t_done - t0, t, sizeof(t)));
	printf("response:\n");
	cli_print_text(stdout, bresp, res.len, "  ");
	rc = EXIT_OK;
	if (resp_out && (rc = cli_write_file(cli, resp_out, bresp, res.len)))
		goto out;
	if (out_path) {
		long long cl = cli_content_length(bresp, res.len);
		size_t n = cl >= 0 && (unsigned long long)cl <= data_size ? (size_t)cl : data_size;

		if ((rc = cli_write_file(cli, out_path, bdata, n)))
			goto out;
		printf("data          %zu bytes written to %s\n", n, out_path);
	}
	if (res.status) {
		fflush(stdout);
		fprintf(stderr, PROG " raw: the host answered with VSP status 0x%08x (%s)\n",
			res.status, cli_status_name(res.status));
		rc = EXIT_VSP_STATUS;
	}
out:
	free(req);
	free(data);
	cli_close(cli);
	return rc;
}
