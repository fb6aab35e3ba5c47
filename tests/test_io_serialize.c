/* Serialization: every object round-trips bit-exactly (re-serializing the loaded object gives the
 * same bytes, and loaded keys still work); truncated, bit-flipped and dimension-inflated inputs
 * and objects of other parameters are refused with errors; secret key files are mode 0600. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ensi/ensi.h>
#include <ensi/io.h>

#include "io/container.h"
#include "tempdir.h"
#include "testutil.h"

static test_rng rng;

typedef ensi_status (*load_fn)(const ensi_context *ctx, void **out, const uint8_t *data, size_t len);
typedef ensi_status (*save_fn)(const ensi_context *ctx, const void *obj, uint8_t **out, size_t *len);
typedef void (*free_fn)(void *obj);

/* Round trip, then corrupted variants: every failure must be an error, never a crash. */
static void check_object(const char *name, const ensi_context *ctx, const ensi_context *other,
                         const void *obj, save_fn save, load_fn load, free_fn release,
                         ensi_object_type type, const size_t *size_fields, size_t field_count) {
  uint8_t *bytes, *again;
  size_t length, length2;
  CHECK(save(ctx, obj, &bytes, &length) == ENSI_OK);
  void *loaded = NULL;
  ensi_status s = load(ctx, &loaded, bytes, length);
  CHECK_MSG(s == ENSI_OK, "%s: load: %s", name, ensi_error_detail());
  if (s != ENSI_OK)
    return;
  CHECK(save(ctx, loaded, &again, &length2) == ENSI_OK);
  CHECK_MSG(length == length2 && !memcmp(bytes, again, length), "%s: not bit-exact", name);
  release(loaded);
  free(again);
  int accepted = 0;
  for (int i = 0; i < 40; i++) { /* truncations */
    size_t cut = (size_t)test_rng_below(&rng, length);
    loaded = NULL;
    accepted += load(ctx, &loaded, bytes, cut) == ENSI_OK;
    release(loaded);
  }
  for (int i = 0; i < 40; i++) { /* single bit flips anywhere */
    const size_t at = (size_t)test_rng_below(&rng, length);
    bytes[at] ^= (uint8_t)(1u << test_rng_below(&rng, 8));
    loaded = NULL;
    accepted += load(ctx, &loaded, bytes, length) == ENSI_OK;
    release(loaded);
    free(bytes); /* restore by saving again (encryption randomness is not involved) */
    CHECK(save(ctx, obj, &bytes, &length) == ENSI_OK);
  }
  /* inflated size fields and trailing bytes behind a valid checksum */
  ensi_reader payload;
  CHECK(ensi_container_open(&payload, bytes, length, type) == ENSI_OK);
  for (size_t f = 0; f <= field_count; f++) {
    ensi_writer w;
    ensi_writer_init(&w);
    ensi_write_bytes(&w, payload.data, payload.length);
    const uint32_t huge = 0x7fffffffu;
    if (f < field_count)
      memcpy(w.data + size_fields[f], &huge, 4);
    else
      ensi_write_u64(&w, 0); /* trailing garbage */
    uint8_t *sealed;
    size_t sealed_length;
    CHECK(ensi_container_seal(&sealed, &sealed_length, type, &w) == ENSI_OK);
    loaded = NULL;
    accepted += load(ctx, &loaded, sealed, sealed_length) == ENSI_OK;
    release(loaded);
    free(sealed);
    ensi_writer_free(&w);
  }
  CHECK_MSG(accepted == 0, "%s: %d corrupted inputs accepted", name, accepted);
  loaded = NULL;
  CHECK_MSG(load(other, &loaded, bytes, length) == ENSI_ERR_MISMATCH, "%s: other parameters", name);
  release(loaded);
  free(bytes);
}

#define ADAPT(kind)                                                                             \
  static ensi_status save_##kind(const ensi_context *c, const void *o, uint8_t **b, size_t *l) { \
    return ensi_##kind##_save(c, o, b, l);                                                       \
  }                                                                                             \
  static ensi_status load_##kind(const ensi_context *c, void **o, const uint8_t *b, size_t l) {  \
    return ensi_##kind##_load(c, (void *)o, b, l);                                               \
  }                                                                                             \
  static void free_##kind(void *o) { ensi_##kind##_free(o); }
