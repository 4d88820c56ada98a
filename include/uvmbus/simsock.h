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

#define UVMBUS_SIMSOCK_NAME  "vspd.sock"
#define UVMBUS_SIMSOCK_MAGIC 0x4d495356u /* "VSIM" */
/* 2: the emulator keeps a memory table (uvmbus_simsock_mem messages). */
#define UVMBUS_SIMSOCK_VERSION 2u

struct uvmbus_simsock_hello {
	uint32_t magic;
	uint32_t version;
	uint64_t ram_bytes;
};

_Static_assert(sizeof(struct uvmbus_simsock_hello) == 16, "hello size");

/*
 * The memory table (version 2), as vhost-user's SET_MEM_TABLE: memory the
 * guest registers outside guest RAM gets guest-physical addresses above
 * RAM, and the guest tells the host where those pages are. One message
 * per region, guest to host, on the doorbell connection (its size tells it
 * from a doorbell write), in order with the guest's other writes, no
 * answer: the host takes the messages it holds before it rejects a pfn
 * outside every region. ADD carries `addr`, where the pages are in the
 * sending process, and, when a file backs them, its fd (SCM_RIGHTS: memfd,
 * shmem or hugetlbfs), which the host maps at fd_offset. Without an fd, or
 * when the file cannot be mapped writable (a memfd sealed with
 * F_SEAL_FUTURE_WRITE before the host took the message: azblobd seals its
 * clients' arenas right after registering them), the host reaches the
 * pages with process_vm_readv/writev of the peer found by SO_PEERCRED.
 * REMOVE drops every region inside [gpa, gpa + len).
 */
#define UVMBUS_SIMSOCK_MEM_MAGIC  0x4d454d54u /* "TMEM" */
#define UVMBUS_SIMSOCK_MEM_ADD	  1u
#define UVMBUS_SIMSOCK_MEM_REMOVE 2u

struct uvmbus_simsock_mem {
	uint32_t magic;
	uint32_t op;
	uint64_t gpa;	    /* guest-physical byte address, page aligned, above RAM */
	uint64_t len;	    /* bytes, a multiple of 4096 */
	uint64_t fd_offset; /* ADD with an fd: where the region starts in the file */
	uint64_t addr;	    /* ADD: the pages in the sending process */
};

_Static_assert(sizeof(struct uvmbus_simsock_mem) == 40, "memory table message size");

#endif
