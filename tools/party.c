/* Client and server sides of the protocol for the tools (see party.h). */
#include "party.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "henn/matrix_internal.h"
#include "tool_error.h"

/* ---- shared ------------------------------------------------------------------------------- */

ensi_status party_calibrate(const ensi_model *model, size_t rows, ensi_forward_options *approx,
                            double *bound) {
  ensi_forward_options_default(approx);
  ensi_henn_default_degrees(approx);
  return ensi_henn_calibrate(model, rows, PARTY_CALIBRATION_PROMPTS, PARTY_CALIBRATION_SEED, approx,
                             bound);
}

static ensi_status check_model(const party *p, const ensi_model *model) {
  uint8_t mine[32];
  TOOL_TRY(ensi_model_fingerprint(model, mine));
  if (memcmp(mine, p->profile.model, sizeof mine))
    return tool_fail(ENSI_ERR_MISMATCH, "the model differs from the one the keys were made for");
  return ENSI_OK;
}

/* BLAKE2b-256 of the saved public key. */
static ensi_status public_key_id(const party *p, uint8_t id[32]) {
  uint8_t *bytes;
  size_t length;
  TOOL_TRY(ensi_public_key_save(p->ctx, p->pk, &bytes, &length));
  crypto_generichash(id, 32, bytes, length, NULL, 0);
  free(bytes);
  return ENSI_OK;
}

/* Context and bootstrapper configuration of the profile (the slot count follows from the model
 * and S); the bootstrapper itself only where keys are made or layers run. */
static ensi_status build(party *p, const ensi_model *model, bool bootstrapper) {
  TOOL_TRY(ensi_context_create(&p->ctx, p->params));
  const size_t slots = ensi_henn_default_slots(p->ctx, &model->config, p->profile.max_tokens);
  TOOL_TRY(ensi_bootstrap_config_default(&p->boot_config, p->ctx, slots));
  return bootstrapper ? ensi_bootstrapper_create(&p->boot, p->ctx, &p->boot_config) : ENSI_OK;
}

static ensi_status adopt_profile(party *p, const uint8_t *saved, size_t length,
                                 bool allow_insecure) {
  TOOL_TRY(ensi_profile_load(&p->params, &p->profile, saved, length, allow_insecure));
  if (!(p->saved_profile = malloc(length)))
    return ENSI_ERR_NOMEM;
  memcpy(p->saved_profile, saved, length);
  p->saved_profile_length = length;
  ensi_profile_id(saved, length, p->id);
  if (ensi_params_literal_of(p->params)->allow_insecure)
    fprintf(stderr, "warning: these keys use an INSECURE parameter set (tests only)\n");
  return ENSI_OK;
}

void party_close(party *p) {
  ensi_eval_keys_free(p->keys);
  ensi_public_key_free(p->pk);
  ensi_secret_key_free(p->sk);
  ensi_bootstrapper_free(p->boot);
  ensi_context_free(p->ctx);
  ensi_params_free(p->params);
  free(p->saved_profile);
  memset(p, 0, sizeof *p);
}

ensi_status party_setup(const party *p, const ensi_model *model, size_t rows,
                        ensi_henn_setup *setup) {
  memset(setup, 0, sizeof *setup);
  if (rows < 1 || rows > p->profile.max_tokens)
    return tool_fail(ENSI_ERR_LIMIT, "%zu tokens: these keys serve prompts of 1 to %u tokens",
                     rows, p->profile.max_tokens);
  setup->ctx = p->ctx;
  setup->keys = p->keys;
  setup->boot = p->boot;
  setup->boot_config = &p->boot_config;
  setup->block = ensi_henn_block(p->profile.max_tokens);
  return party_calibrate(model, rows, &setup->approx, &setup->bound);
}

/* ---- client ------------------------------------------------------------------------------- */

