/* AVX-512 kernel of two sums of products modulo q (dot.h), eight coefficients at a time.
 *
 * There is no 64 x 64 -> 128-bit vector multiply, so each product x y (x, y < 2^61) is taken in
 * 32-bit halves, x y = ll + (lh + hl) 2^32 + hh 2^64, and the halves are summed without carries in
 * four 64-bit accumulators: L (low 32 bits of ll), M1 (ll >> 32, plus lh: below 2^61 + 2^32 a
 * term), M2 (hl) and H (hh). With at most seven terms none overflows, so terms are taken seven at
 * a time: each group's sum becomes 128 bits, hi 2^64 + lo, is reduced as hi (2^64 mod q) + lo by
 * two lazy Shoup products, and joins the running total modulo q; the fully reduced result is the
 * portable kernel's word.
 *
 * For q below 2^52, with the NTT's IFMA kernel in use, IFMA's 52-bit multiply-adds give each
 * product's low and high 52 bits, x y = hi 2^52 + lo, summed in two 64-bit accumulators (below
 * 2^52 a term: up to 4096 terms) and reduced once at the end as hi (2^52 mod q) + lo. */
#include "math/dot.h"

#if defined(__x86_64__)
#include "math/avx512_mod.h"
#include "math/ntt.h"

enum { GROUP = 7 }; /* terms summed before a reduction */

typedef struct {
  __m512i low, mid1, mid2, high;
} split_sum;

AVX512 static inline void split_sum_zero(split_sum *s) {
  s->low = s->mid1 = s->mid2 = s->high = _mm512_setzero_si512();
}

/* s += x y, with x_high = x >> 32 given (it serves both sums). */
AVX512 static inline void split_sum_add(split_sum *s, __m512i x, __m512i x_high, __m512i y) {
  const __m512i low32 = _mm512_set1_epi64(0xffffffff);
  const __m512i y_high = _mm512_srli_epi64(y, 32);
  const __m512i ll = _mm512_mul_epu32(x, y), lh = _mm512_mul_epu32(x, y_high);
  const __m512i hl = _mm512_mul_epu32(x_high, y), hh = _mm512_mul_epu32(x_high, y_high);
  s->low = _mm512_add_epi64(s->low, _mm512_and_si512(ll, low32));
  s->mid1 = _mm512_add_epi64(s->mid1, _mm512_add_epi64(_mm512_srli_epi64(ll, 32), lh));
  s->mid2 = _mm512_add_epi64(s->mid2, hl);
  s->high = _mm512_add_epi64(s->high, hh);
}

/* The sum modulo q, in [0, q). */
AVX512 static inline __m512i split_sum_reduce(const split_sum *s,
                                              const ensi_avx512_reducer *r) {
  const __m512i one = _mm512_set1_epi64(1);
  const __m512i mid = _mm512_add_epi64(s->mid1, s->mid2); /* wraps at most once */
  const __mmask8 mid_carry = _mm512_cmplt_epu64_mask(mid, s->mid1);
  const __m512i mid_shifted = _mm512_slli_epi64(mid, 32);
  const __m512i lo = _mm512_add_epi64(s->low, mid_shifted);
  const __mmask8 lo_carry = _mm512_cmplt_epu64_mask(lo, mid_shifted);
  __m512i hi = _mm512_add_epi64(s->high, _mm512_srli_epi64(mid, 32));
  hi = _mm512_mask_add_epi64(hi, mid_carry, hi, _mm512_set1_epi64((long long)1 << 32));
  hi = _mm512_mask_add_epi64(hi, lo_carry, hi, one);
  return ensi_avx512_reduce_high_low(hi, lo, r);
}

/* q < 2^52, count <= ENSI_IFMA_MAX_TERMS; r's high is 2^52 mod q. */
AVX512_IFMA static void dot2_ifma(uint64_t *out0, uint64_t *out1, const uint64_t *const *x,
                                  const uint64_t *const *y0, const uint64_t *const *y1,
                                  size_t count, const uint32_t *perm, size_t n,
                                  const ensi_avx512_reducer *r) {
  for (size_t t = 0; t < n; t += 8) {
    ensi_avx512_ifma_sums2 sums;
    ensi_avx512_ifma_sums2_zero(&sums);
    for (size_t j = 0; j < count; j++) {
      const __m512i xj = perm ? ensi_avx512_load_permuted(x[j], perm, t)
                              : _mm512_loadu_si512(x[j] + t);
      ensi_avx512_ifma_sums2_add(&sums, xj, _mm512_loadu_si512(y0[j] + t),
                                 _mm512_loadu_si512(y1[j] + t));
    }
    ensi_avx512_ifma_sums2_store(out0 + t, out1 + t, &sums, r);
  }
}

AVX512 void ensi_dot2_mod_avx512(uint64_t *out0, uint64_t *out1, const uint64_t *const *x,
                                 const uint64_t *const *y0, const uint64_t *const *y1,
                                 size_t count, const uint32_t *perm, size_t n,
                                 const ensi_modulus *q) {
  if (q->bits <= ENSI_IFMA_OPERAND_BITS && count <= ENSI_IFMA_MAX_TERMS &&
      ensi_ntt_kernel_uses_ifma()) {
    const ensi_avx512_reducer r = ensi_avx512_reducer_make(q, (ensi_u128)1 << 52);
    dot2_ifma(out0, out1, x, y0, y1, count, perm, n, &r);
    return;
  }
  const ensi_avx512_reducer r = ensi_avx512_reducer_make(q, (ensi_u128)1 << 64);
  for (size_t t = 0; t < n; t += 8) {
    __m512i total0 = _mm512_setzero_si512(), total1 = _mm512_setzero_si512();
    for (size_t first = 0; first < count; first += GROUP) {
      const size_t last = count - first < GROUP ? count : first + GROUP;
      split_sum s0, s1;
      split_sum_zero(&s0);
      split_sum_zero(&s1);
      for (size_t j = first; j < last; j++) {
        const __m512i xj = perm ? ensi_avx512_load_permuted(x[j], perm, t)
                                : _mm512_loadu_si512(x[j] + t);
        const __m512i xj_high = _mm512_srli_epi64(xj, 32);
        split_sum_add(&s0, xj, xj_high, _mm512_loadu_si512(y0[j] + t));
        split_sum_add(&s1, xj, xj_high, _mm512_loadu_si512(y1[j] + t));
      }
      total0 = ensi_avx512_reduce_once(_mm512_add_epi64(total0, split_sum_reduce(&s0, &r)), r.q);
      total1 = ensi_avx512_reduce_once(_mm512_add_epi64(total1, split_sum_reduce(&s1, &r)), r.q);
    }
    _mm512_storeu_si512(out0 + t, total0);
    _mm512_storeu_si512(out1 + t, total1);
  }
}
#endif
