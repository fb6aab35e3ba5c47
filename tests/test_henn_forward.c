/* The encrypted forward pass end to end on the insecure test-layer preset (N = 2^11, the level
 * budget of n16-boot): the tiny synthetic model (2 layers, d = 64, 4 heads, FFN 128), several
 * random prompts of 8 tokens (3 under the sanitizers: a block of 4 whose last giant step of
 * shifts is partial). The decrypted last hidden states must
 * match the plaintext reference run with the same polynomials to a relative error of 1e-2
 * (max |error| / max |value|), the greedy next token must agree, and the levels must have forced
 * bootstrapping in the norms, two packs a bootstrap (the bootstrapper has a quarter of the default
 * slots, so that x and the FFN's hidden state span 2 and 4 packs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <ensi/henn.h>

#include "fixtures.h"
#include "testutil.h"

enum { MAX_TOKENS = 8 };

/* 8 tokens; 3 under the sanitizers, which slow the arithmetic several times over */
static size_t token_count = MAX_TOKENS;

static void run_prompt(const ensi_henn_setup *setup, const ensi_model *m, const ensi_secret_key *sk,
                       const ensi_public_key *pk, const int32_t *tokens) {
  const ensi_model_config *c = &m->config;
  const size_t hid = (size_t)c->hidden;
  double *want = malloc(token_count * hid * sizeof *want);
  double *got = malloc(token_count * hid * sizeof *got);
  double *logits_want = malloc(token_count * (size_t)c->vocab * sizeof(double));
  double *logits_got = malloc(token_count * (size_t)c->vocab * sizeof(double));
  CHECK(ensi_forward(m, tokens, token_count, &setup->approx, want, logits_want) == ENSI_OK);
  ensi_enc_matrix *x = NULL;
  CHECK(ensi_henn_encrypt_tokens(&x, setup, m, tokens, token_count, pk) == ENSI_OK);
  ensi_henn_stats stats = {0};
  const ensi_status s = ensi_henn_forward(setup, m, x, &stats);
  CHECK_MSG(s == ENSI_OK, "forward: %s: %s", ensi_strerror(s), ensi_error_detail());
  if (s == ENSI_OK) {
    CHECK(ensi_enc_matrix_decrypt(setup->ctx, got, x, sk) == ENSI_OK);
    double scale = 0;
    const double rel = test_relative_error(got, want, token_count * hid, &scale);
    CHECK_MSG(rel <= 1e-2, "relative error %.3g (max |value| %.3g)", rel, scale);
    CHECK(ensi_lm_head(m, got, token_count, logits_got) == ENSI_OK);
    const size_t last = (token_count - 1) * (size_t)c->vocab;
    CHECK(test_argmax(logits_got + last, c->vocab) == test_argmax(logits_want + last, c->vocab));
    CHECK(stats.bootstraps > 0 && stats.refreshes[ENSI_STAGE_RMSNORM] > 0);
    size_t refreshes = 0; /* a refresh of g packs runs ceil(g / 2) bootstraps */
    for (int i = 0; i < ENSI_STAGE_COUNT; i++)
      refreshes += stats.refreshes[i];
    CHECK_MSG(2 * stats.bootstraps <= stats.refreshed_packs + refreshes &&
              stats.refreshed_packs > refreshes,
              "%zu bootstraps for %zu packs in %zu refreshes", stats.bootstraps,
              stats.refreshed_packs, refreshes);
    CHECK(stats.ops[ENSI_STAGE_PCMM].mul == 0 && stats.ops[ENSI_STAGE_PCMM].rotation == 0);
    printf("prompt: relative error %.3g, %zu bootstraps, %.1f s bootstrapping, %.1f s in all\n",
           rel, stats.bootstraps, stats.seconds[ENSI_STAGE_BOOTSTRAP],
           stats.seconds[ENSI_STAGE_PCMM] + stats.seconds[ENSI_STAGE_ROPE] +
               stats.seconds[ENSI_STAGE_CCMM] + stats.seconds[ENSI_STAGE_SIGMOID] +
               stats.seconds[ENSI_STAGE_RMSNORM] + stats.seconds[ENSI_STAGE_FFN_ACT] +
               stats.seconds[ENSI_STAGE_PACKING] + stats.seconds[ENSI_STAGE_BOOTSTRAP] +
               stats.seconds[ENSI_STAGE_RESIDUAL]);
  }
  ensi_enc_matrix_free(x);
  free(want);
  free(got);
  free(logits_want);
  free(logits_got);
}