ADAPT(ciphertext)
ADAPT(plaintext)
ADAPT(secret_key)
ADAPT(public_key)
ADAPT(eval_keys)

static ensi_context *make_context(const char *preset, ensi_params **params) {
  ensi_params_literal lit;
  ensi_context *ctx;
  CHECK(ensi_params_preset(preset, &lit) == ENSI_OK);
  CHECK(ensi_params_create(params, &lit) == ENSI_OK);
  CHECK(ensi_context_create(&ctx, *params) == ENSI_OK);
  return ctx;
}

static void check_params(const ensi_params *params) {
  uint8_t *bytes;
  size_t length;
  ensi_params *loaded;
  CHECK(ensi_params_save(params, &bytes, &length) == ENSI_OK);
  CHECK(ensi_params_load(&loaded, bytes, length, false) == ENSI_ERR_INSECURE); /* test preset */
  CHECK(ensi_params_load(&loaded, bytes, length, true) == ENSI_OK);
  uint8_t a[32], b[32];
  ensi_params_fingerprint(params, a);
  ensi_params_fingerprint(loaded, b);
  CHECK(!memcmp(a, b, 32));
  ensi_params_free(loaded);
  int accepted = 0;
  for (size_t cut = 0; cut < length; cut += 7)
    accepted += ensi_params_load(&loaded, bytes, cut, true) == ENSI_OK;
  for (size_t at = 0; at < length; at += 5) {
    bytes[at] ^= 0x10;
    accepted += ensi_params_load(&loaded, bytes, length, true) == ENSI_OK;
    bytes[at] ^= 0x10;
  }
  CHECK_MSG(accepted == 0, "params: %d corrupted inputs accepted", accepted);
  free(bytes);
}

