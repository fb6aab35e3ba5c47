/* Calibration of the encrypted path's polynomials and bootstrapping bound on random prompts run
 * through the plaintext reference (see ensi_henn_calibrate in ensi/henn.h). The intervals are
 * widened until they stop moving, because each interval changes the values the next layers see. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/error.h"
#include "henn/henn_eval.h"
#include "math/sampler.h"

static ensi_status measure(const ensi_model *model, size_t count, size_t prompts, uint64_t seed,
                           const ensi_forward_options *approx, ensi_forward_ranges *r) {
  int32_t *tokens = malloc(count * sizeof *tokens);
  if (!tokens)
    return ENSI_ERR_NOMEM;
  uint8_t key[ENSI_PRNG_SEED_BYTES] = {0};
  for (int i = 0; i < 8; i++)
    key[i] = (uint8_t)(seed >> (8 * i));
  ensi_prng prng;
  ensi_prng_init_seeded(&prng, key);
  ensi_forward_options o = *approx;
  o.ranges = r;
  ensi_forward_ranges_reset(r);
  ensi_status s = ENSI_OK;
  for (size_t p = 0; s == ENSI_OK && p < prompts; p++) {
    for (size_t t = 0; t < count; t++) {
      uint64_t token;
      ensi_sample_uniform_mod(&prng, &token, 1, (uint64_t)model->config.vocab);
      tokens[t] = (int32_t)token;
    }
    s = ensi_forward(model, tokens, count, &o, NULL, NULL);
  }
  ensi_prng_clear(&prng);
  free(tokens);
  return s;
}

static int norm_layers(const ensi_model *m) {
  return m->config.layers < ENSI_NORM_LAYERS ? m->config.layers : ENSI_NORM_LAYERS;
}

/* Whether every measured mean square, divided by its center, lies in its kind's interval. */
void ensi_henn_default_degrees(ensi_forward_options *approx) {
  approx->attention = ENSI_ATTENTION_SIGMOID_POLY;
  approx->sigmoid_degree = 15;
  approx->silu_degree = 15;
  const int rsqrt[ENSI_NORM_KINDS] = {[ENSI_NORM_INPUT] = 7, [ENSI_NORM_INNER] = 31,
                                      [ENSI_NORM_POST] = 15, [ENSI_NORM_FFN] = 31};
  for (int k = 0; k < ENSI_NORM_KINDS; k++)
    approx->rsqrt_degree[k] = rsqrt[k];
}

static bool inside(const ensi_model *m, const ensi_forward_options *o,
                   const ensi_forward_ranges *r) {
  bool in = r->score_lo >= o->sigmoid_lo && r->score_hi <= o->sigmoid_hi &&
            r->gate_lo >= o->silu_lo && r->gate_hi <= o->silu_hi;
  for (int l = 0; l < norm_layers(m); l++)
    for (int k = 0; k < ENSI_NORM_KINDS; k++) {
      const double c = o->rsqrt_center[l][k];
      in = in && r->mean_sq_lo[l][k] / c >= o->rsqrt_lo[k] &&
           r->mean_sq_hi[l][k] / c <= o->rsqrt_hi[k];
    }
  return in;
}

/* Centers every layer's range of each norm at 1 (geometric mean of its ends) and sets each kind's
 * interval to the union of the centered ranges, halved and doubled; keeps wider earlier ones. */
static void fit_norms(const ensi_model *m, ensi_forward_options *o, const ensi_forward_ranges *r,
                      bool first) {
  for (int k = 0; k < ENSI_NORM_KINDS; k++) {
    double lo = first ? INFINITY : o->rsqrt_lo[k], hi = first ? 0.0 : o->rsqrt_hi[k];
    for (int l = 0; l < norm_layers(m); l++) {
      if (first)
        o->rsqrt_center[l][k] = sqrt(r->mean_sq_lo[l][k] * r->mean_sq_hi[l][k]);
      const double c = o->rsqrt_center[l][k];
      lo = fmin(lo, r->mean_sq_lo[l][k] / c / 2);
      hi = fmax(hi, 2 * r->mean_sq_hi[l][k] / c);
    }
    o->rsqrt_lo[k] = lo;
    o->rsqrt_hi[k] = hi;
  }
}

ensi_status ensi_henn_calibrate(const ensi_model *model, size_t count, size_t prompts,
                                uint64_t seed, ensi_forward_options *approx, double *bound) {
  if (!model || count == 0 || prompts == 0 || !approx || !bound)
    return ensi_fail(ENSI_ERR_ARG, "calibrate: bad argument");
  approx->attention = ENSI_ATTENTION_SIGMOID_POLY;
  approx->quantize_activations = false;
  approx->sigmoid_lo = -10.0;
  /* exact SiLU and 1/sqrt first (their surrogates are only good on the intervals being chosen),
   * then the surrogates, widening until the ranges they produce settle inside */
  ensi_forward_options exact = *approx; /* the sigmoid stays polynomial: it sets the scale of
                                          the attention output the encrypted path sees */
  exact.silu_degree = 0;
  for (int k = 0; k < ENSI_NORM_KINDS; k++)
    exact.rsqrt_degree[k] = 0;
  ensi_forward_ranges r;
  ENSI_TRY(measure(model, count, prompts, seed, &exact, &r));
  for (int round = 0; round < 4; round++) {
    const double gate_margin = 0.25 * fmax(r.gate_hi - r.gate_lo, 1.0);
    approx->sigmoid_lo = fmin(fmin(-10.0, r.score_lo - 1.0), approx->sigmoid_lo);
    approx->sigmoid_hi = fmax(fmax(11.0, r.score_hi + 1.0), round ? approx->sigmoid_hi : 11.0);
    approx->silu_lo = fmin(r.gate_lo - gate_margin, round ? approx->silu_lo : 0.0);
    approx->silu_hi = fmax(r.gate_hi + gate_margin, round ? approx->silu_hi : 0.0);
    fit_norms(model, approx, &r, round == 0);
    ENSI_TRY(measure(model, count, prompts, seed, approx, &r));
    if (inside(model, approx, &r))
      break;
  }
  ENSI_TRY(measure(model, count, prompts, seed, approx, &r));
  if (!inside(model, approx, &r))
    return ensi_fail(ENSI_ERR_ARG, "calibrate: the ranges do not settle inside the intervals");
  *bound = exp2(ceil(log2(1.25 * fmax(r.max_abs, 1e-3))));
  return ENSI_OK;
}
