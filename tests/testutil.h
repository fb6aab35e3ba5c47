/* Minimal test harness: CHECK macros that count results, a deterministic test-only random
 * generator (never used by the library), and the closing "N passed, N failed" line. */
#ifndef ENSI_TESTS_TESTUTIL_H
#define ENSI_TESTS_TESTUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

extern int test_passed, test_failed;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (cond) {                                                                  \
      test_passed++;                                                             \
    } else {                                                                     \
      test_failed++;                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
    }                                                                            \
  } while (0)

#define CHECK_MSG(cond, ...)                                                     \
  do {                                                                           \
    if (cond) {                                                                  \
      test_passed++;                                                             \
    } else {                                                                     \
      test_failed++;                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);   \
      fprintf(stderr, __VA_ARGS__);                                              \
      fputc('\n', stderr);                                                       \
    }                                                                            \
  } while (0)

/* Prints "N passed, N failed" and returns the process exit code. */
int test_finish(const char *name);

/* Test-only PRNG (xoshiro256**), seeded explicitly so that failures are reproducible.
 * test_seed_from_env uses ENSI_TEST_SEED when set, otherwise fresh entropy, and prints it. */
typedef struct { uint64_t s[4]; } test_rng;
void test_rng_seed(test_rng *rng, uint64_t seed);
uint64_t test_seed_from_env(void);
uint64_t test_rng_next(test_rng *rng);
uint64_t test_rng_below(test_rng *rng, uint64_t bound); /* uniform in [0, bound) */
double test_rng_uniform(test_rng *rng, double lo, double hi);

/* Prime sizes for the arithmetic kernels' tests: b asks for an NTT-friendly prime (1 mod two_n)
 * near 2^b (the nearest may lie above), TEST_BELOW(b) for the largest one below 2^b (the edges
 * of a kernel's range, e.g. IFMA's 50, 51 and 52 bits). */
#define TEST_BELOW(b) (-(b))
uint64_t test_prime(int size, uint64_t two_n);

/* True when running under sanitizers (make test-asan sets ENSI_SANITIZED=1): tests may shrink
 * their sizes, never their checks. */
bool test_sanitized(void);

/* The index of the largest of v[0 .. n) (the first on ties). */
int test_argmax(const double *v, int n);
/* The worse of two error measures: a NaN wins and stays (fmax would drop it, and a pass that
 * produced NaN would read as exact). */
double test_worse(double a, double b);
/* max |got - want| / max |want| over n values (the encrypted passes' error measure); *scale
 * receives max |want| when not NULL. */
double test_relative_error(const double *got, const double *want, size_t n, double *scale);

#endif
