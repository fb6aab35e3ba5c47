/* The negacyclic NTT: pointwise products of transforms against schoolbook negacyclic convolution
 * for every N from 2^4 to 2^11 and primes from 30 to 61 bits; INTT(NTT(a)) = a up to 2^17; the
 * documented evaluation order (index i holds a(psi^(2 bitrev(i) + 1))); all of it for every kernel
 * this CPU runs (portable, AVX2, AVX-512 with and without IFMA), and each kernel word for word
 * equal to the portable one. */
#include <stdlib.h>
#include <string.h>

#include "math/ntt.h"
#include "math/primes.h"
#include "testutil.h"

static test_rng rng;

static void schoolbook(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                       const ensi_modulus *q) {
  for (size_t k = 0; k < n; k++)
    out[k] = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      uint64_t p = ensi_mul_mod(a[i], b[j], q);
      size_t k = i + j;
      if (k < n)
        out[k] = ensi_add_mod(out[k], p, q->value);
      else
        out[k - n] = ensi_sub_mod(out[k - n], p, q->value);
    }
}

static size_t bitrev(size_t x, int bits) {
  size_t r = 0;
  for (int i = 0; i < bits; i++, x >>= 1)
    r = r << 1 | (x & 1);
  return r;
}

/* A table for N = n and a prime of the size `bits` (test_prime; written to m). */
static ensi_ntt_table *table_for(size_t n, int bits, ensi_modulus *m) {
  const uint64_t q = test_prime(bits, 2 * n);
  ensi_modulus_init(m, q);
  ensi_ntt_table *t = NULL;
  CHECK(ensi_ntt_table_create(&t, m, n) == ENSI_OK);
  return t;
}

/* a = b = random words below q, the first three at the top of the range. */
static void random_pair(uint64_t *a, uint64_t *b, size_t n, uint64_t q) {
  for (size_t i = 0; i < n; i++)
    a[i] = b[i] = i < 3 ? q - 1 - i : test_rng_below(&rng, q);
}

static void check_convolution(size_t n, int bits) {
  ensi_modulus m;
  ensi_ntt_table *t = table_for(n, bits, &m);
  const uint64_t q = m.value;
  uint64_t *a = malloc(n * 8), *b = malloc(n * 8), *want = malloc(n * 8), *fa = malloc(n * 8),
           *fb = malloc(n * 8);
  for (size_t i = 0; i < n; i++) {
    fa[i] = a[i] = test_rng_below(&rng, q);
    fb[i] = b[i] = test_rng_below(&rng, q);
  }
  schoolbook(want, a, b, n, &m);
  ensi_ntt_forward(t, fa);
  ensi_ntt_forward(t, fb);
  /* the documented order: fa[i] = a(psi^(2 bitrev(i) + 1)) at a few indices */
  uint64_t psi;
  ensi_primitive_root_2n(q, 2 * n, &psi);
  int log_n = 0;
  while (((size_t)1 << log_n) < n)
    log_n++;
  for (size_t i = 0; i < n; i += n / 4) {
    uint64_t x = ensi_pow_mod(psi, 2 * bitrev(i, log_n) + 1, &m), value = 0, power = 1;
    for (size_t k = 0; k < n; k++) {
      value = ensi_add_mod(value, ensi_mul_mod(a[k], power, &m), q);
      power = ensi_mul_mod(power, x, &m);
    }
    CHECK_MSG(fa[i] == value, "evaluation order, N = %zu, index %zu", n, i);
  }
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    bad += fa[i] >= q;
    fa[i] = ensi_mul_mod(fa[i], fb[i], &m);
  }
  ensi_ntt_inverse(t, fa);
  for (size_t i = 0; i < n; i++)
    bad += fa[i] != want[i];
  CHECK_MSG(bad == 0, "convolution N = %zu, %d-bit prime: %d mismatches", n, bits, bad);
  free(a);
  free(b);
  free(want);
  free(fa);
  free(fb);
  ensi_ntt_table_free(t);
}

