/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Accessors for fields of memory shared with the other side of a ring.
 * The wire structs hold plain u32s (their layout is fixed by the host); we
 * access them through C11 atomics of the same size and alignment.
 */
#ifndef UVMBUS_ATOMICS_H
#define UVMBUS_ATOMICS_H

#include <stdatomic.h>
#include <stdint.h>

_Static_assert(sizeof(_Atomic uint32_t) == sizeof(uint32_t), "atomic u32 has the u32 layout");
_Static_assert(_Alignof(_Atomic uint32_t) == _Alignof(uint32_t), "atomic u32 alignment");

#define SHM32(p) ((_Atomic uint32_t *)(uintptr_t)(p))

/* Load the other side's index: pairs with its release store, so the packet
 * bytes it wrote (or the room it freed) are visible before we use them. */
static inline uint32_t shm_load_acquire(const uint32_t *p)
{
	return atomic_load_explicit(SHM32(p), memory_order_acquire);
}

/* Publish our index: every byte written (or read) before is ordered first. */
static inline void shm_store_release(uint32_t *p, uint32_t v)
{
	atomic_store_explicit(SHM32(p), v, memory_order_release);
}

static inline uint32_t shm_load_relaxed(const uint32_t *p)
{
	return atomic_load_explicit(SHM32(p), memory_order_relaxed);
}

static inline void shm_store_relaxed(uint32_t *p, uint32_t v)
{
	atomic_store_explicit(SHM32(p), v, memory_order_relaxed);
}

/* Publish our index AND order it before our next load of the other side's
 * mask or pending_send_sz (store->load): a seq_cst store, one locked
 * instruction on x86 (xchg) where a release store plus a full fence would
 * be a plain store plus a locked one. The load must be shm_load_fenced():
 * C11 orders a seq_cst store only before seq_cst operations. */
static inline void shm_store_fenced(uint32_t *p, uint32_t v)
{
	atomic_store_explicit(SHM32(p), v, memory_order_seq_cst);
}

/* The load half of that store->load pair: seq_cst, so that it comes after
 * the shm_store_fenced() before it in the single total order (a relaxed or
 * acquire load does not: arm64 compiles store and load to `stlr; ldr`,
 * and the load may be satisfied before the store is visible, a lost
 * wake-up). x86-64: a plain mov (the xchg is the barrier); arm64: `ldar`,
 * which never passes an earlier `stlr` (no `dmb` needed). */
static inline uint32_t shm_load_fenced(const uint32_t *p)
{
	return atomic_load_explicit(SHM32(p), memory_order_seq_cst);
}

/* Store->load ordering after a relaxed store (our mask or pending_send_sz,
 * then the other side's index) needs a full fence, even on x86
 * (docs/WIRE.md 1): mfence or a locked instruction on x86-64, `dmb ish` on
 * arm64. It pairs with the other side's shm_store_fenced() +
 * shm_load_fenced(), or with its own fence. */
static inline void shm_full_fence(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

#endif /* UVMBUS_ATOMICS_H */
