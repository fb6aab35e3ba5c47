/* The encrypted forward pass of a BitNet model (ENSI), layer by layer as the plaintext reference
 * in src/model/forward.c reads:
 *   y  = RMSNorm_in(x)                      (beta_v folded into gamma)
 *   a  = attention(y)                       (attention.c)
 *   x += o_proj(RMSNorm_inner(a))           (beta_o folded)
 *   g, u = gate(RMSNorm_post(x)), up(...)   (two foldings: beta_gate and beta_up)
 *   x += down(RMSNorm_ffn(SiLU(g) * u))     (beta_down folded)
 * Bootstrapping happens inside the norms (and wherever a measured level budget runs out, which
 * henn_ensure_levels decides and the statistics report). Also the client's encryption of the
 * embedded tokens and the setup queries. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "henn/henn_eval.h"
#include "henn/matrix_internal.h"

static const char *const stage_names[ENSI_STAGE_COUNT] = {
    "pcmm", "rope", "ccmm", "sigmoid", "rmsnorm", "ffn_activation", "packing", "bootstrap",
    "residual"};

const char *ensi_henn_stage_name(ensi_henn_stage stage) {
  return stage < ENSI_STAGE_COUNT ? stage_names[stage] : "?";
}

/* The token block of `rows` tokens under this setup. */
static size_t setup_block(const ensi_henn_setup *setup, size_t rows) {
  return setup->block ? setup->block : ensi_henn_block(rows);
}

/* The bootstrapper's configuration: the server's bootstrapper's or the client's copy. */
static const ensi_bootstrap_config *boot_config(const ensi_henn_setup *setup) {
  return setup->boot ? ensi_bootstrapper_config(setup->boot) : setup->boot_config;
}

size_t ensi_henn_slots(const ensi_henn_setup *setup, size_t rows) {
  if (!setup)
    return 0;
  if (boot_config(setup))
    return boot_config(setup)->slots;
  return 2 * setup_block(setup, rows);
}

double ensi_henn_input_scale(const ensi_henn_setup *setup) {
  if (!setup || !setup->ctx || !(setup->bound > 0))
    return 0;
  if (boot_config(setup))
    return boot_config(setup)->input_scale / setup->bound;
  return ensi_params_scale(ensi_context_params(setup->ctx));
}

/* Appends step unless present. */
static void add_step(long long *steps, size_t *count, long long step) {
  for (size_t i = 0; i < *count; i++)
    if (steps[i] == step)
      return;
  steps[(*count)++] = step;
}

size_t ensi_henn_rotation_steps(size_t slots, size_t rows, long long *steps) {
  const size_t block = ensi_henn_block(rows), per = slots / block;
  const size_t baby = henn_baby_steps(per), shift_baby = henn_baby_steps(block);
  size_t count = 0;
  /* the attention's shifts t = g B + b (attention.c): -b, and -g B and +g B */
  for (size_t b = 1; b < shift_baby && b < block; b++)
    add_step(steps, &count, -(long long)b);
  for (size_t g = shift_baby; g < block; g += shift_baby) {
    add_step(steps, &count, -(long long)g);
    add_step(steps, &count, (long long)g);
  }
  /* unpacking's baby and giant steps; B being a power of two, they include every -2^i b of the
   * packing tree */
  for (size_t b = 1; b < baby && b < per; b++)
    add_step(steps, &count, -(long long)(b * block));
  for (size_t g = baby; g < per; g += baby)
    add_step(steps, &count, -(long long)(g * block));
  return count;
}

static size_t input_level(const ensi_henn_setup *setup);

static ensi_status eval_init(henn_eval *ev, const ensi_henn_setup *st, const ensi_model *model,
                             const ensi_enc_matrix *x, ensi_henn_stats *stats) {
  memset(ev, 0, sizeof *ev);
  ENSI_TRY(henn_check_keys(st));
  if (x->block > ENSI_HENN_MAX_BLOCK || x->block != setup_block(st, x->rows))
    return ensi_fail(ENSI_ERR_ARG, "encrypted forward: %zu tokens in a block of %zu, expected at "
                     "most %d tokens in a block of %zu", x->rows, x->block, ENSI_HENN_MAX_BLOCK,
                     setup_block(st, x->rows));
  if (x->cols != (size_t)model->config.hidden || x->slots != ensi_henn_slots(st, x->rows))
    return ensi_fail(ENSI_ERR_ARG, "encrypted forward: input of %zu columns in %zu slots, expected "
                     "%d columns in %zu slots", x->cols, x->slots, model->config.hidden,
                     ensi_henn_slots(st, x->rows));
  return henn_eval_prepare(ev, st, model, x->rows, x->block, x->slots, stats);
}

