/* Sums of products with run-constant factors (math/run_sums.h) against a plain 128-bit
 * reference, for every kernel this CPU runs: primes of 30 to 61 bits, runs of 1 to 128
 * coefficients (the AVX-512 kernel takes multiples of 8), 1 to 300 terms, random values and the
 * largest ones (q - 1: the lazy sums' worst case), in two ranges of runs. */
#include <stdlib.h>

#include "math/ntt.h"
#include "math/primes.h"
#include "math/run_sums.h"
#include "testutil.h"

static test_rng rng;

enum { MAX_TERMS = 300 };

static uint64_t reference(const uint64_t *c, const uint64_t *const *y, size_t count, size_t run,
                          size_t t, uint64_t q) {
  uint64_t sum = 0;
  for (size_t k = 0; k < count; k++)
    sum = (uint64_t)(((unsigned __int128)sum + (unsigned __int128)c[t / run * count + k] * y[k][t]) %
                     q);
  return sum;
}

static void check(size_t n, size_t run, int bits, size_t count, bool largest) {
  uint64_t prime;
  CHECK(ensi_primes_near(&prime, 1, bits, 128, NULL, 0) == ENSI_OK);
  ensi_modulus q;
  ensi_modulus_init(&q, prime);
  const size_t runs = n / run;
  uint64_t *data = malloc(2 * count * n * sizeof *data), *out = malloc(2 * n * sizeof *out);
  uint64_t *c = malloc(2 * count * runs * sizeof *c), *cs = c + count * runs;
  const uint64_t *y0[MAX_TERMS], *y1[MAX_TERMS];
  for (size_t w = 0; w < 2 * count * n; w++)
    data[w] = largest ? prime - 1 : test_rng_below(&rng, prime);
  for (size_t i = 0; i < count * runs; i++) { /* run by run, the terms side by side */
    c[i] = largest ? prime - 1 : test_rng_below(&rng, prime);
    cs[i] = ensi_shoup_precompute(c[i], prime);
  }
  for (size_t k = 0; k < count; k++) {
    y0[k] = data + 2 * k * n;
    y1[k] = data + (2 * k + 1) * n;
  }
  const size_t half = runs >= 2 ? runs / 2 * run : n; /* two ranges where there are two runs */
  ensi_run_sums2(out, out + n, c, cs, y0, y1, count, run, half, &q);
  const uint64_t *y0_second[MAX_TERMS], *y1_second[MAX_TERMS]; /* the second range's start */
  for (size_t k = 0; k < count; k++) {
    y0_second[k] = y0[k] + half;
    y1_second[k] = y1[k] + half;
  }
  const size_t skipped = half / run * count; /* constants of the first range's runs */
  ensi_run_sums2(out + half, out + n + half, c + skipped, cs + skipped, y0_second, y1_second,
                 count, run, n - half, &q);
  int bad = 0;
  for (size_t t = 0; t < n; t++) {
    bad += out[t] != reference(c, y0, count, run, t, prime);
    bad += out[n + t] != reference(c, y1, count, run, t, prime);
  }
  CHECK_MSG(bad == 0, "run sums, kernel %s: n = %zu, run %zu, %d bits, %zu terms, %s: %d wrong",
            ensi_ntt_kernel_name(), n, run, bits, count, largest ? "q - 1" : "random", bad);
  free(data);
  free(out);
  free(c);
}

int main(void) {
  test_rng_seed(&rng, test_seed_from_env());
  const char *kernels[8];
  const size_t kernel_count = ensi_ntt_kernel_names(kernels, 8);
  /* up to 52 bits: IFMA's sums where present (primes near 2^51 and 2^52 fall on both sides) */
  const int bit_sizes[] = {30, 40, 49, 50, 51, 52, 60, 61};
  const size_t runs[] = {1, 2, 8, 16, 128};
  for (size_t k = 0; k < kernel_count; k++) {
    CHECK(ensi_ntt_use_kernel(kernels[k]) == ENSI_OK);
    for (size_t b = 0; b < sizeof bit_sizes / sizeof bit_sizes[0]; b++)
      for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++)
        for (size_t count = 1; count <= MAX_TERMS; count += count < 40 ? 13 : 260) {
          check(512, runs[r], bit_sizes[b], count, false);
          check(256, runs[r], bit_sizes[b], count, true);
        }
    printf("run sums kernel %s: checked against the 128-bit reference\n", kernels[k]);
  }
  return test_finish("test_math_run_sums");
}
