/* ensi bench boot [--preset P] [--slots S]: bootstrapping key generation time and key memory,
 * bootstrapping time, levels left, and precision (minimum and mean bits over all slots) on
 * uniform inputs in [-1, 1]; the same for two ciphertexts refreshed by one bootstrap
 * (ensi_bootstrap_pair: pair_s, pair_min_bits over both); peak memory of the process. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ensi/bootstrap.h>
#include <ensi/ckks.h>

#include "bench_util.h"

int ensi_bench_boot(int argc, char **argv, const bench_options *opt);

/* Worst-slot bits of got against want. */
static double min_bits_of(const double *got, const double *want, size_t count) {
  double worst = 0;
  for (size_t j = 0; j < count; j++)
    worst = bench_worse(worst, fabs(got[j] - want[j]));
  return -log2(worst);
}

static ensi_status encrypt_at_zero(const ensi_context *ctx, ensi_ciphertext *ct, const double *x,
                                   size_t slots, double scale, const ensi_secret_key *sk) {
  ensi_plaintext *low = NULL;
  ensi_status s = ensi_plaintext_create(&low, ctx, 0);
  if (s == ENSI_OK)
    s = ensi_encode_real(ctx, low, x, slots, scale);
  if (s == ENSI_OK)
    s = ensi_encrypt_sk(ctx, ct, low, sk, NULL);
  ensi_plaintext_free(low);
  return s;
}

/* The median time of `reps` pair bootstraps of x and its reverse, and the worst slot's bits of
 * both outputs. */
static ensi_status time_pair(const ensi_context *ctx, const ensi_bootstrapper *bt,
                             const ensi_eval_keys *keys, const ensi_secret_key *sk, const double *x,
                             size_t slots, int reps, double *median_s, double *min_bits) {
  const double scale = ensi_bootstrapper_config(bt)->input_scale;
  double *y = malloc(slots * sizeof *y), *got = malloc(slots * sizeof *got);
  double *times = malloc((size_t)reps * sizeof *times);
  ensi_ciphertext *in[2] = {NULL, NULL}, *out[2] = {NULL, NULL};
  ensi_plaintext *pt = NULL;
  ensi_status s = y && got && times ? ENSI_OK : ENSI_ERR_NOMEM;
  for (size_t j = 0; s == ENSI_OK && j < slots; j++)
    y[j] = x[slots - 1 - j];
  for (int i = 0; s == ENSI_OK && i < 2; i++) {
    s = ensi_ciphertext_create(&in[i], ctx, 0);
    if (s == ENSI_OK)
      s = ensi_ciphertext_create(&out[i], ctx, ensi_bootstrap_output_level(bt));
  }
  for (int r = 0; s == ENSI_OK && r < reps; r++) {
    s = encrypt_at_zero(ctx, in[0], x, slots, scale, sk);
    if (s == ENSI_OK)
      s = encrypt_at_zero(ctx, in[1], y, slots, scale, sk);
    const double start = bench_now();
    if (s == ENSI_OK)
      s = ensi_bootstrap_pair(ctx, out[0], out[1], in[0], in[1], 1.0, bt, keys);
    times[r] = bench_now() - start;
  }
  if (s == ENSI_OK)
    s = ensi_plaintext_create(&pt, ctx, ensi_bootstrap_output_level(bt));
  *min_bits = INFINITY;
  for (int i = 0; s == ENSI_OK && i < 2; i++) {
    s = ensi_decrypt(ctx, pt, out[i], sk);
    if (s == ENSI_OK)
      s = ensi_decode(ctx, got, NULL, slots, pt);
    if (s == ENSI_OK)
      *min_bits = fmin(*min_bits, min_bits_of(got, i ? y : x, slots));
  }
  if (s == ENSI_OK)
    *median_s = bench_median(times, (size_t)reps);
  for (int i = 0; i < 2; i++) {
    ensi_ciphertext_free(in[i]);
    ensi_ciphertext_free(out[i]);
  }
  ensi_plaintext_free(pt);
  free(y);
  free(got);
  free(times);
  return s;
}

static int fail(const char *what, ensi_status s) {
  fprintf(stderr, "ensi bench boot: %s: %s %s\n", what, ensi_strerror(s), ensi_error_detail());
  return 1;
}

