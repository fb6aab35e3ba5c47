/* AVX-512 block kernel of the fast base conversion (rns_internal.h): eight coefficients a lane
 * group. Instead of the portable kernel's 128-bit sums reduced once, each term y_i (Q / q_i) is
 * reduced lazily by Shoup's method with a precomputed constant (there is no 64 x 64 -> 128-bit
 * vector multiply), and the running sum is kept below 2 p_j; the result, fully reduced, is the
 * same word. With the NTT's IFMA kernel in use, an output prime below 2^51 from input primes below
 * 2^52 takes IFMA's 52-bit Shoup product (avx512_mod.h) instead. */
#include "math/rns_internal.h"

#if defined(__x86_64__)
#include "math/avx512_mod.h"
#include "math/ntt.h"

enum { LANES = 8, VECTORS = ENSI_CONVERT_BLOCK / LANES };

/* y_i = [x_i qhat_i^{-1}]_{q_i}, fully reduced (the conversion's error bound assumes it). */
AVX512 static void scale_inputs(const ensi_base_converter *bc, const uint64_t *in, size_t n,
                                size_t start, size_t len, uint64_t *y) {
  for (size_t i = 0; i < bc->from_count; i++) {
    const __m512i q = _mm512_set1_epi64((long long)bc->from[i].value);
    const __m512i w = _mm512_set1_epi64((long long)bc->qhat_inv[i]);
    const __m512i ws = _mm512_set1_epi64((long long)bc->qhat_inv_shoup[i]);
    for (size_t t = 0; t < len; t += LANES) {
      const __m512i x = _mm512_loadu_si512(in + i * n + start + t);
      const __m512i r = ensi_avx512_mul_shoup_lazy(x, w, ws, q);
      _mm512_storeu_si512(y + i * ENSI_CONVERT_BLOCK + t, ensi_avx512_reduce_once(r, q));
    }
  }
}

/* Output prime j: the sum over the inputs of y_i (Q / q_i mod p_j) with the lazy product mul,
 * whose Shoup constants are the converter's shifted right by shift. */
AVX512 static ENSI_AVX512_INLINE void convert_to(ensi_avx512_shoup_product *mul, unsigned shift,
                                                 const ensi_base_converter *bc, size_t j,
                                                 uint64_t *out, size_t n, size_t start, size_t len,
                                                 const uint64_t *y) {
  const size_t k = bc->from_count, vectors = len / LANES;
  const __m512i p = _mm512_set1_epi64((long long)bc->to[j].value);
  const __m512i two_p = _mm512_set1_epi64((long long)(2 * bc->to[j].value));
  __m512i acc[VECTORS];
  for (size_t v = 0; v < VECTORS; v++)
    acc[v] = _mm512_setzero_si512();
  for (size_t i = 0; i < k; i++) {
    const __m512i h = _mm512_set1_epi64((long long)bc->qhat_mod_to[j * k + i]);
    const __m512i hs = _mm512_set1_epi64((long long)(bc->qhat_mod_to_shoup[j * k + i] >> shift));
    for (size_t v = 0; v < vectors; v++) { /* acc in [0, 2p), each term in [0, 2p) */
      const __m512i yi = _mm512_loadu_si512(y + i * ENSI_CONVERT_BLOCK + v * LANES);
      acc[v] = ensi_avx512_reduce_once(_mm512_add_epi64(acc[v], mul(yi, h, hs, p)), two_p);
    }
  }
  for (size_t v = 0; v < vectors; v++)
    _mm512_storeu_si512(out + j * n + start + v * LANES, ensi_avx512_reduce_once(acc[v], p));
}

AVX512_IFMA static void convert_to_ifma(const ensi_base_converter *bc, size_t j, uint64_t *out,
                                        size_t n, size_t start, size_t len, const uint64_t *y) {
  convert_to(ensi_avx512_mul_shoup_lazy52, 12, bc, j, out, n, start, len, y);
}

AVX512 static void convert_to_f(const ensi_base_converter *bc, size_t j, uint64_t *out, size_t n,
                                size_t start, size_t len, const uint64_t *y) {
  convert_to(ensi_avx512_mul_shoup_lazy, 0, bc, j, out, n, start, len, y);
}

/* Whether the inputs y_i (below q_i) fit IFMA's 52 bits. */
static bool inputs_fit_ifma(const ensi_base_converter *bc) {
  for (size_t i = 0; i < bc->from_count; i++)
    if (bc->from[i].bits > ENSI_IFMA_OPERAND_BITS)
      return false;
  return ensi_ntt_kernel_uses_ifma();
}

AVX512 void ensi_base_convert_block_avx512(const ensi_base_converter *bc, uint64_t *out,
                                           const uint64_t *in, size_t n, size_t start, size_t len,
                                           uint64_t *y) {
  scale_inputs(bc, in, n, start, len, y);
  const bool ifma_inputs = inputs_fit_ifma(bc);
  for (size_t j = 0; j < bc->to_count; j++)
    if (ifma_inputs && bc->to[j].bits <= ENSI_IFMA_MAX_BITS)
      convert_to_ifma(bc, j, out, n, start, len, y);
    else
      convert_to_f(bc, j, out, n, start, len, y);
}
#endif
