/* AVX-512 kernel of the run-constant sums of products (run_sums.h): per run, each term's constant
 * is broadcast once and its products are taken eight coefficients at a time; the sums stay in
 * the output, below 2q, until the run's last term. The lazy Shoup product takes four vpmuludq and
 * two vpmullq; for moduli below 2^51 with the NTT's IFMA kernel in use it takes three 52-bit
 * multiply-adds instead (Shoup's constant for 2^52 is the 64-bit one shifted right by 12). */
#include "math/run_sums.h"

#if defined(__x86_64__)
#include "math/avx512_mod.h"
#include "math/ntt.h"

/* One run of one term: acc (in out0 / out1) += y w, kept below 2q. */
#define RUN_TERM(MULTIPLY)                                                                        \
  for (size_t t = 0; t < run; t += 8) {                                                           \
    const __m512i r0 = MULTIPLY(_mm512_loadu_si512(a0 + t), w, ws, p);                            \
    const __m512i r1 = MULTIPLY(_mm512_loadu_si512(a1 + t), w, ws, p);                            \
    const __m512i s0 = _mm512_add_epi64(_mm512_loadu_si512(o0 + t), r0);                          \
    const __m512i s1 = _mm512_add_epi64(_mm512_loadu_si512(o1 + t), r1);                          \
    _mm512_storeu_si512(o0 + t, ensi_avx512_reduce_once(s0, two_p));                              \
    _mm512_storeu_si512(o1 + t, ensi_avx512_reduce_once(s1, two_p));                              \
  }

/* The sums over the range's length coefficients with the lazy product MULTIPLY, whose Shoup
 * constant is the 64-bit one shifted right by SHOUP_SHIFT. */
#define RUN_SUMS(MULTIPLY, SHOUP_SHIFT)                                                           \
  for (size_t start = 0; start < length; start += run) {                                         \
    uint64_t *o0 = out0 + start, *o1 = out1 + start;                                              \
    for (size_t t = 0; t < run; t += 8) {                                                         \
      _mm512_storeu_si512(o0 + t, _mm512_setzero_si512());                                        \
      _mm512_storeu_si512(o1 + t, _mm512_setzero_si512());                                        \
    }                                                                                             \
    for (size_t k = 0; k < count; k++) {                                                          \
      const __m512i w = _mm512_set1_epi64((long long)c[start / run * count + k]);                 \
      const __m512i ws =                                                                          \
          _mm512_set1_epi64((long long)(c_shoup[start / run * count + k] >> (SHOUP_SHIFT)));      \
      const uint64_t *a0 = y0[k] + start, *a1 = y1[k] + start;                                    \
      RUN_TERM(MULTIPLY)                                                                          \
    }                                                                                             \
    for (size_t t = 0; t < run; t += 8) {                                                         \
      _mm512_storeu_si512(o0 + t, ensi_avx512_reduce_once(_mm512_loadu_si512(o0 + t), p));        \
      _mm512_storeu_si512(o1 + t, ensi_avx512_reduce_once(_mm512_loadu_si512(o1 + t), p));        \
    }                                                                                             \
  }

AVX512_IFMA static void run_sums2_ifma(uint64_t *out0, uint64_t *out1, const uint64_t *c,
                                       const uint64_t *c_shoup, const uint64_t *const *y0,
                                       const uint64_t *const *y1, size_t count, size_t run,
                                       size_t length, const ensi_modulus *q) {
  const __m512i p = _mm512_set1_epi64((long long)q->value);
  const __m512i two_p = _mm512_set1_epi64((long long)(2 * q->value));
  RUN_SUMS(ensi_avx512_mul_shoup_lazy52, 12)
}

AVX512 static void run_sums2_f(uint64_t *out0, uint64_t *out1, const uint64_t *c,
                               const uint64_t *c_shoup, const uint64_t *const *y0,
                               const uint64_t *const *y1, size_t count, size_t run,
                               size_t length, const ensi_modulus *q) {
  const __m512i p = _mm512_set1_epi64((long long)q->value);
  const __m512i two_p = _mm512_set1_epi64((long long)(2 * q->value));
  RUN_SUMS(ensi_avx512_mul_shoup_lazy, 0)
}

void ensi_run_sums2_avx512(uint64_t *out0, uint64_t *out1, const uint64_t *c,
                           const uint64_t *c_shoup, const uint64_t *const *y0,
                           const uint64_t *const *y1, size_t count, size_t run,
                           size_t length, const ensi_modulus *q) {
  if (q->bits <= ENSI_IFMA_MAX_BITS && ensi_ntt_kernel_uses_ifma())
    run_sums2_ifma(out0, out1, c, c_shoup, y0, y1, count, run, length, q);
  else
    run_sums2_f(out0, out1, c, c_shoup, y0, y1, count, run, length, q);
}
#endif
