/*
 * azblob-bench: the allocation counter behind the "alloc" column
 * (allocations per request in the steady state, which the fast path
 * promises to be zero).
 *
 * Why this file defines malloc, calloc, realloc and free: the figure must
 * count every allocation of the process, libazblob's included, without
 * changing the library or running under a tool. Defining the allocator's
 * entry points in the program interposes them (the dynamic linker resolves
 * the library's calls to the program's definitions); each counts and hands
 * over to glibc's own (__libc_malloc, ...). Only this file does it: in a
 * call graph, the counting wrappers are here and nowhere else in the tree.
 */
#include <stdatomic.h>

#include "alloc_count.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static atomic_long n_allocs;

void *malloc(size_t n)
{
	atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (p)
		atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
	__libc_free(p);
}

long alloc_count(void)
{
	return atomic_load(&n_allocs);
}

void *alloc_uncounted(size_t n)
{
	return __libc_malloc(n);
}

void *calloc_uncounted(size_t n, size_t size)
{
	return __libc_calloc(n, size);
}

void free_uncounted(void *p)
{
	__libc_free(p);
}
