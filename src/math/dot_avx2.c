/* AVX2 kernel of two sums of products modulo q (dot.h), four coefficients at a time: the
 * products are taken in 32-bit halves and reduced once per 7 to 2^24 terms, as the modulus
 * allows (avx2_split_sum.h); the fully reduced result is the portable kernel's word.
 *
 * A permuted x is read without gathers: a Galois permutation sends each aligned block of four
 * coefficients onto one aligned block of four (dot.h), so one load and one in-register
 * permutation (vpermd, its control made once per block and shared by all terms) fetch the four
 * sources. On Zen 3 the gather took a third of this kernel's time. */
#include "math/dot.h"

#if defined(__x86_64__)
#include "math/avx2_split_sum.h"

AVX2 void ensi_dot2_mod_avx2(uint64_t *out0, uint64_t *out1, const uint64_t *const *x,
                             const uint64_t *const *y0, const uint64_t *const *y1, size_t count,
                             const uint32_t *perm, size_t n, const ensi_modulus *q) {
  const ensi_avx2_reducer r = ensi_avx2_reducer_make(q);
  const size_t group = ensi_avx2_split_terms((unsigned)q->bits);
  for (size_t t = 0; t < n; t += 4) {
    const size_t block = perm ? perm[t] & ~(size_t)3 : t;
    const __m256i within = perm ? ensi_avx2_block_permutation(perm + t) : _mm256_setzero_si256();
    __m256i total0 = _mm256_setzero_si256(), total1 = _mm256_setzero_si256();
    for (size_t first = 0; first < count; first += group) {
      const size_t last = count - first < group ? count : first + group;
      ensi_avx2_split_sum s0, s1;
      ensi_avx2_split_sum_zero(&s0);
      ensi_avx2_split_sum_zero(&s1);
      for (size_t j = first; j < last; j++) {
        const __m256i xj_block = _mm256_loadu_si256((const __m256i *)(x[j] + block));
        const __m256i xj = perm ? _mm256_permutevar8x32_epi32(xj_block, within) : xj_block;
        const __m256i xj_high = _mm256_srli_epi64(xj, 32);
        ensi_avx2_split_sum_add(&s0, xj, xj_high, _mm256_loadu_si256((const __m256i *)(y0[j] + t)));
        ensi_avx2_split_sum_add(&s1, xj, xj_high, _mm256_loadu_si256((const __m256i *)(y1[j] + t)));
      }
      total0 = ensi_avx2_reduce_once(
          _mm256_add_epi64(total0, ensi_avx2_split_sum_reduce(&s0, &r)), r.q);
      total1 = ensi_avx2_reduce_once(
          _mm256_add_epi64(total1, ensi_avx2_split_sum_reduce(&s1, &r)), r.q);
    }
    _mm256_storeu_si256((__m256i *)(out0 + t), total0);
    _mm256_storeu_si256((__m256i *)(out1 + t), total1);
  }
}
#endif
