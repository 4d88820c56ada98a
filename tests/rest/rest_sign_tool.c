// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * rest_sign_tool MODE ACCOUNT KEY_BASE64 BASE_PATH DATE CONTENT_LENGTH < head
 *
 * Signs the request head on stdin as the rest backend does and prints the
 * string-to-sign (MODE sts) or the Authorization value (MODE auth) to
 * stdout, without a trailing newline. Exit 3 when the backend would
 * refuse the head. For test_sharedkey.sh, which derives the expected
 * values on its own (by hand and with openssl).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sim_rest.h"

int main(int argc, char **argv)
{
	static uint8_t head[65536];
	static char sts[65536];
	unsigned char key[128];
	char auth[512];
	size_t n;
	int kl;

	if (argc != 7 || (strcmp(argv[1], "sts") && strcmp(argv[1], "auth"))) {
		fprintf(stderr,
			"usage: %s sts|auth ACCOUNT KEY_BASE64 BASE_PATH DATE CONTENT_LENGTH\n",
			argv[0]);
		return 2;
	}
	if (strlen(argv[3]) > 160 || strlen(argv[3]) % 4)
		return 2;
	kl = EVP_DecodeBlock(key, (const unsigned char *)argv[3], (int)strlen(argv[3]));
	if (kl <= 0)
		return 2;
	for (const char *e = argv[3] + strlen(argv[3]); e > argv[3] && e[-1] == '='; e--)
		kl--;
	n = fread(head, 1, sizeof(head), stdin);
	if (sim_rest_sign(argv[2], key, (size_t)kl, argv[4], head, (uint32_t)n,
			  (uint32_t)strtoul(argv[6], NULL, 10), argv[5], sts, sizeof(sts), auth,
			  sizeof(auth)))
		return 3;
	fputs(!strcmp(argv[1], "sts") ? sts : auth, stdout);
	return 0;
}
