/* The encrypted forward pass in the packed layout (ensi/packed_forward.h), layer by layer as the
 * plaintext reference reads:
 *   inv = 1 / RMS(x)                         input norm (packed_norm.c)
 *   a   = attention(x, inv)                  packed_attention.c (gamma, betas in the weights)
 *   x  += (o_proj a) * 1 / RMS(a)            inner norm, gamma and beta_o in o_proj's weights
 *   x_n = x * 1 / RMS(x)                     post norm (gamma and the betas in the weights)
 *   g, u = gate x_n, up x_n
 *   h   = SiLU(g) * u
 *   x  += (down h) * 1 / RMS(h)              FFN norm
 * Otherwise a norm's inverse RMS multiplies the products it feeds: a factor per token commutes
 * with them. Levels (10 after bootstrapping at n16-boot; R the norm's polynomial depth): every
 * matrix that a norm reads is dropped to what its segment needs, and refreshed (its packs
 * bootstrapped) when it has fewer: x before the input norm (R + 4: the attention needs its
 * inverse RMS at level 4) and before the post norm (R + 3), then x_n, so that the gate has the
 * levels of SiLU and of the product with u (x_n has as many packs as x, the gate 8/3 as many at
 * the large shape). The attention's output and h arrive at level 2, where their norms bootstrap
 * one ciphertext (the mapped sum of squares) instead of their packs. Also the client's
 * encryption, the rotation steps and the keys. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "ckks/ciphertext.h"
#include "henn/packed_eval.h"

ensi_status ensi_henn_packed_check(const ensi_context *ctx, const ensi_model_config *c, size_t rows) {
  if (!ctx || !c)
    return ensi_fail(ENSI_ERR_ARG, "packed layers: null argument");
  packed_eval pe;
  memset(&pe, 0, sizeof pe);
  return packed_geometry(&pe, ctx, c, rows);
}

/* Levels each norm's input is dropped (or refreshed) to. */
static size_t attention_input_level(const packed_eval *pe) {
  return packed_norm_depth(pe, ENSI_NORM_INPUT) + PACKED_ATTENTION_INV_LEVEL;
}
/* The post norm's inverse RMS at 3, x_n = x times inv at 2 (then refreshed). */
static size_t post_input_level(const packed_eval *pe) {
  return packed_norm_depth(pe, ENSI_NORM_POST) + 3;
}
static size_t projected_input_level(const packed_eval *pe, ensi_norm_kind kind) {
  return packed_norm_depth(pe, kind) + 1; /* the product at inv's level + 1, then times inv */
}

/* ---- one norm, its product, the residual ---------------------------------------------------- */

/* y = (x W'^T) times inv when inv is given: the product at `level` (x dropped there, its output
 * one below, where inv multiplies it at its prime), W' = W with gamma and factor / sqrt(center)
 * folded in; from x's rotations shared with other products when `shared` is not NULL. */
static ensi_status project_normed(packed_eval *pe, const ensi_packed_matrix *x,
                                  const ensi_ciphertext *inv, const ensi_ternary *w,
                                  const float *gamma, ensi_norm_kind kind, double factor,
                                  bool head_cols, size_t level, packed_shared_input *shared,
                                  ensi_packed_matrix **y) {
  henn_eval *ev = &pe->ev;
  const packed_weight weight = {.pe = pe, .w = w, .gamma = gamma,
                                .factor = factor / sqrt(henn_norm_center(ev, kind)),
                                .head_rows = false, .head_cols = head_cols};
  henn_mark mark;
  henn_begin(ev, &mark, "ternary product");
  ensi_packed_pcmm *p = NULL;
  ensi_status s = packed_weight_prepare(pe, &weight, level, &p);
  if (s == ENSI_OK)
    s = shared ? packed_apply_shared(pe, y, p, x, shared)
               : ensi_packed_pcmm_apply(ev->ctx, y, p, x, ev->keys);
  ensi_packed_pcmm_free(p);
  henn_end(ev, ENSI_STAGE_PCMM, &mark);
  henn_begin(ev, &mark, NULL);
  if (s == ENSI_OK && inv)
    s = packed_times(pe, *y, inv);
  henn_end(ev, ENSI_STAGE_RMSNORM, &mark);
  return s;
}