ensi_status party_keygen(party *p, const char *preset, const ensi_model *model, size_t max_tokens) {
  memset(p, 0, sizeof *p);
  tool_error_clear();
  if (max_tokens < 1 || max_tokens > ENSI_HENN_MAX_BLOCK)
    return tool_fail(ENSI_ERR_ARG, "%zu tokens: keys serve 1 to %d tokens", max_tokens,
                     ENSI_HENN_MAX_BLOCK);
  ensi_params_literal lit;
  TOOL_TRY(ensi_params_preset(preset, &lit));
  TOOL_TRY(ensi_params_create(&p->params, &lit));
  p->profile.max_tokens = (uint32_t)max_tokens;
  TOOL_TRY(build(p, model, true));
  TOOL_TRY(ensi_secret_key_generate(&p->sk, p->ctx, NULL));
  TOOL_TRY(ensi_public_key_generate(&p->pk, p->ctx, p->sk, NULL));
  TOOL_TRY(ensi_model_fingerprint(model, p->profile.model));
  TOOL_TRY(public_key_id(p, p->profile.keys));
  TOOL_TRY(ensi_profile_save(p->params, &p->profile, &p->saved_profile, &p->saved_profile_length));
  ensi_profile_id(p->saved_profile, p->saved_profile_length, p->id);
  return ensi_henn_keys_generate(&p->keys, p->ctx, p->sk, p->boot, 0, max_tokens);
}

static ensi_status write_in(const char *dir, const char *name, const uint8_t *data, size_t length,
                            unsigned mode) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
    return tool_fail(ENSI_ERR_ARG, "path too long: %s", dir);
  return ensi_file_write(path, data, length, mode);
}

static ensi_status read_in(const char *dir, const char *name, uint8_t **data, size_t *length) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
    return tool_fail(ENSI_ERR_ARG, "path too long: %s", dir);
  return ensi_file_read(path, data, length, PARTY_MAX_FILE);
}

static ensi_status save_secret(const party *p, const char *dir) {
  uint8_t *bytes = NULL;
  size_t length = 0;
  ensi_status s = ensi_secret_key_save(p->ctx, p->sk, &bytes, &length);
  if (s == ENSI_OK)
    s = write_in(dir, PARTY_SECRET_FILE, bytes, length, 0600);
  if (bytes)
    sodium_memzero(bytes, length);
  free(bytes);
  return s;
}

static ensi_status save_bundle(const party *p, const char *dir) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, PARTY_BUNDLE_FILE) >= sizeof path)
    return tool_fail(ENSI_ERR_ARG, "path too long: %s", dir);
  uint8_t *keys = NULL;
  size_t keys_length = 0;
  ensi_status s = ensi_eval_keys_save(p->ctx, p->keys, &keys, &keys_length);
  if (s == ENSI_OK)
    s = ensi_bundle_write_file(path, p->saved_profile, p->saved_profile_length, keys, keys_length);
  free(keys);
  return s;
}

