/* AVX-512 NTT kernel (AVX-512F + AVX-512DQ): the portable kernel's lazy butterflies eight at a
 * time, for primes up to 61 bits (values stay below 4q < 2^64 as in the portable kernel).
 *
 * There is no 64 x 64 -> 128-bit vector multiply below IFMA's 52 bits, so the high half of the
 * Shoup quotient a * w' comes from four 32 x 32 -> 64-bit products (vpmuludq); the two low halves
 * (a w and hi q, modulo 2^64) are vpmullq. Stages with gap >= 8 take the two halves of a group
 * straight from memory; the last three stages (gap 4, 2, 1) load 16 words, gather the x and y
 * halves into two vectors with vpermt2q, and scatter them back the same way. Results are the
 * portable kernel's, word for word. */
#include "math/ntt_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512dq")))

/* High 64 bits of a b in each lane. */
AVX512 static inline __m512i mulhi_u64(__m512i a, __m512i b) {
  const __m512i low32 = _mm512_set1_epi64(0xffffffff);
  const __m512i a_hi = _mm512_srli_epi64(a, 32), b_hi = _mm512_srli_epi64(b, 32);
  const __m512i ll = _mm512_mul_epu32(a, b), lh = _mm512_mul_epu32(a, b_hi);
  const __m512i hl = _mm512_mul_epu32(a_hi, b), hh = _mm512_mul_epu32(a_hi, b_hi);
  __m512i mid = _mm512_add_epi64(_mm512_srli_epi64(ll, 32), _mm512_and_si512(lh, low32));
  mid = _mm512_add_epi64(mid, _mm512_and_si512(hl, low32)); /* < 3 * 2^32 */
  __m512i hi = _mm512_add_epi64(hh, _mm512_srli_epi64(lh, 32));
  hi = _mm512_add_epi64(hi, _mm512_srli_epi64(hl, 32));
  return _mm512_add_epi64(hi, _mm512_srli_epi64(mid, 32));
}

/* a w mod q in [0, 2q) (Shoup without the final correction), per lane. */
AVX512 static inline __m512i mul_shoup_lazy(__m512i a, __m512i w, __m512i ws, __m512i q) {
  const __m512i hi = mulhi_u64(a, ws);
  return _mm512_sub_epi64(_mm512_mullo_epi64(a, w), _mm512_mullo_epi64(hi, q));
}

/* x - m when x >= m, else x (unsigned): the wrapped difference is larger than x. */
AVX512 static inline __m512i reduce_once(__m512i x, __m512i m) {
  return _mm512_min_epu64(x, _mm512_sub_epi64(x, m));
}

/* Forward (Cooley-Tukey) butterfly: x, y in [0, 4q) -> [0, 4q). */
AVX512 static inline void forward_butterfly(__m512i *x, __m512i *y, __m512i w, __m512i ws,
                                            __m512i q, __m512i two_q) {
  const __m512i u = reduce_once(*x, two_q), v = mul_shoup_lazy(*y, w, ws, q);
  *x = _mm512_add_epi64(u, v);
  *y = _mm512_sub_epi64(_mm512_add_epi64(u, two_q), v);
}

/* Inverse (Gentleman-Sande) butterfly: x, y in [0, 2q) -> [0, 2q). */
AVX512 static inline void inverse_butterfly(__m512i *x, __m512i *y, __m512i w, __m512i ws,
                                            __m512i q, __m512i two_q) {
  const __m512i u = *x, v = *y;
  *x = reduce_once(_mm512_add_epi64(u, v), two_q);
  *y = mul_shoup_lazy(_mm512_sub_epi64(_mm512_add_epi64(u, two_q), v), w, ws, q);
}

/* Permutations for a stage with gap g < 8 over a chunk of 16 words (A = words 0-7, B = 8-15,
 * 8 / g groups of 2g words): gather lane l of X / Y from word grp 2g + l % g (+ g for Y), grp =
 * l / g; twiddle lane l is the chunk's group l / g; scatter word k back from lane grp g + r % g
 * of X (r = k % 2g < g) or Y (else), grp = k / 2g. Indices >= 8 select the second operand. */
typedef struct {
  __m512i gather_x, gather_y, twiddle, scatter_a, scatter_b;
} small_gap;