static ensi_status residual(packed_eval *pe, ensi_packed_matrix *x, const ensi_packed_matrix *y) {
  henn_mark mark;
  henn_begin(&pe->ev, &mark, NULL);
  ensi_status s = ENSI_OK;
  for (size_t k = 0; s == ENSI_OK && k < x->pack_count; k++)
    s = ensi_add(pe->ev.ctx, x->pack[k], x->pack[k], y->pack[k]);
  henn_end(&pe->ev, ENSI_STAGE_RESIDUAL, &mark);
  return s;
}

/* x += W (RMSNorm(a) gamma) for a matrix a no longer needed afterwards. With the levels for the
 * whole norm, a's own; with fewer (but PACKED_NORM_REFRESHED_LEVEL), one bootstrapped ciphertext
 * (the norm's mapped sum of squares); with fewer still, a's packs are refreshed. */
static ensi_status norm_project_add(packed_eval *pe, ensi_packed_matrix *x, ensi_packed_matrix *a,
                                    ensi_norm_kind kind, const float *gamma, const ensi_ternary *w,
                                    bool head_cols) {
  const size_t features = (size_t)w->cols, need = projected_input_level(pe, kind);
  const bool refreshed_norm = packed_level(a) < need &&
                              packed_level(a) >= PACKED_NORM_REFRESHED_LEVEL && pe->ev.setup->boot;
  ensi_ciphertext *inv = NULL;
  ensi_status s = ENSI_OK;
  if (refreshed_norm)
    s = packed_inverse_rms_refreshed(pe, a, features, kind, packed_level(a) - 1, &inv);
  else if ((s = packed_ensure(pe, a, need, ENSI_STAGE_RMSNORM)) == ENSI_OK)
    s = packed_inverse_rms(pe, a, features, kind, &inv);
  ensi_packed_matrix *y = NULL;
  if (s == ENSI_OK) {
    const size_t level = refreshed_norm ? packed_level(a) : ensi_ciphertext_level(inv) + 1;
    s = project_normed(pe, a, inv, w, gamma, kind, w->beta, head_cols, level, NULL, &y);
  }
  if (s == ENSI_OK)
    s = residual(pe, x, y);
  ensi_ciphertext_free(inv);
  ensi_packed_matrix_free(y);
  return s;
}

/* ---- the blocks --------------------------------------------------------------------------- */

static ensi_status attention_block(packed_eval *pe, const ensi_layer *l, ensi_packed_matrix *x) {
  ENSI_TRY(packed_ensure(pe, x, attention_input_level(pe), ENSI_STAGE_RMSNORM));
  ensi_ciphertext *inv = NULL;
  ensi_packed_matrix *a = NULL;
  ensi_status s = packed_inverse_rms(pe, x, x->cols, ENSI_NORM_INPUT, &inv);
  if (s == ENSI_OK)
    s = packed_attention(pe, l, x, inv, &a);
  if (s == ENSI_OK)
    s = norm_project_add(pe, x, a, ENSI_NORM_INNER, l->inner_attn_norm, &l->o, true);
  ensi_ciphertext_free(inv);
  ensi_packed_matrix_free(a);
  return s;
}

/* The gate as SwiGLU reads it: t = alpha g + beta on the SiLU polynomial's interval [-1, 1]
 * (alpha folded into the weights, beta added), so that the polynomial needs no map of its own;
 * shrunk where a refresh needs it (packed_unit_shrink). */
typedef struct {
  double alpha, beta, shrink;
} gate_map;

static gate_map gate_map_of(const packed_eval *pe) {
  const double lo = pe->ev.setup->approx.silu_lo, hi = pe->ev.setup->approx.silu_hi;
  const gate_map m = {2.0 / (hi - lo), -(hi + lo) / (hi - lo), packed_unit_shrink(pe)};
  return m;
}

/* SiLU's polynomial depth without its map (the gate arrives mapped). */
static size_t silu_depth(const packed_eval *pe) {
  const ensi_forward_options *o = &pe->ev.setup->approx;
  return ensi_chebyshev_depth(o->silu_degree, o->silu_lo, o->silu_hi) - 1;
}

/* Levels of the products of x_n: the gate's, so that h lands at PACKED_NORM_REFRESHED_LEVEL
 * (sigma one above, the polynomial's depth above the gate's output), but below the refreshed
 * x_n's (the products' rotation keys stop one below the bootstrapping output level:
 * ensi_henn_packed_rotation_steps); and the up projection's, its output one above sigma, where
 * (t - beta) u / alpha is taken before it meets sigma. */