ensi_status party_save(const party *p, const char *dir) {
  tool_error_clear();
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return tool_fail(ENSI_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
  TOOL_TRY(write_in(dir, PARTY_PROFILE_FILE, p->saved_profile, p->saved_profile_length, 0644));
  TOOL_TRY(save_secret(p, dir));
  uint8_t *bytes;
  size_t length;
  TOOL_TRY(ensi_public_key_save(p->ctx, p->pk, &bytes, &length));
  const ensi_status s = write_in(dir, PARTY_PUBLIC_FILE, bytes, length, 0644);
  free(bytes);
  return s == ENSI_OK ? save_bundle(p, dir) : s;
}

static ensi_status load_client_keys(party *p, const char *dir) {
  uint8_t *bytes = NULL;
  size_t length = 0;
  ensi_status s = read_in(dir, PARTY_SECRET_FILE, &bytes, &length);
  if (s == ENSI_OK)
    s = ensi_secret_key_load(p->ctx, &p->sk, bytes, length);
  if (bytes)
    sodium_memzero(bytes, length);
  free(bytes);
  bytes = NULL;
  if (s == ENSI_OK)
    s = read_in(dir, PARTY_PUBLIC_FILE, &bytes, &length);
  if (s == ENSI_OK)
    s = ensi_public_key_load(p->ctx, &p->pk, bytes, length);
  free(bytes);
  uint8_t id[32];
  if (s == ENSI_OK)
    s = public_key_id(p, id);
  if (s == ENSI_OK && memcmp(id, p->profile.keys, sizeof id))
    s = tool_fail(ENSI_ERR_MISMATCH, "%s/%s is not the key of this profile", dir, PARTY_PUBLIC_FILE);
  return s;
}

ensi_status party_open_client(party *p, const char *dir, const ensi_model *model) {
  memset(p, 0, sizeof *p);
  tool_error_clear();
  uint8_t *bytes = NULL;
  size_t length = 0;
  ensi_status s = read_in(dir, PARTY_PROFILE_FILE, &bytes, &length);
  if (s == ENSI_OK)
    s = adopt_profile(p, bytes, length, true);
  free(bytes);
  if (s == ENSI_OK)
    s = check_model(p, model);
  if (s == ENSI_OK)
    s = build(p, model, false);
  return s == ENSI_OK ? load_client_keys(p, dir) : s;
}

static ensi_status tokenize(const party *p, const char *model_dir, const char *prompt,
                            int32_t **ids, size_t *count) {
  ensi_tokenizer *tok = NULL;
  ensi_status s = ensi_tokenizer_load_dir(&tok, model_dir);
  if (s == ENSI_OK)
    s = ensi_tokenizer_encode(tok, prompt, strlen(prompt), true, ids, count);
  ensi_tokenizer_free(tok);
  if (s == ENSI_OK && *count > p->profile.max_tokens) {
    fprintf(stderr, "note: the prompt has %zu tokens; the keys serve %u, the first %u are sent\n",
            *count, p->profile.max_tokens, p->profile.max_tokens);
    *count = p->profile.max_tokens;
  }
  return s;
}

ensi_status party_encrypt(const party *p, const ensi_model *model, const char *model_dir,
                          const char *prompt, uint8_t **request, size_t *length) {
  tool_error_clear();
  int32_t *ids = NULL;
  size_t count = 0;
  ensi_henn_setup setup;
  ensi_enc_matrix *x = NULL;
  ensi_status s = tokenize(p, model_dir, prompt, &ids, &count);
  if (s == ENSI_OK && count == 0)
    s = tool_fail(ENSI_ERR_ARG, "the prompt makes no token");
  if (s == ENSI_OK)
    s = party_setup(p, model, count, &setup);
  if (s == ENSI_OK)
    s = ensi_henn_encrypt_tokens(&x, &setup, model, ids, count, p->pk);
  if (s == ENSI_OK)
    s = ensi_message_save(p->ctx, ENSI_MESSAGE_REQUEST, p->id, x, request, length);
  ensi_enc_matrix_free(x);
  free(ids);
  return s;
}

static int argmax(const double *v, int count) {
  int best = 0;
  for (int i = 1; i < count; i++)
    if (v[i] > v[best])
      best = i;
  return best;
}

/* The last row's greedy token from decrypted hidden states. */
static ensi_status next_token(const ensi_model *model, const double *hidden, size_t rows,
                              int32_t *token) {
  const size_t hid = (size_t)model->config.hidden, vocab = (size_t)model->config.vocab;
  for (size_t i = 0; i < rows * hid; i++)
    if (!isfinite(hidden[i]) || fabs(hidden[i]) > 1e6)
      return tool_fail(ENSI_ERR_LIMIT, "the decrypted hidden states hold %g: the prompt drove a "
                       "polynomial outside its calibrated interval", hidden[i]);
  double *logits = malloc(rows * vocab * sizeof *logits);
  if (!logits)
    return ENSI_ERR_NOMEM;
  const ensi_status s = ensi_lm_head(model, hidden, rows, logits);
  if (s == ENSI_OK)
    *token = argmax(logits + (rows - 1) * vocab, (int)vocab);
  free(logits);
  return s;
}

/* A standard normal sample from the operating system's randomness (Box-Muller). */
static double gaussian(void) {
  uint64_t u[2];
  randombytes_buf(u, sizeof u);
  const double a = ((double)(u[0] >> 11) + 0.5) * 0x1p-53, b = (double)(u[1] >> 11) * 0x1p-53;
  return sqrt(-2 * log(a)) * cos(2 * M_PI * b);
}

/* Noise flooding: values += N(0, (2^-bits max |value|)^2), so that what the client computes and
 * shows depends on the decryption error only through a much larger fresh noise. */
static void flood(double *values, size_t count, int bits) {
  double largest = 0;
  for (size_t i = 0; i < count; i++)
    largest = fmax(largest, fabs(values[i]));
  const double sigma = ldexp(largest, -bits);
  for (size_t i = 0; i < count; i++)
    values[i] += sigma * gaussian();
}

ensi_status party_decrypt(const party *p, const ensi_model *model, const char *model_dir,
                          const uint8_t *response, size_t length, int flood_bits,
                          int32_t *token, char **text) {
  tool_error_clear();
  ensi_enc_matrix *y = NULL;
  double *hidden = NULL;
  ensi_tokenizer *tok = NULL;
  ensi_status s = ensi_message_load(p->ctx, ENSI_MESSAGE_RESPONSE, p->id, &y, response, length);
  if (s == ENSI_OK && y->cols != (size_t)model->config.hidden)
    s = tool_fail(ENSI_ERR_FORMAT, "the response has %zu columns, the model %d", y->cols,
                  model->config.hidden);
  if (s == ENSI_OK && !(hidden = malloc(y->rows * y->cols * sizeof *hidden)))
    s = ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    s = ensi_enc_matrix_decrypt(p->ctx, hidden, y, p->sk);
  if (s == ENSI_OK && flood_bits > 0)
    flood(hidden, y->rows * y->cols, flood_bits);
  if (s == ENSI_OK)
    s = next_token(model, hidden, y->rows, token);
  if (s == ENSI_OK)
    s = ensi_tokenizer_load_dir(&tok, model_dir);
  if (s == ENSI_OK)
    s = ensi_tokenizer_decode(tok, token, 1, text);
  ensi_tokenizer_free(tok);
  free(hidden);
  ensi_enc_matrix_free(y);
  return s;
}

/* ---- server ------------------------------------------------------------------------------- */

ensi_status party_open_server(party *p, const uint8_t *bundle, size_t length,
                              const ensi_model *model, bool allow_insecure) {
  memset(p, 0, sizeof *p);
  tool_error_clear();
  const uint8_t *profile, *keys;
  size_t profile_length, keys_length;
  TOOL_TRY(ensi_bundle_split(bundle, length, &profile, &profile_length, &keys, &keys_length));
  TOOL_TRY(adopt_profile(p, profile, profile_length, allow_insecure));
  TOOL_TRY(check_model(p, model));
  TOOL_TRY(build(p, model, true));
  return ensi_eval_keys_load(p->ctx, &p->keys, keys, keys_length);
}

ensi_status party_evaluate(const party *p, const ensi_model *model, const uint8_t *request,
                           size_t length, const ensi_henn_setup *hooks, uint8_t **response,
                           size_t *response_length, ensi_henn_stats *stats) {
  tool_error_clear();
  ensi_enc_matrix *x = NULL;
  ensi_henn_setup setup;
  ensi_status s = ensi_message_load(p->ctx, ENSI_MESSAGE_REQUEST, p->id, &x, request, length);
  if (s == ENSI_OK)
    s = party_setup(p, model, x->rows, &setup);
  if (s == ENSI_OK && hooks) {
    setup.layers = hooks->layers;
    setup.progress = hooks->progress;
    setup.stop = hooks->stop;
    setup.progress_user = hooks->progress_user;
  }
  if (s == ENSI_OK)
    s = ensi_henn_forward(&setup, model, x, stats);
  if (s == ENSI_OK)
    s = ensi_message_save(p->ctx, ENSI_MESSAGE_RESPONSE, p->id, x, response, response_length);
  ensi_enc_matrix_free(x);
  return s;
}