AVX512 static small_gap small_gap_make(size_t g) {
  long long gx[8], gy[8], tw[8], sa[8], sb[8];
  for (size_t l = 0; l < 8; l++) {
    const size_t grp = l / g;
    gx[l] = (long long)(grp * 2 * g + l % g);
    gy[l] = gx[l] + (long long)g;
    tw[l] = (long long)grp;
  }
  for (size_t k = 0; k < 16; k++) {
    const size_t grp = k / (2 * g), r = k % (2 * g);
    const long long lane = (long long)(grp * g + r % g) + (r < g ? 0 : 8);
    if (k < 8)
      sa[k] = lane;
    else
      sb[k - 8] = lane;
  }
  small_gap p = {_mm512_loadu_si512(gx), _mm512_loadu_si512(gy), _mm512_loadu_si512(tw),
                 _mm512_loadu_si512(sa), _mm512_loadu_si512(sb)};
  return p;
}

AVX512 static void groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap, size_t first,
                          size_t last, bool forward) {
  const __m512i q = _mm512_set1_epi64((long long)t->q.value);
  const __m512i two_q = _mm512_set1_epi64((long long)(2 * t->q.value));
  const uint64_t *roots = forward ? t->roots : t->inv_roots;
  const uint64_t *roots_shoup = forward ? t->roots_shoup : t->inv_roots_shoup;
  if (gap >= 8) {
    for (size_t i = first; i < last; i++) {
      const __m512i w = _mm512_set1_epi64((long long)roots[m + i]);
      const __m512i ws = _mm512_set1_epi64((long long)roots_shoup[m + i]);
      uint64_t *xs = a + 2 * i * gap, *ys = xs + gap;
      for (size_t j = 0; j < gap; j += 8) {
        __m512i x = _mm512_loadu_si512(xs + j), y = _mm512_loadu_si512(ys + j);
        if (forward)
          forward_butterfly(&x, &y, w, ws, q, two_q);
        else
          inverse_butterfly(&x, &y, w, ws, q, two_q);
        _mm512_storeu_si512(xs + j, x);
        _mm512_storeu_si512(ys + j, y);
      }
    }
    return;
  }
  const small_gap p = small_gap_make(gap);
  const size_t per_chunk = 8 / gap;                       /* groups in 16 words */
  const __mmask8 used = (__mmask8)((1u << per_chunk) - 1); /* twiddles read per chunk */
  for (size_t i = first; i < last; i += per_chunk) {
    uint64_t *chunk = a + 2 * i * gap;
    const __m512i lo = _mm512_loadu_si512(chunk), hi = _mm512_loadu_si512(chunk + 8);
    __m512i x = _mm512_permutex2var_epi64(lo, p.gather_x, hi);
    __m512i y = _mm512_permutex2var_epi64(lo, p.gather_y, hi);
    const __m512i w = _mm512_permutexvar_epi64(p.twiddle, _mm512_maskz_loadu_epi64(used, roots + m + i));
    const __m512i ws =
        _mm512_permutexvar_epi64(p.twiddle, _mm512_maskz_loadu_epi64(used, roots_shoup + m + i));
    if (forward)
      forward_butterfly(&x, &y, w, ws, q, two_q);
    else
      inverse_butterfly(&x, &y, w, ws, q, two_q);
    _mm512_storeu_si512(chunk, _mm512_permutex2var_epi64(x, p.scatter_a, y));
    _mm512_storeu_si512(chunk + 8, _mm512_permutex2var_epi64(x, p.scatter_b, y));
  }
}

AVX512 static void forward_groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                                  size_t first, size_t last) {
  groups(t, a, m, gap, first, last, true);
}

AVX512 static void inverse_groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                                  size_t first, size_t last) {
  groups(t, a, m, gap, first, last, false);
}

AVX512 static void scale(const ensi_ntt_table *t, uint64_t *a, size_t count) {
  const __m512i q = _mm512_set1_epi64((long long)t->q.value);
  const __m512i w = _mm512_set1_epi64((long long)t->n_inv);
  const __m512i ws = _mm512_set1_epi64((long long)t->n_inv_shoup);
  for (size_t j = 0; j < count; j += 8) {
    const __m512i r = mul_shoup_lazy(_mm512_loadu_si512(a + j), w, ws, q);
    _mm512_storeu_si512(a + j, reduce_once(r, q));
  }
}

static bool supported(void) {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}

const ensi_ntt_kernel ensi_ntt_kernel_avx512 = {"avx512", supported, forward_groups,
                                                inverse_groups, scale, NULL, NULL};
#else
static bool supported(void) { return false; }
const ensi_ntt_kernel ensi_ntt_kernel_avx512 = {"avx512", supported, NULL, NULL, NULL, NULL, NULL};
#endif
