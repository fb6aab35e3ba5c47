/* The packed layout (ensi/packed.h): encryption round trip, and the masked-diagonal ternary
 * product against the plaintext product X T^T for several shapes (partial packs, more inputs
 * than outputs and fewer, baby steps from 1 to C) at test-n10 (N = 2^10, 512 slots), two products
 * from one set of rotated inputs; bad inputs refused. */
#include <math.h>
#include <stdlib.h>

#include <ensi/ensi.h>

#include "testutil.h"

static test_rng rng;
static ensi_context *ctx;
static ensi_secret_key *sk;
static ensi_public_key *pk;

static double *random_matrix(size_t rows, size_t cols) {
  double *x = malloc(rows * cols * sizeof *x);
  for (size_t i = 0; i < rows * cols; i++)
    x[i] = test_rng_uniform(&rng, -1, 1);
  return x;
}

static void random_ternary(ensi_ternary *w, size_t outputs, size_t inputs) {
  int8_t *trits = malloc(outputs * inputs);
  for (size_t i = 0; i < outputs * inputs; i++)
    trits[i] = (int8_t)((int)test_rng_below(&rng, 3) - 1);
  CHECK(ensi_ternary_from_trits(w, trits, (int)outputs, (int)inputs, 1.0) == ENSI_OK);
  free(trits);
}

static void test_round_trip(void) {
  const size_t rows = 5, cols = 150, level = 3; /* 8 token slots: 64 columns a pack, 3 packs */
  double *x = random_matrix(rows, cols), *back = calloc(rows * cols, sizeof *back);
  ensi_packed_matrix *m = NULL;
  CHECK(ensi_packed_matrix_encrypt(&m, ctx, x, rows, cols, level, 0x1p40, pk) == ENSI_OK);
  CHECK(m && m->per_pack == 64 && m->pack_count == 3);
  CHECK(ensi_packed_matrix_decrypt(ctx, back, m, sk) == ENSI_OK);
  double worst = 0;
  for (size_t i = 0; i < rows * cols; i++)
    worst = test_worse(worst, fabs(back[i] - x[i]));
  CHECK_MSG(worst < 1e-6, "packed round trip: error %.3g", worst);
  ensi_packed_matrix_free(m);
  CHECK(ensi_packed_matrix_encrypt(&m, ctx, x, 1024, 2, level, 0x1p40, pk) != ENSI_OK);
  free(x);
  free(back);
}

/* The largest error of the decrypted packed product `out` against X T^T. */
static double product_error(const ensi_packed_matrix *out, const ensi_ternary *w, const double *x,
                            size_t rows, size_t inputs, size_t outputs) {
  double *y = calloc(rows * outputs, sizeof *y), worst = 0;
  CHECK(ensi_packed_matrix_decrypt(ctx, y, out, sk) == ENSI_OK);
  for (size_t t = 0; t < rows; t++)
    for (size_t k = 0; k < outputs; k++) {
      double want = 0;
      for (size_t j = 0; j < inputs; j++)
        want += ensi_ternary_at(w, k, j) * x[t * inputs + j];
      worst = test_worse(worst, fabs(y[t * outputs + k] - want));
    }
  free(y);
  return worst;
}

