/* The encrypted forward pass in the packed layout end to end on the insecure test-layer preset
 * (N = 2^11, the level budget of n16-boot): the tiny synthetic model (2 layers, d = 64, 4 heads of
 * 16 dims, FFN 128) on random prompts of 16 tokens (5 under the sanitizers: a partial token block
 * with padding tokens, packs of 128 columns, one pack each of x, scores and gate). Packs of 64
 * columns: x is one pack, the attention two (8 dims of each head per pack), the scores two and the
 * gate two, each two refreshed by one bootstrap (ensi_bootstrap_pair). The decrypted last hidden
 * states must match the plaintext reference run with the same polynomials to a relative error of
 * 1e-2 (max |error| / max |value|), the greedy next token must agree, and the levels must have
 * forced exactly the refreshes of the design (x before its norms, x normalized by the post norm,
 * the scores, one ciphertext for each of the inner and FFN norms; not the gate).
 * One more prompt with n16-boot's 40-bit primes (the working scale then sits far from them). Also
 * the client's encryption without evaluation keys, and the refusals: no keys to evaluate with, a
 * bootstrapper of fewer slots than N / 2, no bootstrapper once the levels run out, an input
 * encrypted under another setup, a model whose heads do not fit the packs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <ensi/packed_forward.h>

#include "fixtures.h"
#include "testutil.h"

enum { MAX_TOKENS = 16 };

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
  ensi_packed_matrix *x = NULL;
  CHECK(ensi_henn_packed_encrypt_tokens(&x, setup, m, tokens, token_count, pk) == ENSI_OK);
  ensi_henn_stats stats = {0};
  const ensi_status s = ensi_henn_packed_forward(setup, m, x, &stats);
  CHECK_MSG(s == ENSI_OK, "packed forward: %s: %s", ensi_strerror(s), ensi_error_detail());
  if (s == ENSI_OK) {
    CHECK(ensi_packed_matrix_decrypt(setup->ctx, got, x, sk) == ENSI_OK);
    double scale = 0;
    const double rel = test_relative_error(got, want, token_count * hid, &scale);
    CHECK_MSG(rel <= 1e-2, "relative error %.3g (max |value| %.3g)", rel, scale);
    CHECK(ensi_lm_head(m, got, token_count, logits_got) == ENSI_OK);
    const size_t last = (token_count - 1) * (size_t)c->vocab;
    CHECK(test_argmax(logits_got + last, c->vocab) == test_argmax(logits_want + last, c->vocab));
    /* per layer: x before both norms (the first layer's input norm has the client's levels), x
     * normalized by the post norm, the scores, two packs a bootstrap; the inner and FFN norms
     * bootstrap one ciphertext each (their mapped sums of squares), not the packs of their
     * inputs; the gate keeps the levels of SiLU */
    const size_t layers = (size_t)c->layers, x_packs = 1;
    const size_t score_packs = token_count > 8 ? 2 : 1;
    const size_t x_boots = (x_packs + 1) / 2, score_boots = (score_packs + 1) / 2;
    CHECK(stats.refreshes[ENSI_STAGE_RMSNORM] == 5 * layers - 1);
    CHECK(stats.refreshes[ENSI_STAGE_SIGMOID] == layers);
    CHECK(stats.refreshes[ENSI_STAGE_FFN_ACT] == 0);
    CHECK_MSG(stats.bootstraps == layers * (3 * x_boots + score_boots + 2) - x_boots,
              "%zu bootstraps", stats.bootstraps);
    CHECK_MSG(stats.refreshed_packs == layers * (3 * x_packs + score_packs + 2) - x_packs,
              "%zu packs refreshed (h's instead of its norm's sum?)", stats.refreshed_packs);
    double total = 0;
    for (int i = 0; i < ENSI_STAGE_COUNT; i++)
      total += stats.seconds[i];
    printf("prompt: relative error %.3g, %zu bootstraps, %.1f s bootstrapping, %.1f s in all\n",
           rel, stats.bootstraps, stats.seconds[ENSI_STAGE_BOOTSTRAP], total);
  }
  ensi_packed_matrix_free(x);
  free(want);
  free(got);
  free(logits_want);
  free(logits_got);
}

