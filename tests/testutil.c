/* Implementation of the minimal test harness (see testutil.h). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "math/primes.h"

int test_passed, test_failed;

int test_finish(const char *name) {
  printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
  return test_failed == 0 && test_passed > 0 ? 0 : 1;
}

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void test_rng_seed(test_rng *rng, uint64_t seed) {
  for (int i = 0; i < 4; i++)
    rng->s[i] = splitmix64(&seed);
}

uint64_t test_seed_from_env(void) {
  const char *env = getenv("ENSI_TEST_SEED");
  uint64_t seed;
  if (env) {
    seed = strtoull(env, NULL, 0);
  } else {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)clock();
  }
  printf("seed: ENSI_TEST_SEED=%llu\n", (unsigned long long)seed);
  return seed;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t test_rng_next(test_rng *rng) {
  uint64_t *s = rng->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t test_rng_below(test_rng *rng, uint64_t bound) {
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t x;
  do {
    x = test_rng_next(rng);
  } while (x >= limit);
  return x % bound;
}

double test_rng_uniform(test_rng *rng, double lo, double hi) {
  return lo + (hi - lo) * (double)(test_rng_next(rng) >> 11) * 0x1.0p-53;
}

bool test_sanitized(void) {
  const char *env = getenv("ENSI_SANITIZED");
  return env && env[0] == '1';
}

int test_argmax(const double *v, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[best])
      best = i;
  return best;
}

double test_worse(double a, double b) { return isnan(a) || isnan(b) ? NAN : fmax(a, b); }

double test_relative_error(const double *got, const double *want, size_t n, double *scale) {
  double err = 0, top = 0;
  for (size_t i = 0; i < n; i++) {
    err = test_worse(err, fabs(got[i] - want[i]));
    top = fmax(top, fabs(want[i]));
  }
  if (scale)
    *scale = top;
  return top > 0 ? err / top : err;
}

uint64_t test_prime(int size, uint64_t two_n) {
  uint64_t q = 0;
  if (size > 0)
    CHECK(ensi_primes_near(&q, 1, size, two_n, NULL, 0) == ENSI_OK);
  else
    CHECK(ensi_primes_below(&q, 1, -size, two_n, NULL, 0) == ENSI_OK);
  return q;
}
