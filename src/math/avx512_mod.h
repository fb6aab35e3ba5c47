/* Modular arithmetic on eight 64-bit lanes with AVX-512F + AVX-512DQ, for moduli below 2^62:
 * the helpers the vector kernels (NTT, base conversion) share. Include only from files compiled
 * for x86-64; every function carries the target attribute, so callers must too (AVX512), and
 * must run only where ensi_avx512_supported() holds. */
#ifndef ENSI_MATH_AVX512_MOD_H
#define ENSI_MATH_AVX512_MOD_H

#include <immintrin.h>
#include <stdbool.h>

#include "math/modarith.h"

#define AVX512 __attribute__((target("avx512f,avx512dq")))
#define AVX512_IFMA __attribute__((target("avx512f,avx512dq,avx512ifma")))

/* IFMA multiplies operands below 2^ENSI_IFMA_OPERAND_BITS; its lazy Shoup product
 * (ensi_avx512_mul_shoup_lazy52) needs moduli of at most ENSI_IFMA_MAX_BITS bits. */
enum { ENSI_IFMA_OPERAND_BITS = 52, ENSI_IFMA_MAX_BITS = 51 };

static inline bool ensi_avx512_supported(void) {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}

static inline bool ensi_avx512_ifma_supported(void) {
  return ensi_avx512_supported() && __builtin_cpu_supports("avx512ifma");
}

/* High 64 bits of a b in each lane, exact for all 64-bit a and b: there is no 64 x 64 -> 128-bit
 * vector multiply below IFMA's 52 bits, so it comes from four 32 x 32 -> 64-bit products
 * (vpmuludq). With 32-bit halves, t = a_hi b_lo + (a_lo b_lo >> 32) and u = a_lo b_hi + (t mod
 * 2^32) stay below 2^64 - 2^32, so neither sum carries out, and the high half is a_hi b_hi +
 * (t >> 32) + (u >> 32). */
AVX512 static inline __m512i ensi_avx512_mulhi(__m512i a, __m512i b) {
  const __m512i low32 = _mm512_set1_epi64(0xffffffff);
  const __m512i a_hi = _mm512_srli_epi64(a, 32), b_hi = _mm512_srli_epi64(b, 32);
  const __m512i ll = _mm512_mul_epu32(a, b), lh = _mm512_mul_epu32(a, b_hi);
  const __m512i hl = _mm512_mul_epu32(a_hi, b), hh = _mm512_mul_epu32(a_hi, b_hi);
  const __m512i t = _mm512_add_epi64(hl, _mm512_srli_epi64(ll, 32));
  const __m512i u = _mm512_add_epi64(lh, _mm512_and_si512(t, low32));
  return _mm512_add_epi64(_mm512_add_epi64(hh, _mm512_srli_epi64(t, 32)), _mm512_srli_epi64(u, 32));
}

/* a w mod q in [0, 2q) for any 64-bit a (Shoup without the final correction; ws = floor(w 2^64 /
 * q)); the two low halves (a w and hi q, modulo 2^64) are vpmullq. */
AVX512 static inline __m512i ensi_avx512_mul_shoup_lazy(__m512i a, __m512i w, __m512i ws,
                                                        __m512i q) {
  const __m512i hi = ensi_avx512_mulhi(a, ws);
  return _mm512_sub_epi64(_mm512_mullo_epi64(a, w), _mm512_mullo_epi64(hi, q));
}

/* y w mod q in [0, 2q) for y < 2^52 and q < 2^51, with IFMA's three 52-bit multiply-adds;
 * ws52 = floor(w 2^52 / q), which is the 64-bit Shoup constant shifted right by 12. The
 * quotient estimate is at most 2 below y w / q, so the remainder, below 2q < 2^52, is the
 * difference of the two low 52-bit products modulo 2^52. */
AVX512_IFMA static inline __m512i ensi_avx512_mul_shoup_lazy52(__m512i y, __m512i w, __m512i ws52,
                                                               __m512i q) {
  const __m512i zero = _mm512_setzero_si512(), low52 = _mm512_set1_epi64((1ll << 52) - 1);
  const __m512i quotient = _mm512_madd52hi_epu64(zero, y, ws52);
  const __m512i product = _mm512_madd52lo_epu64(zero, y, w);
  const __m512i multiple = _mm512_madd52lo_epu64(zero, quotient, q);
  return _mm512_and_si512(_mm512_sub_epi64(product, multiple), low52);
}

/* A lazy Shoup product y w mod q in [0, 2q) (ensi_avx512_mul_shoup_lazy or its IFMA form), for
 * kernels whose loops are written once for both: always inlined (ENSI_AVX512_INLINE) into a
 * function of each target, where the product is then a known function and inlined too. */
