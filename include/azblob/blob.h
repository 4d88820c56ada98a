/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libazblob blob helpers: Azure Blob REST requests in the format of
 * docs/FORMAT.md (request head in the request buffer, body in the data
 * buffer, response head in the response buffer), and blob operations
 * over an azblob_client. docs/BLOB.md.
 *
 * The operations are SYNCHRONOUS from the caller's view: each one drives
 * azblob_submit/flush/poll/wait on the client until it is done, so the
 * client must have nothing else in flight that the caller waits for (other
 * requests may be in flight; their callbacks run during the call). Large
 * transfers are pipelined: up to queue_depth requests in flight, each with
 * one pool buffer from azblob_alloc() holding [data | request | response].
 *
 * Errors: 0, or a negative errno. When the service answered with a non-2xx
 * HTTP status, the errno is derived from it (404 -ENOENT, 409 -EEXIST,
 * 401/403 -EACCES, 412 -ESTALE, 416 -ERANGE, 400 -EINVAL, other 4xx
 * -EPROTO, 5xx -EIO) and struct azblob_blob_status holds the HTTP status
 * and the Azure error code (x-ms-error-code, e.g. "BlobNotFound"). A
 * non-zero VSP status gives -EIO (BUFFER_TOO_SMALL: -EMSGSIZE) with
 * vsp_status set. Nothing is printed: messages go to the client's log.
 */
#ifndef AZBLOB_BLOB_H
#define AZBLOB_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <azblob/api.h>

