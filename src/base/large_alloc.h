/* Large buffers: polynomials, ciphertexts, keys and key-switching temporaries (megabytes each).
 *
 * Fresh memory costs a page fault and the kernel's zeroing of every page on first touch; for the
 * 50-150 MB of temporaries of one key switch at N = 2^16 that was a fifth of the time of a
 * bootstrap (docs/BENCHMARKS.md, "Large buffers"). Buffers from ensi_large_alloc are mapped with
 * transparent huge pages requested, and freed ones are kept in a pool (the oldest leave first),
 * from which later requests are served without the kernel's zeroing: a larger buffer cut to
 * size (its tail stays pooled), or when every pooled buffer is smaller, the largest ones moved
 * side by side into one range (mremap moves their pages), fresh pages only for what they miss.
 * The pool holds 2 GiB, or more while the buffers in use plus the pool stay below the most ever
 * in use, so that it never raises the peak by more than 2 GiB. */
#ifndef ENSI_BASE_LARGE_ALLOC_H
#define ENSI_BASE_LARGE_ALLOC_H

#include <stddef.h>

/* Uninitialized buffer of count * size bytes (NULL when out of memory or on overflow). */
void *ensi_large_alloc(size_t count, size_t size);

/* Zeroed buffer of count * size bytes. */
void *ensi_large_calloc(size_t count, size_t size);

/* Returns a buffer from either function to the pool, or to the system; NULL is ignored. */
void ensi_large_free(void *buffer);

/* The pool's accounting, in mapped bytes. */
typedef struct {
  size_t pooled;      /* kept in the pool */
  size_t in_use;      /* handed out now */
  size_t most_in_use; /* most ever handed out at once */
  size_t fresh;       /* taken from the system so far (each page zeroed by the kernel) */
} ensi_large_stats;

void ensi_large_pool_stats(ensi_large_stats *out);

#endif
