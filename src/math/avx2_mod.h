/* Modular arithmetic on four 64-bit lanes with AVX2, for moduli below 2^61: the helpers the AVX2
 * kernels (NTT, base conversion, sums of products) share. Include only from files compiled for
 * x86-64; every function carries the target attribute, so callers must too (AVX2), and must run
 * only where ensi_avx2_supported() holds.
 *
 * AVX2 has neither a 64-bit low multiply nor an unsigned 64-bit comparison: the low half of a b
 * takes three 32 x 32 -> 64-bit products (vpmuludq), the high half four, and comparisons of
 * values below 2^63 use the signed one. */
#ifndef ENSI_MATH_AVX2_MOD_H
#define ENSI_MATH_AVX2_MOD_H

#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AVX2 __attribute__((target("avx2")))

static inline bool ensi_avx2_supported(void) { return __builtin_cpu_supports("avx2"); }

/* High 64 bits of a b in each lane, exact for all 64-bit a and b: with 32-bit halves,
 * t = a_hi b_lo + (a_lo b_lo >> 32) and u = a_lo b_hi + (t mod 2^32) stay below 2^64 - 2^32 (each
 * product is at most (2^32 - 1)^2), so neither sum can carry out, and the high half is
 * a_hi b_hi + (t >> 32) + (u >> 32). */
AVX2 static inline __m256i ensi_avx2_mulhi(__m256i a, __m256i b) {
  const __m256i low32 = _mm256_set1_epi64x(0xffffffff);
  const __m256i a_hi = _mm256_srli_epi64(a, 32), b_hi = _mm256_srli_epi64(b, 32);
  const __m256i ll = _mm256_mul_epu32(a, b), lh = _mm256_mul_epu32(a, b_hi);
  const __m256i hl = _mm256_mul_epu32(a_hi, b), hh = _mm256_mul_epu32(a_hi, b_hi);
  const __m256i t = _mm256_add_epi64(hl, _mm256_srli_epi64(ll, 32));
  const __m256i u = _mm256_add_epi64(lh, _mm256_and_si256(t, low32));
  return _mm256_add_epi64(_mm256_add_epi64(hh, _mm256_srli_epi64(t, 32)), _mm256_srli_epi64(u, 32));
}

/* Low 64 bits of a b in each lane. */
AVX2 static inline __m256i ensi_avx2_mullo(__m256i a, __m256i b) {
  const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(a, _mm256_srli_epi64(b, 32)),
                                         _mm256_mul_epu32(_mm256_srli_epi64(a, 32), b));
  return _mm256_add_epi64(_mm256_mul_epu32(a, b), _mm256_slli_epi64(cross, 32));
}

/* a w mod q in [0, 2q) for any 64-bit a (Shoup without the final correction; ws = floor(w 2^64 /
 * q)). */
AVX2 static inline __m256i ensi_avx2_mul_shoup_lazy(__m256i a, __m256i w, __m256i ws, __m256i q) {
  return _mm256_sub_epi64(ensi_avx2_mullo(a, w), ensi_avx2_mullo(ensi_avx2_mulhi(a, ws), q));
}

/* Permuted reads without gathers, for a permutation that sends every aligned block of four
 * indices onto one aligned block of four (the NTT-domain Galois permutations, ckks/galois.h):
 * x[perm[t + k]], k < 4, is word perm[t + k] mod 4 of the block at perm[t] - perm[t] mod 4. This
 * is the vpermd control that moves those words into lanes 0..3 (32-bit lanes 2 w, 2 w + 1). */
AVX2 static inline __m256i ensi_avx2_block_permutation(const uint32_t *perm) {
  const __m128i within = _mm_and_si128(_mm_loadu_si128((const __m128i *)perm), _mm_set1_epi32(3));
  const __m256i twice = _mm256_slli_epi64(_mm256_cvtepu32_epi64(within), 1);
  return _mm256_or_si256(_mm256_or_si256(twice, _mm256_slli_epi64(twice, 32)),
                         _mm256_set1_epi64x(1ll << 32));
}

/* x[perm[t .. t + 4)] for such a permutation. */
AVX2 static inline __m256i ensi_avx2_load_permuted(const uint64_t *x, const uint32_t *perm,
                                                   size_t t) {
  const __m256i block = _mm256_loadu_si256((const __m256i *)(x + (perm[t] & ~(uint32_t)3)));
  return _mm256_permutevar8x32_epi32(block, ensi_avx2_block_permutation(perm + t));
}

/* x - m when x >= m, else x (x, m below 2^63). */
AVX2 static inline __m256i ensi_avx2_reduce_once(__m256i x, __m256i m) {
  const __m256i below = _mm256_cmpgt_epi64(m, x);
  return _mm256_blendv_epi8(_mm256_sub_epi64(x, m), x, below);
}

#endif
