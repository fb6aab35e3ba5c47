/* AVX-512 kernels of the element-wise limb operations (limb_ops.h), eight words at a time: x - y
 * plus q (below 2q), the lazy Shoup product by the constant (avx512_mod.h: AVX-512F, or IFMA's
 * 52-bit products for moduli up to 51 bits when the NTT's IFMA kernel is in use), conditional
 * subtractions; a permuted x by one load and vpermq (avx512_mod.h). */
#include "math/limb_ops.h"

#if defined(__x86_64__)
#include "math/avx512_mod.h"
#include "math/ntt.h"

/* The two operations with the product mul, whose Shoup constant is ws shifted right by shift (0,
 * or 12 for IFMA's). */
AVX512 static ENSI_AVX512_INLINE void sub_mul_const(ensi_avx512_shoup_product *mul, unsigned shift,
                                                    uint64_t *out, const uint64_t *x,
                                                    const uint64_t *y, uint64_t w, uint64_t ws,
                                                    size_t n, uint64_t q) {
  const __m512i vq = _mm512_set1_epi64((long long)q);
  const __m512i vw = _mm512_set1_epi64((long long)w);
  const __m512i vws = _mm512_set1_epi64((long long)(ws >> shift));
  for (size_t t = 0; t < n; t += 8) {
    __m512i v = _mm512_loadu_si512(x + t);
    if (y)
      v = _mm512_sub_epi64(_mm512_add_epi64(v, vq), _mm512_loadu_si512(y + t));
    _mm512_storeu_si512(out + t, ensi_avx512_reduce_once(mul(v, vw, vws, vq), vq));
  }
}

AVX512 static ENSI_AVX512_INLINE void add_mul_const(ensi_avx512_shoup_product *mul, unsigned shift,
                                                    uint64_t *out, const uint64_t *x,
                                                    const uint32_t *perm, uint64_t w, uint64_t ws,
                                                    size_t n, uint64_t q) {
  const __m512i vq = _mm512_set1_epi64((long long)q);
  const __m512i vw = _mm512_set1_epi64((long long)w);
  const __m512i vws = _mm512_set1_epi64((long long)(ws >> shift));
  for (size_t t = 0; t < n; t += 8) {
    const __m512i v = perm ? ensi_avx512_load_permuted(x, perm, t) : _mm512_loadu_si512(x + t);
    const __m512i r = ensi_avx512_reduce_once(mul(v, vw, vws, vq), vq);
    const __m512i sum = _mm512_add_epi64(_mm512_loadu_si512(out + t), r);
    _mm512_storeu_si512(out + t, ensi_avx512_reduce_once(sum, vq));
  }
}

AVX512_IFMA static void sub_mul_const_ifma(uint64_t *out, const uint64_t *x, const uint64_t *y,
                                           uint64_t w, uint64_t ws, size_t n, uint64_t q) {
  sub_mul_const(ensi_avx512_mul_shoup_lazy52, 12, out, x, y, w, ws, n, q);
}

AVX512 static void sub_mul_const_f(uint64_t *out, const uint64_t *x, const uint64_t *y,
                                   uint64_t w, uint64_t ws, size_t n, uint64_t q) {
  sub_mul_const(ensi_avx512_mul_shoup_lazy, 0, out, x, y, w, ws, n, q);
}

AVX512_IFMA static void add_mul_const_ifma(uint64_t *out, const uint64_t *x, const uint32_t *perm,
                                           uint64_t w, uint64_t ws, size_t n, uint64_t q) {
  add_mul_const(ensi_avx512_mul_shoup_lazy52, 12, out, x, perm, w, ws, n, q);
}

AVX512 static void add_mul_const_f(uint64_t *out, const uint64_t *x, const uint32_t *perm,
                                   uint64_t w, uint64_t ws, size_t n, uint64_t q) {
  add_mul_const(ensi_avx512_mul_shoup_lazy, 0, out, x, perm, w, ws, n, q);
}

static bool uses_ifma(uint64_t q) {
  return q >> ENSI_IFMA_MAX_BITS == 0 && ensi_ntt_kernel_uses_ifma();
}

void ensi_limb_sub_mul_const_avx512(uint64_t *out, const uint64_t *x, const uint64_t *y,
                                    uint64_t w, uint64_t ws, size_t n, uint64_t q) {
  (uses_ifma(q) ? sub_mul_const_ifma : sub_mul_const_f)(out, x, y, w, ws, n, q);
}

void ensi_limb_add_mul_const_avx512(uint64_t *out, const uint64_t *x, const uint32_t *perm,
                                    uint64_t w, uint64_t ws, size_t n, uint64_t q) {
  (uses_ifma(q) ? add_mul_const_ifma : add_mul_const_f)(out, x, perm, w, ws, n, q);
}
#endif