int ensi_bench_boot(int argc, char **argv, const bench_options *opt) {
  const char *preset = "n16-boot";
  size_t slots = 0;
  for (int i = 1; i + 1 < argc; i++) {
    if (!strcmp(argv[i], "--preset"))
      preset = argv[++i];
    else if (!strcmp(argv[i], "--slots"))
      slots = (size_t)strtoull(argv[++i], NULL, 10);
  }
  const int reps = opt->reps ? opt->reps : 1;
  ensi_params_literal lit;
  ensi_params *params = NULL;
  ensi_context *ctx = NULL;
  ensi_status s = ensi_params_preset(preset, &lit);
  if (s == ENSI_OK)
    s = ensi_params_create(&params, &lit);
  if (s == ENSI_OK)
    s = ensi_context_create(&ctx, params);
  if (s != ENSI_OK)
    return fail(preset, s);
  if (!slots)
    slots = ensi_params_slots(params);
  ensi_bootstrap_config config;
  ensi_bootstrapper *bt = NULL;
  ensi_secret_key *sk = NULL;
  ensi_eval_keys *keys = NULL;
  double t0 = bench_now();
  s = ensi_bootstrap_config_default(&config, ctx, slots);
  if (s == ENSI_OK)
    s = ensi_bootstrapper_create(&bt, ctx, &config);
  double t1 = bench_now();
  if (s != ENSI_OK)
    return fail("set-up", s);
  const size_t count = ensi_bootstrapper_rotation_count(bt);
  s = ensi_secret_key_generate(&sk, ctx, NULL);
  if (s == ENSI_OK)
    s = ensi_bootstrap_keys_generate(&keys, ctx, sk, bt);
  double t2 = bench_now();
  if (s != ENSI_OK)
    return fail("key generation", s);
  double *x = malloc(slots * sizeof *x), *got = malloc(slots * sizeof *got);
  for (size_t j = 0; j < slots; j++)
    x[j] = 2.0 * (double)((j * 2654435761u) % 1000003) / 1000003.0 - 1.0;
  ensi_plaintext *pt = NULL;
  ensi_ciphertext *ct = NULL, *out = NULL;
  double *times = malloc((size_t)reps * sizeof *times), min_bits = 0, mean_bits = 0;
  s = ensi_plaintext_create(&pt, ctx, ensi_context_max_level(ctx));
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&ct, ctx, 0);
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&out, ctx, ensi_context_max_level(ctx));
  for (int r = 0; s == ENSI_OK && r < reps; r++) {
    s = encrypt_at_zero(ctx, ct, x, slots, config.input_scale, sk);
    double start = bench_now();
    if (s == ENSI_OK)
      s = ensi_bootstrap(ctx, out, ct, bt, keys);
    times[r] = bench_now() - start;
  }
  if (s == ENSI_OK)
    s = ensi_decrypt(ctx, pt, out, sk);
  if (s == ENSI_OK)
    s = ensi_decode(ctx, got, NULL, slots, pt);
  if (s != ENSI_OK)
    return fail("bootstrap", s);
  double sum = 0, pair_s = 0, pair_bits = 0;
  for (size_t j = 0; j < slots; j++)
    sum += fabs(got[j] - x[j]);
  min_bits = min_bits_of(got, x, slots);
  mean_bits = -log2(sum / (double)slots);
  s = time_pair(ctx, bt, keys, sk, x, slots, reps, &pair_s, &pair_bits);
  if (s != ENSI_OK)
    return fail("bootstrap pair", s);
  char extra[512];
  snprintf(extra, sizeof extra,
           "\"slots\":%zu,\"levels_left\":%zu,\"precision_min_bits\":%.2f,"
           "\"precision_mean_bits\":%.2f,\"pair_s\":%.3f,\"pair_min_bits\":%.2f,"
           "\"rotation_keys\":%zu,\"key_gib\":%.3f,"
           "\"setup_s\":%.3f,\"keygen_s\":%.3f,\"peak_gib\":%.3f",
           slots, ensi_ciphertext_level(out), min_bits, mean_bits, pair_s, pair_bits, count,
           (double)ensi_eval_keys_bytes(keys) / (1024.0 * 1024.0 * 1024.0), t1 - t0, t2 - t1,
           bench_peak_rss_gib());
  bench_report(opt, "boot/bootstrap", preset, reps, bench_median(times, (size_t)reps), extra);
  free(times);
  free(x);
  free(got);
  ensi_plaintext_free(pt);
  ensi_ciphertext_free(ct);
  ensi_ciphertext_free(out);
  ensi_eval_keys_free(keys);
  ensi_secret_key_free(sk);
  ensi_bootstrapper_free(bt);
  ensi_context_free(ctx);
  ensi_params_free(params);
  return 0;
}
