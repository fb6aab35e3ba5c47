/* Large buffers with huge pages and a reuse pool (see large_alloc.h).
 *
 * Every buffer starts with a header, one cache line before the pointer handed out (which is
 * therefore 64-byte aligned), that records how it was obtained. Requests below LARGE_MIN bytes,
 * and every request in builds with AddressSanitizer (so that it still checks each buffer's
 * bounds), go to aligned_alloc. */
#include "base/large_alloc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define LARGE_USE_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LARGE_USE_HEAP 1
#endif
#endif
#ifndef LARGE_USE_HEAP
#define LARGE_USE_HEAP 0
#endif

enum { HEADER = 64, POOL_SLOTS = 4096 };
#define LARGE_MIN ((size_t)1 << 20)   /* below this, the heap */
#define HUGE_PAGE ((size_t)2 << 20)   /* transparent huge page size on x86-64 */
#define POOL_BYTES ((size_t)2 << 30)  /* the pool may always keep this much freed memory */

typedef struct {
  size_t mapped;   /* bytes of the mapping (header included); 0 from the heap */
  size_t capacity; /* usable bytes after the header */
} large_header;

/* The pool keeps freed buffers up to POOL_BYTES, or more while the buffers in use plus the pool
 * stay below the most that was ever in use: memory the process has already held (and the kernel
 * has already zeroed) is reused instead of being returned and faulted in again, without raising
 * the peak. */
static struct {
  pthread_mutex_t lock;
  large_header *slot[POOL_SLOTS];
  size_t count, bytes;
  size_t in_use, most_in_use; /* mapped bytes handed out now, and at most so far */
} pool = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0, 0, 0};

/* The pool's allowance now (lock held). */
static size_t pool_allowance(void) {
  const size_t room = pool.most_in_use - pool.in_use;
  return room > POOL_BYTES ? room : POOL_BYTES;
}

/* Moves the oldest entries into evicted[] until the pool holds at most `limit` bytes and has a
 * free slot (lock held); returns the new count of evicted[]. */
static size_t pool_shrink(size_t limit, large_header **evicted, size_t evicted_count) {
  while (pool.count > 0 && (pool.count == POOL_SLOTS || pool.bytes > limit)) {
    evicted[evicted_count++] = pool.slot[0];
    pool.bytes -= pool.slot[0]->mapped;
    memmove(&pool.slot[0], &pool.slot[1], (--pool.count) * sizeof *pool.slot);
  }
  return evicted_count;
}

static void unmap_all(large_header **evicted, size_t count) {
  for (size_t i = 0; i < count; i++)
    munmap(evicted[i], evicted[i]->mapped);
}

static void *user_pointer(large_header *h) { return (unsigned char *)h + HEADER; }
static large_header *header_of(void *p) { return (large_header *)((unsigned char *)p - HEADER); }

/* Takes the smallest pooled buffer holding `bytes` and at most half as much again. */
static large_header *pool_take(size_t bytes) {
  pthread_mutex_lock(&pool.lock);
  size_t best = POOL_SLOTS;
  for (size_t i = 0; i < pool.count; i++) {
    const size_t cap = pool.slot[i]->capacity;
    if (cap >= bytes && cap - bytes <= bytes / 2 &&
        (best == POOL_SLOTS || cap < pool.slot[best]->capacity))
      best = i;
  }
  large_header *h = NULL;
  if (best != POOL_SLOTS) {
    h = pool.slot[best];
    memmove(&pool.slot[best], &pool.slot[best + 1], (pool.count - best - 1) * sizeof *pool.slot);
    pool.count--;
    pool.bytes -= h->mapped;
    pool.in_use += h->mapped;
    if (pool.in_use > pool.most_in_use)
      pool.most_in_use = pool.in_use;
  }
  pthread_mutex_unlock(&pool.lock);
  return h;
}

