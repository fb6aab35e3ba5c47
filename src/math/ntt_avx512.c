/* AVX-512 NTT kernels: the portable kernel's lazy butterflies eight at a time (values stay below
 * 4q as in the portable kernel). Two kernels share the loops and differ in the lazy Shoup
 * product (math/avx512_mod.h):
 *  - "avx512" (AVX-512F + DQ), for primes up to 61 bits: four vpmuludq for the quotient, two
 *    vpmullq for the low products;
 *  - "avx512ifma" (adds IFMA), for primes below 2^51: three 52-bit multiply-adds, with Shoup's
 *    constant for 2^52 taken as the 64-bit one shifted right by 12. The multiplicand must be
 *    below 2^52: lazy values (below 4q) are, for primes below 2^50; for primes of 51 bits it is
 *    first reduced below 2q. Larger primes run the "avx512" butterflies.
 * Stages with gap >= 8 take the two halves of a group straight from memory; the last three stages
 * (gap 4, 2, 1) load 16 words, gather the x and y halves into two vectors with vpermt2q, and
 * scatter them back the same way. Results are the portable kernel's, word for word. */
#include "math/ntt_internal.h"

#if defined(__x86_64__)
#include "math/avx512_mod.h"

/* Forward (Cooley-Tukey) butterfly: x, y in [0, 4q) -> [0, 4q). */
AVX512 static ENSI_AVX512_INLINE void forward_butterfly(ensi_avx512_shoup_product *mul, __m512i *x,
                                                        __m512i *y, __m512i w, __m512i ws,
                                                        __m512i q, __m512i two_q) {
  const __m512i u = ensi_avx512_reduce_once(*x, two_q);
  const __m512i v = mul(*y, w, ws, q);
  *x = _mm512_add_epi64(u, v);
  *y = _mm512_sub_epi64(_mm512_add_epi64(u, two_q), v);
}

