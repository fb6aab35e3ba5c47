/* Sums of products with run-constant factors (see run_sums.h): the portable kernel and the
 * dispatch. */
#include "math/run_sums.h"

#include "math/ntt.h"

/* acc in [0, 2q) += y c mod q (lazy), staying in [0, 2q). */
static inline uint64_t add_lazy_product(uint64_t acc, uint64_t y, uint64_t c, uint64_t c_shoup,
                                        uint64_t q) {
  const uint64_t sum = acc + ensi_mul_shoup_lazy(y, c, c_shoup, q);
  return sum >= 2 * q ? sum - 2 * q : sum;
}

static void run_sums2_portable(uint64_t *out0, uint64_t *out1, const uint64_t *c,
                               const uint64_t *c_shoup, const uint64_t *const *y0,
                               const uint64_t *const *y1, size_t count, size_t run,
                               size_t length, const ensi_modulus *q) {
  const uint64_t p = q->value;
  for (size_t start = 0; start < length; start += run) {
    uint64_t *o0 = out0 + start, *o1 = out1 + start;
    for (size_t t = 0; t < run; t++)
      o0[t] = o1[t] = 0;
    for (size_t k = 0; k < count; k++) {
      const uint64_t w = c[start / run * count + k], ws = c_shoup[start / run * count + k];
      const uint64_t *a0 = y0[k] + start, *a1 = y1[k] + start;
      for (size_t t = 0; t < run; t++) {
        o0[t] = add_lazy_product(o0[t], a0[t], w, ws, p);
        o1[t] = add_lazy_product(o1[t], a1[t], w, ws, p);
      }
    }
    for (size_t t = 0; t < run; t++) {
      o0[t] -= o0[t] >= p ? p : 0;
      o1[t] -= o1[t] >= p ? p : 0;
    }
  }
}

void ensi_run_sums2(uint64_t *out0, uint64_t *out1, const uint64_t *c,
                    const uint64_t *c_shoup, const uint64_t *const *y0,
                    const uint64_t *const *y1, size_t count, size_t run,
                    size_t length, const ensi_modulus *q) {
#if defined(__x86_64__)
  if (run % 8 == 0 && ensi_ntt_kernel_is_avx512()) {
    ensi_run_sums2_avx512(out0, out1, c, c_shoup, y0, y1, count, run, length, q);
    return;
  }
  if (run % 8 == 0 && ensi_ntt_kernel_is_avx2()) {
    ensi_run_sums2_avx2(out0, out1, c, c_shoup, y0, y1, count, run, length, q);
    return;
  }
#endif
  run_sums2_portable(out0, out1, c, c_shoup, y0, y1, count, run, length, q);
}
