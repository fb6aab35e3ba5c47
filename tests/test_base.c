/* Tests of the base module: status strings, per-thread error details, large buffers. */
#include <stdint.h>
#include <string.h>

#include <ensi/ensi.h>

#include "base/error.h"
#include "base/large_alloc.h"
#include "testutil.h"

/* Large buffers: zeroed when asked for, also when served again from the pool after being
 * dirtied; every byte writable; overflowing sizes refused. */
/* A buffer taken back from the pool counts as in use again: in use never exceeds the most ever in
 * use, and the pool stays within its allowance (the larger of 2 GiB and most minus in use). */
static void test_pool_accounting(void) {
  const size_t mib = (size_t)1 << 20;
  void *a = ensi_large_alloc(8 * mib, 1);
  ensi_large_free(a);                         /* pooled */
  void *b = ensi_large_alloc(64 * mib, 1);    /* larger than a's buffer */
  void *c = ensi_large_alloc(8 * mib, 1);     /* a's buffer again */
  CHECK(a && b && c);
  ensi_large_stats st;
  ensi_large_pool_stats(&st);
  CHECK_MSG(st.in_use <= st.most_in_use, "in use %zu above the most ever in use %zu", st.in_use,
            st.most_in_use);
  ensi_large_free(b);
  ensi_large_free(c);
  ensi_large_pool_stats(&st);
  CHECK(st.in_use == 0);
  CHECK(st.pooled <= ((size_t)2 << 30) || st.pooled <= st.most_in_use);
}

/* Fills p with a pattern of its own, and checks it: the pieces of the pool must never overlap. */
static void fill(uint64_t *p, size_t words, uint64_t tag) {
  for (size_t i = 0; i < words; i++)
    p[i] = tag ^ i;
}
static size_t mismatches(const uint64_t *p, size_t words, uint64_t tag) {
  size_t bad = 0;
  for (size_t i = 0; i < words; i++)
    bad += p[i] != (tag ^ i);
  return bad;
}
static size_t nonzero(const uint64_t *p, size_t words) {
  size_t count = 0;
  for (size_t i = 0; i < words; i++)
    count += p[i] != 0;
  return count;
}

/* Freed memory serves later requests of other sizes without fresh pages: a smaller one is cut
 * from a pooled buffer (the rest stays pooled and serves the next), a larger one joins pooled
 * buffers and adds fresh pages only for what they miss; every byte of every buffer is its own. */
static void test_pool_reuse(void) {
  const size_t mib = (size_t)1 << 20, words_per_mib = mib / 8;
  ensi_large_stats before, after;
  ensi_large_pool_stats(&before);
  uint64_t *a = ensi_large_alloc(300 * words_per_mib, 8); /* larger than all before: fresh */
  ensi_large_pool_stats(&after);
  if (!a || after.fresh == before.fresh) { /* sanitizer builds take every buffer from the heap */
    ensi_large_free(a);
    return;
  }
  fill(a, 300 * words_per_mib, 1);
  ensi_large_free(a);
  ensi_large_pool_stats(&before);
  uint64_t *b = ensi_large_calloc(40 * words_per_mib, 8);
  uint64_t *c = ensi_large_alloc(100 * words_per_mib, 8);
  ensi_large_pool_stats(&after);
  CHECK_MSG(after.fresh == before.fresh, "cut from the pool: %zu fresh bytes",
            after.fresh - before.fresh);
  CHECK(b && c);
  if (!b || !c)
    return;
  CHECK(nonzero(b, 40 * words_per_mib) == 0); /* zeroed although reused */
  fill(b, 40 * words_per_mib, 2);
  fill(c, 100 * words_per_mib, 3);
  ensi_large_free(b);
  ensi_large_pool_stats(&before);
  uint64_t *d = ensi_large_calloc(500 * words_per_mib, 8); /* joins b's and the rest's pages */
  ensi_large_pool_stats(&after);
  CHECK(d != NULL);
  const size_t needed = 502 * mib; /* with the header, in whole huge pages */
  const size_t missing = before.pooled >= needed ? 0 : needed - before.pooled;
  CHECK_MSG(after.fresh - before.fresh <= missing, "joined %zu pooled bytes, yet %zu fresh",
            before.pooled, after.fresh - before.fresh);
  if (d) {
    CHECK(nonzero(d, 500 * words_per_mib) == 0);
    fill(d, 500 * words_per_mib, 4);
    CHECK(mismatches(c, 100 * words_per_mib, 3) == 0);
    CHECK(mismatches(d, 500 * words_per_mib, 4) == 0);
  }
  ensi_large_free(c);
  ensi_large_free(d);
}

static void test_large_buffers(void) {
  const size_t sizes[] = {100, (size_t)1 << 20, (size_t)5 << 20, ((size_t)5 << 20) + 3};
  for (int round = 0; round < 3; round++)
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
      unsigned char *p = ensi_large_calloc(sizes[i], 1);
      CHECK(p != NULL && ((uintptr_t)p & 63) == 0);
      if (!p)
        continue;
      size_t nonzero = 0;
      for (size_t k = 0; k < sizes[i]; k++)
        nonzero += p[k] != 0;
      CHECK_MSG(nonzero == 0, "round %d, %zu bytes: %zu nonzero", round, sizes[i], nonzero);
      memset(p, 0xA5, sizes[i]);
      ensi_large_free(p);
      uint64_t *q = ensi_large_alloc(sizes[i] / 8 + 1, 8);
      CHECK(q != NULL);
      if (q)
        q[sizes[i] / 8] = 1;
      ensi_large_free(q);
    }
  CHECK(ensi_large_alloc(SIZE_MAX / 4, 8) == NULL);
  CHECK(ensi_large_calloc(SIZE_MAX, 2) == NULL);
  ensi_large_free(NULL);
}

int main(void) {
  test_large_buffers();
  test_pool_accounting();
  test_pool_reuse();
  for (int s = 0; s >= ENSI_ERR_INTERNAL; s--) {
    const char *text = ensi_strerror((ensi_status)s);
    CHECK(text != NULL && strcmp(text, "unknown status") != 0);
  }
  CHECK(!strcmp(ensi_strerror((ensi_status)-999), "unknown status"));
  ensi_clear_error();
  CHECK(ensi_error_detail()[0] == '\0');
  CHECK(ensi_fail(ENSI_ERR_FORMAT, "field %s out of range", "n") == ENSI_ERR_FORMAT);
  CHECK(!strcmp(ensi_error_detail(), "field n out of range"));
  CHECK(!strcmp(ensi_version(), ENSI_VERSION_STRING));
  return test_finish("test_base");
}
