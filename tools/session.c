/* Sessions of encrypted inference for the tools (see session.h). */
#include "session.h"

#include <math.h>
#include <string.h>

#include "bench_util.h"
#include "party.h"
#include "tool_error.h"

double session_relative_error(const double *got, const double *want, size_t n) {
  double err = 0, scale = 0;
  for (size_t i = 0; i < n; i++) {
    err = bench_worse(err, fabs(got[i] - want[i]));
    scale = fmax(scale, fabs(want[i]));
  }
  return scale > 0 ? err / scale : err;
}

static ensi_status make_context(session *s, const char *preset);

ensi_status session_choose_layout(const char *layout, const char *preset, const ensi_model_config *c,
                                  size_t rows, bool *packed) {
  const bool is_auto = !strcmp(layout, "auto");
  if (!is_auto && strcmp(layout, "column") && strcmp(layout, "packed"))
    return tool_fail(ENSI_ERR_ARG, "layout '%s': auto, column or packed", layout);
  *packed = false;
  if (!strcmp(layout, "column"))
    return ENSI_OK;
  session probe = {0};
  ensi_status st = make_context(&probe, preset);
  size_t block = 1;
  while (block < rows)
    block *= 2;
  if (st == ENSI_OK && is_auto && ensi_params_slots(probe.params) / block > (size_t)c->hidden)
    st = ENSI_ERR_ARG; /* packs mostly empty: the column layout */
  else if (st == ENSI_OK)
    st = ensi_henn_packed_check(probe.ctx, c, rows);
  *packed = st == ENSI_OK;
  session_close(&probe);
  return is_auto ? ENSI_OK : st;
}

ensi_status session_encrypted_pass(session *s, const ensi_model *m, const int32_t *tokens,
                                   size_t rows, ensi_henn_stats *stats, double *hidden,
                                   double seconds[3]) {
  ensi_packed_matrix *packs = NULL;
  ensi_enc_matrix *columns = NULL;
  double t = bench_now();
  ensi_status st = s->packed
                       ? ensi_henn_packed_encrypt_tokens(&packs, &s->setup, m, tokens, rows, s->pk)
                       : ensi_henn_encrypt_tokens(&columns, &s->setup, m, tokens, rows, s->pk);
  seconds[0] = bench_now() - t;
  t = bench_now();
  if (st == ENSI_OK)
    st = s->packed ? ensi_henn_packed_forward(&s->setup, m, packs, stats)
                   : ensi_henn_forward(&s->setup, m, columns, stats);
  seconds[1] = bench_now() - t;
  t = bench_now();
  if (st == ENSI_OK)
    st = s->packed ? ensi_packed_matrix_decrypt(s->ctx, hidden, packs, s->sk)
                   : ensi_enc_matrix_decrypt(s->ctx, hidden, columns, s->sk);
  seconds[2] = bench_now() - t;
  ensi_packed_matrix_free(packs);
  ensi_enc_matrix_free(columns);
  return st;
}

static ensi_status make_context(session *s, const char *preset) {
  ensi_params_literal lit;
  ensi_status st = ensi_params_preset(preset, &lit);
  if (st == ENSI_OK)
    st = ensi_params_create(&s->params, &lit);
  return st == ENSI_OK ? ensi_context_create(&s->ctx, s->params) : st;
}

ensi_status session_open(session *s, const char *preset, const ensi_model *model, size_t rows,
                         int layers, const ensi_forward_options *approx_degrees, bool packed) {
  memset(s, 0, sizeof *s);
  ensi_status st = make_context(s, preset);
  ensi_henn_setup *setup = &s->setup;
  setup->approx = *approx_degrees;
  setup->layers = layers;
  double t = bench_now();
  if (st == ENSI_OK) /* the model operator's calibration, on random prompts of the same length */
    st = ensi_henn_calibrate(model, rows, PARTY_CALIBRATION_PROMPTS, PARTY_CALIBRATION_SEED,
                             &setup->approx, &setup->bound);
  s->calibrate_s = bench_now() - t;
  const size_t slots = st != ENSI_OK ? 0
                       : packed ? ensi_params_slots(s->params)
                                : ensi_henn_default_slots(s->ctx, &model->config, rows);
  ensi_bootstrap_config config;
  if (st == ENSI_OK)
    st = ensi_bootstrap_config_default(&config, s->ctx, slots);
  if (st == ENSI_OK)
    st = ensi_bootstrapper_create(&s->boot, s->ctx, &config);
  t = bench_now();
  if (st == ENSI_OK) /* the client's keys */
    st = ensi_secret_key_generate(&s->sk, s->ctx, NULL);
  if (st == ENSI_OK)
    st = ensi_public_key_generate(&s->pk, s->ctx, s->sk, NULL);
  if (st == ENSI_OK)
    st = packed ? ensi_henn_packed_keys_generate(&s->keys, s->ctx, s->sk, s->boot, &model->config,
                                                 rows)
                : ensi_henn_keys_generate(&s->keys, s->ctx, s->sk, s->boot, slots, rows);
  s->keygen_s = bench_now() - t;
  s->packed = packed;
  setup->ctx = s->ctx;
  setup->keys = s->keys;
  setup->boot = s->boot;
  if (st != ENSI_OK)
    session_close(s);
  return st;
}

void session_close(session *s) {
  ensi_eval_keys_free(s->keys);
  ensi_public_key_free(s->pk);
  ensi_secret_key_free(s->sk);
  ensi_bootstrapper_free(s->boot);
  ensi_context_free(s->ctx);
  ensi_params_free(s->params);
  memset(s, 0, sizeof *s);
}
