/* Sums of 64 x 64-bit products modulo q on four lanes with AVX2, reduced once per seven terms:
 * the sums of products of key switching (dot_avx2.c) and of the packed layout's diagonals
 * (run_sums_avx2.c) share them.
 *
 * AVX2 has no 64 x 64 -> 128-bit multiply, so each product x y (x, y < 2^61) is taken in 32-bit
 * halves, x y = ll + (lh + hl) 2^32 + hh 2^64, and the halves are summed without carries in four
 * 64-bit accumulators: low (low 32 bits of ll), mid1 (ll >> 32, plus lh: below 2^61 + 2^32 a
 * term), mid2 (hl) and high (hh). With at most seven terms none overflows (more with smaller
 * factors); the sum then becomes 128 bits, hi 2^64 + lo, and is reduced either as
 * hi (2^64 mod q) + lo by two lazy Shoup products (17 vpmuludq), or, where the caller's constant
 * factors carry an extra 2^64 mod q, by Montgomery's reduction, sum 2^-64 mod q (7 vpmuludq). */
#ifndef ENSI_MATH_AVX2_SPLIT_SUM_H
#define ENSI_MATH_AVX2_SPLIT_SUM_H

#include "math/avx2_mod.h"
#include "math/modarith.h"

/* Terms summed before a reduction when both factors are below 2^bits (bits <= 61): each term adds
 * below 2^32 + 2^bits to mid1, the largest accumulator, so 7 terms at 61 bits, 15 at 60, about
 * 2^24 at 40. */
static inline size_t ensi_avx2_split_terms(unsigned bits) {
  return (size_t)(UINT64_MAX / (((uint64_t)1 << 32) + ((uint64_t)1 << bits)));
}

typedef struct {
  __m256i low, mid1, mid2, high;
} ensi_avx2_split_sum;

/* Constants of the reduction modulo q by Shoup products. */
typedef struct {
  __m256i q, two_q, r64, r64_shoup, one_shoup;
} ensi_avx2_reducer;

/* Constants of Montgomery's reduction modulo q (q_neg_inv = -q^-1 mod 2^64): no divisions to
 * make them, so kernels may make them per block. */
typedef struct {
  __m256i q, q_neg_inv;
} ensi_avx2_montgomery;

/* -q^-1 mod 2^64 for odd q, by Newton's iteration (each step doubles the correct low bits). */
static inline uint64_t ensi_neg_inverse_mod_2_64(uint64_t q) {
  uint64_t inverse = q; /* correct to 3 bits: q q = 1 mod 8 */
  for (int k = 0; k < 5; k++)
    inverse *= 2 - q * inverse;
  return 0 - inverse;
}

AVX2 static inline ensi_avx2_reducer ensi_avx2_reducer_make(const ensi_modulus *q) {
  const uint64_t r64 = ensi_reduce_u128((ensi_u128)1 << 64, q);
  const ensi_avx2_reducer r = {_mm256_set1_epi64x((long long)q->value),
                               _mm256_set1_epi64x((long long)(2 * q->value)),
                               _mm256_set1_epi64x((long long)r64),
                               _mm256_set1_epi64x((long long)ensi_shoup_precompute(r64, q->value)),
                               _mm256_set1_epi64x((long long)ensi_shoup_precompute(1, q->value))};
  return r;
}

AVX2 static inline ensi_avx2_montgomery ensi_avx2_montgomery_make(uint64_t q) {
  const ensi_avx2_montgomery m = {_mm256_set1_epi64x((long long)q),
                                  _mm256_set1_epi64x((long long)ensi_neg_inverse_mod_2_64(q))};
  return m;
}

AVX2 static inline void ensi_avx2_split_sum_zero(ensi_avx2_split_sum *s) {
  s->low = s->mid1 = s->mid2 = s->high = _mm256_setzero_si256();
}