int main(void) {
  test_rng_seed(&rng, test_seed_from_env());
  ensi_params *params, *other_params;
  ensi_context *ctx = make_context("test-n10", &params);
  ensi_context *other = make_context("test-n12", &other_params);
  check_params(params);
  ensi_secret_key *sk;
  ensi_public_key *pk;
  ensi_eval_keys *keys;
  const long long steps[] = {1, -3};
  CHECK(ensi_secret_key_generate(&sk, ctx, NULL) == ENSI_OK);
  CHECK(ensi_public_key_generate(&pk, ctx, sk, NULL) == ENSI_OK);
  CHECK(ensi_eval_keys_generate(&keys, ctx, sk, true, steps, 2, true, NULL) == ENSI_OK);
  CHECK(ensi_eval_keys_add_encapsulation(keys, ctx, sk, 16, NULL) == ENSI_OK);
  const size_t full_bytes = ensi_eval_keys_bytes(keys);
  CHECK(ensi_eval_keys_add_rotations_up_to(keys, ctx, sk, (const long long[]){2}, 1, 3, NULL) ==
        ENSI_OK); /* a key for levels 0 .. 3 only: smaller than a full one */
  CHECK(ensi_eval_keys_bytes(keys) - full_bytes < (full_bytes - ensi_eval_keys_bytes(NULL)) / 4);
  double values[512];
  for (int j = 0; j < 512; j++)
    values[j] = test_rng_uniform(&rng, -1, 1);
  ensi_plaintext *pt;
  ensi_ciphertext *ct;
  CHECK(ensi_plaintext_create(&pt, ctx, 5) == ENSI_OK);
  CHECK(ensi_encode_real(ctx, pt, values, 512, 0x1p40) == ENSI_OK);
  CHECK(ensi_ciphertext_create(&ct, ctx, 5) == ENSI_OK);
  CHECK(ensi_encrypt_pk(ctx, ct, pt, pk, NULL) == ENSI_OK);
  CHECK(ensi_mul_relin(ctx, ct, ct, ct, keys) == ENSI_OK);
  /* payload offsets of the size fields after the 32-byte fingerprint (docs/FORMATS.md) */
  const size_t ct_fields[] = {32, 36, 40}, pt_fields[] = {32, 36}, keys_fields[] = {34, 38};
  check_object("ciphertext", ctx, other, ct, save_ciphertext, load_ciphertext, free_ciphertext,
               ENSI_OBJECT_CIPHERTEXT, ct_fields, 3);
  check_object("plaintext", ctx, other, pt, save_plaintext, load_plaintext, free_plaintext,
               ENSI_OBJECT_PLAINTEXT, pt_fields, 2);
  check_object("secret key", ctx, other, sk, save_secret_key, load_secret_key, free_secret_key,
               ENSI_OBJECT_SECRET_KEY, NULL, 0);
  check_object("public key", ctx, other, pk, save_public_key, load_public_key, free_public_key,
               ENSI_OBJECT_PUBLIC_KEY, NULL, 0);
  check_object("evaluation keys", ctx, other, keys, save_eval_keys, load_eval_keys, free_eval_keys,
               ENSI_OBJECT_EVAL_KEYS, keys_fields, 2);

  /* loaded keys work: rotate with loaded evaluation keys, decrypt with the loaded secret key */
  uint8_t *bytes;
  size_t length;
  ensi_eval_keys *keys2;
  ensi_secret_key *sk2;
  CHECK(ensi_eval_keys_save(ctx, keys, &bytes, &length) == ENSI_OK);
  CHECK(ensi_eval_keys_load(ctx, &keys2, bytes, length) == ENSI_OK);
  free(bytes);
  CHECK(ensi_secret_key_save(ctx, sk, &bytes, &length) == ENSI_OK);
  char dir[4096], path[4200];
  CHECK(tool_temp_dir(dir, sizeof dir, "serialize") == 0);
  snprintf(path, sizeof path, "%s/secret.key", dir);
  CHECK(ensi_file_write(path, bytes, length, 0600) == ENSI_OK);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  free(bytes);
  CHECK(ensi_file_read(path, &bytes, &length, 1 << 20) == ENSI_OK);
  uint8_t *small = NULL;
  size_t small_length;
  CHECK(ensi_file_read(path, &small, &small_length, 16) == ENSI_ERR_LIMIT && small == NULL);
  CHECK(ensi_secret_key_load(ctx, &sk2, bytes, length) == ENSI_OK);
  tool_remove_dir(dir);
  free(bytes);
  CHECK(ensi_encrypt_pk(ctx, ct, pt, pk, NULL) == ENSI_OK);
  CHECK(ensi_rotate(ctx, ct, ct, 1, keys2) == ENSI_OK);
  double got[512];
  CHECK(ensi_decrypt(ctx, pt, ct, sk2) == ENSI_OK);
  CHECK(ensi_decode(ctx, got, NULL, 512, pt) == ENSI_OK);
  double worst = 0;
  for (int j = 0; j < 512; j++)
    worst = test_worse(worst, fabs(got[j] - values[(j + 1) % 512]));
  CHECK_MSG(worst < 1e-6, "loaded keys: rotation error %g", worst);
  /* the loaded level-limited key refuses level 5 and rotates at level 3 */
  ensi_plaintext_free(pt);
  CHECK(ensi_plaintext_create(&pt, ctx, 5) == ENSI_OK);
  CHECK(ensi_encode_real(ctx, pt, values, 512, 0x1p40) == ENSI_OK);
  CHECK(ensi_encrypt_pk(ctx, ct, pt, pk, NULL) == ENSI_OK);
  CHECK(ensi_rotate(ctx, ct, ct, 2, keys2) == ENSI_ERR_KEY_MISSING);
  CHECK(ensi_drop_level(ctx, ct, ct, 3) == ENSI_OK);
  CHECK(ensi_rotate(ctx, ct, ct, 2, keys2) == ENSI_OK);
  CHECK(ensi_decrypt(ctx, pt, ct, sk2) == ENSI_OK);
  CHECK(ensi_decode(ctx, got, NULL, 512, pt) == ENSI_OK);
  worst = 0;
  for (int j = 0; j < 512; j++)
    worst = test_worse(worst, fabs(got[j] - values[(j + 2) % 512]));
  CHECK_MSG(worst < 1e-6, "level-limited key: rotation error %g", worst);
  ensi_eval_keys_free(keys2);
  ensi_secret_key_free(sk2);
  ensi_ciphertext_free(ct);
  ensi_plaintext_free(pt);
  ensi_eval_keys_free(keys);
  ensi_public_key_free(pk);
  ensi_secret_key_free(sk);
  ensi_context_free(ctx);
  ensi_context_free(other);
  ensi_params_free(params);
  ensi_params_free(other_params);
  return test_finish("test_io_serialize");
}