static size_t gate_level(const packed_eval *pe, size_t x_n) {
  const size_t want = PACKED_NORM_REFRESHED_LEVEL + silu_depth(pe) + 2;
  return want < x_n ? want : x_n - 1;
}
static size_t up_level(const packed_eval *pe, size_t gate) { return gate - silu_depth(pe) + 1; }

/* Levels of h = SiLU(g) u from the gate's: sigma's (the polynomial without its map), p where
 * t - beta meets u, r where that product meets sigma (h one below). */
typedef struct {
  size_t sigma, p, r;
} swiglu_levels;

static swiglu_levels swiglu_levels_of(size_t t, size_t depth, size_t u) {
  swiglu_levels l = {t - depth, t < u ? t : u, 0};
  l.r = l.p - 1 < l.sigma ? l.p - 1 : l.sigma;
  return l;
}

/* h[k] = (t[k] - beta) u[k] / alpha * sigma_k, sigma_k the polynomial of the logistic on t[k] at
 * sig_scale (1 / alpha is in its coefficients). */
static ensi_status swiglu_pack(const packed_eval *pe, ensi_ciphertext *out, const ensi_ciphertext *t,
                               const ensi_ciphertext *u, const double *coefficients, gate_map m,
                               double sig_scale) {
  const henn_eval *ev = &pe->ev;
  ensi_ciphertext *sig = NULL, *g = NULL;
  const size_t depth = silu_depth(pe);
  ensi_status s = ensi_ciphertext_create(&sig, ev->ctx, ensi_ciphertext_level(t) - depth);
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&g, ev->ctx, ensi_ciphertext_level(t));
  if (s == ENSI_OK)
    s = ensi_eval_chebyshev_unit(ev->ctx, sig, t, coefficients, ev->setup->approx.silu_degree,
                                 sig_scale, ev->keys);
  if (s == ENSI_OK)
    s = ensi_add_const(ev->ctx, g, t, -m.beta);
  if (s == ENSI_OK)
    s = ensi_mul_relin_rescale(ev->ctx, out, g, u, ev->keys);
  if (s == ENSI_OK)
    s = ensi_mul_relin_rescale(ev->ctx, out, out, sig, ev->keys);
  ensi_ciphertext_free(sig);
  ensi_ciphertext_free(g);
  return s;
}

/* h = SiLU(g) * u, the gate t mapped (gate_map). t is refreshed when it has fewer levels than
 * the polynomial and the two products need; sigma lands at the scale that brings h to the
 * working scale. */
static ensi_status swiglu(packed_eval *pe, ensi_packed_matrix *t, const ensi_packed_matrix *u,
                          gate_map m, ensi_packed_matrix **h) {
  henn_eval *ev = &pe->ev;
  const ensi_forward_options *o = &ev->setup->approx;
  const size_t depth = silu_depth(pe);
  if (packed_level(t) < depth + 2)
    ENSI_TRY(packed_refresh(pe, t->pack, t->pack_count, ensi_bootstrap_output_level(ev->setup->boot),
                            ENSI_STAGE_FFN_ACT));
  const swiglu_levels l = swiglu_levels_of(packed_level(t), depth, packed_level(u));
  if (packed_level(t) < depth + 2 || l.r < 1)
    return ensi_fail(ENSI_ERR_LEVEL, "packed SwiGLU: gate at level %zu, up at %zu",
                     packed_level(t), packed_level(u));
  const double scales = ensi_ciphertext_scale(t->pack[0]) * ensi_ciphertext_scale(u->pack[0]);
  const double sig_scale = ev->work_scale * henn_prime(ev, l.p) * henn_prime(ev, l.r) / scales;
  const size_t count = (size_t)o->silu_degree + 1;
  double *coefficients = malloc(count * sizeof *coefficients);
  if (!coefficients)
    return ENSI_ERR_NOMEM;
  for (size_t j = 0; j < count; j++)
    coefficients[j] = ev->silu[j] / m.alpha;
  henn_mark mark;
  henn_begin(ev, &mark, "SiLU(gate) * up");
  ensi_status status = packed_new(pe, h, t->cols, l.r - 1);
#pragma omp parallel for schedule(dynamic)
  for (size_t k = 0; k < t->pack_count; k++) {
    if (status != ENSI_OK)
      continue;
    const ensi_status s = swiglu_pack(pe, (*h)->pack[k], t->pack[k], u->pack[k], coefficients, m,
                                      sig_scale);
    if (s != ENSI_OK) {
#pragma omp critical
      status = s;
    }
  }
  henn_end(ev, ENSI_STAGE_FFN_ACT, &mark);
  free(coefficients);
  return status;
}

