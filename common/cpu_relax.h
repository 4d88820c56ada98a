/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The body of a spin loop: tell the CPU (and the hypervisor's other
 * vCPUs on the same core) that we are waiting. x86: `pause`; arm64:
 * `yield` (Linux's cpu_relax() on arm64 is a compiler barrier only, but
 * yield is the architectural hint, and what DPDK's rte_pause() issues);
 * elsewhere a compiler barrier. */
#ifndef AZ_CPU_RELAX_H
#define AZ_CPU_RELAX_H

static inline void az_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

#endif
