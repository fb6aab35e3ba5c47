/* AVX2 block kernel of the fast base conversion (rns_internal.h): four coefficients a lane group.
 * The inputs are scaled by lazy Shoup products, and each output prime's sum of products
 * y_i (Q / q_i) is taken in 32-bit halves and reduced once per 7 to 2^24 terms, as the primes'
 * sizes allow (avx2_split_sum.h). The factors carry 2^64 (qhat_mod_to_montgomery), so that
 * Montgomery's reduction (7 vpmuludq, against 17 for two Shoup products) removes it; the result,
 * fully reduced, is the portable kernel's word. */
#include "math/rns_internal.h"

#if defined(__x86_64__)
#include "math/avx2_split_sum.h"

enum { LANES = 4 };

/* y_i = [x_i qhat_i^{-1}]_{q_i}, fully reduced (the conversion's error bound assumes it). */
AVX2 static void scale_inputs(const ensi_base_converter *bc, const uint64_t *in, size_t n,
                              size_t start, size_t len, uint64_t *y) {
  for (size_t i = 0; i < bc->from_count; i++) {
    const __m256i q = _mm256_set1_epi64x((long long)bc->from[i].value);
    const __m256i w = _mm256_set1_epi64x((long long)bc->qhat_inv[i]);
    const __m256i ws = _mm256_set1_epi64x((long long)bc->qhat_inv_shoup[i]);
    for (size_t t = 0; t < len; t += LANES) {
      const __m256i x = _mm256_loadu_si256((const __m256i *)(in + i * n + start + t));
      const __m256i r = ensi_avx2_mul_shoup_lazy(x, w, ws, q);
      _mm256_storeu_si256((__m256i *)(y + i * ENSI_CONVERT_BLOCK + t), ensi_avx2_reduce_once(r, q));
    }
  }
}

/* sum_i h[i] y_i[t .. t + 4) 2^-64 mod p, reduced once per `group` terms (each group's sum is
 * below group 2^from_bits p <= p 2^64, as Montgomery's reduction needs). */
AVX2 static inline __m256i convert_lanes(const uint64_t *h, const uint64_t *y, size_t k, size_t t,
                                         size_t group, const ensi_avx2_montgomery *r) {
  __m256i total = _mm256_setzero_si256();
  for (size_t first = 0; first < k; first += group) {
    const size_t last = k - first < group ? k : first + group;
    ensi_avx2_split_sum s;
    ensi_avx2_split_sum_zero(&s);
    for (size_t i = first; i < last; i++) {
      const __m256i hi = _mm256_set1_epi64x((long long)h[i]);
      const __m256i yi = _mm256_loadu_si256((const __m256i *)(y + i * ENSI_CONVERT_BLOCK + t));
      ensi_avx2_split_sum_add(&s, hi, _mm256_srli_epi64(hi, 32), yi);
    }
    total = ensi_avx2_reduce_once(_mm256_add_epi64(total, ensi_avx2_split_sum_montgomery(&s, r)),
                                  r->q);
  }
  return total;
}

AVX2 void ensi_base_convert_block_avx2(const ensi_base_converter *bc, uint64_t *out,
                                       const uint64_t *in, size_t n, size_t start, size_t len,
                                       uint64_t *y) {
  const size_t k = bc->from_count;
  int from_bits = 0; /* the y_i are below 2^from_bits, the factors (Q / q_i) mod p_j below p_j */
  for (size_t i = 0; i < k; i++)
    from_bits = bc->from[i].bits > from_bits ? bc->from[i].bits : from_bits;
  scale_inputs(bc, in, n, start, len, y);
  for (size_t j = 0; j < bc->to_count; j++) {
    const ensi_avx2_montgomery r = ensi_avx2_montgomery_make(bc->to[j].value);
    const int bits = bc->to[j].bits > from_bits ? bc->to[j].bits : from_bits;
    const size_t group = ensi_avx2_split_terms((unsigned)bits);
    for (size_t t = 0; t < len; t += LANES)
      _mm256_storeu_si256((__m256i *)(out + j * n + start + t),
                          convert_lanes(bc->qhat_mod_to_montgomery + j * k, y, k, t, group, &r));
  }
}
#endif