static void test_product(size_t rows, size_t inputs, size_t outputs, size_t baby_steps,
                         size_t sums_budget) {
  const size_t level = 2;
  double *x = random_matrix(rows, inputs);
  ensi_ternary w;
  random_ternary(&w, outputs, inputs);
  ensi_packed_pcmm *p = NULL;
  CHECK(ensi_packed_pcmm_create(&p, ctx, &w, rows, level, baby_steps) == ENSI_OK);
  ensi_packed_pcmm_limit_memory(p, sums_budget);
  long long steps[64];
  const size_t step_count = ensi_packed_pcmm_rotations(p, steps, 64);
  ensi_eval_keys *keys = NULL;
  CHECK(ensi_eval_keys_generate(&keys, ctx, sk, false, steps, step_count,
                                ensi_packed_pcmm_conjugates(p), NULL) == ENSI_OK);
  ensi_packed_matrix *in = NULL, *out = NULL;
  CHECK(ensi_packed_matrix_encrypt(&in, ctx, x, rows, inputs, level + 1, 0x1p40, pk) == ENSI_OK);
  CHECK(ensi_packed_pcmm_apply(ctx, &out, p, in, keys) == ENSI_OK);
  CHECK(out && ensi_ciphertext_level(out->pack[0]) == level - 1);
  const double worst = product_error(out, &w, x, rows, inputs, outputs);
  CHECK_MSG(worst < 1e-5, "packed product %zu x %zu times %zu x %zu (B = %zu, budget %zu): "
            "error %.3g", rows, inputs, outputs, inputs, baby_steps, sums_budget, worst);
  ensi_packed_matrix *wrong = NULL;
  CHECK(ensi_packed_matrix_encrypt(&wrong, ctx, x, rows, inputs - 1, level + 1, 0x1p40, pk) ==
        ENSI_OK);
  CHECK(ensi_packed_pcmm_apply(ctx, &out, p, wrong, keys) != ENSI_OK);
  ensi_packed_matrix_free(wrong);
  if (ensi_packed_pcmm_conjugates(p)) { /* paired outputs: refused without the conjugation key */
    ensi_eval_keys *no_conjugation = NULL;
    CHECK(ensi_eval_keys_generate(&no_conjugation, ctx, sk, false, steps, step_count, false,
                                  NULL) == ENSI_OK);
    ensi_packed_matrix *refused = NULL;
    CHECK(ensi_packed_pcmm_apply(ctx, &refused, p, in, no_conjugation) == ENSI_ERR_KEY_MISSING &&
          refused == NULL);
    ensi_eval_keys_free(no_conjugation);
  }
  ensi_packed_matrix_free(in);
  ensi_packed_matrix_free(out);
  ensi_packed_pcmm_free(p);
  ensi_eval_keys_free(keys);
  ensi_ternary_free(&w);
  free(x);
}

/* Two products of one input at different levels from one set of rotated inputs, computed at the
 * higher level: each as exact as on its own; rotations below a product's level, with another
 * B, or without the wrapped copies a product needs, refused. */