/* x_n = x times inv, refreshed: x dropped to one above inv, the product at inv's level. */
static ensi_status normalized(packed_eval *pe, const ensi_packed_matrix *x,
                              const ensi_ciphertext *inv, ensi_packed_matrix **x_n) {
  const size_t level = ensi_ciphertext_level(inv) + 1;
  ENSI_TRY(packed_new(pe, x_n, x->cols, level));
  ensi_status s = ENSI_OK;
  for (size_t k = 0; s == ENSI_OK && k < x->pack_count; k++)
    s = ensi_drop_level(pe->ev.ctx, (*x_n)->pack[k], x->pack[k], level);
  henn_mark mark;
  henn_begin(&pe->ev, &mark, NULL);
  if (s == ENSI_OK)
    s = packed_times(pe, *x_n, inv);
  henn_end(&pe->ev, ENSI_STAGE_RMSNORM, &mark);
  if (s == ENSI_OK)
    s = packed_refresh(pe, (*x_n)->pack, (*x_n)->pack_count, SIZE_MAX, ENSI_STAGE_RMSNORM);
  if (s != ENSI_OK) {
    ensi_packed_matrix_free(*x_n);
    *x_n = NULL;
  }
  return s;
}

/* t = the mapped gate (gate_map) of the normalized x_n: x_n W_gate'^T alpha at `level`, plus
 * beta. */
static ensi_status mapped_gate(packed_eval *pe, const ensi_layer *l, const ensi_packed_matrix *x_n,
                               gate_map m, size_t level, packed_shared_input *shared,
                               ensi_packed_matrix **t) {
  ENSI_TRY(project_normed(pe, x_n, NULL, &l->gate, l->post_attn_norm, ENSI_NORM_POST,
                          l->gate.beta * m.alpha * m.shrink, false, level, shared, t));
  for (size_t k = 0; k < (*t)->pack_count; k++) {
    (*t)->pack[k]->scale *= m.shrink; /* the same words read as t */
    ENSI_TRY(ensi_add_const(pe->ev.ctx, (*t)->pack[k], (*t)->pack[k], m.beta));
  }
  return ENSI_OK;
}

static ensi_status ffn_block(packed_eval *pe, const ensi_layer *l, ensi_packed_matrix *x) {
  ENSI_TRY(packed_ensure(pe, x, post_input_level(pe), ENSI_STAGE_RMSNORM));
  const gate_map m = gate_map_of(pe);
  ensi_ciphertext *inv = NULL;
  ensi_packed_matrix *x_n = NULL, *t = NULL, *u = NULL, *h = NULL;
  ensi_status s = packed_inverse_rms(pe, x, x->cols, ENSI_NORM_POST, &inv);
  if (s == ENSI_OK)
    s = normalized(pe, x, inv, &x_n);
  ensi_ciphertext_free(inv);
  const size_t gate = s == ENSI_OK ? gate_level(pe, packed_level(x_n)) : 0; /* before the drops */
  packed_shared_input shared = {NULL, gate}; /* the up projection reads the gate's rotations */
  if (s == ENSI_OK)
    s = mapped_gate(pe, l, x_n, m, gate, &shared, &t);
  if (s == ENSI_OK)
    s = project_normed(pe, x_n, NULL, &l->up, l->post_attn_norm, ENSI_NORM_POST, l->up.beta, false,
                       up_level(pe, gate), &shared, &u);
  ensi_packed_rotations_free(shared.rotations);
  ensi_packed_matrix_free(x_n);
  if (s == ENSI_OK)
    s = swiglu(pe, t, u, m, &h);
  ensi_packed_matrix_free(t);
  ensi_packed_matrix_free(u);
  if (s == ENSI_OK)
    s = norm_project_add(pe, x, h, ENSI_NORM_FFN, l->ffn_norm, &l->down, false);
  ensi_packed_matrix_free(h);
  return s;
}

/* ---- setup ---------------------------------------------------------------------------------- */