static void check_round_trip(size_t n, int bits) {
  ensi_modulus m;
  ensi_ntt_table *t = table_for(n, bits, &m);
  const uint64_t q = m.value;
  uint64_t *a = malloc(n * 8), *b = malloc(n * 8);
  random_pair(a, b, n, q);
  ensi_ntt_forward(t, b);
  ensi_ntt_inverse(t, b);
  int bad = 0;
  for (size_t i = 0; i < n; i++)
    bad += a[i] != b[i];
  CHECK_MSG(bad == 0, "INTT(NTT(a)) != a for N = %zu, %d bits", n, bits);
  free(a);
  free(b);
  ensi_ntt_table_free(t);
}

/* Every kernel this CPU runs gives the portable kernel's words exactly, forward and inverse. */
static void check_same_as_portable(const char *kernel, size_t n, int bits) {
  ensi_modulus m;
  ensi_ntt_table *t = table_for(n, bits, &m);
  const uint64_t q = m.value;
  uint64_t *a = malloc(n * 8), *b = malloc(n * 8);
  random_pair(a, b, n, q);
  int bad = 0;
  for (int direction = 0; direction < 2; direction++) {
    CHECK(ensi_ntt_use_kernel("portable") == ENSI_OK);
    (direction ? ensi_ntt_inverse : ensi_ntt_forward)(t, a);
    CHECK(ensi_ntt_use_kernel(kernel) == ENSI_OK);
    (direction ? ensi_ntt_inverse : ensi_ntt_forward)(t, b);
    for (size_t i = 0; i < n; i++)
      bad += a[i] != b[i];
  }
  CHECK_MSG(bad == 0, "kernel %s differs from portable: N = %zu, %d bits, %d words", kernel, n,
            bits, bad);
  free(a);
  free(b);
  ensi_ntt_table_free(t);
}

int main(void) {
  test_rng_seed(&rng, test_seed_from_env());
  const int bit_sizes[] = {30, 36, 40, 45, 50, TEST_BELOW(50), TEST_BELOW(51), TEST_BELOW(52), 55, 59, 60,
                           61, TEST_BELOW(61)};
  const size_t bit_count = sizeof bit_sizes / sizeof bit_sizes[0];
  const char *kernels[8];
  const size_t kernel_count = ensi_ntt_kernel_names(kernels, 8);
  CHECK(kernel_count >= 1 && strcmp(kernels[kernel_count - 1], "portable") == 0);
  CHECK(ensi_ntt_use_kernel("no-such-kernel") != ENSI_OK);
  for (size_t k = 0; k < kernel_count; k++) {
    CHECK(ensi_ntt_use_kernel(kernels[k]) == ENSI_OK);
    for (size_t n = 16; n <= 2048; n *= 2)
      for (size_t b = 0; b < bit_count; b++)
        check_convolution(n, bit_sizes[b]);
    for (size_t n = 16; n <= ((size_t)1 << 17); n *= 2) {
      check_round_trip(n, 50);
      check_round_trip(n, 61);
    }
    for (size_t n = 16; n <= ((size_t)1 << 17); n *= 2)
      for (size_t b = 0; b < bit_count; b++)
        check_same_as_portable(kernels[k], n, bit_sizes[b]);
    printf("NTT kernel %s: convolutions, round trips and agreement with portable checked\n",
           kernels[k]);
  }
  CHECK(ensi_ntt_use_kernel(kernels[0]) == ENSI_OK);
  ensi_ntt_table *t;
  ensi_modulus m;
  ensi_modulus_init(&m, 97);
  CHECK(ensi_ntt_table_create(&t, &m, 1024) != ENSI_OK); /* 97 != 1 mod 2048 */
  printf("NTT kernel in use: %s\n", ensi_ntt_kernel_name());
  return test_finish("test_math_ntt");
}
