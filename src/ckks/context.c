/* Builds a CKKS context from validated parameters: NTT tables for every prime and the base
 * converters of hybrid key switching (see context.h). */
#include "ckks/context.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static ensi_status build_moduli(ensi_context *ctx) {
  const size_t total = ctx->q_count + ctx->p_count;
  ctx->moduli = calloc(total, sizeof *ctx->moduli);
  ctx->ntt = calloc(total, sizeof *ctx->ntt);
  if (!ctx->moduli || !ctx->ntt)
    return ENSI_ERR_NOMEM;
  for (size_t i = 0; i < total; i++) {
    uint64_t q = i < ctx->q_count ? ensi_params_q(ctx->params, i)
                                  : ensi_params_p(ctx->params, i - ctx->q_count);
    ENSI_TRY(ensi_modulus_init(&ctx->moduli[i], q));
    ENSI_TRY(ensi_ntt_table_create(&ctx->ntt[i], &ctx->moduli[i], ctx->n));
  }
  return ENSI_OK;
}

/* Converter from digit j of level l to the rest of Q_l and P. */
static ensi_status build_mod_up(ensi_context *ctx, size_t l, size_t j, ensi_base_converter **out) {
  const size_t begin = j * ctx->alpha, end = begin + ctx->alpha < l + 1 ? begin + ctx->alpha : l + 1;
  ensi_modulus *to = calloc(l + 1 + ctx->p_count, sizeof *to);
  if (!to)
    return ENSI_ERR_NOMEM;
  size_t count = 0;
  for (size_t i = 0; i <= l; i++)
    if (i < begin || i >= end)
      to[count++] = ctx->moduli[i];
  for (size_t i = 0; i < ctx->p_count; i++)
    to[count++] = ctx->moduli[ctx->q_count + i];
  ensi_status s = ensi_base_converter_create(out, ctx->moduli + begin, end - begin, to, count);
  free(to);
  return s;
}

/* ModDown's converter P -> Q_l and, above level 0, the one of ModDown fused with a rescale,
 * {q_l} u P -> Q_{l-1} (keyswitch.h). */
static ensi_status build_mod_down(ensi_context *ctx, size_t l) {
  const size_t pi = ensi_context_p_index(ctx);
  ENSI_TRY(ensi_base_converter_create(&ctx->mod_down[l], ctx->moduli + pi, ctx->p_count,
                                      ctx->moduli, l + 1));
  if (l == 0)
    return ENSI_OK;
  ensi_modulus *from = malloc((1 + ctx->p_count) * sizeof *from); /* q_l, then P */
  if (!from)
    return ENSI_ERR_NOMEM;
  from[0] = ctx->moduli[l];
  memcpy(from + 1, ctx->moduli + pi, ctx->p_count * sizeof *from);
  const ensi_status s = ensi_base_converter_create(&ctx->mod_down_rescale[l], from,
                                                   1 + ctx->p_count, ctx->moduli, l);
  free(from);
  return s;
}

static ensi_status build_key_switching(ensi_context *ctx) {
  const size_t L = ctx->q_count - 1, pi = ensi_context_p_index(ctx);
  ctx->mod_up = calloc(L + 1, sizeof *ctx->mod_up);
  ctx->mod_down = calloc(L + 1, sizeof *ctx->mod_down);
  ctx->mod_down_rescale = calloc(L + 1, sizeof *ctx->mod_down_rescale);
  ctx->p_inv_mod_q = calloc(ctx->q_count, sizeof(uint64_t));
  ctx->p_mod_q = calloc(ctx->q_count, sizeof(uint64_t));
  if (!ctx->mod_up || !ctx->mod_down || !ctx->mod_down_rescale || !ctx->p_inv_mod_q ||
      !ctx->p_mod_q)
    return ENSI_ERR_NOMEM;
  for (size_t l = 0; l <= L; l++) {
    const size_t digits = ensi_context_digits(ctx, l);
    ctx->mod_up[l] = calloc(digits, sizeof **ctx->mod_up);
    if (!ctx->mod_up[l])
      return ENSI_ERR_NOMEM;
    for (size_t j = 0; j < digits; j++)
      ENSI_TRY(build_mod_up(ctx, l, j, &ctx->mod_up[l][j]));
    ENSI_TRY(build_mod_down(ctx, l));
  }
  for (size_t i = 0; i <= L; i++) {
    const ensi_modulus *qi = &ctx->moduli[i];
    uint64_t p = 1;
    for (size_t k = 0; k < ctx->p_count; k++)
      p = ensi_mul_mod(p, ctx->moduli[pi + k].value % qi->value, qi);
    ctx->p_mod_q[i] = p;
    ctx->p_inv_mod_q[i] = ensi_inv_mod(p, qi);
  }
  return ENSI_OK;
}

ensi_status ensi_context_create(ensi_context **out, const ensi_params *params) {
  if (!out || !params)
    return ensi_fail(ENSI_ERR_ARG, "context: null argument");
  ensi_context *ctx = calloc(1, sizeof *ctx);
  if (!ctx)
    return ENSI_ERR_NOMEM;
  ensi_status s = ensi_params_clone(&ctx->params, params);
  if (s == ENSI_OK) {
    ctx->n = ensi_params_n(params);
    while (((size_t)1 << ctx->log_n) < ctx->n)
      ctx->log_n++;
    ctx->slots = ensi_params_slots(params);
    ctx->q_count = ensi_params_q_count(params);
    ctx->p_count = ensi_params_p_count(params);
    ctx->dnum = ensi_params_dnum(params);
    ctx->alpha = (ctx->q_count + ctx->dnum - 1) / ctx->dnum;
    ctx->dnum = (ctx->q_count + ctx->alpha - 1) / ctx->alpha; /* digits actually used */
  }
  if (s == ENSI_OK)
    s = build_moduli(ctx);
  if (s == ENSI_OK)
    s = build_key_switching(ctx);
  if (s != ENSI_OK) {
    ensi_context_free(ctx);
    return s;
  }
  *out = ctx;
  return ENSI_OK;
}

void ensi_context_free(ensi_context *ctx) {
  if (!ctx)
    return;
  const size_t total = ctx->q_count + ctx->p_count;
  for (size_t i = 0; ctx->ntt && i < total; i++)
    ensi_ntt_table_free(ctx->ntt[i]);
  for (size_t l = 0; l < ctx->q_count; l++) {
    if (ctx->mod_up && ctx->mod_up[l]) {
      for (size_t j = 0; j < ensi_context_digits(ctx, l); j++)
        ensi_base_converter_free(ctx->mod_up[l][j]);
      free(ctx->mod_up[l]);
    }
    if (ctx->mod_down)
      ensi_base_converter_free(ctx->mod_down[l]);
    if (ctx->mod_down_rescale)
      ensi_base_converter_free(ctx->mod_down_rescale[l]);
  }
  free(ctx->mod_up);
  free(ctx->mod_down);
  free(ctx->mod_down_rescale);
  free(ctx->p_inv_mod_q);
  free(ctx->p_mod_q);
  free(ctx->ntt);
  free(ctx->moduli);
  ensi_params_free(ctx->params);
  free(ctx);
}

const ensi_params *ensi_context_params(const ensi_context *ctx) { return ctx->params; }

size_t ensi_context_max_level(const ensi_context *ctx) { return ctx->q_count - 1; }
