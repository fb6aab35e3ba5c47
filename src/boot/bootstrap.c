/* CKKS bootstrapping: ModRaise, SubSum, CoeffsToSlots, EvalMod, SlotsToCoeffs
 * (see ensi/bootstrap.h). */
#include <ensi/bootstrap.h>

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ensi/polynomial.h>

#include "base/error.h"
#include "boot/dft.h"
#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "ckks/keys.h"
#include "ckks/keyswitch.h"
#include "math/chebyshev.h"

enum { MAX_GROUPS = 8 };

struct ensi_bootstrapper {
  ensi_bootstrap_config config;
  size_t top, evalmod_level, out_level;
  bool two_halves; /* sparse slots: real and imaginary parts share one ciphertext (dft.h) */
  ensi_linear_transform *cts[MAX_GROUPS], *stc[MAX_GROUPS];
  double *cosine;      /* Chebyshev coefficients of cos(2 pi (x - 1/4) / 2^r) on [-K, K] */
  double *angle_scale; /* target scales of the cosine and of each double-angle step */
  long long *steps;
  size_t *step_levels; /* the highest level each step rotates at */
  size_t step_count;
};

static size_t log2_size(size_t x) {
  size_t r = 0;
  while (((size_t)1 << r) < x)
    r++;
  return r;
}

/* Smallest degree whose Chebyshev truncation of cos(a t), t in [-1, 1], is below 2^-45:
 * coefficient k is about (a e / 2k)^k. */
static int cosine_degree(double a) {
  for (int k = 8; k < 256; k++)
    if (k * log2(a * M_E / (2.0 * k)) < -45.0)
      return k;
  return 256;
}

ensi_status ensi_bootstrap_config_default(ensi_bootstrap_config *out, const ensi_context *ctx,
                                          size_t slots) {
  if (!out || !ctx || slots < 2 || slots > ctx->n / 2 || (slots & (slots - 1)))
    return ensi_fail(ENSI_ERR_ARG, "bootstrap: %zu slots is not a power of two in 2..N/2", slots);
  const size_t log_slots = log2_size(slots), h = ensi_params_hamming_weight(ctx->params);
  memset(out, 0, sizeof *out);
  out->sparse_weight = h ? 0 : 32; /* dense secrets are encapsulated into weight 32 */
  const double weight = h ? (double)h : (double)out->sparse_weight;
  out->slots = slots;
  out->cts_levels = log_slots < 3 ? log_slots : 3;
  out->stc_levels = log_slots < 3 ? log_slots : 3;
  out->k_bound = ceil(6.0 * sqrt((weight + 1.0) / 12.0)) + 2.0; /* 6 sigma of I, plus margin */
  out->double_angles = (int)ceil(log2(2.0 * M_PI * (out->k_bound + 0.25) / 8.0));
  if (out->double_angles < 0)
    out->double_angles = 0;
  out->cos_degree = cosine_degree(2.0 * M_PI * (out->k_bound + 0.25) / ldexp(1.0, out->double_angles));
  /* |m| <= 1 at q0 / 2^11. EvalMod reads sin(2 pi x) / (2 pi) for x = coefficient / q0, off by
   * (2 pi)^2 x^3 / 6: at worst (a constant vector, whose one coefficient is m) 2^-19.3 relative;
   * random vectors spread over many smaller coefficients and lose far less. The other error,
   * EvalMod's noise in units of q0, is magnified by q0 / scale = 2^11, and by SlotsToCoeffs by
   * up to sqrt(2 slots). n16-boot, uniform inputs (min / mean bits): 2^15 slots 18.1 / 20.6 at
   * 2^11 (17.2 / 19.6 at 2^12); 1024 slots 23.1 / 25.2; 128 slots 26.2 / 27.6. */
  out->input_scale = ensi_context_prime(ctx, 0) / 0x1p11;
  return ENSI_OK;
}

typedef struct {
  double r_scale;
} cosine_context;

