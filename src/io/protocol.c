/* Profiles, bundles, requests and responses of the non-interactive protocol (see
 * ensi/protocol.h and docs/FORMATS.md). Nested objects are stored whole (length-prefixed) and
 * loaded by their own loaders, so each keeps its own checks. */
#include <ensi/protocol.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include <ensi/io.h>

#include "base/error.h"
#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "io/container.h"

enum { ID_BYTES = 32, MAX_COLUMNS = 1 << 20 };

/* Reads a u64 length and points at that many bytes. */
static bool read_nested(ensi_reader *r, const uint8_t **data, size_t *length) {
  const uint64_t n = ensi_read_u64(r);
  if (r->failed || n > ensi_reader_left(r)) {
    r->failed = true;
    return false;
  }
  *data = r->data + r->position;
  *length = (size_t)n;
  r->position += (size_t)n;
  return true;
}

static void write_nested(ensi_writer *w, const uint8_t *data, size_t length) {
  ensi_write_u64(w, length);
  ensi_write_bytes(w, data, length);
}

static ensi_status seal(ensi_writer *w, ensi_object_type type, uint8_t **out, size_t *length) {
  return ensi_container_finish(w, type, out, length);
}

/* ---- profile and bundle ------------------------------------------------------------------- */

ensi_status ensi_profile_save(const ensi_params *params, const ensi_profile *profile,
                              uint8_t **out, size_t *length) {
  if (!params || !profile || !out || !length)
    return ensi_fail(ENSI_ERR_ARG, "profile save: null argument");
  uint8_t *saved;
  size_t saved_length;
  ENSI_TRY(ensi_params_save(params, &saved, &saved_length));
  ensi_writer w;
  ensi_container_start(&w, 0);
  ensi_write_u32(&w, profile->max_tokens);
  ensi_write_bytes(&w, profile->model, sizeof profile->model);
  ensi_write_bytes(&w, profile->keys, sizeof profile->keys);
  write_nested(&w, saved, saved_length);
  free(saved);
  return seal(&w, ENSI_OBJECT_PROFILE, out, length);
}

ensi_status ensi_profile_load(ensi_params **params, ensi_profile *profile, const uint8_t *data,
                              size_t length, bool allow_insecure) {
  if (!params || !profile)
    return ensi_fail(ENSI_ERR_ARG, "profile load: null argument");
  ensi_reader r;
  ENSI_TRY(ensi_container_open(&r, data, length, ENSI_OBJECT_PROFILE));
  ensi_profile p;
  p.max_tokens = ensi_read_u32(&r);
  ensi_read_bytes(&r, p.model, sizeof p.model);
  ensi_read_bytes(&r, p.keys, sizeof p.keys);
  const uint8_t *saved = NULL;
  size_t saved_length = 0;
  if (!read_nested(&r, &saved, &saved_length) || ensi_reader_left(&r))
    return ensi_fail(ENSI_ERR_FORMAT, "profile: truncated or trailing bytes");
  if (p.max_tokens < 1 || p.max_tokens > ENSI_HENN_MAX_BLOCK)
    return ensi_fail(ENSI_ERR_FORMAT, "profile: %u tokens, expected 1..%d", p.max_tokens,
                     ENSI_HENN_MAX_BLOCK);
  ENSI_TRY(ensi_params_load(params, saved, saved_length, allow_insecure));
  *profile = p;
  return ENSI_OK;
}

void ensi_profile_id(const uint8_t *saved_profile, size_t length, uint8_t id[32]) {
  crypto_generichash(id, ID_BYTES, saved_profile, length, NULL, 0);
}

ensi_status ensi_bundle_save(const uint8_t *profile, size_t profile_length, const uint8_t *keys,
                             size_t keys_length, uint8_t **out, size_t *length) {
  if (!profile || !keys || !out || !length)
    return ensi_fail(ENSI_ERR_ARG, "bundle save: null argument");
  ensi_writer w;
  ensi_container_start(&w, 0);
  write_nested(&w, profile, profile_length);
  write_nested(&w, keys, keys_length);
  return seal(&w, ENSI_OBJECT_BUNDLE, out, length);
}

