/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The `rest` backend of the simulator (sim_backend_rest.c): forwards each
 * guest request to an Azure Blob REST endpoint with libcurl. See docs/REST.md.
 */
#ifndef SIM_REST_H
#define SIM_REST_H

#include <stddef.h>
#include <stdint.h>

#include <uvmbus/common.h>

int sim_rest_open(void **state, const char *arg, const struct uvmbus_log *log);
struct azblob_sim_req;
uint32_t sim_rest_handle(void *state, struct azblob_sim_req *r, uint32_t *response_len,
			 uint32_t *data_out);
void sim_rest_close(void *state);

/*
 * Shared Key signing exactly as the backend signs a request (for tests):
 * the guest's request head, the body length, the x-ms-date value and the
 * path of the endpoint URL (e.g. "/devstoreaccount1", or "" for
 * https://account.blob.core.windows.net). Writes the string-to-sign and
 * the Authorization header value ("SharedKey account:signature").
 * 0, or -EINVAL (a head the backend would refuse) / -ENOSPC.
 */
int sim_rest_sign(const char *account, const uint8_t *key, size_t key_len, const char *base_path,
		  const uint8_t *head, uint32_t head_len, uint32_t content_len, const char *date,
		  char *sts, size_t sts_cap, char *auth, size_t auth_cap);

#endif