/* Inverse (Gentleman-Sande) butterfly: x, y in [0, 2q) -> [0, 2q). */
AVX512 static ENSI_AVX512_INLINE void inverse_butterfly(ensi_avx512_shoup_product *mul, __m512i *x,
                                                        __m512i *y, __m512i w, __m512i ws,
                                                        __m512i q, __m512i two_q) {
  const __m512i u = *x, v = *y;
  *x = ensi_avx512_reduce_once(_mm512_add_epi64(u, v), two_q);
  *y = mul(_mm512_sub_epi64(_mm512_add_epi64(u, two_q), v), w, ws, q);
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

/* The butterflies of stage m over groups [first, last) with the product mul, whose Shoup
 * constants are the table's shifted right by shift. Inlined into each kernel, so that mul is a
 * known function there and is inlined too. */
AVX512 static ENSI_AVX512_INLINE void groups(ensi_avx512_shoup_product *mul, unsigned shift,
                                             const ensi_ntt_table *t, uint64_t *a, size_t m,
                                             size_t gap, size_t first, size_t last, bool forward) {
  const __m512i q = _mm512_set1_epi64((long long)t->q.value);
  const __m512i two_q = _mm512_set1_epi64((long long)(2 * t->q.value));
  const uint64_t *roots = forward ? t->roots : t->inv_roots;
  const uint64_t *roots_shoup = forward ? t->roots_shoup : t->inv_roots_shoup;
  if (gap >= 8) {
    for (size_t i = first; i < last; i++) {
      const __m512i w = _mm512_set1_epi64((long long)roots[m + i]);
      const __m512i ws = _mm512_set1_epi64((long long)(roots_shoup[m + i] >> shift));
      uint64_t *xs = a + 2 * i * gap, *ys = xs + gap;
      for (size_t j = 0; j < gap; j += 8) {
        __m512i x = _mm512_loadu_si512(xs + j), y = _mm512_loadu_si512(ys + j);
        if (forward)
          forward_butterfly(mul, &x, &y, w, ws, q, two_q);
        else
          inverse_butterfly(mul, &x, &y, w, ws, q, two_q);
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
    const __m512i w =
        _mm512_permutexvar_epi64(p.twiddle, _mm512_maskz_loadu_epi64(used, roots + m + i));
    const __m512i ws = _mm512_srli_epi64(
        _mm512_permutexvar_epi64(p.twiddle, _mm512_maskz_loadu_epi64(used, roots_shoup + m + i)),
        shift);
    if (forward)
      forward_butterfly(mul, &x, &y, w, ws, q, two_q);
    else
      inverse_butterfly(mul, &x, &y, w, ws, q, two_q);
    _mm512_storeu_si512(chunk, _mm512_permutex2var_epi64(x, p.scatter_a, y));
    _mm512_storeu_si512(chunk + 8, _mm512_permutex2var_epi64(x, p.scatter_b, y));
  }
}

/* a[0 .. count) = a n^-1 mod q, fully reduced. */
AVX512 static ENSI_AVX512_INLINE void scale_with(ensi_avx512_shoup_product *mul, unsigned shift,
                                                 const ensi_ntt_table *t, uint64_t *a,
                                                 size_t count) {
  const __m512i q = _mm512_set1_epi64((long long)t->q.value);
  const __m512i w = _mm512_set1_epi64((long long)t->n_inv);
  const __m512i ws = _mm512_set1_epi64((long long)(t->n_inv_shoup >> shift));
  for (size_t j = 0; j < count; j += 8) {
    const __m512i r = mul(_mm512_loadu_si512(a + j), w, ws, q);
    _mm512_storeu_si512(a + j, ensi_avx512_reduce_once(r, q));
  }
}

/* a[0 .. count) from [0, 4q) to [0, q). */
AVX512 static void reduce(const ensi_ntt_table *t, uint64_t *a, size_t count) {
  const __m512i q = _mm512_set1_epi64((long long)t->q.value);
  const __m512i two_q = _mm512_set1_epi64((long long)(2 * t->q.value));
  for (size_t j = 0; j < count; j += 8) {
    const __m512i x = ensi_avx512_reduce_once(_mm512_loadu_si512(a + j), two_q);
    _mm512_storeu_si512(a + j, ensi_avx512_reduce_once(x, q));
  }
}

/* The "avx512" kernel. */

AVX512 static void forward_groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                                  size_t first, size_t last) {
  groups(ensi_avx512_mul_shoup_lazy, 0, t, a, m, gap, first, last, true);
}

AVX512 static void inverse_groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                                  size_t first, size_t last) {
  groups(ensi_avx512_mul_shoup_lazy, 0, t, a, m, gap, first, last, false);
}

AVX512 static void scale(const ensi_ntt_table *t, uint64_t *a, size_t count) {
  scale_with(ensi_avx512_mul_shoup_lazy, 0, t, a, count);
}

static bool supported(void) { return ensi_avx512_supported(); }

const ensi_ntt_kernel ensi_ntt_kernel_avx512 = {
    "avx512", supported, forward_groups, inverse_groups, scale, reduce, NULL, NULL};

/* The "avx512ifma" kernel: 52-bit products where the prime allows them. */

/* The 52-bit product of a lazy value y < 4q for a 51-bit q: y reduced below 2q < 2^52 first. */
AVX512_IFMA static ENSI_AVX512_INLINE __m512i mul_shoup_lazy52_of_4q(__m512i y, __m512i w,
                                                                     __m512i ws52, __m512i q) {
  const __m512i below_2q = ensi_avx512_reduce_once(y, _mm512_add_epi64(q, q));
  return ensi_avx512_mul_shoup_lazy52(below_2q, w, ws52, q);
}

/* The butterflies with the product the prime allows: IFMA's below 2^50, IFMA's after a reduction
 * below 2q at 51 bits, AVX-512F's above. */
AVX512_IFMA static ENSI_AVX512_INLINE void groups_ifma(const ensi_ntt_table *t, uint64_t *a,
                                                       size_t m, size_t gap, size_t first,
                                                       size_t last, bool forward) {
  if (t->q.bits < ENSI_IFMA_MAX_BITS)
    groups(ensi_avx512_mul_shoup_lazy52, 12, t, a, m, gap, first, last, forward);
  else if (t->q.bits == ENSI_IFMA_MAX_BITS)
    groups(mul_shoup_lazy52_of_4q, 12, t, a, m, gap, first, last, forward);
  else
    groups(ensi_avx512_mul_shoup_lazy, 0, t, a, m, gap, first, last, forward);
}

AVX512_IFMA static void forward_groups_ifma(const ensi_ntt_table *t, uint64_t *a, size_t m,
                                            size_t gap, size_t first, size_t last) {
  groups_ifma(t, a, m, gap, first, last, true);
}

AVX512_IFMA static void inverse_groups_ifma(const ensi_ntt_table *t, uint64_t *a, size_t m,
                                            size_t gap, size_t first, size_t last) {
  groups_ifma(t, a, m, gap, first, last, false);
}

/* The inverse transform's scaling reads values below 2q. */
AVX512_IFMA static void scale_ifma(const ensi_ntt_table *t, uint64_t *a, size_t count) {
  if (t->q.bits <= ENSI_IFMA_MAX_BITS)
    scale_with(ensi_avx512_mul_shoup_lazy52, 12, t, a, count);
  else
    scale(t, a, count);
}

static bool supported_ifma(void) { return ensi_avx512_ifma_supported(); }

const ensi_ntt_kernel ensi_ntt_kernel_avx512ifma = {
    "avx512ifma", supported_ifma, forward_groups_ifma, inverse_groups_ifma, scale_ifma, reduce,
    NULL,         NULL};
#else
static bool supported(void) { return false; }
const ensi_ntt_kernel ensi_ntt_kernel_avx512 = {"avx512", supported, NULL, NULL, NULL,
                                                NULL,     NULL,      NULL};
const ensi_ntt_kernel ensi_ntt_kernel_avx512ifma = {"avx512ifma", supported, NULL, NULL, NULL,
                                                    NULL,         NULL,      NULL};
#endif
