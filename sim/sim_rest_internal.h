/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the pieces of the `rest` backend share (not exported): the guest's
 * head parsed (sim_rest_head.c), Shared Key signing (sim_rest_sign.c),
 * used by the backend's HTTP client (sim_backend_rest.c).
 */
#ifndef SIM_REST_INTERNAL_H
#define SIM_REST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REST_VERSION "2021-08-06"
#define MAX_TARGET   4096
#define MAX_HEADERS  48
#define MAX_HNAME    64
#define MAX_HVALUE   1024

struct rhdr {
	char name[MAX_HNAME];
	char value[MAX_HVALUE];
};

struct rhead {
	char method[16];
	char path[MAX_TARGET];	/* "/c/b", encoded as the guest sent it */
	char query[MAX_TARGET]; /* without '?', may be empty */
	int nh;
	struct rhdr h[MAX_HEADERS];
};

/* A character a request target (and a SAS token) may hold. */
bool sim_rest_target_char_ok(unsigned char c);
/* Parse and validate the guest's request head (untrusted: method, target
 * characters, no dot segments, header names and values, no duplicates).
 * 0 or -EINVAL. */
int sim_rest_parse_head(const uint8_t *req, uint32_t len, struct rhead *h);
/* Keep only the forwarded headers (x-ms-* but x-ms-date, and those Shared
 * Key signs); add x-ms-date and (when missing) x-ms-version. 0 or -EINVAL. */
int sim_rest_prepare_headers(struct rhead *h, const char *date);
/* The value of header name (case-insensitive), or NULL. */
const char *sim_rest_hget(const struct rhead *h, const char *name);

/* The standard headers Shared Key signs, in string-to-sign order
 * (Content-Length and Date are handled apart). */
#define SIM_REST_NSIGNED 9
extern const char *const sim_rest_signed_std[SIM_REST_NSIGNED];

/* The Shared Key string-to-sign of h into out. 0, -EINVAL (too many query
 * parameters, a name too long), -ENOSPC or -ENOMEM. */
int sim_rest_string_to_sign(const struct rhead *h, const char *account, const char *base_path,
			    uint32_t content_len, char *out, size_t cap);
/* "SharedKey account:base64(HMAC-SHA256(key, sts))" into auth. 0, -EIO or
 * -ENOSPC. */
int sim_rest_auth(const char *account, const uint8_t *key, size_t key_len, const char *sts,
		  char *auth, size_t auth_cap);

#endif