/* Clear errors instead of wrong results: a layout that does not match the setup, and a setup
 * without a bootstrapper once the levels run out. */
static void check_refusals(const ensi_henn_setup *setup, const ensi_model *m, const ensi_public_key *pk) {
  int32_t tokens[MAX_TOKENS] = {1, 2, 3, 4, 5, 6, 7, 8};
  ensi_enc_matrix *x = NULL;
  CHECK(ensi_henn_encrypt_tokens(&x, setup, m, tokens, token_count, pk) == ENSI_OK);
  ensi_henn_setup no_boot = *setup;
  no_boot.boot = NULL; /* the layout then has 2 b slots, not the bootstrapper's */
  CHECK(ensi_henn_forward(&no_boot, m, x, NULL) == ENSI_ERR_ARG);
  ensi_enc_matrix_free(x);
  x = NULL;
  CHECK(ensi_henn_encrypt_tokens(&x, &no_boot, m, tokens, token_count, pk) == ENSI_OK);
  no_boot.layers = 1;
  const ensi_status s = ensi_henn_forward(&no_boot, m, x, NULL);
  CHECK_MSG(s == ENSI_ERR_LEVEL, "no bootstrapper: %s", ensi_strerror(s));
  ensi_enc_matrix_free(x);
  x = NULL;
  tokens[token_count - 1] = m->config.vocab; /* outside the vocabulary */
  CHECK(ensi_henn_encrypt_tokens(&x, setup, m, tokens, token_count, pk) == ENSI_ERR_ARG && x == NULL);
}

int main(void) {
  test_rng rng;
  test_rng_seed(&rng, test_seed_from_env());
  if (test_sanitized())
    token_count = 3;
  ensi_model *m = test_tiny_model("henn");
  ensi_params_literal lit;
  ensi_params *params;
  ensi_context *ctx;
  CHECK(ensi_params_preset("test-layer", &lit) == ENSI_OK);
  CHECK(ensi_params_create(&params, &lit) == ENSI_OK);
  CHECK(ensi_context_create(&ctx, params) == ENSI_OK);
  ensi_henn_setup setup = {.ctx = ctx};
  test_calibrate(m, token_count, &setup);
  printf("calibrated: sigmoid [%g, %g], SiLU [%g, %g], rsqrt of the input norm [%g, %g], bound %g\n",
         setup.approx.sigmoid_lo, setup.approx.sigmoid_hi, setup.approx.silu_lo, setup.approx.silu_hi,
         setup.approx.rsqrt_lo[0], setup.approx.rsqrt_hi[0], setup.bound);
  ensi_bootstrap_config config;
  /* a quarter of the default: refreshes of several packs, two a bootstrap (ensi_bootstrap_pair) */
  const size_t slots = ensi_henn_default_slots(ctx, &m->config, token_count) / 4;
  CHECK(ensi_bootstrap_config_default(&config, ctx, slots) == ENSI_OK);
  ensi_bootstrapper *bt = NULL;
  CHECK(ensi_bootstrapper_create(&bt, ctx, &config) == ENSI_OK);
  setup.boot = bt;
  ensi_secret_key *sk;
  ensi_public_key *pk;
  ensi_eval_keys *keys = NULL;
  CHECK(ensi_secret_key_generate(&sk, ctx, NULL) == ENSI_OK);
  CHECK(ensi_public_key_generate(&pk, ctx, sk, NULL) == ENSI_OK);
  CHECK(ensi_henn_keys_generate(&keys, ctx, sk, bt, slots, token_count) == ENSI_OK);
  setup.keys = keys;
  const int prompts = test_sanitized() ? 1 : 3;
  for (int p = 0; p < prompts; p++) {
    int32_t tokens[MAX_TOKENS];
    for (size_t t = 0; t < token_count; t++)
      tokens[t] = (int32_t)test_rng_below(&rng, (uint64_t)m->config.vocab);
    run_prompt(&setup, m, sk, pk, tokens);
  }
  check_refusals(&setup, m, pk);
  ensi_eval_keys_free(keys);
  ensi_public_key_free(pk);
  ensi_secret_key_free(sk);
  ensi_bootstrapper_free(bt);
  ensi_context_free(ctx);
  ensi_params_free(params);
  ensi_model_free(m);
  return test_finish("test_henn_forward");
}