/* x += y (x may sit at a higher level: the sum is at y's). */
static ensi_status residual(henn_eval *ev, ensi_enc_matrix *x, const ensi_enc_matrix *y) {
  henn_mark mark;
  henn_begin(ev, &mark, NULL);
  ensi_status s = ENSI_OK;
  for (size_t j = 0; s == ENSI_OK && j < x->cols; j++)
    s = ensi_add(ev->ctx, x->column[j], x->column[j], y->column[j]);
  henn_end(ev, ENSI_STAGE_RESIDUAL, &mark);
  return s;
}

/* x += W (RMSNorm(a) * gamma * beta_W): a norm followed by one projection and the residual (a is
 * consumed: the norm may turn it into its output). */
static ensi_status norm_project_add(henn_eval *ev, ensi_enc_matrix *x, ensi_enc_matrix **a,
                                    ensi_norm_kind kind, const float *gamma,
                                    const ensi_ternary *w) {
  ensi_enc_matrix *y = NULL, *p = NULL;
  ensi_status s = henn_rmsnorm_consume(ev, a, kind, gamma, w->beta, (henn_levels){0, 0}, &y);
  if (s == ENSI_OK)
    s = henn_pcmm(ev, y, w, &p);
  if (s == ENSI_OK)
    s = residual(ev, x, p);
  ensi_enc_matrix_free(y);
  ensi_enc_matrix_free(p);
  return s;
}

static ensi_status attention_block(henn_eval *ev, const ensi_model *m, const ensi_layer *l,
                                   ensi_enc_matrix *x) {
  ensi_enc_matrix *y = NULL, *a = NULL;
  ensi_status s = henn_rmsnorm(ev, x, ENSI_NORM_INPUT, l->input_norm, &l->v.beta, 1,
                               henn_attention_input_levels(ev), &y);
  if (s == ENSI_OK)
    s = henn_attention(ev, &m->config, l, y, &a);
  if (s == ENSI_OK)
    s = norm_project_add(ev, x, &a, ENSI_NORM_INNER, l->inner_attn_norm, &l->o);
  ensi_enc_matrix_free(y);
  ensi_enc_matrix_free(a);
  return s;
}

/* The post-attention norm carries the gate's beta for both projections; the up projection's
 * correction beta_up / beta_gate rides on SiLU's unpacking (henn_swiglu; a zero gate beta makes
 * g and so h zero, whatever u). */
static ensi_status ffn_block(henn_eval *ev, const ensi_layer *l, ensi_enc_matrix *x) {
  ensi_enc_matrix *y = NULL, *g = NULL, *u = NULL, *h = NULL;
  ensi_status s = henn_rmsnorm(ev, x, ENSI_NORM_POST, l->post_attn_norm, &l->gate.beta, 1,
                               henn_swiglu_input_levels(ev), &y);
  if (s == ENSI_OK)
    s = henn_pcmm(ev, y, &l->gate, &g);
  if (s == ENSI_OK)
    s = henn_pcmm(ev, y, &l->up, &u);
  if (s == ENSI_OK)
    s = henn_swiglu(ev, g, u, l->gate.beta != 0 ? l->up.beta / l->gate.beta : 0, &h);
  if (s == ENSI_OK)
    s = norm_project_add(ev, x, &h, ENSI_NORM_FFN, l->ffn_norm, &l->down);
  ensi_enc_matrix_free(y);
  ensi_enc_matrix_free(g);
  ensi_enc_matrix_free(u);
  ensi_enc_matrix_free(h);
  return s;
}

