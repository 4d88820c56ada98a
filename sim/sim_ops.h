/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The HTTP side of the sim's storage backends (docs/FORMAT.md): parsing the
 * untrusted request head, percent-decoding, query and header look-ups, and
 * writing response heads with Azure-style error bodies. */
#ifndef SIM_OPS_H
#define SIM_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <azblob/sim.h>
#include <uvmbus/common.h>

#define SIM_HEAD_MAX	16384 /* request heads longer than this are refused */
#define SIM_NAME_MAX	1024  /* blob name (decoded) */
#define SIM_QUERY_MAX	4096
#define SIM_HEADERS_MAX 48

struct sim_http {
	char copy[SIM_HEAD_MAX]; /* the head, NUL-terminated pieces */
	const char *method;
	char container[SIM_NAME_MAX + 1]; /* percent-decoded */
	char blob[SIM_NAME_MAX + 1];	  /* percent-decoded, may hold '/' */
	char query[SIM_QUERY_MAX];	  /* raw */
	int nh;
	struct {
		const char *name, *value;
	} h[SIM_HEADERS_MAX];
};

/* 0, or -EINVAL (malformed: answer 400 InvalidHttpRequest), -ENAMETOOLONG
 * (a name too long: 400 InvalidResourceName / InvalidUri). */
int sim_http_parse(const uint8_t *req, uint32_t len, struct sim_http *h);
/* The decoded value of query parameter `name` into out (cap bytes):
 * 1 found, 0 absent, -EINVAL bad escape or too long. */
int sim_http_query(const struct sim_http *h, const char *name, char *out, size_t cap);
/* A header's value (case-insensitive name, blanks trimmed) or NULL. */
const char *sim_http_header(const struct sim_http *h, const char *name);
/* Percent-decode src[0..n) into out (cap incl. NUL); '+' stays '+'.
 * 0 or -EINVAL (bad escape, NUL byte, too long). */
int sim_pct_decode(const char *src, size_t n, char *out, size_t cap);

/* Extra response headers, each "Name: value\r\n". */
struct sim_hdrs {
	char buf[2048];
	size_t n;
};
void sim_hdr_add(struct sim_hdrs *x, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write "HTTP/1.1 code reason", Content-Length, x-ms-version, the extra
 * headers, x-ms-error-code and (unless no_body, for HEAD) the XML error
 * body into r->response. Returns the completion status. */
uint32_t sim_http_respond(struct azblob_sim_req *r, uint32_t *rlen, int code, const char *err,
			  uint64_t content_len, const struct sim_hdrs *extra, bool no_body);
const char *sim_http_reason(int code);

/* Base64 MD5 of len bytes into out ("" when libcrypto fails). */
#define SIM_MD5_B64_LEN 24
void sim_md5_b64(const void *data, size_t len, char out[SIM_MD5_B64_LEN + 1]);

/* The integrity of a request's body, checked as the service checks it
 * (docs/FORMAT.md): Content-MD5 (else 400 Md5Mismatch, InvalidMd5 when
 * malformed) or x-ms-content-crc64 (else 400 Crc64Mismatch,
 * InvalidHeaderValue when malformed; both headers: InvalidHeaderValue).
 * NULL when good, else the error code. out: what the service answers,
 * Content-MD5 when the request had one, else the body's CRC-64. */
struct sim_body_sums {
	bool has_md5, has_crc;
	char md5[SIM_MD5_B64_LEN + 1];
	uint64_t crc;
};
const char *sim_http_check_body(const struct sim_http *h, const void *data, size_t len,
				struct sim_body_sums *out);
/* Content-MD5 / x-ms-content-crc64 of out into x. */
void sim_hdr_add_body_sums(struct sim_hdrs *x, const struct sim_body_sums *s);

/* "/$sim/..." targets, shared by the memory and dir backends. */
uint32_t sim_http_special(const struct sim_http *h, struct azblob_sim_req *r, uint32_t *rlen,
			  uint32_t *dout);

/* RFC 1123 date ("Wed, 25 Nov 2026 14:03:44 GMT") of t, into out[30]. */
void sim_http_date(int64_t t, char *out, size_t cap);

/* The memory backend (sim_ops_mem.c). arg: NULL, "" or "max_bytes=N". */
int sim_mem_backend_open(void **state, const char *arg, const struct uvmbus_log *log);
uint32_t sim_mem_backend_handle(void *state, struct azblob_sim_req *r, uint32_t *rlen,
				uint32_t *dout);
void sim_mem_backend_close(void *state);
/* The backend's operations on store m (taken: freed by close). */
struct sim_mem;
int sim_mem_backend_wrap(void **state, struct sim_mem *m);
struct sim_mem *sim_mem_backend_store(void *state);
/* "max_bytes=N" (N > 0): 0 or -EINVAL. */
int sim_mem_parse_max(const char *arg, uint64_t *max);
/* Azure container names: 3..63 long (else OutOfRangeInput); [a-z0-9-],
 * starting and ending with a letter or digit, no "--" (else
 * InvalidResourceName). */
bool sim_container_name_len_ok(const char *n);
bool sim_container_name_ok(const char *n);

/* The dir backend (sim_store_dir.c): the memory backend's operations with
 * the store persisted under a directory. arg: "PATH[,max_bytes=N]". */
int sim_dir_backend_open(void **state, const char *arg, const struct uvmbus_log *log);
void sim_dir_backend_close(void *state);

/* List Blobs (sim_ops_list.c): GET /c?restype=container&comp=list. */
uint32_t sim_ops_list(const struct sim_http *h, struct sim_mem *m, struct azblob_sim_req *r,
		      uint32_t *rlen, uint32_t *dout, struct sim_hdrs *x);

/* Block list XML (sim_ops_blocklist.c). kind: 'L'atest, 'C'ommitted,
 * 'U'ncommitted. Returns the count or -EINVAL (malformed XML), -E2BIG
 * (more than max entries), -ENOMEM. *out is malloc'd. */
struct sim_blockref {
	char kind;
	char id[92];
};
int sim_blocklist_parse(const uint8_t *xml, size_t len, size_t max, struct sim_blockref **out);

#endif