static double scaled_cosine(double x, void *context) {
  const double scale = ((const cosine_context *)context)->r_scale;
  return cos(2.0 * M_PI * (x - 0.25) / scale);
}

/* Records steps used at levels up to `level` (a step seen before keeps the higher level). */
static ensi_status add_steps(ensi_bootstrapper *bt, const long long *steps, size_t count,
                             size_t level) {
  long long *grown = realloc(bt->steps, (bt->step_count + count) * sizeof *grown);
  if (grown)
    bt->steps = grown;
  size_t *levels = grown ? realloc(bt->step_levels, (bt->step_count + count) * sizeof *levels) : NULL;
  if (!levels)
    return ENSI_ERR_NOMEM;
  bt->step_levels = levels;
  for (size_t i = 0; i < count; i++) {
    size_t j = 0;
    while (j < bt->step_count && bt->steps[j] != steps[i])
      j++;
    if (j == bt->step_count) {
      bt->steps[bt->step_count] = steps[i];
      bt->step_levels[bt->step_count++] = level;
    } else if (bt->step_levels[j] < level) {
      bt->step_levels[j] = level;
    }
  }
  return ENSI_OK;
}

static ensi_status collect_transform_steps(ensi_bootstrapper *bt, ensi_linear_transform *lt,
                                           size_t level) {
  long long steps[4096];
  size_t count;
  ensi_linear_transform_rotations(lt, steps, &count);
  return add_steps(bt, steps, count, level);
}

/* Levels: CoeffsToSlots from the top, then EvalMod, then SlotsToCoeffs. */
static ensi_status plan_levels(ensi_bootstrapper *bt, const ensi_context *ctx) {
  const ensi_bootstrap_config *c = &bt->config;
  const size_t depth = ensi_chebyshev_depth(c->cos_degree, -c->k_bound, c->k_bound) +
                       (size_t)c->double_angles;
  const size_t needed = c->cts_levels + depth + c->stc_levels;
  bt->top = ensi_context_max_level(ctx);
  if (bt->top < needed)
    return ensi_fail(ENSI_ERR_LEVEL, "bootstrap: needs %zu levels, the parameters have %zu",
                     needed, bt->top);
  bt->evalmod_level = bt->top - c->cts_levels;
  bt->out_level = bt->top - needed;
  /* scales: the last double angle must land on q0 / (2 pi), so that sin(2 pi x) ~ 2 pi m / q0
   * read at that scale is m read at the input scale; going backwards, a squaring at level l maps
   * S to S^2 / q_l, so S_j = sqrt(S_{j+1} q_l) */
  bt->angle_scale = calloc((size_t)c->double_angles + 1, sizeof *bt->angle_scale);
  if (!bt->angle_scale)
    return ENSI_ERR_NOMEM;
  bt->angle_scale[c->double_angles] = ensi_context_prime(ctx, 0) / (2.0 * M_PI);
  const size_t cosine_level = bt->evalmod_level - (depth - (size_t)c->double_angles);
  for (int j = c->double_angles - 1; j >= 0; j--)
    bt->angle_scale[j] = sqrt(bt->angle_scale[j + 1] * ensi_context_prime(ctx, cosine_level - (size_t)j));
  return ENSI_OK;
}