static ensi_status eval_init(packed_eval *pe, const ensi_henn_setup *st, const ensi_model *model,
                             size_t rows, ensi_henn_stats *stats) {
  memset(pe, 0, sizeof *pe);
  const size_t slots = st->ctx ? ensi_params_slots(ensi_context_params(st->ctx)) : 0;
  const ensi_bootstrap_config *bc = st->boot ? ensi_bootstrapper_config(st->boot) : st->boot_config;
  if (!st->ctx || !bc || bc->slots != slots)
    return ensi_fail(ENSI_ERR_ARG, "packed layers: the setup needs a context and a bootstrapper of "
                     "all %zu slots", slots);
  ENSI_TRY(packed_geometry(pe, st->ctx, &model->config, rows));
  const size_t block = slots / pe->per_pack;
  ENSI_TRY(henn_eval_prepare(&pe->ev, st, model, rows, block, slots, stats));
  pe->config = &model->config;
  return ENSI_OK;
}

/* Levels the client encrypts at: what the first layer's input norm and attention use. */
static size_t input_level(const packed_eval *pe) {
  const size_t top = ensi_context_max_level(pe->ev.ctx), need = attention_input_level(pe);
  return need < top ? need : top;
}

static ensi_status check_input(const packed_eval *pe, const ensi_packed_matrix *x) {
  const double scale = ensi_ciphertext_scale(x->pack[0]);
  if (x->cols != (size_t)pe->config->hidden || x->per_pack != pe->per_pack)
    return ensi_fail(ENSI_ERR_ARG, "packed layers: input of %zu columns in packs of %zu, expected "
                     "%d in packs of %zu", x->cols, x->per_pack, pe->config->hidden, pe->per_pack);
  if (packed_level(x) != input_level(pe) || fabs(scale / pe->ev.work_scale - 1) > 1e-9)
    return ensi_fail(ENSI_ERR_MISMATCH, "packed layers: input at level %zu and scale 2^%.3f, "
                     "expected level %zu and scale 2^%.3f (encrypted under another setup?)",
                     packed_level(x), log2(scale), input_level(pe), log2(pe->ev.work_scale));
  return ENSI_OK;
}

ensi_status ensi_henn_packed_forward(const ensi_henn_setup *setup, const ensi_model *model,
                                     ensi_packed_matrix *x, ensi_henn_stats *stats) {
  if (!setup || !model || !x)
    return ensi_fail(ENSI_ERR_ARG, "packed layers: null argument");
  ENSI_TRY(henn_check_keys(setup));
  const int layers = henn_layer_count(setup, model);
  packed_eval pe;
  ensi_status s = eval_init(&pe, setup, model, x->rows, stats);
  if (s == ENSI_OK)
    s = check_input(&pe, x);
  pe.ev.layers = layers;
  for (int i = 0; s == ENSI_OK && i < layers; i++) {
    pe.ev.layer = i;
    s = henn_keep_going(&pe.ev);
    if (s == ENSI_OK)
      s = attention_block(&pe, &model->layers[i], x);
    if (s == ENSI_OK)
      s = henn_keep_going(&pe.ev);
    if (s == ENSI_OK)
      s = ffn_block(&pe, &model->layers[i], x);
  }
  henn_eval_release(&pe.ev);
  return s;
}

ensi_status ensi_henn_packed_encrypt_tokens(ensi_packed_matrix **out, const ensi_henn_setup *setup,
                                            const ensi_model *model, const int32_t *tokens,
                                            size_t count, const ensi_public_key *pk) {
  if (!out || !setup || !model || !tokens || count == 0 || !pk)
    return ensi_fail(ENSI_ERR_ARG, "encrypt tokens: null argument");
  *out = NULL;
  packed_eval pe;
  ensi_status s = eval_init(&pe, setup, model, count, NULL);
  const size_t hid = (size_t)model->config.hidden;
  double *x = NULL;
  if (s == ENSI_OK)
    s = henn_embed_tokens(model, tokens, count, &x);
  if (s == ENSI_OK)
    s = ensi_packed_matrix_encrypt(out, setup->ctx, x, count, hid, input_level(&pe),
                                   pe.ev.work_scale, pk);
  free(x);
  henn_eval_release(&pe.ev);
  return s;
}

/* ---- keys ----------------------------------------------------------------------------------- */

