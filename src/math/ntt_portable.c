/* Cache-blocked NTT drivers, and the portable C kernel: Cooley-Tukey forward and Gentleman-Sande
 * inverse with Harvey's lazy butterflies (see ntt.h for the ordering and value ranges).
 *
 * Memory traffic dominates a transform of 2^16 words (512 KiB, beyond L1/L2 with the twiddle
 * tables), so the stages are cache-blocked: stages whose butterflies span more than BLOCK words
 * stream over the whole array, and the remaining ones run block by block while a block of BLOCK
 * words stays in L1. That turns 16 passes over memory into about 6 at N = 2^16. */
#include "math/ntt_internal.h"

enum { BLOCK = 2048 }; /* words per cache block (16 KiB) */

void ensi_ntt_forward_blocked(const ensi_ntt_kernel *k, const ensi_ntt_table *t, uint64_t *a) {
  const uint64_t q = t->q.value, two_q = 2 * q;
  const size_t n = t->n, block = n < BLOCK ? n : BLOCK;
  size_t m = 1, gap = n / 2;
  for (; m < n && 2 * gap > block; m <<= 1, gap >>= 1)
    k->forward_groups(t, a, m, gap, 0, m);
  for (size_t start = 0; m < n && start < n; start += block) { /* remaining stages per block */
    for (size_t mb = m, gb = gap; mb < n; mb <<= 1, gb >>= 1)
      k->forward_groups(t, a, mb, gb, start / (2 * gb), (start + block) / (2 * gb));
    for (size_t j = start; j < start + block; j++) { /* [0, 4q) -> [0, q) while in cache */
      uint64_t u = a[j];
      u -= u >= two_q ? two_q : 0;
      a[j] = u - (u >= q ? q : 0);
    }
  }
}

void ensi_ntt_inverse_blocked(const ensi_ntt_kernel *k, const ensi_ntt_table *t, uint64_t *a) {
  const size_t n = t->n;
  const size_t block = n < BLOCK ? n : BLOCK;
  size_t m = n / 2, gap = 1;
  for (size_t start = 0; start < n; start += block) /* small stages per block */
    for (size_t mb = m, gb = gap; 2 * gb <= block; mb >>= 1, gb <<= 1)
      k->inverse_groups(t, a, mb, gb, start / (2 * gb), (start + block) / (2 * gb));
  while (2 * gap <= block) {
    m >>= 1;
    gap <<= 1;
  }
  for (; m >= 1; m >>= 1, gap <<= 1)
    k->inverse_groups(t, a, m, gap, 0, m);
  k->scale(t, a, n);
}

static void forward_groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                           size_t first, size_t last) {
  const uint64_t q = t->q.value, two_q = 2 * q;
  for (size_t i = first; i < last; i++) {
    const uint64_t w = t->roots[m + i], ws = t->roots_shoup[m + i];
    uint64_t *x = a + 2 * i * gap, *y = x + gap;
#pragma GCC unroll 4
    for (size_t j = 0; j < gap; j++) { /* x, y in [0, 4q) -> [0, 4q) */
      uint64_t u = x[j];
      u -= u >= two_q ? two_q : 0;
      const uint64_t v = ensi_mul_shoup_lazy(y[j], w, ws, q); /* [0, 2q) */
      x[j] = u + v;
      y[j] = u + two_q - v;
    }
  }
}

static void inverse_groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                           size_t first, size_t last) {
  const uint64_t q = t->q.value, two_q = 2 * q;
  for (size_t i = first; i < last; i++) {
    const uint64_t w = t->inv_roots[m + i], ws = t->inv_roots_shoup[m + i];
    uint64_t *x = a + 2 * i * gap, *y = x + gap;
#pragma GCC unroll 4
    for (size_t j = 0; j < gap; j++) { /* x, y in [0, 2q) -> [0, 2q) */
      const uint64_t u = x[j], v = y[j];
      uint64_t s = u + v;
      s -= s >= two_q ? two_q : 0;
      x[j] = s;
      y[j] = ensi_mul_shoup_lazy(u + two_q - v, w, ws, q);
    }
  }
}

static void scale(const ensi_ntt_table *t, uint64_t *a, size_t count) {
  for (size_t j = 0; j < count; j++)
    a[j] = ensi_mul_shoup(a[j], t->n_inv, t->n_inv_shoup, t->q.value);
}

static bool always(void) { return true; }

const ensi_ntt_kernel ensi_ntt_kernel_portable = {"portable", always, forward_groups,
                                                  inverse_groups, scale};
