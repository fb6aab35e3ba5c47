/* AVX2 NTT kernel: the portable kernel's lazy butterflies four at a time, for CPUs without
 * AVX-512 (primes up to 61 bits, as in the portable kernel: values stay below 4q < 2^63, so
 * AVX2's signed 64-bit comparison orders them correctly).
 *
 * The arithmetic is avx2_mod.h's (the conditional subtraction is a compare and a blend). Stages
 * with gap >= 4 read the two halves of a group straight from memory; gap 2 and gap 1 load 8 words
 * and regroup them with vperm2i128 and vpunpck{l,h}qdq. Results are the portable kernel's, word for word. */
#include "math/ntt_internal.h"

#if defined(__x86_64__)
#include "math/avx2_mod.h"

AVX2 static inline void butterfly(__m256i *x, __m256i *y, __m256i w, __m256i ws, __m256i q,
                                  __m256i two_q, bool forward) {
  if (forward) { /* Cooley-Tukey: [0, 4q) -> [0, 4q) */
    const __m256i u = ensi_avx2_reduce_once(*x, two_q);
    const __m256i v = ensi_avx2_mul_shoup_lazy(*y, w, ws, q);
    *x = _mm256_add_epi64(u, v);
    *y = _mm256_sub_epi64(_mm256_add_epi64(u, two_q), v);
  } else { /* Gentleman-Sande: [0, 2q) -> [0, 2q) */
    const __m256i u = *x, v = *y;
    *x = ensi_avx2_reduce_once(_mm256_add_epi64(u, v), two_q);
    *y = ensi_avx2_mul_shoup_lazy(_mm256_sub_epi64(_mm256_add_epi64(u, two_q), v), w, ws, q);
  }
}

AVX2 static void groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap, size_t first,
                        size_t last, bool forward) {
  const __m256i q = _mm256_set1_epi64x((long long)t->q.value);
  const __m256i two_q = _mm256_set1_epi64x((long long)(2 * t->q.value));
  const uint64_t *roots = forward ? t->roots : t->inv_roots;
  const uint64_t *roots_shoup = forward ? t->roots_shoup : t->inv_roots_shoup;
  if (gap >= 4) {
    for (size_t i = first; i < last; i++) {
      const __m256i w = _mm256_set1_epi64x((long long)roots[m + i]);
      const __m256i ws = _mm256_set1_epi64x((long long)roots_shoup[m + i]);
      uint64_t *xs = a + 2 * i * gap, *ys = xs + gap;
      for (size_t j = 0; j < gap; j += 4) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(xs + j));
        __m256i y = _mm256_loadu_si256((const __m256i *)(ys + j));
        butterfly(&x, &y, w, ws, q, two_q, forward);
        _mm256_storeu_si256((__m256i *)(xs + j), x);
        _mm256_storeu_si256((__m256i *)(ys + j), y);
      }
    }
    return;
  }
  const size_t per_chunk = 4 / gap; /* groups in 8 words */
  for (size_t i = first; i < last; i += per_chunk) {
    uint64_t *chunk = a + 2 * i * gap;
    const __m256i lo = _mm256_loadu_si256((const __m256i *)chunk);
    const __m256i hi = _mm256_loadu_si256((const __m256i *)(chunk + 4));
    __m256i x, y, w, ws;
    if (gap == 2) { /* [x0 x1 y0 y1 | x2 x3 y2 y3]: twiddles [w0 w0 w1 w1] */
      x = _mm256_permute2x128_si256(lo, hi, 0x20);
      y = _mm256_permute2x128_si256(lo, hi, 0x31);
      w = _mm256_set_epi64x((long long)roots[m + i + 1], (long long)roots[m + i + 1],
                            (long long)roots[m + i], (long long)roots[m + i]);
      ws = _mm256_set_epi64x((long long)roots_shoup[m + i + 1], (long long)roots_shoup[m + i + 1],
                             (long long)roots_shoup[m + i], (long long)roots_shoup[m + i]);
    } else { /* [x0 y0 x1 y1 | x2 y2 x3 y3] -> x = [x0 x2 x1 x3]: twiddles in that order */
      x = _mm256_unpacklo_epi64(lo, hi);
      y = _mm256_unpackhi_epi64(lo, hi);
      w = _mm256_permute4x64_epi64(_mm256_loadu_si256((const __m256i *)(roots + m + i)), 0xD8);
      ws = _mm256_permute4x64_epi64(_mm256_loadu_si256((const __m256i *)(roots_shoup + m + i)),
                                    0xD8);
    }
    butterfly(&x, &y, w, ws, q, two_q, forward);
    if (gap == 2) {
      _mm256_storeu_si256((__m256i *)chunk, _mm256_permute2x128_si256(x, y, 0x20));
      _mm256_storeu_si256((__m256i *)(chunk + 4), _mm256_permute2x128_si256(x, y, 0x31));
    } else {
      _mm256_storeu_si256((__m256i *)chunk, _mm256_unpacklo_epi64(x, y));
      _mm256_storeu_si256((__m256i *)(chunk + 4), _mm256_unpackhi_epi64(x, y));
    }
  }
}

AVX2 static void forward_groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                                size_t first, size_t last) {
  groups(t, a, m, gap, first, last, true);
}

AVX2 static void inverse_groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                                size_t first, size_t last) {
  groups(t, a, m, gap, first, last, false);
}

AVX2 static void scale(const ensi_ntt_table *t, uint64_t *a, size_t count) {
  const __m256i q = _mm256_set1_epi64x((long long)t->q.value);
  const __m256i w = _mm256_set1_epi64x((long long)t->n_inv);
  const __m256i ws = _mm256_set1_epi64x((long long)t->n_inv_shoup);
  for (size_t j = 0; j < count; j += 4) {
    const __m256i x = _mm256_loadu_si256((const __m256i *)(a + j));
    const __m256i r = ensi_avx2_mul_shoup_lazy(x, w, ws, q);
    _mm256_storeu_si256((__m256i *)(a + j), ensi_avx2_reduce_once(r, q));
  }
}

AVX2 static void reduce(const ensi_ntt_table *t, uint64_t *a, size_t count) {
  const __m256i q = _mm256_set1_epi64x((long long)t->q.value);
  const __m256i two_q = _mm256_set1_epi64x((long long)(2 * t->q.value));
  for (size_t j = 0; j < count; j += 4) {
    const __m256i x = _mm256_loadu_si256((const __m256i *)(a + j));
    _mm256_storeu_si256((__m256i *)(a + j),
                        ensi_avx2_reduce_once(ensi_avx2_reduce_once(x, two_q), q));
  }
}

static bool supported(void) { return ensi_avx2_supported(); }

const ensi_ntt_kernel ensi_ntt_kernel_avx2 = {
    "avx2", supported, forward_groups, inverse_groups, scale, reduce, NULL, NULL};
#else
static bool supported(void) { return false; }
const ensi_ntt_kernel ensi_ntt_kernel_avx2 = {"avx2", supported, NULL, NULL,
                                              NULL,   NULL,      NULL, NULL};
#endif