typedef __m512i ensi_avx512_shoup_product(__m512i y, __m512i w, __m512i ws, __m512i q);
#define ENSI_AVX512_INLINE __attribute__((always_inline)) inline

/* x[perm[t .. t + 8)] for a permutation that maps every aligned block of eight indices onto an
 * aligned block of eight (the NTT-domain Galois permutations, ckks/galois.h): one load of that
 * block and vpermq by the indices' positions within it. */
AVX512 static inline __m512i ensi_avx512_load_permuted(const uint64_t *x, const uint32_t *perm,
                                                       size_t t) {
  const __m512i within = _mm512_cvtepu32_epi64(
      _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(perm + t)), _mm256_set1_epi32(7)));
  return _mm512_permutexvar_epi64(within, _mm512_loadu_si512(x + (perm[t] & ~(uint32_t)7)));
}

/* x - m when x >= m, else x (unsigned): the wrapped difference is larger than x. */
AVX512 static inline __m512i ensi_avx512_reduce_once(__m512i x, __m512i m) {
  return _mm512_min_epu64(x, _mm512_sub_epi64(x, m));
}

/* The constants that reduce a sum held as two words, hi radix + lo, modulo q: high = radix mod q
 * (2^64, or IFMA's 2^52), with Shoup constants for it and for 1. */
typedef struct {
  __m512i q, two_q, high, high_shoup, one, one_shoup;
} ensi_avx512_reducer;

AVX512 static inline ensi_avx512_reducer ensi_avx512_reducer_make(const ensi_modulus *q,
                                                                 ensi_u128 radix) {
  const uint64_t high = ensi_reduce_u128(radix, q);
  const uint64_t high_shoup = ensi_shoup_precompute(high, q->value);
  const uint64_t one_shoup = ensi_shoup_precompute(1, q->value);
  const ensi_avx512_reducer r = {_mm512_set1_epi64((long long)q->value),
                                 _mm512_set1_epi64((long long)(2 * q->value)),
                                 _mm512_set1_epi64((long long)high),
                                 _mm512_set1_epi64((long long)high_shoup),
                                 _mm512_set1_epi64(1),
                                 _mm512_set1_epi64((long long)one_shoup)};
  return r;
}

/* hi radix + lo modulo q, in [0, q). */
AVX512 static inline __m512i ensi_avx512_reduce_high_low(__m512i hi, __m512i lo,
                                                        const ensi_avx512_reducer *r) {
  const __m512i from_hi = ensi_avx512_mul_shoup_lazy(hi, r->high, r->high_shoup, r->q);
  const __m512i from_lo = ensi_avx512_mul_shoup_lazy(lo, r->one, r->one_shoup, r->q);
  const __m512i sum = ensi_avx512_reduce_once(_mm512_add_epi64(from_hi, from_lo), r->two_q);
  return ensi_avx512_reduce_once(sum, r->q);
}

/* Two sums of products of operands below 2^52 by IFMA, sum w a and sum w b, each kept as the sums
 * of the products' low and high 52 bits: below 2^64 for up to ENSI_IFMA_MAX_TERMS terms, reduced
 * once at the end (r's high is 2^52 mod q). The inner product and the run sums share them. */
enum { ENSI_IFMA_MAX_TERMS = 4096 };
typedef struct {
  __m512i lo0, hi0, lo1, hi1;
} ensi_avx512_ifma_sums2;

AVX512_IFMA static ENSI_AVX512_INLINE void ensi_avx512_ifma_sums2_zero(ensi_avx512_ifma_sums2 *s) {
  s->lo0 = s->hi0 = s->lo1 = s->hi1 = _mm512_setzero_si512();
}

AVX512_IFMA static ENSI_AVX512_INLINE void ensi_avx512_ifma_sums2_add(ensi_avx512_ifma_sums2 *s,
                                                                     __m512i w, __m512i a,
                                                                     __m512i b) {
  s->lo0 = _mm512_madd52lo_epu64(s->lo0, w, a);
  s->hi0 = _mm512_madd52hi_epu64(s->hi0, w, a);
  s->lo1 = _mm512_madd52lo_epu64(s->lo1, w, b);
  s->hi1 = _mm512_madd52hi_epu64(s->hi1, w, b);
}

/* Both sums modulo q, in [0, q), stored at out0 and out1. */
AVX512_IFMA static ENSI_AVX512_INLINE void ensi_avx512_ifma_sums2_store(
    uint64_t *out0, uint64_t *out1, const ensi_avx512_ifma_sums2 *s,
    const ensi_avx512_reducer *r) {
  _mm512_storeu_si512(out0, ensi_avx512_reduce_high_low(s->hi0, s->lo0, r));
  _mm512_storeu_si512(out1, ensi_avx512_reduce_high_low(s->hi1, s->lo1, r));
}

#endif