/* s += x y, with x_high = x >> 32 given (callers reuse it over several y). */
AVX2 static inline void ensi_avx2_split_sum_add(ensi_avx2_split_sum *s, __m256i x, __m256i x_high,
                                                __m256i y) {
  const __m256i low32 = _mm256_set1_epi64x(0xffffffff);
  const __m256i y_high = _mm256_srli_epi64(y, 32);
  const __m256i ll = _mm256_mul_epu32(x, y), lh = _mm256_mul_epu32(x, y_high);
  const __m256i hl = _mm256_mul_epu32(x_high, y), hh = _mm256_mul_epu32(x_high, y_high);
  s->low = _mm256_add_epi64(s->low, _mm256_and_si256(ll, low32));
  s->mid1 = _mm256_add_epi64(s->mid1, _mm256_add_epi64(_mm256_srli_epi64(ll, 32), lh));
  s->mid2 = _mm256_add_epi64(s->mid2, hl);
  s->high = _mm256_add_epi64(s->high, hh);
}

/* All ones in the lanes where a < b as unsigned 64-bit numbers. */
AVX2 static inline __m256i ensi_avx2_less_u64(__m256i a, __m256i b) {
  const __m256i sign = _mm256_set1_epi64x((long long)(1ull << 63));
  return _mm256_cmpgt_epi64(_mm256_xor_si256(b, sign), _mm256_xor_si256(a, sign));
}

/* The sum as 128 bits, hi 2^64 + lo. */
AVX2 static inline void ensi_avx2_split_sum_combine(const ensi_avx2_split_sum *s, __m256i *hi,
                                                    __m256i *lo) {
  const __m256i mid = _mm256_add_epi64(s->mid1, s->mid2); /* wraps at most once */
  const __m256i mid_carry = ensi_avx2_less_u64(mid, s->mid1);
  const __m256i mid_shifted = _mm256_slli_epi64(mid, 32);
  *lo = _mm256_add_epi64(s->low, mid_shifted);
  const __m256i lo_carry = ensi_avx2_less_u64(*lo, mid_shifted); /* all ones: subtract -1 */
  __m256i h = _mm256_add_epi64(s->high, _mm256_srli_epi64(mid, 32));
  h = _mm256_add_epi64(h, _mm256_and_si256(mid_carry, _mm256_set1_epi64x(1ll << 32)));
  *hi = _mm256_sub_epi64(h, lo_carry);
}

/* The sum modulo q, in [0, q). */
AVX2 static inline __m256i ensi_avx2_split_sum_reduce(const ensi_avx2_split_sum *s,
                                                      const ensi_avx2_reducer *r) {
  __m256i hi, lo;
  ensi_avx2_split_sum_combine(s, &hi, &lo);
  const __m256i from_hi = ensi_avx2_mul_shoup_lazy(hi, r->r64, r->r64_shoup, r->q);
  const __m256i from_lo = /* lo 1 mod q, lazily: lo - floor(lo one_shoup / 2^64) q */
      _mm256_sub_epi64(lo, ensi_avx2_mullo(ensi_avx2_mulhi(lo, r->one_shoup), r->q));
  const __m256i sum = ensi_avx2_reduce_once(_mm256_add_epi64(from_hi, from_lo), r->two_q);
  return ensi_avx2_reduce_once(sum, r->q);
}

/* The sum times 2^-64 modulo q, in [0, q), for a sum below q 2^64 (Montgomery's reduction): with
 * m = lo (-q^-1) mod 2^64, sum + m q is a multiple of 2^64 whose low word carries exactly when
 * lo != 0, and (sum + m q) / 2^64 = hi + mulhi(m, q) + [lo != 0] < 2q. */
AVX2 static inline __m256i ensi_avx2_split_sum_montgomery(const ensi_avx2_split_sum *s,
                                                          const ensi_avx2_montgomery *r) {
  __m256i hi, lo;
  ensi_avx2_split_sum_combine(s, &hi, &lo);
  const __m256i m = ensi_avx2_mullo(lo, r->q_neg_inv);
  const __m256i lo_zero = _mm256_cmpeq_epi64(lo, _mm256_setzero_si256()); /* all ones: no carry */
  const __m256i carry = _mm256_add_epi64(lo_zero, _mm256_set1_epi64x(1));
  const __m256i t = _mm256_add_epi64(_mm256_add_epi64(hi, ensi_avx2_mulhi(m, r->q)), carry);
  return ensi_avx2_reduce_once(t, r->q);
}

#endif