/* The forward pass's input must be what ensi_henn_encrypt_tokens makes under this setup. */
static ensi_status check_input(const ensi_henn_setup *st, const ensi_enc_matrix *x) {
  const double scale = ensi_ciphertext_scale(x->column[0]);
  if (ensi_ciphertext_level(x->column[0]) != input_level(st) ||
      fabs(scale / ensi_henn_input_scale(st) - 1) > 1e-9)
    return ensi_fail(ENSI_ERR_MISMATCH, "encrypted forward: input at level %zu and scale 2^%.3f, "
                     "expected level %zu and scale 2^%.3f (encrypted under another setup?)",
                     ensi_ciphertext_level(x->column[0]), log2(scale), input_level(st),
                     log2(ensi_henn_input_scale(st)));
  return ENSI_OK;
}

ensi_status ensi_henn_forward(const ensi_henn_setup *setup, const ensi_model *model,
                              ensi_enc_matrix *x, ensi_henn_stats *stats) {
  if (!setup || !model || !x)
    return ensi_fail(ENSI_ERR_ARG, "encrypted forward: null argument");
  const int layers = henn_layer_count(setup, model);
  henn_eval ev;
  ensi_status s = eval_init(&ev, setup, model, x, stats);
  if (s == ENSI_OK)
    s = check_input(setup, x);
  ev.layers = layers;
  for (int i = 0; s == ENSI_OK && i < layers; i++) {
    ev.layer = i;
    s = henn_keep_going(&ev);
    if (s == ENSI_OK)
      s = attention_block(&ev, model, &model->layers[i], x);
    if (s == ENSI_OK)
      s = henn_keep_going(&ev);
    if (s == ENSI_OK)
      s = ffn_block(&ev, &model->layers[i], x);
  }
  henn_eval_release(&ev);
  return s;
}

ensi_status ensi_henn_rmsnorm(const ensi_henn_setup *setup, const ensi_model *model,
                              ensi_enc_matrix *x, ensi_norm_kind kind, int layer,
                              const float *gamma, size_t levels_after, ensi_enc_matrix **y,
                              ensi_henn_stats *stats) {
  if (!setup || !model || !x || !gamma || !y || kind >= ENSI_NORM_KINDS || layer < 0 ||
      layer >= model->config.layers)
    return ensi_fail(ENSI_ERR_ARG, "rmsnorm: bad argument");
  henn_eval ev;
  ensi_status s = eval_init(&ev, setup, model, x, stats);
  ev.layer = layer;
  ev.layers = model->config.layers;
  const double one = 1;
  if (s == ENSI_OK)
    s = henn_rmsnorm(&ev, x, kind, gamma, &one, 1, (henn_levels){levels_after, levels_after}, y);
  henn_eval_release(&ev);
  return s;
}

/* The level the first input norm would drop a fresh input to (its polynomial, the attention's
 * RoPE, Q K^T, sigmoid, unpacking and S V): encrypting higher only costs the client time. */
static size_t input_level(const ensi_henn_setup *setup) {
  const ensi_forward_options *o = &setup->approx;
  const ensi_norm_kind in = ENSI_NORM_INPUT;
  const size_t norm = 2 + ensi_chebyshev_depth(o->rsqrt_degree[in], o->rsqrt_lo[in], o->rsqrt_hi[in]);
  const size_t sigmoid = ensi_chebyshev_depth(o->sigmoid_degree, o->sigmoid_lo, o->sigmoid_hi);
  const size_t attention = 2 + sigmoid + 2;
  const size_t top = ensi_context_max_level(setup->ctx);
  return norm + attention < top ? norm + attention : top;
}

ensi_status ensi_henn_encrypt_tokens(ensi_enc_matrix **out, const ensi_henn_setup *setup,
                                     const ensi_model *model, const int32_t *tokens, size_t count,
                                     const ensi_public_key *pk) {
  if (!out || !setup || !setup->ctx || !model || !tokens || count == 0 || !pk)
    return ensi_fail(ENSI_ERR_ARG, "encrypt tokens: null argument");
  const size_t hid = (size_t)model->config.hidden;
  double *x = NULL;
  ensi_status s = henn_embed_tokens(model, tokens, count, &x);
  if (s == ENSI_OK)
    s = ensi_enc_matrix_encrypt_block(out, setup->ctx, x, count, hid, setup->block,
                                      ensi_henn_slots(setup, count), input_level(setup),
                                      ensi_henn_input_scale(setup), pk);
  free(x);
  return s;
}