/* Appends step with the highest level it rotates at (or raises that level when present). */
static void add_step(long long *steps, size_t *levels, size_t *count, long long step, size_t level) {
  for (size_t i = 0; i < *count; i++)
    if (steps[i] == step) {
      levels[i] = level > levels[i] ? level : levels[i];
      return;
    }
  if (*count < ENSI_HENN_PACKED_MAX_ROTATIONS) {
    steps[*count] = step;
    levels[(*count)++] = level;
  }
}

size_t ensi_henn_packed_rotation_steps(const ensi_context *ctx, const ensi_model_config *c,
                                       size_t rows, size_t top, long long *steps, size_t *levels) {
  packed_eval pe;
  memset(&pe, 0, sizeof pe);
  if (!ctx || !c || !steps || !levels || packed_geometry(&pe, ctx, c, rows) != ENSI_OK)
    return 0;
  pe.ev.ctx = ctx;
  pe.ev.rows = rows;
  pe.config = c;
  const size_t B = packed_baby_steps(&pe), C = pe.per_pack;
  /* the attention rotates at most at the level of the q, k, v products (their input norm's
   * inverse RMS at PACKED_ATTENTION_INV_LEVEL, the products one above); the products at most at
   * the gate's, one below the refreshed x_n (at n16-boot a key up to level 9 has two digits of 5
   * primes, up to 10 three) */
  const size_t low = PACKED_ATTENTION_INV_LEVEL + 1, products = top - 1;
  size_t count = 0;
  for (size_t step = 1; step < C; step *= 2) { /* the norms: sums and spreading, up to top */
    add_step(steps, levels, &count, (long long)step, top);
    add_step(steps, levels, &count, -(long long)step, top);
  }
  for (size_t b = 1; b < B; b++) /* the products' baby and giant steps, the wrapped copies */
    add_step(steps, levels, &count, (long long)b, products);
  for (size_t g = B; g < C; g += B)
    add_step(steps, levels, &count, (long long)g, products);
  add_step(steps, levels, &count, -(long long)C, products);
  long long attention[ENSI_HENN_PACKED_MAX_ROTATIONS];
  const size_t n = packed_attention_steps(&pe, attention);
  for (size_t i = 0; i < n; i++)
    add_step(steps, levels, &count, attention[i], low);
  return count;
}

/* Adds the keys of steps[0 .. count), each up to its level, one call per distinct level. */
static ensi_status add_rotation_keys(ensi_eval_keys *keys, const ensi_context *ctx,
                                     const ensi_secret_key *sk, const long long *steps,
                                     const size_t *levels, size_t count, long long *scratch) {
  for (size_t i = 0; i < count; i++) {
    bool first = true; /* the first step of its level makes the call */
    for (size_t j = 0; j < i; j++)
      first &= levels[j] != levels[i];
    if (!first)
      continue;
    size_t n = 0;
    for (size_t j = i; j < count; j++)
      if (levels[j] == levels[i])
        scratch[n++] = steps[j];
    ENSI_TRY(ensi_eval_keys_add_rotations_up_to(keys, ctx, sk, scratch, n, levels[i], NULL));
  }
  return ENSI_OK;
}

ensi_status ensi_henn_packed_keys_generate(ensi_eval_keys **out, const ensi_context *ctx,
                                           const ensi_secret_key *sk, const ensi_bootstrapper *boot,
                                           const ensi_model_config *c, size_t rows) {
  if (!out || !ctx || !sk || !boot || !c)
    return ensi_fail(ENSI_ERR_ARG, "packed keys: null argument");
  *out = NULL;
  ENSI_TRY(ensi_henn_packed_check(ctx, c, rows));
  const size_t max = ENSI_HENN_PACKED_MAX_ROTATIONS;
  long long *steps = malloc(2 * max * sizeof *steps);
  size_t *levels = malloc(max * sizeof *levels);
  ensi_status s = steps && levels ? ENSI_OK : ENSI_ERR_NOMEM;
  const size_t top = ensi_bootstrap_output_level(boot);
  const size_t count = s == ENSI_OK ? ensi_henn_packed_rotation_steps(ctx, c, rows, top, steps,
                                                                      levels) : 0;
  if (s == ENSI_OK)
    s = ensi_bootstrap_keys_generate(out, ctx, sk, boot);
  if (s == ENSI_OK)
    s = add_rotation_keys(*out, ctx, sk, steps, levels, count, steps + max);
  free(steps);
  free(levels);
  if (s != ENSI_OK) {
    ensi_eval_keys_free(*out);
    *out = NULL;
  }
  return s;
}