/* Keeps h as the newest entry; the oldest entries make room (the pool follows the sizes in use
 * now: a burst of one size must not lock out the temporaries that come back every operation). */
static void pool_give(large_header *h) {
  large_header *evicted[POOL_SLOTS + 1];
  size_t evicted_count = 0;
  pthread_mutex_lock(&pool.lock);
  pool.in_use -= h->mapped;
  const size_t allowance = pool_allowance();
  if (h->mapped > allowance) {
    evicted[evicted_count++] = h;
  } else {
    evicted_count = pool_shrink(allowance - h->mapped, evicted, evicted_count);
    pool.slot[pool.count++] = h;
    pool.bytes += h->mapped;
  }
  pthread_mutex_unlock(&pool.lock);
  unmap_all(evicted, evicted_count);
}

/* Counts a fresh mapping as in use; the pool gives back what would now exceed its allowance. */
static void count_fresh(size_t mapped) {
  large_header *evicted[POOL_SLOTS];
  pthread_mutex_lock(&pool.lock);
  pool.in_use += mapped;
  if (pool.in_use > pool.most_in_use)
    pool.most_in_use = pool.in_use;
  const size_t evicted_count = pool_shrink(pool_allowance(), evicted, 0);
  pthread_mutex_unlock(&pool.lock);
  unmap_all(evicted, evicted_count);
}

/* A fresh anonymous mapping (zero-filled by the kernel), aligned to a huge page. */
static large_header *map_fresh(size_t bytes) {
  const size_t mapped = (bytes + HEADER + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  unsigned char *raw = mmap(NULL, mapped + HUGE_PAGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    return NULL;
  unsigned char *start = (unsigned char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
  if (start > raw)
    munmap(raw, (size_t)(start - raw));
  munmap(start + mapped, HUGE_PAGE - (size_t)(start - raw));
  madvise(start, mapped, MADV_HUGEPAGE); /* a request: without THP the buffer still works */
  large_header *h = (large_header *)start;
  h->mapped = mapped;
  h->capacity = mapped - HEADER;
  return h;
}

static void *allocate(size_t bytes, bool zero) {
  if (LARGE_USE_HEAP || bytes < LARGE_MIN) {
    large_header *h = aligned_alloc(HEADER, (bytes + 2 * HEADER - 1) / HEADER * HEADER);
    if (!h)
      return NULL;
    if (zero)
      memset(user_pointer(h), 0, bytes);
    h->mapped = 0;
    h->capacity = bytes;
    return user_pointer(h);
  }
  large_header *h = pool_take(bytes);
  if (h) {
    if (zero)
      memset(user_pointer(h), 0, bytes);
    return user_pointer(h);
  }
  h = map_fresh(bytes);
  if (!h)
    return NULL;
  count_fresh(h->mapped);
  return user_pointer(h);
}

static bool total_bytes(size_t count, size_t size, size_t *bytes) {
  if (size && count > (SIZE_MAX - HEADER - 2 * HUGE_PAGE) / size)
    return false;
  *bytes = count * size;
  return true;
}

void *ensi_large_alloc(size_t count, size_t size) {
  size_t bytes;
  return total_bytes(count, size, &bytes) ? allocate(bytes, false) : NULL;
}

void *ensi_large_calloc(size_t count, size_t size) {
  size_t bytes;
  return total_bytes(count, size, &bytes) ? allocate(bytes, true) : NULL;
}

void ensi_large_free(void *buffer) {
  if (!buffer)
    return;
  large_header *h = header_of(buffer);
  if (h->mapped == 0)
    free(h);
  else
    pool_give(h);
}

void ensi_large_pool_stats(size_t *pooled, size_t *in_use, size_t *most_in_use) {
  pthread_mutex_lock(&pool.lock);
  *pooled = pool.bytes;
  *in_use = pool.in_use;
  *most_in_use = pool.most_in_use;
  pthread_mutex_unlock(&pool.lock);
}
