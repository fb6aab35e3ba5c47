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
  void *b = ensi_large_alloc(64 * mib, 1);    /* too large for a's buffer: fresh */
  void *c = ensi_large_alloc(8 * mib, 1);     /* a's buffer again */
  CHECK(a && b && c);
  size_t pooled, in_use, most;
  ensi_large_pool_stats(&pooled, &in_use, &most);
  CHECK_MSG(in_use <= most, "in use %zu above the most ever in use %zu", in_use, most);
  ensi_large_free(b);
  ensi_large_free(c);
  ensi_large_pool_stats(&pooled, &in_use, &most);
  CHECK(in_use == 0);
  CHECK(pooled <= ((size_t)2 << 30) || pooled <= most);
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