static void test_shared_rotations(void) {
  const size_t rows = 7, inputs = 150, outputs[2] = {70, 90}, levels[2] = {3, 2}, B = 8;
  double *x = random_matrix(rows, inputs);
  ensi_ternary w[2];
  ensi_packed_pcmm *p[2] = {NULL, NULL};
  long long steps[128];
  size_t step_count = 0;
  for (int i = 0; i < 2; i++) {
    random_ternary(&w[i], outputs[i], inputs);
    CHECK(ensi_packed_pcmm_create(&p[i], ctx, &w[i], rows, levels[i], B) == ENSI_OK);
    step_count += ensi_packed_pcmm_rotations(p[i], steps + step_count, 64);
  }
  CHECK(ensi_packed_pcmm_wraps(p[0]) && ensi_packed_pcmm_wraps(p[1]));
  ensi_eval_keys *keys = NULL;
  CHECK(ensi_eval_keys_generate(&keys, ctx, sk, false, steps, step_count, true, NULL) == ENSI_OK);
  ensi_packed_matrix *in = NULL;
  CHECK(ensi_packed_matrix_encrypt(&in, ctx, x, rows, inputs, 4, 0x1p40, pk) == ENSI_OK);
  ensi_packed_rotations *r = NULL, *low = NULL, *other_b = NULL, *unwrapped = NULL;
  CHECK(ensi_packed_rotations_compute(&r, ctx, in, 3, B, true, keys) == ENSI_OK);
  for (int i = 0; i < 2; i++) {
    ensi_packed_matrix *out = NULL;
    CHECK(ensi_packed_pcmm_apply_rotations(ctx, &out, p[i], r, keys) == ENSI_OK);
    CHECK(out && ensi_ciphertext_level(out->pack[0]) == levels[i] - 1);
    const double worst = out ? product_error(out, &w[i], x, rows, inputs, outputs[i]) : INFINITY;
    CHECK_MSG(worst < 1e-5, "shared rotations, product %d at level %zu: error %.3g", i,
              levels[i], worst);
    ensi_packed_matrix_free(out);
  }
  ensi_packed_matrix *refused = NULL;
  CHECK(ensi_packed_rotations_compute(&low, ctx, in, 2, B, true, keys) == ENSI_OK);
  CHECK(ensi_packed_pcmm_apply_rotations(ctx, &refused, p[0], low, keys) == ENSI_ERR_LEVEL);
  CHECK(ensi_packed_rotations_compute(&other_b, ctx, in, 3, B / 2, true, keys) == ENSI_OK);
  CHECK(ensi_packed_pcmm_apply_rotations(ctx, &refused, p[1], other_b, keys) == ENSI_ERR_ARG);
  CHECK(ensi_packed_rotations_compute(&unwrapped, ctx, in, 3, B, false, keys) == ENSI_OK);
  CHECK(ensi_packed_pcmm_apply_rotations(ctx, &refused, p[1], unwrapped, keys) == ENSI_ERR_ARG);
  CHECK(refused == NULL);
  ensi_packed_rotations *above = NULL; /* above the input's level */
  CHECK(ensi_packed_rotations_compute(&above, ctx, in, 5, B, true, keys) == ENSI_ERR_LEVEL &&
        above == NULL);
  for (int i = 0; i < 2; i++) {
    ensi_packed_pcmm_free(p[i]);
    ensi_ternary_free(&w[i]);
  }
  ensi_packed_rotations_free(r);
  ensi_packed_rotations_free(low);
  ensi_packed_rotations_free(other_b);
  ensi_packed_rotations_free(unwrapped);
  ensi_packed_matrix_free(in);
  ensi_eval_keys_free(keys);
  free(x);
}

int main(void) {
  test_rng_seed(&rng, test_seed_from_env());
  ensi_params_literal literal;
  ensi_params *params;
  CHECK(ensi_params_preset("test-n10", &literal) == ENSI_OK);
  CHECK(ensi_params_create(&params, &literal) == ENSI_OK);
  CHECK(ensi_context_create(&ctx, params) == ENSI_OK);
  CHECK(ensi_secret_key_generate(&sk, ctx, NULL) == ENSI_OK);
  CHECK(ensi_public_key_generate(&pk, ctx, sk, NULL) == ENSI_OK);
  test_round_trip();
  const size_t all = ENSI_PACKED_PCMM_SUMS_BUDGET;
  test_product(8, 64, 64, 0, all);   /* one pack each way, C = 64, B = 8 */
  test_product(7, 150, 70, 0, all);  /* partial packs, 7 tokens in 8 */
  test_product(7, 150, 200, 0, 1);   /* the sums of one output pack at a time */
  test_product(5, 40, 130, 1, all);  /* one baby step: 64 giant steps */
  test_product(5, 40, 130, 1, 1);    /* one output pack at a time, 64 giant steps */
  test_product(8, 100, 90, 64, all); /* all baby steps: one giant step */
  test_product(32, 50, 40, 4, all);  /* 16 columns a pack */
  test_shared_rotations();
  ensi_packed_pcmm *p = NULL;
  ensi_ternary w;
  random_ternary(&w, 4, 4);
  CHECK(ensi_packed_pcmm_create(&p, ctx, &w, 8, 0, 0) != ENSI_OK);   /* level 0: no rescale */
  CHECK(ensi_packed_pcmm_create(&p, ctx, &w, 8, 2, 3) != ENSI_OK);   /* B must divide C */
  CHECK(ensi_packed_pcmm_create(&p, ctx, &w, 600, 2, 0) != ENSI_OK); /* beyond 512 slots */
  ensi_ternary_free(&w);
  ensi_public_key_free(pk);
  ensi_secret_key_free(sk);
  ensi_context_free(ctx);
  ensi_params_free(params);
  return test_finish("test_henn_packed");
}
