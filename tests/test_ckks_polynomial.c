/* Encrypted Chebyshev evaluation against the same polynomial evaluated in double precision
 * (Clenshaw), for exp on [-1, 1], the logistic sigmoid on [-10, 11] (degree 16, as in ENSI) and
 * 1/sqrt on [0.01, 100]; inputs drawn uniformly over each interval. Also checks the level and
 * the exact output scale, and the evaluation from an input already on [-1, 1] (one level less). */
#include <math.h>
#include <stdlib.h>

#include <ensi/ckks.h>
#include <ensi/polynomial.h>

#include "testutil.h"

static test_rng rng;

/* Chebyshev interpolation coefficients of f on [a, b] at degree + 1 Chebyshev nodes. */
static void fit(double *c, int degree, double a, double b, double (*f)(double)) {
  const int n = degree + 1;
  for (int k = 0; k <= degree; k++) {
    long double sum = 0;
    for (int j = 0; j < n; j++) {
      long double theta = M_PI * (j + 0.5L) / n;
      long double y = cosl(theta), x = 0.5L * (b - a) * y + 0.5L * (b + a);
      sum += f((double)x) * cosl(k * theta);
    }
    c[k] = (double)(sum * 2.0L / n);
  }
  c[0] *= 0.5;
}

static double clenshaw(const double *c, int degree, double a, double b, double x) {
  double y = (2 * x - a - b) / (b - a), b1 = 0, b2 = 0;
  for (int k = degree; k >= 1; k--) {
    double t = 2 * y * b1 - b2 + c[k];
    b2 = b1;
    b1 = t;
  }
  return y * b1 - b2 + c[0];
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double inv_sqrt(double x) { return 1.0 / sqrt(x); }

/* f's polynomial evaluated from level L (0: the top). */
static void check_function_at(const ensi_context *ctx, ensi_secret_key *sk, ensi_eval_keys *keys,
                              const char *name, double (*f)(double), int degree, double a, double b,
                              double min_bits, size_t L) {
  const size_t slots = 64;
  if (L == 0)
    L = ensi_context_max_level(ctx);
  double c[256], x[64], got[64];
  fit(c, degree, a, b, f);
  for (size_t j = 0; j < slots; j++)
    x[j] = test_rng_uniform(&rng, a, b);
  const double scale = ensi_params_scale(ensi_context_params(ctx));
  ensi_plaintext *pt;
  ensi_ciphertext *ct;
  CHECK(ensi_plaintext_create(&pt, ctx, L) == ENSI_OK);
  CHECK(ensi_encode_real(ctx, pt, x, slots, scale) == ENSI_OK);
  CHECK(ensi_ciphertext_create(&ct, ctx, L) == ENSI_OK);
  CHECK(ensi_encrypt_sk(ctx, ct, pt, sk, NULL) == ENSI_OK);
  const double target = scale * 1.5;
  ensi_status s = ensi_eval_chebyshev(ctx, ct, ct, c, degree, a, b, target, keys);
  CHECK_MSG(s == ENSI_OK, "%s: %s", name, ensi_strerror(s));
  CHECK_MSG(ensi_ciphertext_level(ct) == L - ensi_chebyshev_depth(degree, a, b), "%s: level %zu", name,
            ensi_ciphertext_level(ct));
  CHECK_MSG(fabs(ensi_ciphertext_scale(ct) / target - 1) < 1e-9, "%s: exact output scale", name);
  CHECK(ensi_decrypt(ctx, pt, ct, sk) == ENSI_OK);
  CHECK(ensi_decode(ctx, got, NULL, slots, pt) == ENSI_OK);
  double worst = 0, fn_err = 0;
  for (size_t j = 0; j < slots; j++) {
    double want = clenshaw(c, degree, a, b, x[j]);
    worst = test_worse(worst, fabs(got[j] - want) / fmax(1.0, fabs(want)));
    fn_err = fmax(fn_err, fabs(want - f(x[j])));
  }
  double bits = -log2(worst);
  CHECK_MSG(bits >= min_bits, "%s degree %d on [%g, %g] from level %zu: %.1f bits (approximation "
            "error %.2g)", name, degree, a, b, L, bits, fn_err);
  printf("%s degree %d on [%g, %g] from level %zu: depth %zu, %.1f bits vs the plaintext "
         "polynomial\n", name, degree, a, b, L, ensi_chebyshev_depth(degree, a, b), bits);
  ensi_plaintext_free(pt);
  ensi_ciphertext_free(ct);
}

static void check_function(const ensi_context *ctx, ensi_secret_key *sk, ensi_eval_keys *keys,
                           const char *name, double (*f)(double), int degree, double a, double b,
                           double min_bits) {
  check_function_at(ctx, sk, keys, name, f, degree, a, b, min_bits, 0);
}

/* ensi_eval_chebyshev_unit: the input already mapped to [-1, 1] (encrypted at the prime of its
 * level, as a mask that maps would leave it): the same values one level higher. */
static void check_unit_input(const ensi_context *ctx, ensi_secret_key *sk, ensi_eval_keys *keys,
                             int degree, double a, double b) {
  const size_t slots = 64, L = ensi_context_max_level(ctx);
  double c[64], x[64], y[64], got[64];
  fit(c, degree, a, b, inv_sqrt);
  for (size_t j = 0; j < slots; j++) {
    x[j] = test_rng_uniform(&rng, a, b);
    y[j] = (2 * x[j] - a - b) / (b - a);
  }
  ensi_plaintext *pt;
  ensi_ciphertext *ct;
  CHECK(ensi_plaintext_create(&pt, ctx, L) == ENSI_OK);
  CHECK(ensi_encode_real(ctx, pt, y, slots, ensi_context_prime(ctx, L)) == ENSI_OK);
  CHECK(ensi_ciphertext_create(&ct, ctx, L) == ENSI_OK);
  CHECK(ensi_encrypt_sk(ctx, ct, pt, sk, NULL) == ENSI_OK);
  const double target = ensi_params_scale(ensi_context_params(ctx));
  CHECK(ensi_eval_chebyshev_unit(ctx, ct, ct, c, degree, target, keys) == ENSI_OK);
  CHECK_MSG(ensi_ciphertext_level(ct) == L + 1 - ensi_chebyshev_depth(degree, a, b),
            "unit input: level %zu", ensi_ciphertext_level(ct));
  CHECK(fabs(ensi_ciphertext_scale(ct) / target - 1) < 1e-9);
  CHECK(ensi_decrypt(ctx, pt, ct, sk) == ENSI_OK);
  CHECK(ensi_decode(ctx, got, NULL, slots, pt) == ENSI_OK);
  double worst = 0;
  for (size_t j = 0; j < slots; j++) {
    const double want = clenshaw(c, degree, a, b, x[j]);
    worst = test_worse(worst, fabs(got[j] - want) / fmax(1.0, fabs(want)));
  }
  CHECK_MSG(-log2(worst) >= 20, "unit input, degree %d: %.1f bits", degree, -log2(worst));
  CHECK(ensi_eval_chebyshev_unit(ctx, ct, ct, NULL, degree, target, keys) == ENSI_ERR_ARG);
  ensi_plaintext_free(pt);
  ensi_ciphertext_free(ct);
}

/* Every start level of test-layer, whose primes change size along the chain (55, 50, 45 bits):
 * where a giant power's scale is far from the prime it is divided by, the quotient's constants
 * once kept only a few bits (12 bits from level 15; garbage on n16-boot's 55/45/40 chain). */
static void check_mixed_primes(void) {
  ensi_params_literal literal;
  ensi_params *params;
  ensi_context *ctx;
  ensi_secret_key *sk;
  ensi_eval_keys *keys;
  CHECK(ensi_params_preset("test-layer", &literal) == ENSI_OK);
  CHECK(ensi_params_create(&params, &literal) == ENSI_OK);
  CHECK(ensi_context_create(&ctx, params) == ENSI_OK);
  CHECK(ensi_secret_key_generate(&sk, ctx, NULL) == ENSI_OK);
  CHECK(ensi_eval_keys_generate(&keys, ctx, sk, true, NULL, 0, false, NULL) == ENSI_OK);
  for (size_t level = 7; level <= ensi_context_max_level(ctx); level++)
    check_function_at(ctx, sk, keys, "sigmoid", sigmoid, 15, -15.4, -4.3, 20, level);
  ensi_eval_keys_free(keys);
  ensi_secret_key_free(sk);
  ensi_context_free(ctx);
  ensi_params_free(params);
}

int main(void) {
  test_rng_seed(&rng, test_seed_from_env());
  ensi_params *params;
  ensi_context *ctx;
  ensi_params_literal literal;
  CHECK(ensi_params_preset("test-n10", &literal) == ENSI_OK);
  CHECK(ensi_params_create(&params, &literal) == ENSI_OK);
  CHECK(ensi_context_create(&ctx, params) == ENSI_OK);
  ensi_secret_key *sk;
  ensi_eval_keys *keys;
  CHECK(ensi_secret_key_generate(&sk, ctx, NULL) == ENSI_OK);
  CHECK(ensi_eval_keys_generate(&keys, ctx, sk, true, NULL, 0, false, NULL) == ENSI_OK);
  check_function(ctx, sk, keys, "exp", exp, 12, -1, 1, 20);
  check_function(ctx, sk, keys, "sigmoid", sigmoid, 16, -10, 11, 20);
  check_function(ctx, sk, keys, "inv_sqrt", inv_sqrt, 63, 0.01, 100, 16);
  for (int degree = 1; degree <= 40; degree += 3)
    check_function(ctx, sk, keys, "sigmoid", sigmoid, degree, -4, 4, 20);
  for (int degree = 3; degree <= 31; degree = 2 * degree + 1)
    check_unit_input(ctx, sk, keys, degree, 0.5, 2.0);
  check_mixed_primes();
  ensi_eval_keys_free(keys);
  ensi_secret_key_free(sk);
  ensi_context_free(ctx);
  ensi_params_free(params);
  return test_finish("test_ckks_polynomial");
}
