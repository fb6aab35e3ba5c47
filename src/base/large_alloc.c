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

enum { HEADER = 64, POOL_SLOTS = 128 };
#define LARGE_MIN ((size_t)1 << 20)   /* below this, the heap */
#define HUGE_PAGE ((size_t)2 << 20)   /* transparent huge page size on x86-64 */
#define POOL_BYTES ((size_t)2 << 30)  /* the most freed memory the pool keeps */

typedef struct {
  size_t mapped;   /* bytes of the mapping (header included); 0 from the heap */
  size_t capacity; /* usable bytes after the header */
} large_header;

static struct {
  pthread_mutex_t lock;
  large_header *slot[POOL_SLOTS];
  size_t count, bytes;
} pool = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};

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
  }
  pthread_mutex_unlock(&pool.lock);
  return h;
}

/* Keeps h as the newest entry; the oldest entries make room (the pool follows the sizes in use
 * now: a burst of one size must not lock out the temporaries that come back every operation). */
static void pool_give(large_header *h) {
  large_header *evicted[POOL_SLOTS];
  size_t evicted_count = 0;
  pthread_mutex_lock(&pool.lock);
  if (h->mapped > POOL_BYTES) {
    evicted[evicted_count++] = h;
  } else {
    while (pool.count == POOL_SLOTS || pool.bytes + h->mapped > POOL_BYTES) {
      evicted[evicted_count++] = pool.slot[0];
      pool.bytes -= pool.slot[0]->mapped;
      memmove(&pool.slot[0], &pool.slot[1], (--pool.count) * sizeof *pool.slot);
    }
    pool.slot[pool.count++] = h;
    pool.bytes += h->mapped;
  }
  pthread_mutex_unlock(&pool.lock);
  for (size_t i = 0; i < evicted_count; i++)
    munmap(evicted[i], evicted[i]->mapped);
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
  return h ? user_pointer(h) : NULL;
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
