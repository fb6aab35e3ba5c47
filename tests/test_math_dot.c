/* Two sums of products modulo q (math/dot.h) against a plain 128-bit reference, for every kernel
 * this CPU runs: primes of 30 to 61 bits, 1 to 16 terms and 70 (the AVX-512 kernel sums seven at
 * a time, the portable one 64), with and without a Galois permutation of x (rotations and the
 * conjugation), random values and the largest ones (q - 1 everywhere: the accumulators' worst
 * case). Also checks the property of those permutations that the AVX2 kernel relies on. */
#include <stdlib.h>

#include "ckks/galois.h"
#include "math/dot.h"
#include "math/ntt.h"
#include "math/primes.h"
#include "testutil.h"

static test_rng rng;

enum { MAX_TERMS = 70 };

static uint64_t reference(const uint64_t *const *x, const uint64_t *const *y, size_t count,
                          size_t src, size_t t, uint64_t q) {
  uint64_t sum = 0;
  for (size_t j = 0; j < count; j++)
    sum = (uint64_t)(((unsigned __int128)sum + (unsigned __int128)x[j][src] * y[j][t]) % q);
  return sum;
}

static void check(size_t n, int bits, size_t count, bool permuted, bool largest) {
  const uint64_t prime = test_prime(bits, 128);
  ensi_modulus q;
  ensi_modulus_init(&q, prime);
  uint64_t *data = malloc(3 * count * n * sizeof *data), *out = malloc(2 * n * sizeof *out);
  uint32_t *perm = malloc(n * sizeof *perm);
  const uint64_t *x[MAX_TERMS], *y0[MAX_TERMS], *y1[MAX_TERMS];
  for (size_t w = 0; w < 3 * count * n; w++)
    data[w] = largest ? prime - 1 : test_rng_below(&rng, prime);
  for (size_t j = 0; j < count; j++) {
    x[j] = data + j * n;
    y0[j] = data + (count + j) * n;
    y1[j] = data + (2 * count + j) * n;
  }
  const uint64_t g = count % 4 == 0 ? ensi_galois_element_conjugation(n)
                                     : ensi_galois_element_rotation((long long)count * 7 - 20, n);
  if (permuted) /* n is then a power of two */
    ensi_galois_ntt_permutation(perm, g, n);
  ensi_dot2_mod(out, out + n, x, y0, y1, count, permuted ? perm : NULL, n, &q);
  int bad = 0;
  for (size_t t = 0; t < n; t++) {
    const size_t src = permuted ? perm[t] : t;
    bad += out[t] != reference(x, y0, count, src, t, prime);
    bad += out[n + t] != reference(x, y1, count, src, t, prime);
  }
  CHECK_MSG(bad == 0, "dot kernel %s: n = %zu, %d bits, %zu terms, %s, %s: %d wrong",
            ensi_ntt_kernel_name(), n, bits, count, permuted ? "permuted" : "in order",
            largest ? "q - 1" : "random", bad);
  free(data);
  free(out);
  free(perm);
}

/* The AVX-512 kernel's rarest path: x0 y0 + x1 y1 with x < 2^32 whose 32-bit-shifted middle sum
 * ends in 2^32 - 1 while the low sum passes 2^32, so that forming the 128-bit sum carries from
 * the low word (random inputs do so about once in 2^32). Inverting x1 modulo 2^32 picks y1's
 * high half. */