ensi_status ensi_bootstrapper_create(ensi_bootstrapper **out, const ensi_context *ctx,
                                     const ensi_bootstrap_config *config) {
  if (!out || !ctx || !config || config->cts_levels == 0 || config->stc_levels == 0 ||
      config->cts_levels > MAX_GROUPS || config->stc_levels > MAX_GROUPS || config->cos_degree < 2 ||
      config->double_angles < 0 || !(config->k_bound > 0) || !(config->input_scale > 0))
    return ensi_fail(ENSI_ERR_ARG, "bootstrap: bad configuration");
  ensi_bootstrapper *bt = calloc(1, sizeof *bt);
  if (!bt)
    return ENSI_ERR_NOMEM;
  bt->config = *config;
  const size_t n = config->slots, full = ctx->n / 2;
  ensi_status s = plan_levels(bt, ctx);
  /* The constant factors of both DFTs live in the scales, not in the diagonals (small diagonal
   * values would lose precision when rounded): see ensi_bootstrap. */
  bt->two_halves = 2 * n <= full;
  if (s == ENSI_OK)
    s = ensi_dft_create(bt->cts, ctx, ENSI_DFT_COEFFS_TO_SLOTS, n, config->cts_levels, bt->top,
                        1.0, bt->two_halves);
  const size_t stc_top = bt->out_level + config->stc_levels;
  if (s == ENSI_OK)
    s = ensi_dft_create(bt->stc, ctx, ENSI_DFT_SLOTS_TO_COEFFS, n, config->stc_levels, stc_top,
                        1.0, bt->two_halves);
  bt->cosine = calloc((size_t)config->cos_degree + 1, sizeof *bt->cosine);
  cosine_context cc = {ldexp(1.0, config->double_angles)};
  if (s == ENSI_OK)
    s = bt->cosine ? ensi_chebyshev_fit(bt->cosine, config->cos_degree, -config->k_bound,
                                        config->k_bound, scaled_cosine, &cc)
                   : ENSI_ERR_NOMEM;
  for (size_t g = 0; s == ENSI_OK && g < config->cts_levels; g++)
    s = collect_transform_steps(bt, bt->cts[g], bt->top - g);
  for (size_t g = 0; s == ENSI_OK && g < config->stc_levels; g++)
    s = collect_transform_steps(bt, bt->stc[g], stc_top - g);
  for (size_t step = n; s == ENSI_OK && step < full; step *= 2) /* SubSum (step n also moves the
                                                                    * imaginary half up) */
    s = add_steps(bt, (const long long[]){(long long)step}, 1, bt->top);
  if (s != ENSI_OK) {
    ensi_bootstrapper_free(bt);
    return s;
  }
  *out = bt;
  return ENSI_OK;
}

void ensi_bootstrapper_free(ensi_bootstrapper *bt) {
  if (!bt)
    return;
  for (size_t g = 0; g < MAX_GROUPS; g++) {
    ensi_linear_transform_free(bt->cts[g]);
    ensi_linear_transform_free(bt->stc[g]);
  }
  free(bt->cosine);
  free(bt->angle_scale);
  free(bt->steps);
  free(bt->step_levels);
  free(bt);
}

size_t ensi_bootstrapper_rotation_count(const ensi_bootstrapper *bt) { return bt->step_count; }

void ensi_bootstrapper_rotation_levels(const ensi_bootstrapper *bt, size_t *levels) {
  memcpy(levels, bt->step_levels, bt->step_count * sizeof *levels);
}

void ensi_bootstrapper_rotations(const ensi_bootstrapper *bt, long long *steps) {
  memcpy(steps, bt->steps, bt->step_count * sizeof *steps);
}

const ensi_bootstrap_config *ensi_bootstrapper_config(const ensi_bootstrapper *bt) {
  return &bt->config;
}

size_t ensi_bootstrap_output_level(const ensi_bootstrapper *bt) { return bt->out_level; }

/* Reads the level-0 ciphertext modulo every prime of the chain: centered lift of each
 * coefficient of c0, c1 from [0, q0) to (-q0/2, q0/2], then NTT on every limb. */