static void check_refusals(const ensi_henn_setup *setup, const ensi_model *m,
                           const ensi_public_key *pk) {
  int32_t tokens[MAX_TOKENS] = {1, 2, 3, 4, 5, 6, 7, 8};
  ensi_henn_setup client = *setup; /* the client encrypts without evaluation keys */
  client.keys = NULL;
  ensi_packed_matrix *x = NULL;
  CHECK(ensi_henn_packed_encrypt_tokens(&x, &client, m, tokens, token_count, pk) == ENSI_OK);
  CHECK(ensi_henn_packed_forward(&client, m, x, NULL) == ENSI_ERR_ARG); /* evaluating needs them */
  ensi_bootstrap_config narrow = *ensi_bootstrapper_config(setup->boot);
  narrow.slots /= 2;
  ensi_henn_setup wrong = *setup;
  wrong.boot = NULL;
  wrong.boot_config = &narrow;
  CHECK(ensi_henn_packed_forward(&wrong, m, x, NULL) == ENSI_ERR_ARG);
  wrong.boot_config = ensi_bootstrapper_config(setup->boot); /* the client's view: no refresh */
  ensi_packed_matrix *copy = NULL;
  CHECK(ensi_henn_packed_encrypt_tokens(&copy, setup, m, tokens, token_count, pk) == ENSI_OK);
  const ensi_status no_refresh = ensi_henn_packed_forward(&wrong, m, copy, NULL);
  CHECK_MSG(no_refresh == ENSI_ERR_LEVEL, "no bootstrapper: %s", ensi_strerror(no_refresh));
  ensi_packed_matrix_free(copy);
  CHECK(ensi_drop_level(setup->ctx, x->pack[0], x->pack[0], ensi_ciphertext_level(x->pack[0]) - 1) ==
        ENSI_OK);
  CHECK(ensi_henn_packed_forward(setup, m, x, NULL) == ENSI_ERR_MISMATCH);
  ensi_packed_matrix_free(x);
  x = NULL;
  tokens[0] = m->config.vocab;
  CHECK(ensi_henn_packed_encrypt_tokens(&x, setup, m, tokens, token_count, pk) == ENSI_ERR_ARG &&
        x == NULL);
  ensi_model_config many_heads = m->config;
  many_heads.heads = 256; /* more heads than the 128 columns of a pack */
  many_heads.head_dim = 2;
  CHECK(ensi_henn_packed_check(setup->ctx, &many_heads, token_count) == ENSI_ERR_ARG);
  long long steps[ENSI_HENN_PACKED_MAX_ROTATIONS];
  size_t levels[ENSI_HENN_PACKED_MAX_ROTATIONS];
  CHECK(ensi_henn_packed_rotation_steps(setup->ctx, &many_heads, token_count, 9, steps, levels) ==
        0);
}

/* The packed layers under the preset lit: `prompts` random prompts, then the refusals if asked. */
static void run_preset(const ensi_params_literal *lit, const ensi_model *m, test_rng *rng,
                       int prompts, bool refusals) {
  ensi_params *params;
  ensi_context *ctx;
  CHECK(ensi_params_create(&params, lit) == ENSI_OK);
  CHECK(ensi_context_create(&ctx, params) == ENSI_OK);
  CHECK(ensi_henn_packed_check(ctx, &m->config, token_count) == ENSI_OK);
  ensi_henn_setup setup = {.ctx = ctx};
  test_calibrate(m, token_count, &setup);
  ensi_bootstrap_config config;
  CHECK(ensi_bootstrap_config_default(&config, ctx, ensi_params_slots(params)) == ENSI_OK);
  ensi_bootstrapper *bt = NULL;
  CHECK(ensi_bootstrapper_create(&bt, ctx, &config) == ENSI_OK);
  setup.boot = bt;
  ensi_secret_key *sk;
  ensi_public_key *pk;
  ensi_eval_keys *keys = NULL;
  CHECK(ensi_secret_key_generate(&sk, ctx, NULL) == ENSI_OK);
  CHECK(ensi_public_key_generate(&pk, ctx, sk, NULL) == ENSI_OK);
  const ensi_status ks = ensi_henn_packed_keys_generate(&keys, ctx, sk, bt, &m->config, token_count);
  CHECK_MSG(ks == ENSI_OK, "keys: %s", ensi_error_detail());
  setup.keys = keys;
  for (int p = 0; p < prompts; p++) {
    int32_t tokens[MAX_TOKENS];
    for (size_t t = 0; t < token_count; t++)
      tokens[t] = (int32_t)test_rng_below(rng, (uint64_t)m->config.vocab);
    run_prompt(&setup, m, sk, pk, tokens);
  }
  if (refusals)
    check_refusals(&setup, m, pk);
  ensi_eval_keys_free(keys);
  ensi_public_key_free(pk);
  ensi_secret_key_free(sk);
  ensi_bootstrapper_free(bt);
  ensi_context_free(ctx);
  ensi_params_free(params);
}

int main(void) {
  test_rng rng;
  test_rng_seed(&rng, test_seed_from_env());
  if (test_sanitized())
    token_count = 5;
  ensi_model *m = test_tiny_model("henn-packed");
  ensi_params_literal lit;
  CHECK(ensi_params_preset("test-layer", &lit) == ENSI_OK);
  run_preset(&lit, m, &rng, test_sanitized() ? 1 : 2, true);
  if (!test_sanitized()) { /* n16-boot's 40-bit primes below the bootstrapping's EvalMod: the
                            * working scale sits 2^6 away from them, and the polynomials' inputs
                            * must come back from bootstrapping at their primes */
    for (size_t level = 1; level <= 13; level++)
      lit.level_bits[level - 1] = 40;
    run_preset(&lit, m, &rng, 1, false);
  }
  ensi_model_free(m);
  return test_finish("test_henn_packed_forward");
}