ensi_status ensi_bundle_write_file(const char *path, const uint8_t *profile,
                                   size_t profile_length, const uint8_t *keys, size_t keys_length) {
  if (!path || !profile || !keys)
    return ensi_fail(ENSI_ERR_ARG, "bundle write: null argument");
  uint8_t profile_prefix[8], keys_prefix[8];
  for (int i = 0; i < 8; i++) {
    profile_prefix[i] = (uint8_t)((uint64_t)profile_length >> (8 * i));
    keys_prefix[i] = (uint8_t)((uint64_t)keys_length >> (8 * i));
  }
  const uint8_t *const parts[] = {profile_prefix, profile, keys_prefix, keys};
  const size_t lengths[] = {8, profile_length, 8, keys_length};
  return ensi_container_write_file(path, ENSI_OBJECT_BUNDLE, parts, lengths, 4, 0644);
}

ensi_status ensi_bundle_split(const uint8_t *data, size_t length, const uint8_t **profile,
                              size_t *profile_length, const uint8_t **keys, size_t *keys_length) {
  if (!profile || !profile_length || !keys || !keys_length)
    return ensi_fail(ENSI_ERR_ARG, "bundle split: null argument");
  ensi_reader r;
  ENSI_TRY(ensi_container_open(&r, data, length, ENSI_OBJECT_BUNDLE));
  if (!read_nested(&r, profile, profile_length) || !read_nested(&r, keys, keys_length) ||
      ensi_reader_left(&r))
    return ensi_fail(ENSI_ERR_FORMAT, "bundle: truncated or trailing bytes");
  return ENSI_OK;
}

/* ---- requests and responses -------------------------------------------------------------- */

static ensi_object_type message_type(ensi_message_kind kind) {
  return kind == ENSI_MESSAGE_REQUEST ? ENSI_OBJECT_REQUEST : ENSI_OBJECT_RESPONSE;
}

ensi_status ensi_message_save(const ensi_context *ctx, ensi_message_kind kind,
                              const uint8_t profile_id[32], const ensi_enc_matrix *m,
                              uint8_t **out, size_t *length) {
  if (!ctx || !profile_id || !m || !out || !length)
    return ensi_fail(ENSI_ERR_ARG, "message save: null argument");
  uint8_t fingerprint[ID_BYTES];
  ENSI_TRY(ensi_params_fingerprint(ensi_context_params(ctx), fingerprint));
  ensi_writer w;
  ensi_container_start(&w, 0);
  ensi_write_bytes(&w, fingerprint, sizeof fingerprint);
  ensi_write_bytes(&w, profile_id, ID_BYTES);
  ensi_write_u32(&w, (uint32_t)m->rows);
  ensi_write_u32(&w, (uint32_t)m->cols);
  ensi_write_u32(&w, (uint32_t)m->block);
  ensi_write_u32(&w, (uint32_t)m->slots);
  ensi_status s = ENSI_OK;
  for (size_t j = 0; s == ENSI_OK && j < m->cols; j++) {
    uint8_t *ct;
    size_t ct_length;
    s = ensi_ciphertext_save(ctx, m->column[j], &ct, &ct_length);
    if (s == ENSI_OK)
      write_nested(&w, ct, ct_length);
    if (s == ENSI_OK)
      free(ct);
  }
  if (s != ENSI_OK) {
    ensi_writer_free(&w);
    return s;
  }
  return seal(&w, message_type(kind), out, length);
}

static bool power_of_two(uint64_t v) {
  return v && !(v & (v - 1));
}

