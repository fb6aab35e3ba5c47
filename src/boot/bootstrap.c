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

enum { MAX_GROUPS = 8, MAX_DOUBLE_ANGLES = 16 };

struct ensi_bootstrapper {
  ensi_bootstrap_config config;
  size_t top, evalmod_level, out_level;
  bool two_halves; /* sparse slots: real and imaginary parts share one ciphertext (dft.h) */
  ensi_linear_transform *cts[MAX_GROUPS], *stc[MAX_GROUPS];
  double *cosine;      /* Chebyshev coefficients of cos(2 pi (x - 1/4) / 2^r) on [-K, K] */
  size_t cosine_level; /* where EvalMod's cosine starts (its scales: plan_angle_scales) */
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

/* EvalMod's target scales (the cosine's, then each double angle's): the last double angle must
 * land on q0 / (2 pi), so that sin(2 pi x) ~ 2 pi m / q0 read at that scale is m read at the input
 * scale; landing on factor q0 / (2 pi) instead gives factor m, at no cost. Going backwards, a
 * squaring at level l maps S to S^2 / q_l, so S_j = sqrt(S_{j+1} q_l). */
static void plan_angle_scales(double *scale, const ensi_context *ctx, const ensi_bootstrapper *bt,
                              double factor) {
  const int r = bt->config.double_angles;
  scale[r] = factor * ensi_context_prime(ctx, 0) / (2.0 * M_PI);
  for (int j = r - 1; j >= 0; j--)
    scale[j] = sqrt(scale[j + 1] * ensi_context_prime(ctx, bt->cosine_level - (size_t)j));
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
  bt->cosine_level = bt->evalmod_level - (depth - (size_t)c->double_angles);
  return ENSI_OK;
}

ensi_status ensi_bootstrapper_create(ensi_bootstrapper **out, const ensi_context *ctx,
                                     const ensi_bootstrap_config *config) {
  if (!out || !ctx || !config || config->cts_levels == 0 || config->stc_levels == 0 ||
      config->cts_levels > MAX_GROUPS || config->stc_levels > MAX_GROUPS || config->cos_degree < 2 ||
      config->double_angles < 0 || config->double_angles > MAX_DOUBLE_ANGLES ||
      !(config->k_bound > 0) || !(config->input_scale > 0))
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
                            const double *angle_scale, const ensi_eval_keys *keys) {
  const ensi_bootstrap_config *c = &bt->config;
  ENSI_TRY(ensi_eval_chebyshev(ctx, ct, ct, bt->cosine, c->cos_degree, -c->k_bound, c->k_bound,
                               angle_scale[0], keys));
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
                                      const double *angle_scale, const ensi_eval_keys *keys) {
  ENSI_TRY(eval_mod(ctx, re, bt, angle_scale, keys));
  ENSI_TRY(eval_mod(ctx, im, bt, angle_scale, keys));
  re->scale = im->scale = bt->config.input_scale;
  ENSI_TRY(ensi_mul_by_i(ctx, im, im));
  return ensi_add(ctx, re, re, im);
}

/* Sparse slots: [re | 0] + rot([im | 0], n) = [re | im] on 2n slots (rotating by n is rotating by
 * -n there), one EvalMod, and SlotsToCoeffs' first group recombines re + i im. */
static ensi_status eval_mod_two_halves(const ensi_context *ctx, ensi_ciphertext *re,
                                       ensi_ciphertext *im, const ensi_bootstrapper *bt,
                                       const double *angle_scale, const ensi_eval_keys *keys) {
  ENSI_TRY(ensi_rotate(ctx, im, im, (long long)bt->config.slots, keys));
  ENSI_TRY(ensi_add(ctx, re, re, im));
  ENSI_TRY(eval_mod(ctx, re, bt, angle_scale, keys));
  re->scale = bt->config.input_scale;
  return ENSI_OK;
}

static ensi_status check_input(const ensi_ciphertext *in, const ensi_bootstrapper *bt) {
  if (in->degree != 1)
    return ensi_fail(ENSI_ERR_ARG, "bootstrap: relinearize first");
  if (fabs(in->scale / bt->config.input_scale - 1.0) > 0x1p-30)
    return ensi_fail(ENSI_ERR_LEVEL, "bootstrap: input scale 2^%.3f, configured for 2^%.3f",
                     log2(in->scale), log2(bt->config.input_scale));
  return ENSI_OK;
}

/* ct (at the output level) = the bootstrapped ciphertext `in`, read at the input scale, its slots
 * times factor (plan_angle_scales). tmp and conj are scratch ciphertexts at the top level; in may
 * be ct. */
static ensi_status refresh(const ensi_context *ctx, ensi_ciphertext *ct, const ensi_ciphertext *in,
                           const ensi_bootstrapper *bt, double factor, ensi_ciphertext *tmp,
                           ensi_ciphertext *conj, const ensi_eval_keys *keys) {
  double angle_scale[MAX_DOUBLE_ANGLES + 1];
  plan_angle_scales(angle_scale, ctx, bt, factor);
  const size_t n = bt->config.slots, full = ctx->n / 2;
  const bool encapsulate = bt->config.sparse_weight > 0;
  const double scale = in->scale;
  ENSI_TRY(ensi_drop_level(ctx, tmp, in, 0));
  if (encapsulate) /* to the sparse secret, modulo q_0 P only */
    ENSI_TRY(ensi_ks_ciphertext(ctx, tmp, tmp, keys->to_sparse));
  ENSI_TRY(mod_raise(ctx, ct, tmp, bt->top));
  if (encapsulate) /* and back to the secret at the top level */
    ENSI_TRY(ensi_ks_ciphertext(ctx, ct, ct, keys->from_sparse));
  for (size_t step = n; step < full; step *= 2) { /* SubSum */
    ENSI_TRY(ensi_rotate(ctx, tmp, ct, (long long)step, keys));
    ENSI_TRY(ensi_add(ctx, ct, ct, tmp));
  }
  /* read the raised ciphertext at scale N q0 / n: after CoeffsToSlots and the real/imaginary
   * split its slots are the coefficients of P over q0 */
  ct->slots = n;
  ct->scale = (double)ctx->n * ensi_context_prime(ctx, 0) / (double)n;
  ENSI_TRY(apply_transforms(ctx, ct, bt->cts, bt->config.cts_levels, tmp, keys));
  /* real part: v + conj(v); imaginary part: -i (v - conj(v)) (the 1/2 is in CoeffsToSlots) */
  ENSI_TRY(ensi_conjugate(ctx, conj, ct, keys));
  ENSI_TRY(ensi_sub(ctx, tmp, ct, conj));
  ENSI_TRY(ensi_add(ctx, ct, ct, conj));
  ENSI_TRY(ensi_mul_by_i(ctx, tmp, tmp));
  ENSI_TRY(ensi_negate(ctx, tmp, tmp));
  if (bt->two_halves)
    ENSI_TRY(eval_mod_two_halves(ctx, ct, tmp, bt, angle_scale, keys));
  else
    ENSI_TRY(eval_mod_each_part(ctx, ct, tmp, bt, angle_scale, keys));
  ENSI_TRY(apply_transforms(ctx, ct, bt->stc, bt->config.stc_levels, tmp, keys));
  ct->scale = scale;
  ct->slots = n;
  return ENSI_OK;
}

static ensi_status check_keys(const ensi_bootstrapper *bt, const ensi_eval_keys *keys) {
  if (bt->config.sparse_weight > 0 &&
      (!keys->to_sparse || keys->sparse_weight != bt->config.sparse_weight))
    return ensi_fail(ENSI_ERR_KEY_MISSING, "bootstrap: no encapsulation keys of weight %zu",
                     bt->config.sparse_weight);
  return ENSI_OK;
}

/* Three scratch ciphertexts at the top level. */
static ensi_status create_scratch(const ensi_context *ctx, const ensi_bootstrapper *bt,
                                  ensi_ciphertext *scratch[3]) {
  for (int i = 0; i < 3; i++)
    ENSI_TRY(ensi_ciphertext_create(&scratch[i], ctx, bt->top));
  return ENSI_OK;
}

static void free_scratch(ensi_ciphertext *scratch[3]) {
  for (int i = 0; i < 3; i++)
    ensi_ciphertext_free(scratch[i]);
}

static ensi_status check_factor(double factor) {
  if (!(factor >= 0x1p-20 && factor <= 0x1p20))
    return ensi_fail(ENSI_ERR_ARG, "bootstrap: factor %g outside [2^-20, 2^20]", factor);
  return ENSI_OK;
}

ensi_status ensi_bootstrap(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *in,
                           const ensi_bootstrapper *bt, const ensi_eval_keys *keys) {
  return ensi_bootstrap_scaled(ctx, out, in, 1.0, bt, keys);
}

ensi_status ensi_bootstrap_scaled(const ensi_context *ctx, ensi_ciphertext *out,
                                  const ensi_ciphertext *in, double factor,
                                  const ensi_bootstrapper *bt, const ensi_eval_keys *keys) {
  if (!ctx || !out || !in || !bt || !keys)
    return ensi_fail(ENSI_ERR_ARG, "bootstrap: null argument");
  ENSI_TRY(check_factor(factor));
  ENSI_TRY(check_input(in, bt));
  ENSI_TRY(check_keys(bt, keys));
  ensi_ciphertext *scratch[3] = {NULL, NULL, NULL}; /* the result, two temporaries */
  ensi_status s = create_scratch(ctx, bt, scratch);
  if (s == ENSI_OK)
    s = refresh(ctx, scratch[0], in, bt, factor, scratch[1], scratch[2], keys);
  if (s == ENSI_OK)
    s = ensi_ciphertext_copy(out, scratch[0]);
  free_scratch(scratch);
  return s;
}

/* w = factor (re + i im) / 2 refreshed; re = w + conj(w), im = -i (w - conj(w)) = i (conj(w) - w). */
static ensi_status refresh_pair(const ensi_context *ctx, ensi_ciphertext *out_re,
                                ensi_ciphertext *out_im, const ensi_ciphertext *in_re,
                                const ensi_ciphertext *in_im, double factor,
                                const ensi_bootstrapper *bt, ensi_ciphertext *scratch[3],
                                const ensi_eval_keys *keys) {
  ensi_ciphertext *w = scratch[0], *a = scratch[1], *b = scratch[2];
  ENSI_TRY(ensi_drop_level(ctx, a, in_re, 0));
  ENSI_TRY(ensi_drop_level(ctx, b, in_im, 0));
  ENSI_TRY(ensi_mul_by_i(ctx, b, b));
  ENSI_TRY(ensi_add(ctx, w, a, b));
  ENSI_TRY(refresh(ctx, w, w, bt, factor / 2, b, a, keys));
  ENSI_TRY(ensi_conjugate(ctx, a, w, keys));
  ENSI_TRY(ensi_sub(ctx, b, a, w));
  ENSI_TRY(ensi_add(ctx, a, w, a));
  ENSI_TRY(ensi_mul_by_i(ctx, b, b));
  ENSI_TRY(ensi_ciphertext_copy(out_re, a));
  return ensi_ciphertext_copy(out_im, b);
}

ensi_status ensi_bootstrap_pair(const ensi_context *ctx, ensi_ciphertext *out_re,
                                ensi_ciphertext *out_im, const ensi_ciphertext *in_re,
                                const ensi_ciphertext *in_im, double factor,
                                const ensi_bootstrapper *bt, const ensi_eval_keys *keys) {
  if (!ctx || !out_re || !out_im || !in_re || !in_im || !bt || !keys || out_re == out_im)
    return ensi_fail(ENSI_ERR_ARG, "bootstrap pair: null or aliased argument");
  ENSI_TRY(check_factor(factor));
  ENSI_TRY(check_input(in_re, bt));
  ENSI_TRY(check_input(in_im, bt));
  ENSI_TRY(check_keys(bt, keys));
  ensi_ciphertext *scratch[3] = {NULL, NULL, NULL};
  ensi_status s = create_scratch(ctx, bt, scratch);
  if (s == ENSI_OK)
    s = refresh_pair(ctx, out_re, out_im, in_re, in_im, factor, bt, scratch, keys);
  free_scratch(scratch);
  return s;
}
