/* Protocol objects: profiles, bundles (in memory and streamed to a file: the same bytes),
 * requests and responses round-trip and decrypt to what was encrypted; a message for another
 * profile or other parameters is ENSI_ERR_MISMATCH; truncated, bit-flipped and inconsistent
 * inputs are refused with ENSI_ERR_FORMAT, never a crash. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ensi/ensi.h>

#include "tempdir.h"
#include "testutil.h"

static test_rng rng;

static ensi_context *context(const char *preset, ensi_params **params) {
  ensi_params_literal lit;
  ensi_context *ctx = NULL;
  CHECK(ensi_params_preset(preset, &lit) == ENSI_OK);
  CHECK(ensi_params_create(params, &lit) == ENSI_OK);
  CHECK(ensi_context_create(&ctx, *params) == ENSI_OK);
  return ctx;
}

static void check_profile(const ensi_params *params, uint8_t **saved, size_t *length) {
  ensi_profile p = {.max_tokens = 6};
  for (int i = 0; i < 32; i++)
    p.model[i] = (uint8_t)i, p.keys[i] = (uint8_t)(100 + i);
  CHECK(ensi_profile_save(params, &p, saved, length) == ENSI_OK);
  ensi_params *loaded = NULL;
  ensi_profile back;
  CHECK(ensi_profile_load(&loaded, &back, *saved, *length, false) == ENSI_ERR_INSECURE);
  CHECK(ensi_profile_load(&loaded, &back, *saved, *length, true) == ENSI_OK);
  CHECK(back.max_tokens == 6 && !memcmp(back.model, p.model, 32) && !memcmp(back.keys, p.keys, 32));
  uint8_t a[32], b[32];
  ensi_params_fingerprint(params, a);
  ensi_params_fingerprint(loaded, b);
  CHECK(!memcmp(a, b, 32));
  ensi_params_free(loaded);
}

static void check_bundle(const uint8_t *profile, size_t profile_length) {
  uint8_t keys[1000], *bundle;
  for (size_t i = 0; i < sizeof keys; i++)
    keys[i] = (uint8_t)test_rng_next(&rng);
  size_t length;
  CHECK(ensi_bundle_save(profile, profile_length, keys, sizeof keys, &bundle, &length) == ENSI_OK);
  const uint8_t *p, *k;
  size_t pl, kl;
  CHECK(ensi_bundle_split(bundle, length, &p, &pl, &k, &kl) == ENSI_OK);
  CHECK(pl == profile_length && !memcmp(p, profile, pl) && kl == sizeof keys && !memcmp(k, keys, kl));
  CHECK(ensi_bundle_split(bundle, length - 1, &p, &pl, &k, &kl) == ENSI_ERR_FORMAT);
  char dir[512], path[600];
  CHECK(tool_temp_dir(dir, sizeof dir, "protocol") == 0);
  snprintf(path, sizeof path, "%s/eval.bundle", dir);
  CHECK(ensi_bundle_write_file(path, profile, profile_length, keys, sizeof keys) == ENSI_OK);
  uint8_t *file;
  size_t file_length;
  CHECK(ensi_file_read(path, &file, &file_length, 1 << 20) == ENSI_OK);
  CHECK_MSG(file_length == length && !memcmp(file, bundle, length), "streamed bundle differs");
  free(file);
  tool_remove_dir(dir);
  free(bundle);
}

/* Encrypts a rows x cols matrix, saves it as a request, loads it back, decrypts. */
static void check_message(const ensi_context *ctx, const ensi_context *other, const uint8_t id[32]) {
  enum { ROWS = 3, COLS = 4 };
  ensi_secret_key *sk;
  ensi_public_key *pk;
  CHECK(ensi_secret_key_generate(&sk, ctx, NULL) == ENSI_OK);
  CHECK(ensi_public_key_generate(&pk, ctx, sk, NULL) == ENSI_OK);
  double x[ROWS * COLS], y[ROWS * COLS];
  for (int i = 0; i < ROWS * COLS; i++)
    x[i] = test_rng_uniform(&rng, -1, 1);
  ensi_enc_matrix *m, *back = NULL;
  const double scale = ensi_params_scale(ensi_context_params(ctx));
  CHECK(ensi_enc_matrix_encrypt(&m, ctx, x, ROWS, COLS, 16, 1, scale, pk) == ENSI_OK);
  uint8_t *bytes;
  size_t length;
  CHECK(ensi_message_save(ctx, ENSI_MESSAGE_REQUEST, id, m, &bytes, &length) == ENSI_OK);
  CHECK(ensi_message_load(ctx, ENSI_MESSAGE_REQUEST, id, &back, bytes, length) == ENSI_OK);
  CHECK(back && back->rows == ROWS && back->cols == COLS && back->block == 4 && back->slots == 16);
  CHECK(back && ensi_enc_matrix_decrypt(ctx, y, back, sk) == ENSI_OK);
  double err = 0;
  for (int i = 0; i < ROWS * COLS; i++)
    err = test_worse(err, fabs(y[i] - x[i]));
  CHECK_MSG(err < 1e-6, "round trip error %g", err);
  ensi_enc_matrix_free(back);
  uint8_t other_id[32];
  memcpy(other_id, id, 32);
  other_id[5] ^= 1;
  CHECK(ensi_message_load(ctx, ENSI_MESSAGE_REQUEST, other_id, &back, bytes, length) == ENSI_ERR_MISMATCH);
  CHECK(ensi_message_load(other, ENSI_MESSAGE_REQUEST, id, &back, bytes, length) == ENSI_ERR_MISMATCH);
  CHECK(ensi_message_load(ctx, ENSI_MESSAGE_RESPONSE, id, &back, bytes, length) == ENSI_ERR_FORMAT);
  int accepted = 0;
  for (int i = 0; i < 30; i++) {
    back = NULL;
    accepted += ensi_message_load(ctx, ENSI_MESSAGE_REQUEST, id, &back, bytes,
                                  (size_t)test_rng_below(&rng, length)) == ENSI_OK;
    ensi_enc_matrix_free(back);
    const size_t at = (size_t)test_rng_below(&rng, length);
    bytes[at] ^= 0x10;
    back = NULL;
    accepted += ensi_message_load(ctx, ENSI_MESSAGE_REQUEST, id, &back, bytes, length) == ENSI_OK;
    ensi_enc_matrix_free(back);
    bytes[at] ^= 0x10;
  }
  CHECK_MSG(accepted == 0, "%d corrupted messages accepted", accepted);
  free(bytes);
  ensi_enc_matrix_free(m);
  ensi_public_key_free(pk);
  ensi_secret_key_free(sk);
}

int main(void) {
  test_rng_seed(&rng, test_seed_from_env());
  ensi_params *params, *other_params;
  ensi_context *ctx = context("test-n10", &params), *other = context("test-n12", &other_params);
  uint8_t *profile;
  size_t length;
  check_profile(params, &profile, &length);
  check_bundle(profile, length);
  uint8_t id[32];
  ensi_profile_id(profile, length, id);
  check_message(ctx, other, id);
  free(profile);
  ensi_context_free(other);
  ensi_context_free(ctx);
  ensi_params_free(other_params);
  ensi_params_free(params);
  return test_finish("io_protocol");
}
