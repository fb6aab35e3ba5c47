/* Element-wise limb operations with a constant factor (math/limb_ops.h) against a 128-bit
 * reference, for every kernel this CPU runs: primes of 30 to 61 bits, random values and the
 * extremes (0 and q - 1, factors 0, 1 and q - 1), lengths that are and are not multiples of the
 * vector width. (x - y) w: with and without y, in place and into a separate limb; out + x w:
 * with and without a Galois permutation of x. */
#include <stdlib.h>
#include <string.h>

#include "ckks/galois.h"
#include "math/limb_ops.h"
#include "math/ntt.h"
#include "testutil.h"

static test_rng rng;

static uint64_t value(uint64_t q, size_t t) {
  return t % 5 == 0 ? q - 1 : t % 7 == 0 ? 0 : test_rng_below(&rng, q);
}

static ensi_modulus modulus_of(int bits) {
  const uint64_t prime = test_prime(bits, 128);
  ensi_modulus q;
  ensi_modulus_init(&q, prime);
  return q;
}

/* The factor: 0, 1, q - 1 or random. */
static uint64_t factor(uint64_t q, uint64_t choice) {
  return choice == 2 ? q - 1 : choice < 2 ? choice : test_rng_below(&rng, q);
}

static int count_wrong(const uint64_t *got, const uint64_t *want, size_t n) {
  int bad = 0;
  for (size_t t = 0; t < n; t++)
    bad += got[t] != want[t];
  return bad;
}

static void check(size_t n, int bits, uint64_t w_choice, bool subtract, bool in_place) {
  const ensi_modulus q = modulus_of(bits);
  const uint64_t prime = q.value, w = factor(prime, w_choice);
  uint64_t *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *out = malloc(n * sizeof *out);
  uint64_t *want = malloc(n * sizeof *want);
  for (size_t t = 0; t < n; t++) {
    x[t] = value(prime, t);
    y[t] = value(prime, t / 3);
    const uint64_t d = subtract ? (x[t] + prime - y[t]) % prime : x[t];
    want[t] = (uint64_t)((unsigned __int128)d * w % prime);
  }
  uint64_t *dst = in_place ? x : out;
  ensi_limb_sub_mul_const(dst, x, subtract ? y : NULL, w, n, &q);
  const int bad = count_wrong(dst, want, n);
  CHECK_MSG(bad == 0, "limb kernel %s: n = %zu, %d bits, w = %llu, %s, %s: %d wrong",
            ensi_ntt_kernel_name(), n, bits, (unsigned long long)w,
            subtract ? "x - y" : "x", in_place ? "in place" : "separate", bad);
  free(x);
  free(y);
  free(out);
  free(want);
}

static void check_add(size_t n, int bits, uint64_t w_choice, bool permuted) {
  const ensi_modulus q = modulus_of(bits);
  const uint64_t prime = q.value, w = factor(prime, w_choice);
  uint64_t *x = malloc(n * sizeof *x), *out = malloc(n * sizeof *out);
  uint64_t *want = malloc(n * sizeof *want);
  uint32_t *perm = malloc(n * sizeof *perm);
  if (permuted) /* n is then a power of two */
    ensi_galois_ntt_permutation(perm, ensi_galois_element_rotation((long long)w_choice * 5 - 3, n), n);
  for (size_t t = 0; t < n; t++) {
    x[t] = value(prime, t);
    out[t] = value(prime, t / 3);
  }
  for (size_t t = 0; t < n; t++)
    want[t] = (uint64_t)((out[t] + (unsigned __int128)x[permuted ? perm[t] : t] * w) % prime);
  ensi_limb_add_mul_const(out, x, permuted ? perm : NULL, w, n, &q);
  const int bad = count_wrong(out, want, n);
  CHECK_MSG(bad == 0, "limb kernel %s: out + x w, n = %zu, %d bits, w = %llu, %s: %d wrong",
            ensi_ntt_kernel_name(), n, bits, (unsigned long long)w,
            permuted ? "permuted" : "in order", bad);
  free(x);
  free(out);
  free(want);
  free(perm);
}

int main(void) {
  test_rng_seed(&rng, test_seed_from_env());
  const char *kernels[8];
  const size_t kernel_count = ensi_ntt_kernel_names(kernels, 8);
  const int bit_sizes[] = {30, 40, 50, TEST_BELOW(51), TEST_BELOW(52), 55, 60, 61};
  for (size_t k = 0; k < kernel_count; k++) {
    CHECK(ensi_ntt_use_kernel(kernels[k]) == ENSI_OK);
    for (size_t b = 0; b < sizeof bit_sizes / sizeof bit_sizes[0]; b++)
      for (uint64_t w_choice = 0; w_choice < 4; w_choice++)
        for (int variant = 0; variant < 4; variant++) {
          check(1024, bit_sizes[b], w_choice, variant & 1, variant & 2);
          check(10, bit_sizes[b], w_choice, variant & 1, variant & 2); /* the portable kernel */
          check_add(1024, bit_sizes[b], w_choice, variant & 1);
          check_add(10, bit_sizes[b], w_choice, false);
        }
    printf("limb kernel %s: checked against the 128-bit reference\n", kernels[k]);
  }
  return test_finish("test_math_limb_ops");
}
