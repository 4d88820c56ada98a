/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The emulator's doorbell socket (root/vspd.sock, SOCK_SEQPACKET): on
 * connect the host sends this hello with the guest-RAM memfd attached
 * (SCM_RIGHTS); afterwards u32 messages go both ways with the semantics of
 * /dev/uioN (see docs/SIM.md). Shared by the emulator (sim/) and the
 * guest's transport (uvmbus/linux/dev_simsock.c, declared in dev.h).
 */
#ifndef UVMBUS_SIMSOCK_H
#define UVMBUS_SIMSOCK_H

#include <stdint.h>

#define UVMBUS_SIMSOCK_NAME    "vspd.sock"
#define UVMBUS_SIMSOCK_MAGIC   0x4d495356u /* "VSIM" */
#define UVMBUS_SIMSOCK_VERSION 1u

struct uvmbus_simsock_hello {
	uint32_t magic;
	uint32_t version;
	uint64_t ram_bytes;
};

_Static_assert(sizeof(struct uvmbus_simsock_hello) == 16, "hello size");

#endif
