/* Two sums of products modulo q (see dot.h): the portable kernel and the dispatch. */
#include "math/dot.h"

#include "math/ntt.h"

enum { GROUP = 64 }; /* products below 2^122 summed in 128 bits before a reduction */

static void dot2_portable(uint64_t *out0, uint64_t *out1, const uint64_t *const *x,
                          const uint64_t *const *y0, const uint64_t *const *y1, size_t count,
                          const uint32_t *perm, size_t n, const ensi_modulus *q) {
  for (size_t t = 0; t < n; t++) {
    const size_t src = perm ? perm[t] : t;
    uint64_t total0 = 0, total1 = 0;
    for (size_t first = 0; first < count; first += GROUP) {
      const size_t last = count - first < GROUP ? count : first + GROUP;
      ensi_u128 s0 = 0, s1 = 0;
      for (size_t j = first; j < last; j++) {
        s0 += (ensi_u128)x[j][src] * y0[j][t];
        s1 += (ensi_u128)x[j][src] * y1[j][t];
      }
      total0 = ensi_add_mod(total0, ensi_reduce_u128(s0, q), q->value);
      total1 = ensi_add_mod(total1, ensi_reduce_u128(s1, q), q->value);
    }
    out0[t] = total0;
    out1[t] = total1;
  }
}

void ensi_dot2_mod(uint64_t *out0, uint64_t *out1, const uint64_t *const *x,
                   const uint64_t *const *y0, const uint64_t *const *y1, size_t count,
                   const uint32_t *perm, size_t n, const ensi_modulus *q) {
#if defined(__x86_64__)
  if (n % 8 == 0 && ensi_ntt_kernel_is_avx512()) {
    ensi_dot2_mod_avx512(out0, out1, x, y0, y1, count, perm, n, q);
    return;
  }
  if (n % 4 == 0 && ensi_ntt_kernel_is_avx2()) {
    ensi_dot2_mod_avx2(out0, out1, x, y0, y1, count, perm, n, q);
    return;
  }
#endif
  dot2_portable(out0, out1, x, y0, y1, count, perm, n, q);
}
