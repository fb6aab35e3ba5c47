/* AVX2 kernel of the run-constant sums of products (run_sums.h). Each term's constant is
 * broadcast and its products are taken in 32-bit halves (avx2_split_sum.h), reduced once per 15
 * terms for a 60-bit modulus, once per 2^24 for a 40-bit one, eight coefficients (one cache line
 * of every term) at a time; the two sums run one after the other, so that their accumulators stay
 * in registers. */
#include "math/run_sums.h"

#if defined(__x86_64__)
#include "math/avx2_split_sum.h"

/* out[t .. t + 8) = sum_k c[k] y[k][t ..] mod q. */
AVX2 static inline void sum_eight(uint64_t *out, const uint64_t *c, const uint64_t *const *y,
                                  size_t count, size_t t, size_t group,
                                  const ensi_avx2_reducer *r) {
  __m256i total_a = _mm256_setzero_si256(), total_b = _mm256_setzero_si256();
  for (size_t first = 0; first < count; first += group) {
    const size_t last = count - first < group ? count : first + group;
    ensi_avx2_split_sum a, b;
    ensi_avx2_split_sum_zero(&a);
    ensi_avx2_split_sum_zero(&b);
    for (size_t k = first; k < last; k++) {
      const __m256i w = _mm256_set1_epi64x((long long)c[k]);
      const __m256i w_high = _mm256_srli_epi64(w, 32);
      ensi_avx2_split_sum_add(&a, w, w_high, _mm256_loadu_si256((const __m256i *)(y[k] + t)));
      ensi_avx2_split_sum_add(&b, w, w_high, _mm256_loadu_si256((const __m256i *)(y[k] + t + 4)));
    }
    total_a = ensi_avx2_reduce_once(_mm256_add_epi64(total_a, ensi_avx2_split_sum_reduce(&a, r)),
                                    r->q);
    total_b = ensi_avx2_reduce_once(_mm256_add_epi64(total_b, ensi_avx2_split_sum_reduce(&b, r)),
                                    r->q);
  }
  _mm256_storeu_si256((__m256i *)(out + t), total_a);
  _mm256_storeu_si256((__m256i *)(out + t + 4), total_b);
}

AVX2 void ensi_run_sums2_avx2(uint64_t *out0, uint64_t *out1, const uint64_t *c,
                              const uint64_t *c_shoup, const uint64_t *const *y0,
                              const uint64_t *const *y1, size_t count, size_t run,
                              size_t length, const ensi_modulus *q) {
  (void)c_shoup; /* the split sums need no Shoup constants */
  const ensi_avx2_reducer r = ensi_avx2_reducer_make(q);
  const size_t group = ensi_avx2_split_terms((unsigned)q->bits);
  for (size_t start = 0; start < length; start += run) {
    const uint64_t *c_run = c + start / run * count;
    for (size_t t = start; t < start + run; t += 8)
      sum_eight(out0, c_run, y0, count, t, group, &r);
    for (size_t t = start; t < start + run; t += 8)
      sum_eight(out1, c_run, y1, count, t, group, &r);
  }
}
#endif
