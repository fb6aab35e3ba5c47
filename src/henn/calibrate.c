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

static bool inside(const ensi_forward_options *o, const ensi_forward_ranges *r) {
  return r->score_lo >= o->sigmoid_lo && r->score_hi <= o->sigmoid_hi && r->gate_lo >= o->silu_lo &&
         r->gate_hi <= o->silu_hi && r->mean_sq_lo >= o->rsqrt_lo && r->mean_sq_hi <= o->rsqrt_hi;
}

ensi_status ensi_henn_calibrate(const ensi_model *model, size_t count, size_t prompts,
                                uint64_t seed, ensi_forward_options *approx, double *bound) {
  if (!model || count == 0 || prompts == 0 || !approx || !bound)
    return ensi_fail(ENSI_ERR_ARG, "calibrate: bad argument");
  approx->attention = ENSI_ATTENTION_SIGMOID_POLY;
  approx->quantize_activations = false;
  approx->sigmoid_lo = -10.0;
  /* the exact functions first (the surrogates are only good on the intervals being chosen),
   * then the surrogates, widening until the ranges they produce settle inside */
  ensi_forward_options exact = *approx;
  exact.attention = ENSI_ATTENTION_SIGMOID;
  exact.silu_degree = exact.rsqrt_degree = 0;
  ensi_forward_ranges r;
  ENSI_TRY(measure(model, count, prompts, seed, &exact, &r));
  for (int round = 0; round < 4; round++) {
    const double gate_margin = 0.25 * fmax(r.gate_hi - r.gate_lo, 1.0);
    approx->sigmoid_lo = fmin(fmin(-10.0, r.score_lo - 1.0), approx->sigmoid_lo);
    approx->sigmoid_hi = fmax(fmax(11.0, r.score_hi + 1.0), round ? approx->sigmoid_hi : 11.0);
    approx->silu_lo = fmin(r.gate_lo - gate_margin, round ? approx->silu_lo : 0.0);
    approx->silu_hi = fmax(r.gate_hi + gate_margin, round ? approx->silu_hi : 0.0);
    approx->rsqrt_lo = fmin(r.mean_sq_lo / 2, round ? approx->rsqrt_lo : INFINITY);
    approx->rsqrt_hi = fmax(2 * r.mean_sq_hi, round ? approx->rsqrt_hi : 0.0);
    ENSI_TRY(measure(model, count, prompts, seed, approx, &r));
    if (inside(approx, &r))
      break;
  }
  ENSI_TRY(measure(model, count, prompts, seed, approx, &r));
  if (!inside(approx, &r))
    return ensi_fail(ENSI_ERR_ARG, "calibrate: the ranges do not settle inside the intervals "
                     "(mean squares [%g, %g] for [%g, %g])", r.mean_sq_lo, r.mean_sq_hi,
                     approx->rsqrt_lo, approx->rsqrt_hi);
  *bound = exp2(ceil(log2(1.25 * fmax(r.max_abs, 1e-3))));
  return ENSI_OK;
}
