/* Portable C NTT kernels: Cooley-Tukey forward and Gentleman-Sande inverse with Harvey's lazy
 * butterflies (see ntt.h for the ordering and value ranges). */
#include "math/ntt_internal.h"

static void forward(const ensi_ntt_table *t, uint64_t *a) {
  const uint64_t q = t->q.value, two_q = 2 * q;
  const size_t n = t->n;
  for (size_t m = 1, gap = n / 2; m < n; m <<= 1, gap >>= 1) {
    for (size_t i = 0; i < m; i++) {
      const uint64_t w = t->roots[m + i], ws = t->roots_shoup[m + i];
      uint64_t *x = a + 2 * i * gap, *y = x + gap;
      for (size_t j = 0; j < gap; j++) { /* x, y in [0, 4q) -> [0, 4q) */
        uint64_t u = x[j];
        u -= u >= two_q ? two_q : 0;
        const uint64_t v = ensi_mul_shoup_lazy(y[j], w, ws, q); /* [0, 2q) */
        x[j] = u + v;
        y[j] = u + two_q - v;
      }
    }
  }
  for (size_t j = 0; j < n; j++) { /* [0, 4q) -> [0, q) */
    uint64_t u = a[j];
    u -= u >= two_q ? two_q : 0;
    a[j] = u - (u >= q ? q : 0);
  }
}

static void inverse(const ensi_ntt_table *t, uint64_t *a) {
  const uint64_t q = t->q.value, two_q = 2 * q;
  const size_t n = t->n;
  for (size_t m = n / 2, gap = 1; m >= 1; m >>= 1, gap <<= 1) {
    for (size_t i = 0; i < m; i++) {
      const uint64_t w = t->inv_roots[m + i], ws = t->inv_roots_shoup[m + i];
      uint64_t *x = a + 2 * i * gap, *y = x + gap;
      for (size_t j = 0; j < gap; j++) { /* x, y in [0, 2q) -> [0, 2q) */
        const uint64_t u = x[j], v = y[j];
        uint64_t s = u + v;
        s -= s >= two_q ? two_q : 0;
        x[j] = s;
        y[j] = ensi_mul_shoup_lazy(u + two_q - v, w, ws, q);
      }
    }
  }
  for (size_t j = 0; j < n; j++)
    a[j] = ensi_mul_shoup(a[j], t->n_inv, t->n_inv_shoup, q);
}

const ensi_ntt_kernel ensi_ntt_kernel_portable = {"portable", forward, inverse};
