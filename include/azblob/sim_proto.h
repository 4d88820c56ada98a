/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The simulator's doorbell socket (root/vspd.sock, SOCK_SEQPACKET): on
 * connect the host sends this hello with the guest-RAM memfd attached
 * (SCM_RIGHTS); afterwards u32 messages go both ways with the semantics of
 * /dev/uioN (see docs/SIM.md). Shared by the sim and the guest library.
 */
#ifndef AZBLOB_SIM_PROTO_H
#define AZBLOB_SIM_PROTO_H

#include <stdint.h>

#define AZBLOB_SIM_SOCKET	 "vspd.sock"
#define AZBLOB_SIM_HELLO_MAGIC	 0x4d495356u /* "VSIM" */
#define AZBLOB_SIM_PROTO_VERSION 1u

struct azblob_sim_hello {
	uint32_t magic;
	uint32_t version;
	uint64_t ram_bytes;
};

_Static_assert(sizeof(struct azblob_sim_hello) == 16, "hello size");

#endif