/* The matrix header: shape, block and slots consistent with each other and the parameters. */
static ensi_status read_shape(ensi_reader *r, const ensi_context *ctx, ensi_enc_matrix *m) {
  m->rows = ensi_read_u32(r);
  m->cols = ensi_read_u32(r);
  m->block = ensi_read_u32(r);
  m->slots = ensi_read_u32(r);
  if (r->failed)
    return ensi_fail(ENSI_ERR_FORMAT, "message: truncated header");
  if (m->rows < 1 || m->cols < 1 || m->cols > MAX_COLUMNS || !power_of_two(m->block) ||
      m->block < 2 || m->block < m->rows || m->block > ENSI_HENN_MAX_BLOCK ||
      !power_of_two(m->slots) || m->slots < 2 * m->block || m->slots > ctx->n / 2)
    return ensi_fail(ENSI_ERR_FORMAT, "message: %zu x %zu matrix, block %zu, %zu slots: "
                     "inconsistent or outside the parameters", m->rows, m->cols, m->block, m->slots);
  /* every column needs at least its envelope: refuse a count the bytes cannot hold */
  if (m->cols > ensi_reader_left(r) / (8 + ENSI_HEADER_BYTES + ENSI_CHECKSUM_BYTES))
    return ensi_fail(ENSI_ERR_FORMAT, "message: %zu columns declared, fewer bytes present",
                     m->cols);
  return ENSI_OK;
}

static ensi_status read_columns(ensi_reader *r, const ensi_context *ctx, ensi_enc_matrix *m) {
  for (size_t j = 0; j < m->cols; j++) {
    const uint8_t *ct;
    size_t ct_length;
    if (!read_nested(r, &ct, &ct_length))
      return ensi_fail(ENSI_ERR_FORMAT, "message: column %zu truncated", j);
    ENSI_TRY(ensi_ciphertext_load(ctx, &m->column[j], ct, ct_length));
    const ensi_ciphertext *c = m->column[j], *first = m->column[0];
    if (c->degree != 1 || c->slots != m->slots || c->level != first->level ||
        c->scale != first->scale)
      return ensi_fail(ENSI_ERR_FORMAT, "message: column %zu differs from the first in degree, "
                       "slots, level or scale", j);
  }
  if (ensi_reader_left(r))
    return ensi_fail(ENSI_ERR_FORMAT, "message: %zu trailing bytes", ensi_reader_left(r));
  return ENSI_OK;
}

ensi_status ensi_message_load(const ensi_context *ctx, ensi_message_kind kind,
                              const uint8_t profile_id[32], ensi_enc_matrix **out,
                              const uint8_t *data, size_t length) {
  if (!ctx || !profile_id || !out)
    return ensi_fail(ENSI_ERR_ARG, "message load: null argument");
  ensi_reader r;
  ENSI_TRY(ensi_container_open(&r, data, length, message_type(kind)));
  uint8_t fingerprint[ID_BYTES], mine[ID_BYTES], id[ID_BYTES];
  ensi_read_bytes(&r, fingerprint, sizeof fingerprint);
  ensi_read_bytes(&r, id, sizeof id);
  ENSI_TRY(ensi_params_fingerprint(ensi_context_params(ctx), mine));
  if (r.failed)
    return ensi_fail(ENSI_ERR_FORMAT, "message: truncated");
  if (memcmp(fingerprint, mine, sizeof mine))
    return ensi_fail(ENSI_ERR_MISMATCH, "message: made under other parameters");
  if (memcmp(id, profile_id, sizeof id))
    return ensi_fail(ENSI_ERR_MISMATCH, "message: made for another profile (other keys, model "
                     "or sequence length)");
  ensi_enc_matrix *m = calloc(1, sizeof *m);
  if (!m)
    return ENSI_ERR_NOMEM;
  ensi_status s = read_shape(&r, ctx, m);
  if (s == ENSI_OK && !(m->column = calloc(m->cols, sizeof *m->column)))
    s = ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    s = read_columns(&r, ctx, m);
  if (s != ENSI_OK) {
    if (!m->column)
      m->cols = 0;
    ensi_enc_matrix_free(m);
    return s;
  }
  *out = m;
  return ENSI_OK;
}