static void check_low_carry(void) {
  const size_t n = 64;
  uint64_t prime;
  CHECK(ensi_primes_near(&prime, 1, 61, 128, NULL, 0) == ENSI_OK);
  ensi_modulus q;
  ensi_modulus_init(&q, prime);
  uint64_t xs[2][64], ys[2][64], zero[2][64] = {{0}}, out[2][64];
  for (size_t t = 0; t < n; t++) {
    for (;;) {
      const uint64_t x0 = test_rng_below(&rng, 1ull << 32);
      const uint64_t x1 = test_rng_below(&rng, 1ull << 32) | 1;
      const uint64_t y0 = test_rng_below(&rng, prime), y1_low = test_rng_below(&rng, 1ull << 32);
      const uint64_t ll0 = x0 * (y0 & 0xffffffff), ll1 = x1 * y1_low;
      const uint64_t low = (ll0 & 0xffffffff) + (ll1 & 0xffffffff);
      const uint32_t middle = (uint32_t)((ll0 >> 32) + x0 * (y0 >> 32) + (ll1 >> 32));
      uint32_t inverse = 1; /* x1^-1 mod 2^32 by Newton's iteration */
      for (int k = 0; k < 5; k++)
        inverse *= 2 - (uint32_t)x1 * inverse;
      const uint64_t y1_high = (uint32_t)(0xffffffffu - middle) * inverse;
      const uint64_t y1 = y1_high << 32 | y1_low;
      if (low >= (1ull << 32) && y1 < prime) {
        xs[0][t] = x0, xs[1][t] = x1, ys[0][t] = y0, ys[1][t] = y1;
        break;
      }
    }
  }
  const uint64_t *x[2] = {xs[0], xs[1]}, *y0[2] = {ys[0], ys[1]}, *y1[2] = {zero[0], zero[1]};
  ensi_dot2_mod(out[0], out[1], x, y0, y1, 2, NULL, n, &q);
  int bad = 0;
  for (size_t t = 0; t < n; t++)
    bad += out[0][t] != reference(x, y0, 2, t, t, prime) || out[1][t] != 0;
  CHECK_MSG(bad == 0, "dot kernel %s: carry from the low word: %d wrong", ensi_ntt_kernel_name(),
            bad);
}

/* Every aligned block of 2^b indices goes to one aligned block of 2^b (math/dot.h, galois.h),
 * for rotations by every step at n = 2^10 and some at 2^16, and the conjugation. */
static void check_permutation_blocks(size_t n) {
  uint32_t *perm = malloc(n * sizeof *perm);
  int bad = 0;
  for (size_t step = 0; step <= n / 2; step += n <= 1024 ? 1 : 997) {
    const uint64_t g = step == n / 2 ? ensi_galois_element_conjugation(n)
                                     : ensi_galois_element_rotation((long long)step, n);
    ensi_galois_ntt_permutation(perm, g, n);
    for (size_t block = 2; block <= 16; block *= 2)
      for (size_t t = 0; t < n; t++)
        bad += perm[t] / block != perm[t - t % block] / block;
  }
  CHECK_MSG(bad == 0, "Galois permutations at n = %zu: %d indices leave their block", n, bad);
  free(perm);
}

int main(void) {
  test_rng_seed(&rng, test_seed_from_env());
  const char *kernels[8];
  const size_t kernel_count = ensi_ntt_kernel_names(kernels, 8);
  check_permutation_blocks(1024);
  check_permutation_blocks(65536);
  const int bit_sizes[] = {30, 45, 50, TEST_BELOW(52), 53, 55, 60, 61};
  for (size_t k = 0; k < kernel_count; k++) {
    CHECK(ensi_ntt_use_kernel(kernels[k]) == ENSI_OK);
    for (size_t b = 0; b < sizeof bit_sizes / sizeof bit_sizes[0]; b++)
      for (size_t count = 1; count <= MAX_TERMS; count = count == 16 ? MAX_TERMS : count + 1)
        for (int variant = 0; variant < 4; variant++) {
          check(256, bit_sizes[b], count, variant & 1, variant & 2);
          check(64, bit_sizes[b], count, variant & 1, false);
        }
    check(12, 61, 3, false, true); /* not a multiple of 8: the portable kernel */
    check_low_carry();
    printf("dot kernel %s: checked against the 128-bit reference\n", kernels[k]);
  }
  return test_finish("test_math_dot");
}
