/* Element-wise limb operations with a constant factor (see limb_ops.h): the portable kernel and
 * the dispatch. */
#include "math/limb_ops.h"

#include "math/ntt.h"

void ensi_limb_sub_mul_const(uint64_t *out, const uint64_t *x, const uint64_t *y, uint64_t w,
                             size_t n, const ensi_modulus *q) {
  const uint64_t ws = ensi_shoup_precompute(w, q->value);
#if defined(__x86_64__)
  if (n % 8 == 0 && ensi_ntt_kernel_is_avx512()) {
    ensi_limb_sub_mul_const_avx512(out, x, y, w, ws, n, q->value);
    return;
  }
  if (n % 4 == 0 && ensi_ntt_kernel_is_avx2()) {
    ensi_limb_sub_mul_const_avx2(out, x, y, w, ws, n, q->value);
    return;
  }
#endif
  if (y)
    for (size_t t = 0; t < n; t++)
      out[t] = ensi_mul_shoup(ensi_sub_mod(x[t], y[t], q->value), w, ws, q->value);
  else
    for (size_t t = 0; t < n; t++)
      out[t] = ensi_mul_shoup(x[t], w, ws, q->value);
}

void ensi_limb_add_mul_const(uint64_t *out, const uint64_t *x, const uint32_t *perm, uint64_t w,
                             size_t n, const ensi_modulus *q) {
  const uint64_t ws = ensi_shoup_precompute(w, q->value);
#if defined(__x86_64__)
  if (n % 8 == 0 && ensi_ntt_kernel_is_avx512()) {
    ensi_limb_add_mul_const_avx512(out, x, perm, w, ws, n, q->value);
    return;
  }
  if (n % 4 == 0 && ensi_ntt_kernel_is_avx2()) {
    ensi_limb_add_mul_const_avx2(out, x, perm, w, ws, n, q->value);
    return;
  }
#endif
  for (size_t t = 0; t < n; t++)
    out[t] = ensi_add_mod(out[t], ensi_mul_shoup(x[perm ? perm[t] : t], w, ws, q->value), q->value);
}
