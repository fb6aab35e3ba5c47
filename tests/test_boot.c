/* Bootstrapping on the insecure test preset (N = 2^11, sparse secret): the homomorphic DFTs
 * against the plaintext special FFT, then full bootstrapping for full and sparse slots: at least
 * 12 bits of precision on uniform inputs in [-1, 1] and exactly the documented output level; a
 * constant vector of 0.999 (the sine's worst case: all of it in one coefficient) keeps 18 bits.
 * Two real vectors bootstrapped as one pair (and halved by its factor) come back apart, each to
 * 12 bits. */
#include <complex.h>
#include <math.h>
#include <stdlib.h>

#include <ensi/bootstrap.h>
#include <ensi/ckks.h>

#include "testutil.h"

static test_rng rng;

/* -log2 of the largest and of the mean absolute error. */
static void precision_bits(const double *got, const double *want, size_t count, double *min_bits,
                           double *mean_bits) {
  double worst = 0, sum = 0;
  for (size_t j = 0; j < count; j++) {
    const double e = fabs(got[j] - want[j]);
    worst = test_worse(worst, e);
    sum += e;
  }
  *min_bits = -log2(worst);
  *mean_bits = -log2(sum / (double)count);
}

static ensi_ciphertext *encrypt_uniform(const ensi_context *ctx, ensi_secret_key *sk, double *x,
                                        size_t slots, double scale, size_t level) {
  for (size_t j = 0; j < slots; j++)
    x[j] = test_rng_uniform(&rng, -1, 1);
  ensi_plaintext *pt;
  ensi_ciphertext *ct;
  CHECK(ensi_plaintext_create(&pt, ctx, level) == ENSI_OK);
  CHECK(ensi_encode_real(ctx, pt, x, slots, scale) == ENSI_OK);
  CHECK(ensi_ciphertext_create(&ct, ctx, level) == ENSI_OK);
  CHECK(ensi_encrypt_sk(ctx, ct, pt, sk, NULL) == ENSI_OK);
  ensi_plaintext_free(pt);
  return ct;
}

/* The real slots of ct against x: at least 12 bits; returns the mean bits. */
static double check_real_slots(const ensi_context *ctx, ensi_secret_key *sk, const ensi_ciphertext *ct,
                               const double *x, size_t slots, const char *what) {
  double *got = malloc(slots * sizeof *got), *imag = malloc(slots * sizeof *imag);
  ensi_plaintext *pt;
  CHECK(ensi_plaintext_create(&pt, ctx, ensi_context_max_level(ctx)) == ENSI_OK);
  CHECK(ensi_decrypt(ctx, pt, ct, sk) == ENSI_OK);
  CHECK(ensi_decode(ctx, got, imag, slots, pt) == ENSI_OK);
  double min_bits, mean_bits, imag_bits, unused;
  precision_bits(got, x, slots, &min_bits, &mean_bits);
  for (size_t j = 0; j < slots; j++)
    got[j] = 0;
  precision_bits(imag, got, slots, &imag_bits, &unused);
  CHECK_MSG(min_bits >= 12 && imag_bits >= 12, "%s: %.1f bits (minimum), imaginary part %.1f bits",
            what, min_bits, imag_bits);
  ensi_plaintext_free(pt);
  free(got);
  free(imag);
  return mean_bits;
}

/* Two vectors, one at the top level and one at level 0, bootstrapped as one pair and scaled by
 * 1/2 on the way (ensi_bootstrap_pair's factor). */
static void check_pair(const ensi_context *ctx, ensi_secret_key *sk, const ensi_bootstrapper *bt,
                       const ensi_eval_keys *keys, size_t slots) {
  const double scale = ensi_bootstrapper_config(bt)->input_scale;
  double *x = malloc(slots * sizeof *x), *y = malloc(slots * sizeof *y);
  ensi_ciphertext *a = encrypt_uniform(ctx, sk, x, slots, scale, ensi_context_max_level(ctx));
  ensi_ciphertext *b = encrypt_uniform(ctx, sk, y, slots, scale, 0);
  ensi_ciphertext *ra, *rb;
  const size_t out = ensi_bootstrap_output_level(bt);
  CHECK(ensi_ciphertext_create(&ra, ctx, out) == ENSI_OK);
  CHECK(ensi_ciphertext_create(&rb, ctx, out) == ENSI_OK);
  CHECK(ensi_bootstrap_pair(ctx, ra, ra, a, b, 1.0, bt, keys) == ENSI_ERR_ARG);
  CHECK(ensi_bootstrap_pair(ctx, ra, rb, a, b, 0.0, bt, keys) == ENSI_ERR_ARG);
  ensi_status s = ensi_bootstrap_pair(ctx, ra, rb, a, b, 0.5, bt, keys);
  for (size_t j = 0; j < slots; j++) {
    x[j] *= 0.5;
    y[j] *= 0.5;
  }
  CHECK_MSG(s == ENSI_OK, "bootstrap pair: %s: %s", ensi_strerror(s), ensi_error_detail());
  CHECK(ensi_ciphertext_level(ra) == out && ensi_ciphertext_level(rb) == out);
  const double bits_a = check_real_slots(ctx, sk, ra, x, slots, "pair, real part");
  const double bits_b = check_real_slots(ctx, sk, rb, y, slots, "pair, imaginary part");
  printf("bootstrap pair, %zu slots: %.1f / %.1f bits mean\n", slots, bits_a, bits_b);
  ensi_ciphertext_free(a);
  ensi_ciphertext_free(b);
  ensi_ciphertext_free(ra);
  ensi_ciphertext_free(rb);
  free(x);
  free(y);
}