#ifdef __cplusplus
extern "C" {
#endif

struct azblob_client;

/* What the service said about a failed (or the last) request. */
struct azblob_blob_status {
	int http_status;     /* 0: no HTTP answer (transport error) */
	uint32_t vsp_status; /* the VSP completion status (0: answered) */
	int err;	     /* the negative errno returned */
	char error_code[64]; /* x-ms-error-code, "" when none */
	char message[160];   /* <Message> of the XML error body, cut; "" when none */
	char request_id[64]; /* x-ms-request-id, "" when none */
};

/* A parsed response head. */
struct azblob_blob_resp {
	int http_status;
	char reason[48];
	int64_t content_length; /* -1: absent */
	char etag[80];
	char last_modified[40];
	char content_type[80];
	char content_md5[40];
	char blob_type[24];
	char error_code[64];
	char request_id[64];
	/* Content-Range: bytes FIRST-LAST/TOTAL (TOTAL '*': UINT64_MAX). The
	 * unsatisfied range of a 416 ('*' for FIRST-LAST) leaves has_range
	 * false with only range_total set. */
	bool has_range;
	uint64_t range_first, range_last, range_total;
	size_t head_len; /* bytes up to and including the empty line */
};

/*
 * Parse a response head (status line, headers, empty line) of len bytes.
 * 0, or -EPROTO (malformed: no status line, a header without ':', no empty
 * line, a bad number). Content-Length is 1..19 decimal digits of at most
 * INT64_MAX (a sign, a comma list or anything else is -EPROTO); repeated,
 * it must carry the same value each time (RFC 9110 8.6), else -EPROTO;
 * so must Content-Range. Unknown headers are ignored; values too long
 * for their field are cut.
 */
AZBLOB_API int azblob_blob_parse_response(const void *buf, size_t len, struct azblob_blob_resp *r);

/* The negative errno for an HTTP status (0 for 2xx). */
AZBLOB_API int azblob_blob_http_errno(int http_status);

/* Container name rules of the service: 3..63 of [a-z0-9-], starting with a
 * letter or digit, no "--", not ending with '-'. */
AZBLOB_API bool azblob_container_name_ok(const char *name);
/* Blob names: 1..1024 bytes, no control bytes. */
AZBLOB_API bool azblob_blob_name_ok(const char *name);

/*
 * Build a request head "METHOD /container[/blob][?query] HTTP/1.1" with
 * the headers (each "Name: value", NULL-terminated array, may be NULL) and
 * "x-ms-version: 2021-08-06" (unless given), into buf. The blob name is
 * percent-encoded (RFC 3986 unreserved bytes and '/' are kept); the query
 * is used as given (already encoded). Returns the length, or -EINVAL (bad
 * name or header) or -ENOSPC (does not fit).
 */
AZBLOB_API int azblob_blob_build_request(char *buf, size_t cap, const char *method,
					 const char *container, const char *blob, const char *query,
					 const char *const *headers);

/* Percent-encode s into buf (keep_slash: '/' kept). Length or -ENOSPC. */
AZBLOB_API int azblob_blob_url_encode(char *buf, size_t cap, const char *s, bool keep_slash);

/* ---- operations (synchronous from the caller's view, see above) ---- */

/* Progress of a transfer: bytes done of total (called from the caller's
 * thread, inside the operation). */
typedef void (*azblob_blob_progress_fn)(void *user, uint64_t done, uint64_t total);
/* Upload source: fill buf with len bytes of the blob at offset off. 0 or
 * a negative errno (aborts the upload). Calls come in offset order. */
typedef int (*azblob_blob_read_fn)(void *user, void *buf, size_t len, uint64_t off);
/* Download sink: len bytes of the blob at offset off (chunks may arrive
 * out of order). 0 or a negative errno (aborts the download). */
typedef int (*azblob_blob_write_fn)(void *user, const void *buf, size_t len, uint64_t off);

struct azblob_blob_xfer {
	/* Bytes per request (Put Blob, Put Block, ranged Get): 0 = as much as
	 * a pool buffer holds besides the 16 KiB of request and response
	 * heads (at most 32 MiB, and what the channel can carry). */
	uint32_t chunk_size;
	/* Requests in flight: 0 = the client's queue depth, limited by the
	 * free pool buffers (one per request). */
	uint32_t queue_depth;
	uint32_t timeout_ms;	  /* per request; 0: the client's default */
	const char *content_type; /* uploads: the blob's Content-Type (NULL: none) */
	azblob_blob_progress_fn progress;
	void *progress_user;
	/* Integrity of each request's body (Put Blob, Put Block), checked by
	 * the service (docs/BLOB.md): AZBLOB_BLOB_CHECK_CRC64 (the default)
	 * sends x-ms-content-crc64, AZBLOB_BLOB_CHECK_MD5 Content-MD5,
	 * AZBLOB_BLOB_CHECK_NONE neither. A mismatch is the service's 400
	 * Crc64Mismatch or Md5Mismatch (-EINVAL). */
	enum azblob_blob_check {
		AZBLOB_BLOB_CHECK_CRC64 = 0,
		AZBLOB_BLOB_CHECK_MD5,
		AZBLOB_BLOB_CHECK_NONE,
	} body_check;
	/* Uploads: the whole blob's MD5, hashed as the source is read (in the
	 * same pass), sent as x-ms-blob-content-md5 on Put Block List (on Put
	 * Blob for one chunk) and kept by the service as the blob's
	 * Content-MD5. Off by default, as in azcopy (--put-md5). */
	bool blob_md5;
	/* Downloads: a whole blob read with one Get is checked against the
	 * Content-MD5 it returns (-EBADMSG when the bytes differ) unless
	 * no_md5. Uploads: no_md5 also turns off blob_md5 and MD5 as the
	 * body check (AZBLOB_BLOB_CHECK_MD5 then sends nothing). */
	bool no_md5;
};

struct azblob_blob_props {
	uint64_t size;
	char etag[80];
	char last_modified[40];
	char content_type[80];
	char content_md5[40];
	char blob_type[24]; /* "BlockBlob", ... ("" when the backend does not say) */
};

/* The largest piece an upload asks its azblob_blob_read_fn for. */
#define AZBLOB_BLOB_READ_PIECE (256u << 10)

/* Azure Storage's CRC-64 (x-ms-content-crc64; CRC-64/NVME: reflected
 * polynomial 0x9A6C9329AC4BC9B5, init and xorout all ones): continue crc
 * (0 to start) over len bytes. Carry-less multiply (PCLMULQDQ) when the CPU
 * has it, a table otherwise. The header is the base64 of the 8 bytes of
 * the result, least significant first. */
AZBLOB_API uint64_t azblob_crc64(uint64_t crc, const void *data, size_t len);

/* Create / delete a container (PUT/DELETE /c?restype=container). */
AZBLOB_API int azblob_container_create(struct azblob_client *c, const char *container,
				       struct azblob_blob_status *st);
AZBLOB_API int azblob_container_delete(struct azblob_client *c, const char *container,
				       struct azblob_blob_status *st);

/*
 * Upload size bytes from rd. Up to one chunk: one Put Blob
 * (x-ms-blob-type: BlockBlob). Larger: Put Block of each chunk (block ids
 * of equal length, base64), queue_depth in flight, then Put Block List
 * (the XML body with every id as <Latest>). x may be NULL (defaults).
 * Each body carries x-ms-content-crc64 (or Content-MD5, or nothing: see
 * x->body_check); x->blob_md5 adds the whole blob's MD5. The source is read
 * in pieces of at most AZBLOB_BLOB_READ_PIECE bytes, each checksummed
 * while it is still in the cache. A mismatch is the service's 400
 * Crc64Mismatch / Md5Mismatch: -EINVAL.
 */
AZBLOB_API int azblob_blob_upload(struct azblob_client *c, const char *container, const char *blob,
				  uint64_t size, azblob_blob_read_fn rd, void *user,
				  const struct azblob_blob_xfer *x, struct azblob_blob_status *st);
/* The same from memory. */
AZBLOB_API int azblob_blob_put(struct azblob_client *c, const char *container, const char *blob,
			       const void *data, size_t len, const struct azblob_blob_xfer *x,
			       struct azblob_blob_status *st);

/*
 * Download [off, off + len) (len UINT64_MAX: to the end) to wr: Get Blob
 * Properties for the size and ETag, then ranged Gets (Range, If-Match on
 * the ETag when there is one) of chunk_size at queue_depth in flight; a
 * blob of at most one chunk read from 0 is one plain Get. props (may be
 * NULL) receives the properties. The bytes delivered are min(len, size -
 * off); off beyond the size: -ERANGE. The one plain Get is checked
 * against the Content-MD5 it returns (unless x->no_md5): -EBADMSG when the
 * bytes differ.
 */
AZBLOB_API int azblob_blob_download(struct azblob_client *c, const char *container,
				    const char *blob, uint64_t off, uint64_t len,
				    azblob_blob_write_fn wr, void *user,
				    const struct azblob_blob_xfer *x,
				    struct azblob_blob_props *props, struct azblob_blob_status *st);
/* Into a buffer: up to cap bytes from off; *got = bytes read. */
AZBLOB_API int azblob_blob_get(struct azblob_client *c, const char *container, const char *blob,
			       uint64_t off, void *buf, size_t cap, size_t *got,
			       const struct azblob_blob_xfer *x, struct azblob_blob_status *st);

/* Get Blob Properties (HEAD). */
AZBLOB_API int azblob_blob_get_properties(struct azblob_client *c, const char *container,
					  const char *blob, struct azblob_blob_props *p,
					  struct azblob_blob_status *st);
/* Delete Blob. */
AZBLOB_API int azblob_blob_delete(struct azblob_client *c, const char *container, const char *blob,
				  struct azblob_blob_status *st);

/* One entry of List Blobs. Strings valid during the callback only. */
struct azblob_blob_item {
	const char *name;
	bool is_prefix; /* a <BlobPrefix> (with a delimiter): only name is set */
	uint64_t size;
	const char *etag, *last_modified, *content_type, *blob_type;
};
/* 0 to go on; anything else stops the listing and is returned. */
typedef int (*azblob_blob_list_fn)(void *user, const struct azblob_blob_item *it);

struct azblob_blob_list_opts {
	const char *prefix;    /* NULL: all */
	const char *delimiter; /* NULL: flat listing */
	uint32_t max_results;  /* per page; 0: as many as likely fit a pool buffer */
	bool one_page;	       /* stop after the first page (next_marker says where to go on) */
	const char *marker;    /* start here (a previous NextMarker) */
	char *next_marker;     /* NULL, or receives the NextMarker of the last page read */
	size_t next_marker_cap;
};

/* At most this many pages (List Blobs answers) per azblob_blob_list call. */
#define AZBLOB_BLOB_LIST_MAX_PAGES 10000u

/*
 * List Blobs (GET /c?restype=container&comp=list...), page after page
 * (following NextMarker) unless one_page; the EnumerationResults XML is
 * parsed with expat; cb runs for each blob (and prefix). A page that does
 * not fit the data buffer is asked again with fewer max results.
 * -EBADMSG when the XML is malformed; -EPROTO when a page's NextMarker is
 * the marker that page was asked with (the listing would not advance);
 * -E2BIG after AZBLOB_BLOB_LIST_MAX_PAGES pages with more to come (a host
 * whose markers go round, or a listing too long for one call):
 * next_marker then says where to go on.
 */
AZBLOB_API int azblob_blob_list(struct azblob_client *c, const char *container,
				const struct azblob_blob_list_opts *lo, azblob_blob_list_fn cb,
				void *user, struct azblob_blob_status *st);

/*
 * Parse one EnumerationResults document (List Blobs) of len bytes: cb for
 * each item; the NextMarker into next_marker (may be NULL). 0, -EBADMSG
 * (malformed XML or not EnumerationResults), -EPROTO (a blob's
 * Content-Length not 1..19 decimal digits of at most INT64_MAX, XML white
 * space around them allowed, or repeated with another value: no item is
 * given for that blob), -ENAMETOOLONG (an element's text too long), or
 * cb's non-zero value.
 */
AZBLOB_API int azblob_blob_parse_list(const void *xml, size_t len, azblob_blob_list_fn cb,
				      void *user, char *next_marker, size_t next_marker_cap);

#ifdef __cplusplus
}
#endif

#endif /* AZBLOB_BLOB_H */
