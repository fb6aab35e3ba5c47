/* Samplers: ranges, exact Hamming weight, and mean/variance within statistical bounds; seeded
 * streams are reproducible and distinct seeds give distinct streams. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "math/sampler.h"
#include "testutil.h"

enum { COUNT = 1 << 18 };

int main(void) {
  test_rng rng;
  test_rng_seed(&rng, test_seed_from_env());
  uint8_t seed[32];
  for (int i = 0; i < 32; i++)
    seed[i] = (uint8_t)test_rng_next(&rng);
  ensi_prng prng;
  ensi_prng_init_seeded(&prng, seed);
  static uint64_t u[COUNT];
  static int8_t s[COUNT];

  const uint64_t q = ((uint64_t)1 << 60) - 93; /* any modulus works for uniform sampling */
  ensi_sample_uniform_mod(&prng, u, COUNT, q);
  double mean = 0;
  int out_of_range = 0;
  for (size_t i = 0; i < COUNT; i++) {
    out_of_range += u[i] >= q;
    mean += (double)u[i] / (double)q;
  }
  mean /= COUNT; /* uniform on [0, 1): mean 1/2, standard error 1/sqrt(12 COUNT) */
  CHECK(out_of_range == 0);
  CHECK_MSG(fabs(mean - 0.5) < 6 / sqrt(12.0 * COUNT), "uniform mean %f", mean);

  ensi_sample_ternary(&prng, s, COUNT);
  long counts[3] = {0};
  for (size_t i = 0; i < COUNT; i++) {
    CHECK(s[i] >= -1 && s[i] <= 1);
    counts[s[i] + 1]++;
  }
  for (int v = 0; v < 3; v++) /* each value with probability 1/3 */
    CHECK_MSG(fabs(counts[v] - COUNT / 3.0) < 6 * sqrt(COUNT * 2.0 / 9.0), "ternary count %ld", counts[v]);

  for (size_t h = 0; h <= 4096; h += 1024 + 7) {
    ensi_sample_ternary_hw(&prng, s, 4096, h);
    size_t weight = 0;
    for (size_t i = 0; i < 4096; i++) {
      CHECK(s[i] >= -1 && s[i] <= 1);
      weight += s[i] != 0;
    }
    CHECK_MSG(weight == (h > 4096 ? 4096 : h), "Hamming weight %zu for h = %zu", weight, h);
  }

  ensi_sample_gaussian(&prng, s, COUNT);
  double m = 0, var = 0;
  int beyond = 0;
  for (size_t i = 0; i < COUNT; i++) {
    beyond += abs(s[i]) > ENSI_GAUSSIAN_BOUND;
    m += s[i];
    var += (double)s[i] * s[i];
  }
  m /= COUNT;
  var = var / COUNT - m * m;
  const double sigma = ENSI_GAUSSIAN_SIGMA;
  CHECK(beyond == 0);
  CHECK_MSG(fabs(m) < 6 * sigma / sqrt(COUNT), "Gaussian mean %f", m);
  /* variance of the sample variance ~ 2 sigma^4 / COUNT */
  CHECK_MSG(fabs(var - sigma * sigma) < 6 * sqrt(2.0 / COUNT) * sigma * sigma, "Gaussian variance %f", var);

  ensi_prng a, b;
  ensi_prng_init_seeded(&a, seed);
  ensi_prng_init_seeded(&b, seed);
  bool same = true;
  for (int i = 0; i < 1000; i++)
    same &= ensi_prng_u64(&a) == ensi_prng_u64(&b);
  CHECK(same);
  seed[0] ^= 1;
  ensi_prng_init_seeded(&b, seed);
  ensi_prng_init_seeded(&a, seed);
  seed[0] ^= 1;
  ensi_prng c;
  ensi_prng_init_seeded(&c, seed);
  CHECK(ensi_prng_u64(&c) != ensi_prng_u64(&b));
  CHECK(ensi_prng_init_random(&a) == ENSI_OK);
  ensi_prng_clear(&a);
  uint8_t zero[sizeof a];
  memset(zero, 0, sizeof zero);
  CHECK(memcmp(&a, zero, sizeof a) == 0);
  return test_finish("test_math_sampler");
}
