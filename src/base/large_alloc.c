/* Large buffers with huge pages and a reuse pool (see large_alloc.h).
 *
 * Every buffer starts with a header, one cache line before the pointer handed out (which is
 * therefore 64-byte aligned), that records how it was obtained. Requests below LARGE_MIN bytes,
 * and every request in builds with AddressSanitizer (so that it still checks each buffer's
 * bounds), go to aligned_alloc.
 *
 * Pooled buffers are whole huge pages at huge-page boundaries, so any of them can be cut in two
 * at a huge-page boundary (the tail gets a header of its own and stays pooled) and several can be
 * moved side by side into one new range with mremap, which moves their page tables: their pages
 * are neither copied nor zeroed again. */
#define _GNU_SOURCE /* mremap's MREMAP_FIXED */
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
  large_header *slot[POOL_SLOTS]; /* oldest first */
  size_t count, bytes;
  size_t in_use, most_in_use; /* mapped bytes handed out now, and at most so far */
  size_t fresh;               /* mapped bytes taken from the system so far */
} pool = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0, 0, 0, 0};

static void *user_pointer(large_header *h) { return (unsigned char *)h + HEADER; }
static large_header *header_of(void *p) { return (large_header *)((unsigned char *)p - HEADER); }

static large_header *header_at(void *start, size_t mapped) {
  large_header *h = start;
  h->mapped = mapped;
  h->capacity = mapped - HEADER;
  return h;
}

/* The pool's allowance now (lock held). */
static size_t pool_allowance(void) {
  const size_t room = pool.most_in_use - pool.in_use;
  return room > POOL_BYTES ? room : POOL_BYTES;
}

/* Takes entry i out of the pool (lock held). */
static large_header *pool_remove(size_t i) {
  large_header *h = pool.slot[i];
  memmove(&pool.slot[i], &pool.slot[i + 1], (pool.count - i - 1) * sizeof *pool.slot);
  pool.count--;
  pool.bytes -= h->mapped;
  return h;
}

/* Keeps h as the newest entry (lock held; a slot is free). */
static void pool_append(large_header *h) {
  pool.slot[pool.count++] = h;
  pool.bytes += h->mapped;
}

/* Moves the oldest entries into evicted[] until the pool holds at most `limit` bytes and has a
 * free slot (lock held); returns the new count of evicted[]. */
static size_t pool_shrink(size_t limit, large_header **evicted, size_t evicted_count) {
  while (pool.count > 0 && (pool.count == POOL_SLOTS || pool.bytes > limit))
    evicted[evicted_count++] = pool_remove(0);
  return evicted_count;
}

static void unmap_all(large_header **evicted, size_t count) {
  for (size_t i = 0; i < count; i++)
    munmap(evicted[i], evicted[i]->mapped);
}

/* Cuts h to `mapped` bytes; the rest, whole huge pages after it, goes back to the pool as a buffer
 * of its own (lock held; a slot is free). */
static void split_into_pool(large_header *h, size_t mapped) {
  if (h->mapped > mapped) {
    pool_append(header_at((unsigned char *)h + mapped, h->mapped - mapped));
    header_at(h, mapped);
  }
}

/* The pooled buffer closest above `mapped` bytes, cut to size (lock held); NULL when every pooled
 * buffer is smaller. */
static large_header *take_fitting(size_t mapped) {
  size_t best = POOL_SLOTS;
  for (size_t i = 0; i < pool.count; i++)
    if (pool.slot[i]->mapped >= mapped &&
        (best == POOL_SLOTS || pool.slot[i]->mapped < pool.slot[best]->mapped))
      best = i;
  if (best == POOL_SLOTS)
    return NULL;
  large_header *h = pool_remove(best);
  split_into_pool(h, mapped);
  return h;
}

/* Takes the largest pooled buffers until they hold `mapped` bytes or the pool is empty (lock
 * held), the last one cut to what is missing; returns their count. */
static size_t take_pieces(size_t mapped, large_header **pieces) {
  size_t count = 0, covered = 0;
  while (covered < mapped && pool.count > 0) {
    size_t largest = 0;
    for (size_t i = 1; i < pool.count; i++)
      if (pool.slot[i]->mapped > pool.slot[largest]->mapped)
        largest = i;
    large_header *h = pool_remove(largest);
    if (covered + h->mapped > mapped)
      split_into_pool(h, mapped - covered);
    pieces[count++] = h;
    covered += h->mapped;
  }
  return count;
}

