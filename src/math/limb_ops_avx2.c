/* AVX2 kernels of the element-wise limb operations (limb_ops.h), four words at a time: x - y
 * plus q (in [0, 2q): a lazy Shoup product takes any 64-bit input), the lazy Shoup product by
 * the constant, conditional subtractions; a permuted x by one load and vpermd (avx2_mod.h). */
#include "math/limb_ops.h"

#if defined(__x86_64__)
#include "math/avx2_mod.h"

AVX2 void ensi_limb_sub_mul_const_avx2(uint64_t *out, const uint64_t *x, const uint64_t *y,
                                       uint64_t w, uint64_t ws, size_t n, uint64_t q) {
  const __m256i vq = _mm256_set1_epi64x((long long)q);
  const __m256i vw = _mm256_set1_epi64x((long long)w), vws = _mm256_set1_epi64x((long long)ws);
  for (size_t t = 0; t < n; t += 4) {
    __m256i v = _mm256_loadu_si256((const __m256i *)(x + t));
    if (y)
      v = _mm256_sub_epi64(_mm256_add_epi64(v, vq), _mm256_loadu_si256((const __m256i *)(y + t)));
    const __m256i r = ensi_avx2_mul_shoup_lazy(v, vw, vws, vq);
    _mm256_storeu_si256((__m256i *)(out + t), ensi_avx2_reduce_once(r, vq));
  }
}

AVX2 void ensi_limb_add_mul_const_avx2(uint64_t *out, const uint64_t *x, const uint32_t *perm,
                                       uint64_t w, uint64_t ws, size_t n, uint64_t q) {
  const __m256i vq = _mm256_set1_epi64x((long long)q);
  const __m256i vw = _mm256_set1_epi64x((long long)w), vws = _mm256_set1_epi64x((long long)ws);
  for (size_t t = 0; t < n; t += 4) {
    const __m256i v = perm ? ensi_avx2_load_permuted(x, perm, t)
                           : _mm256_loadu_si256((const __m256i *)(x + t));
    const __m256i r = ensi_avx2_reduce_once(ensi_avx2_mul_shoup_lazy(v, vw, vws, vq), vq);
    const __m256i sum = _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)(out + t)), r);
    _mm256_storeu_si256((__m256i *)(out + t), ensi_avx2_reduce_once(sum, vq));
  }
}
#endif
