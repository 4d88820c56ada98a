/* azblob-bench: the allocation counter (alloc_count.c). */
#ifndef BENCH_ALLOC_COUNT_H
#define BENCH_ALLOC_COUNT_H

#include <stddef.h>

/* Calls of malloc, calloc, realloc and free (of a non-NULL pointer) in
 * the whole process so far. */
long alloc_count(void);

/* The C library's allocator itself, not counted: for the benchmark's own
 * buffers, so that they do not show in the figure. */
void *alloc_uncounted(size_t n);
void *calloc_uncounted(size_t n, size_t size);
void free_uncounted(void *p);

#endif
