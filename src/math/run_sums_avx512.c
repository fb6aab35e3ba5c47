/* AVX-512 kernel of the run-constant sums of products (run_sums.h): per run, each term's constant
 * is broadcast once and its products are taken eight coefficients at a time; the sums stay in
 * the output, below 2q, until the run's last term. The lazy Shoup product takes four vpmuludq and
 * two vpmullq. For moduli below 2^52 with the NTT's IFMA kernel in use, the sums are taken as the
 * IFMA inner product's (dot_avx512.c): the low and high 52 bits of every product summed in
 * registers over all terms and reduced once, four multiply-adds for two products. */
#include "math/run_sums.h"

#if defined(__x86_64__)
#include "math/avx512_mod.h"
#include "math/ntt.h"

/* q below 2^52 (constants and inputs too), count <= ENSI_IFMA_MAX_TERMS: eight coefficients at
 * a time, the products summed by IFMA over all terms and reduced once (r's high is 2^52 mod q). */
AVX512_IFMA static void run_sums2_ifma(uint64_t *out0, uint64_t *out1, const uint64_t *c,
                                       const uint64_t *const *y0, const uint64_t *const *y1,
                                       size_t count, size_t run, size_t length,
                                       const ensi_avx512_reducer *r) {
  for (size_t start = 0; start < length; start += run) {
    const uint64_t *constants = c + start / run * count;
    for (size_t t = start; t < start + run; t += 8) {
      ensi_avx512_ifma_sums2 sums;
      ensi_avx512_ifma_sums2_zero(&sums);
      for (size_t k = 0; k < count; k++)
        ensi_avx512_ifma_sums2_add(&sums, _mm512_set1_epi64((long long)constants[k]),
                                   _mm512_loadu_si512(y0[k] + t), _mm512_loadu_si512(y1[k] + t));
      ensi_avx512_ifma_sums2_store(out0 + t, out1 + t, &sums, r);
    }
  }
}

/* Any q: per run, each term's products added into the output, kept below 2q. */
AVX512 static void run_sums2_f(uint64_t *out0, uint64_t *out1, const uint64_t *c,
                               const uint64_t *c_shoup, const uint64_t *const *y0,
                               const uint64_t *const *y1, size_t count, size_t run,
                               size_t length, const ensi_modulus *q) {
  const __m512i p = _mm512_set1_epi64((long long)q->value);
  const __m512i two_p = _mm512_set1_epi64((long long)(2 * q->value));
  for (size_t start = 0; start < length; start += run) {
    uint64_t *o0 = out0 + start, *o1 = out1 + start;
    for (size_t t = 0; t < run; t += 8) {
      _mm512_storeu_si512(o0 + t, _mm512_setzero_si512());
      _mm512_storeu_si512(o1 + t, _mm512_setzero_si512());
    }
    for (size_t k = 0; k < count; k++) {
      const __m512i w = _mm512_set1_epi64((long long)c[start / run * count + k]);
      const __m512i ws = _mm512_set1_epi64((long long)c_shoup[start / run * count + k]);
      const uint64_t *a0 = y0[k] + start, *a1 = y1[k] + start;
      for (size_t t = 0; t < run; t += 8) {
        const __m512i r0 = ensi_avx512_mul_shoup_lazy(_mm512_loadu_si512(a0 + t), w, ws, p);
        const __m512i r1 = ensi_avx512_mul_shoup_lazy(_mm512_loadu_si512(a1 + t), w, ws, p);
        const __m512i s0 = _mm512_add_epi64(_mm512_loadu_si512(o0 + t), r0);
        const __m512i s1 = _mm512_add_epi64(_mm512_loadu_si512(o1 + t), r1);
        _mm512_storeu_si512(o0 + t, ensi_avx512_reduce_once(s0, two_p));
        _mm512_storeu_si512(o1 + t, ensi_avx512_reduce_once(s1, two_p));
      }
    }
    for (size_t t = 0; t < run; t += 8) {
      _mm512_storeu_si512(o0 + t, ensi_avx512_reduce_once(_mm512_loadu_si512(o0 + t), p));
      _mm512_storeu_si512(o1 + t, ensi_avx512_reduce_once(_mm512_loadu_si512(o1 + t), p));
    }
  }
}

void ensi_run_sums2_avx512(uint64_t *out0, uint64_t *out1, const uint64_t *c,
                           const uint64_t *c_shoup, const uint64_t *const *y0,
                           const uint64_t *const *y1, size_t count, size_t run,
                           size_t length, const ensi_modulus *q) {
  if (q->bits <= ENSI_IFMA_OPERAND_BITS && count <= ENSI_IFMA_MAX_TERMS &&
      ensi_ntt_kernel_uses_ifma()) {
    const ensi_avx512_reducer r = ensi_avx512_reducer_make(q, (ensi_u128)1 << 52);
    run_sums2_ifma(out0, out1, c, y0, y1, count, run, length, &r);
  } else {
    run_sums2_f(out0, out1, c, c_shoup, y0, y1, count, run, length, q);
  }
}
#endif