/* An anonymous mapping of `mapped` bytes aligned to a huge page (NULL when refused); PROT_NONE
 * reserves address space only. */
static unsigned char *map_aligned(size_t mapped, int protection) {
  unsigned char *raw =
      mmap(NULL, mapped + HUGE_PAGE, protection, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    return NULL;
  unsigned char *start = (unsigned char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
  if (start > raw)
    munmap(raw, (size_t)(start - raw));
  munmap(start + mapped, HUGE_PAGE - (size_t)(start - raw));
  return start;
}

/* Fresh readable and writable pages over [start, start + bytes) of a reserved range, zero-filled by
 * the kernel; false when refused. */
static bool map_fresh_at(unsigned char *start, size_t bytes) {
  return mmap(start, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
              0) != MAP_FAILED;
}

static void note_fresh(size_t bytes) {
  pthread_mutex_lock(&pool.lock);
  pool.fresh += bytes;
  pthread_mutex_unlock(&pool.lock);
}

static large_header *map_fresh(size_t mapped) {
  unsigned char *start = map_aligned(mapped, PROT_READ | PROT_WRITE);
  if (!start)
    return NULL;
  madvise(start, mapped, MADV_HUGEPAGE); /* a request: without THP the buffer still works */
  note_fresh(mapped);
  return header_at(start, mapped);
}

/* One buffer of `mapped` bytes from the pieces, moved side by side into a new range, and fresh
 * pages after them for what they do not cover; NULL when the kernel refuses (the pieces are then
 * returned to the system). */
static large_header *join_pieces(large_header **pieces, size_t count, size_t mapped) {
#ifdef MREMAP_FIXED
  unsigned char *target = map_aligned(mapped, PROT_NONE);
  size_t moved = 0, i = 0;
  for (; target && i < count; i++) {
    const size_t bytes = pieces[i]->mapped; /* read before the piece moves */
    if (mremap(pieces[i], bytes, bytes, MREMAP_MAYMOVE | MREMAP_FIXED, target + moved) ==
        MAP_FAILED)
      break;
    moved += bytes;
  }
  const bool joined = target && i == count &&
                      (moved == mapped || map_fresh_at(target + moved, mapped - moved));
  if (joined) {
    madvise(target, mapped, MADV_HUGEPAGE); /* for the fresh tail; the moved pages have it */
    note_fresh(mapped - moved);
    return header_at(target, mapped);
  }
  if (target)
    munmap(target, mapped); /* with the pieces moved there */
  unmap_all(pieces + i, count - i);
#else
  (void)mapped;
  unmap_all(pieces, count);
#endif
  return NULL;
}

/* Counts a buffer as handed out; the pool gives back what would now exceed its allowance. */
static void count_in_use(size_t mapped) {
  large_header *evicted[POOL_SLOTS];
  pthread_mutex_lock(&pool.lock);
  pool.in_use += mapped;
  if (pool.in_use > pool.most_in_use)
    pool.most_in_use = pool.in_use;
  const size_t evicted_count = pool_shrink(pool_allowance(), evicted, 0);
  pthread_mutex_unlock(&pool.lock);
  unmap_all(evicted, evicted_count);
}

/* A buffer of `mapped` bytes: from the pool when it holds any (cut from a larger buffer, or
 * smaller ones joined), fresh otherwise. Returns whether its memory is all fresh (zero). */
static large_header *obtain(size_t mapped, bool *fresh) {
  large_header *pieces[POOL_SLOTS];
  pthread_mutex_lock(&pool.lock);
  large_header *h = take_fitting(mapped);
  const size_t count = h ? 0 : take_pieces(mapped, pieces);
  pthread_mutex_unlock(&pool.lock);
  if (!h && count > 0)
    h = join_pieces(pieces, count, mapped);
  *fresh = !h;
  if (!h)
    h = map_fresh(mapped);
  if (h)
    count_in_use(h->mapped);
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
    pool_append(h);
  }
  pthread_mutex_unlock(&pool.lock);
  unmap_all(evicted, evicted_count);
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
  bool fresh;
  large_header *h = obtain((bytes + HEADER + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE, &fresh);
  if (!h)
    return NULL;
  if (zero && !fresh) /* fresh pages are zero already */
    memset(user_pointer(h), 0, bytes);
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

void ensi_large_pool_stats(ensi_large_stats *out) {
  pthread_mutex_lock(&pool.lock);
  *out = (ensi_large_stats){pool.bytes, pool.in_use, pool.most_in_use, pool.fresh};
  pthread_mutex_unlock(&pool.lock);
}