static ensi_status mod_raise(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *in,
                             size_t top) {
  const size_t n = ctx->n;
  const uint64_t q0 = ctx->moduli[0].value;
  uint64_t *coeff = malloc(n * sizeof *coeff);
  ensi_status s = coeff ? ensi_ciphertext_reserve(out, top, 1) : ENSI_ERR_NOMEM;
  for (size_t p = 0; s == ENSI_OK && p < 2; p++) {
    memcpy(coeff, ensi_ct_limb(in, p, 0), n * sizeof *coeff);
    ensi_ntt_inverse(ctx->ntt[0], coeff);
    for (size_t i = 0; i <= top; i++) {
      const ensi_modulus *qi = &ctx->moduli[i];
      uint64_t *limb = ensi_ct_limb(out, p, i);
      for (size_t t = 0; t < n; t++) {
        const uint64_t v = coeff[t];
        limb[t] = v > q0 / 2 ? ensi_neg_mod(ensi_reduce_u64(q0 - v, qi), qi->value)
                             : ensi_reduce_u64(v, qi);
      }
      ensi_ntt_forward(ctx->ntt[i], limb);
    }
  }
  free(coeff);
  if (s == ENSI_OK) {
    out->degree = 1;
    out->scale = in->scale;
    out->level = top;
  }
  return s;
}

static ensi_status apply_transforms(const ensi_context *ctx, ensi_ciphertext *ct,
                                    ensi_linear_transform *const *lts, size_t count,
                                    ensi_ciphertext *tmp, const ensi_eval_keys *keys) {
  for (size_t g = 0; g < count; g++) {
    ENSI_TRY(ensi_linear_transform_apply(ctx, tmp, lts[g], ct, keys));
    ENSI_TRY(ensi_rescale(ctx, ct, tmp));
  }
  return ENSI_OK;
}

/* x -> sin(2 pi x) on each slot: the scaled cosine, then r double-angle steps. */
static ensi_status eval_mod(const ensi_context *ctx, ensi_ciphertext *ct, const ensi_bootstrapper *bt,
                            const ensi_eval_keys *keys) {
  const ensi_bootstrap_config *c = &bt->config;
  ENSI_TRY(ensi_eval_chebyshev(ctx, ct, ct, bt->cosine, c->cos_degree, -c->k_bound, c->k_bound,
                               bt->angle_scale[0], keys));
  for (int j = 0; j < c->double_angles; j++) { /* cos 2t = 2 cos^2 t - 1 */
    ENSI_TRY(ensi_mul_relin_rescale(ctx, ct, ct, ct, keys));
    ENSI_TRY(ensi_mul_integer(ctx, ct, ct, 2));
    ENSI_TRY(ensi_add_const(ctx, ct, ct, -1.0));
  }
  return ENSI_OK;
}

/* Full slots: EvalMod on the real part re and on the imaginary part im, then w = re + i im, both
 * read at the input scale (sin(2 pi x) at scale q0 / (2 pi) is m / q0 at the input scale). */
static ensi_status eval_mod_each_part(const ensi_context *ctx, ensi_ciphertext *re,
                                      ensi_ciphertext *im, const ensi_bootstrapper *bt,
                                      const ensi_eval_keys *keys) {
  ENSI_TRY(eval_mod(ctx, re, bt, keys));
  ENSI_TRY(eval_mod(ctx, im, bt, keys));
  re->scale = im->scale = bt->config.input_scale;
  ENSI_TRY(ensi_mul_by_i(ctx, im, im));
  return ensi_add(ctx, re, re, im);
}

/* Sparse slots: [re | 0] + rot([im | 0], n) = [re | im] on 2n slots (rotating by n is rotating by
 * -n there), one EvalMod, and SlotsToCoeffs' first group recombines re + i im. */
static ensi_status eval_mod_two_halves(const ensi_context *ctx, ensi_ciphertext *re,
                                       ensi_ciphertext *im, const ensi_bootstrapper *bt,
                                       const ensi_eval_keys *keys) {
  ENSI_TRY(ensi_rotate(ctx, im, im, (long long)bt->config.slots, keys));
  ENSI_TRY(ensi_add(ctx, re, re, im));
  ENSI_TRY(eval_mod(ctx, re, bt, keys));
  re->scale = bt->config.input_scale;
  return ENSI_OK;
}

