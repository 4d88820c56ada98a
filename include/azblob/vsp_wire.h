/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Azure Blob VSP wire formats (docs/WIRE.md section 4) and the original kernel
 * driver's synchronous user ABI, with its implicit padding made explicit.
 */
#ifndef AZBLOB_VSP_WIRE_H
#define AZBLOB_VSP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <uvmbus/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Device class {0590b792-db64-45cc-81db-b8d70c577c9e}. */
#define AZBLOB_CLASS_GUID_STR "0590b792-db64-45cc-81db-b8d70c577c9e"

/* Limits of the original driver. */
#define AZBLOB_MAX_PAGES   8192u /* per request, all buffers together */
#define AZBLOB_QUEUE_DEPTH 1024u
#define AZBLOB_RING_SIZE   (128u * 1024u)

/* Completion status values (NTSTATUS, as the Windows host answers): the
 * one definition, used by the emulator, the broker and the CLI. */
#define AZBLOB_VSP_STATUS_OK		    0x00000000u
#define AZBLOB_VSP_STATUS_INVALID_PARAMETER 0xC000000Du
#define AZBLOB_VSP_STATUS_IO_TIMEOUT	    0xC00000B5u
#define AZBLOB_VSP_STATUS_NOT_SUPPORTED	    0xC00000BBu
#define AZBLOB_VSP_STATUS_BUFFER_TOO_SMALL  0xC0000023u
#define AZBLOB_VSP_STATUS_INTERNAL_ERROR    0xC00000E5u

enum azblob_vsp_op {
	AZBLOB_VSP_OP_USER_REQUEST = 0x100,
	AZBLOB_VSP_OP_REGISTER_BUFFER = 0x101,	 /* defined by the VSP, unused */
	AZBLOB_VSP_OP_DEREGISTER_BUFFER = 0x102, /* defined by the VSP, unused */
};

/* In-band payload of the request packet (type 9), 56 bytes. */
struct azblob_vsp_request {
	uint32_t version; /* 0 */
	uint32_t timeout_ms;
	uint32_t data_buffer_offset; /* data's offset within its first page */
	uint32_t data_buffer_length;
	uint32_t data_buffer_valid;	/* bytes valid on the way in, <= length */
	uint32_t operation_type;	/* enum azblob_vsp_op */
	uint32_t request_buffer_offset; /* in-page offset + data_pages * 4096 */
	uint32_t request_buffer_length;
	uint32_t response_buffer_offset; /* in-page offset + (data+request pages) * 4096 */
	uint32_t response_buffer_length;
	uint8_t transaction_id[16]; /* GUID chosen by the caller */
} __attribute__((packed));

/* In-band payload of the completion packet (type 11), 12 bytes. */
struct azblob_vsp_response {
	uint32_t length;
	uint32_t error;	       /* request status, 0 = success */
	uint32_t response_len; /* bytes the host wrote into the response buffer */
} __attribute__((packed));

/*
 * The original driver's ioctl argument (az_blob_request_sync), 72 bytes.
 * The original had 4 bytes of implicit padding after data_valid; here it is
 * a named field that must be zero.
 */
struct azblob_request_sync_abi {
	uint8_t guid[16];
	uint32_t timeout;
	uint32_t request_len;
	uint32_t response_len;
	uint32_t data_len;
	uint32_t data_valid;
	uint32_t reserved; /* explicit padding, must be 0 */
	uint64_t request_buffer;
	uint64_t response_buffer;
	uint64_t data_buffer;
	struct {
		uint32_t status;
		uint32_t response_len;
	} response;
};

/* Request packet = GPA-direct header + N pfns + 56-byte request: 88 + 8N bytes. */
#define AZBLOB_VSP_PKT_LEN(npfn) (sizeof(struct vmbus_gpa_direct_hdr) + 8u * (npfn) + 56u)

_Static_assert(sizeof(struct azblob_vsp_request) == 56, "vsp request size");
_Static_assert(offsetof(struct azblob_vsp_request, version) == 0, "req version");
_Static_assert(offsetof(struct azblob_vsp_request, timeout_ms) == 4, "req timeout_ms");
_Static_assert(offsetof(struct azblob_vsp_request, data_buffer_offset) == 8, "req data off");
_Static_assert(offsetof(struct azblob_vsp_request, data_buffer_length) == 12, "req data len");
_Static_assert(offsetof(struct azblob_vsp_request, data_buffer_valid) == 16, "req data valid");
_Static_assert(offsetof(struct azblob_vsp_request, operation_type) == 20, "req op");
_Static_assert(offsetof(struct azblob_vsp_request, request_buffer_offset) == 24, "req rq off");
_Static_assert(offsetof(struct azblob_vsp_request, request_buffer_length) == 28, "req rq len");
_Static_assert(offsetof(struct azblob_vsp_request, response_buffer_offset) == 32, "req rs off");
_Static_assert(offsetof(struct azblob_vsp_request, response_buffer_length) == 36, "req rs len");
_Static_assert(offsetof(struct azblob_vsp_request, transaction_id) == 40, "req guid");

_Static_assert(sizeof(struct azblob_vsp_response) == 12, "vsp response size");
_Static_assert(offsetof(struct azblob_vsp_response, length) == 0, "rsp length");
_Static_assert(offsetof(struct azblob_vsp_response, error) == 4, "rsp error");
_Static_assert(offsetof(struct azblob_vsp_response, response_len) == 8, "rsp response_len");

_Static_assert(sizeof(struct azblob_request_sync_abi) == 72, "sync abi size");
_Static_assert(offsetof(struct azblob_request_sync_abi, timeout) == 16, "sync timeout");
_Static_assert(offsetof(struct azblob_request_sync_abi, data_valid) == 32, "sync data_valid");
_Static_assert(offsetof(struct azblob_request_sync_abi, reserved) == 36, "sync padding");
_Static_assert(offsetof(struct azblob_request_sync_abi, request_buffer) == 40, "sync rq buf");
_Static_assert(offsetof(struct azblob_request_sync_abi, response_buffer) == 48, "sync rs buf");
_Static_assert(offsetof(struct azblob_request_sync_abi, data_buffer) == 56, "sync data buf");
_Static_assert(offsetof(struct azblob_request_sync_abi, response) == 64, "sync response");

_Static_assert(AZBLOB_VSP_PKT_LEN(1) == 96, "one-page request packet is 96 bytes");
_Static_assert(AZBLOB_VSP_PKT_LEN(8192) == 65624, "max request packet is 65,624 bytes");

#ifdef __cplusplus
}
#endif

#endif /* AZBLOB_VSP_WIRE_H */
