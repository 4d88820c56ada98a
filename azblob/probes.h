// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* USDT trace points of libazblob (provider "azblob", docs/TRACING.md).
 *
 * Each probe is one `nop` in the code plus an ELF note (.note.stapsdt)
 * that tells a tracer (bpftrace, perf, systemtap) where the nop is and
 * where its arguments live. Disabled, a probe costs that nop: the
 * arguments are values the code has in registers already. Without
 * <sys/sdt.h> (Debian: systemtap-sdt-dev) or with AZBLOB_NO_PROBES the
 * macros compile to nothing.
 *
 * The probes, their arguments (all integers):
 *   submit      trans_id, request_len, response_len, data_len
 *   complete    trans_id, latency_ns, host_error, response_len
 *   timeout     trans_id, age_ns, request_len
 *   late        trans_id, response_len      (answer after the timeout)
 *   signal      where (1 submit, 2 receive), inflight
 *   ring_full   request_len, response_len, data_len, inflight
 *   queue_full  inflight
 *   rescind     inflight                     (requests failed with ENODEV)
 *
 * Keep this list, docs/TRACING.md and tests/pkg/probes.sh in step. */
#ifndef AZBLOB_PROBES_H
#define AZBLOB_PROBES_H

#if !defined(AZBLOB_NO_PROBES) && defined(__has_include)
#if __has_include(<sys/sdt.h>)
#include <sys/sdt.h>
#define AZBLOB_HAVE_PROBES 1
#endif
#endif

#ifdef AZBLOB_HAVE_PROBES
#define AZ_PROBE1(n, a)		 STAP_PROBE1(azblob, n, a)
#define AZ_PROBE2(n, a, b)	 STAP_PROBE2(azblob, n, a, b)
#define AZ_PROBE3(n, a, b, c)	 STAP_PROBE3(azblob, n, a, b, c)
#define AZ_PROBE4(n, a, b, c, d) STAP_PROBE4(azblob, n, a, b, c, d)
#else
#define AZ_PROBE1(n, a)		 ((void)0)
#define AZ_PROBE2(n, a, b)	 ((void)0)
#define AZ_PROBE3(n, a, b, c)	 ((void)0)
#define AZ_PROBE4(n, a, b, c, d) ((void)0)
#endif

/* The trans_id of slot i (the inverse of TID_SLOT/TID_GEN). */
#define AZ_TID(s, i) ((uint64_t)(s)->gen << 32 | ((i) + 1u))

#endif