static void check_bootstrap(const ensi_context *ctx, ensi_secret_key *sk, size_t slots,
                            bool constant) {
  const bool dense = ensi_params_hamming_weight(ensi_context_params(ctx)) == 0;
  ensi_bootstrap_config config;
  CHECK(ensi_bootstrap_config_default(&config, ctx, slots) == ENSI_OK);
  ensi_bootstrapper *bt;
  ensi_status s = ensi_bootstrapper_create(&bt, ctx, &config);
  CHECK_MSG(s == ENSI_OK, "bootstrapper: %s: %s", ensi_strerror(s), ensi_error_detail());
  if (s != ENSI_OK)
    return;
  const size_t count = ensi_bootstrapper_rotation_count(bt);
  long long *steps = malloc(count * sizeof *steps);
  ensi_bootstrapper_rotations(bt, steps);
  ensi_eval_keys *keys;
  CHECK(ensi_eval_keys_generate(&keys, ctx, sk, true, steps, count, true, NULL) == ENSI_OK);
  CHECK(config.sparse_weight == (dense ? 32u : 0u));
  double *x = malloc(slots * sizeof *x), *got = malloc(slots * sizeof *got);
  for (size_t j = 0; j < slots; j++)
    x[j] = constant ? 0.999 : test_rng_uniform(&rng, -1, 1);
  ensi_plaintext *pt;
  ensi_ciphertext *ct;
  CHECK(ensi_plaintext_create(&pt, ctx, 0) == ENSI_OK);
  CHECK(ensi_encode_real(ctx, pt, x, slots, config.input_scale) == ENSI_OK);
  CHECK(ensi_ciphertext_create(&ct, ctx, ensi_context_max_level(ctx)) == ENSI_OK);
  CHECK(ensi_encrypt_sk(ctx, ct, pt, sk, NULL) == ENSI_OK);
  if (dense) { /* a dense secret needs the encapsulation keys */
    CHECK(ensi_bootstrap(ctx, ct, ct, bt, keys) == ENSI_ERR_KEY_MISSING);
    CHECK(ensi_eval_keys_add_encapsulation(keys, ctx, sk, config.sparse_weight, NULL) == ENSI_OK);
  }
  s = ensi_bootstrap(ctx, ct, ct, bt, keys);
  CHECK_MSG(s == ENSI_OK, "bootstrap: %s: %s", ensi_strerror(s), ensi_error_detail());
  CHECK(ensi_ciphertext_level(ct) == ensi_bootstrap_output_level(bt));
  ensi_plaintext_free(pt);
  CHECK(ensi_plaintext_create(&pt, ctx, ensi_context_max_level(ctx)) == ENSI_OK);
  CHECK(ensi_decrypt(ctx, pt, ct, sk) == ENSI_OK);
  CHECK(ensi_decode(ctx, got, NULL, slots, pt) == ENSI_OK);
  double min_bits, mean_bits;
  precision_bits(got, x, slots, &min_bits, &mean_bits);
  CHECK_MSG(min_bits >= (constant ? 18 : 12), "bootstrap %zu slots: %.1f bits (minimum)", slots,
            min_bits);
  printf("bootstrap %s secret, %s%zu slots: K %.0f, cosine degree %d, %d double angles, %zu rotation keys, "
         "%zu levels left, precision %.1f bits min / %.1f bits mean\n", dense ? "dense" : "sparse",
         constant ? "constant input, " : "", slots, config.k_bound,
         config.cos_degree, config.double_angles, count, ensi_bootstrap_output_level(bt),
         min_bits, mean_bits);
  if (!constant)
    check_pair(ctx, sk, bt, keys, slots);
  free(x);
  free(got);
  free(steps);
  ensi_plaintext_free(pt);
  ensi_ciphertext_free(ct);
  ensi_eval_keys_free(keys);
  ensi_bootstrapper_free(bt);
}

/* h = 32: the preset's sparse secret; h = 0: a dense secret, bootstrapped with encapsulation */
static void check_secret(size_t hamming_weight) {
  ensi_params_literal lit;
  ensi_params *params;
  ensi_context *ctx;
  CHECK(ensi_params_preset("test-boot", &lit) == ENSI_OK);
  lit.hamming_weight = hamming_weight;
  CHECK(ensi_params_create(&params, &lit) == ENSI_OK);
  CHECK(ensi_context_create(&ctx, params) == ENSI_OK);
  ensi_secret_key *sk;
  CHECK(ensi_secret_key_generate(&sk, ctx, NULL) == ENSI_OK);
  check_bootstrap(ctx, sk, ensi_params_slots(params), false); /* full: 1024 slots */
  check_bootstrap(ctx, sk, 64, false);                        /* sparse */
  check_bootstrap(ctx, sk, 8, false);
  check_bootstrap(ctx, sk, 64, true);
  ensi_secret_key_free(sk);
  ensi_context_free(ctx);
  ensi_params_free(params);
}

int main(void) {
  test_rng_seed(&rng, test_seed_from_env());
  check_secret(32);
  check_secret(0);
  return test_finish("test_boot");
}