ensi_status ensi_bootstrap(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *in,
                           const ensi_bootstrapper *bt, const ensi_eval_keys *keys) {
  if (!ctx || !out || !in || !bt || !keys)
    return ensi_fail(ENSI_ERR_ARG, "bootstrap: null argument");
  if (in->degree != 1)
    return ensi_fail(ENSI_ERR_ARG, "bootstrap: relinearize first");
  if (fabs(in->scale / bt->config.input_scale - 1.0) > 0x1p-30)
    return ensi_fail(ENSI_ERR_LEVEL, "bootstrap: input scale 2^%.3f, configured for 2^%.3f",
                     log2(in->scale), log2(bt->config.input_scale));
  const size_t n = bt->config.slots, full = ctx->n / 2;
  ensi_ciphertext *ct = NULL, *conj = NULL, *tmp = NULL;
  const bool encapsulate = bt->config.sparse_weight > 0;
  if (encapsulate && (!keys->to_sparse || keys->sparse_weight != bt->config.sparse_weight))
    return ensi_fail(ENSI_ERR_KEY_MISSING, "bootstrap: no encapsulation keys of weight %zu",
                     bt->config.sparse_weight);
  ensi_status s = ensi_ciphertext_create(&ct, ctx, bt->top);
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&conj, ctx, bt->top);
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&tmp, ctx, bt->top);
  if (s == ENSI_OK)
    s = ensi_drop_level(ctx, tmp, in, 0);
  if (s == ENSI_OK && encapsulate) /* to the sparse secret, modulo q_0 P only */
    s = ensi_ks_ciphertext(ctx, tmp, tmp, keys->to_sparse);
  if (s == ENSI_OK)
    s = mod_raise(ctx, ct, tmp, bt->top);
  if (s == ENSI_OK && encapsulate) /* and back to the secret at the top level */
    s = ensi_ks_ciphertext(ctx, ct, ct, keys->from_sparse);
  for (size_t step = n; s == ENSI_OK && step < full; step *= 2) { /* SubSum */
    s = ensi_rotate(ctx, tmp, ct, (long long)step, keys);
    if (s == ENSI_OK)
      s = ensi_add(ctx, ct, ct, tmp);
  }
  if (s == ENSI_OK) { /* read the raised ciphertext at scale N q0 / n: after CoeffsToSlots and
                         * the real/imaginary split its slots are the coefficients of P over q0 */
    ct->slots = n;
    ct->scale = (double)ctx->n * ensi_context_prime(ctx, 0) / (double)n;
    s = apply_transforms(ctx, ct, bt->cts, bt->config.cts_levels, tmp, keys);
  }
  /* real part: v + conj(v); imaginary part: -i (v - conj(v)) (the 1/2 is in CoeffsToSlots) */
  if (s == ENSI_OK)
    s = ensi_conjugate(ctx, conj, ct, keys);
  if (s == ENSI_OK)
    s = ensi_sub(ctx, tmp, ct, conj);
  if (s == ENSI_OK)
    s = ensi_add(ctx, ct, ct, conj);
  if (s == ENSI_OK)
    s = ensi_mul_by_i(ctx, tmp, tmp);
  if (s == ENSI_OK)
    s = ensi_negate(ctx, tmp, tmp);
  if (s == ENSI_OK && bt->two_halves)
    s = eval_mod_two_halves(ctx, ct, tmp, bt, keys);
  else if (s == ENSI_OK)
    s = eval_mod_each_part(ctx, ct, tmp, bt, keys);
  if (s == ENSI_OK)
    s = apply_transforms(ctx, ct, bt->stc, bt->config.stc_levels, tmp, keys);
  if (s == ENSI_OK) {
    ct->scale = in->scale;
    ct->slots = n;
    s = ensi_ciphertext_copy(out, ct);
  }
  ensi_ciphertext_free(ct);
  ensi_ciphertext_free(conj);
  ensi_ciphertext_free(tmp);
  return s;
}
