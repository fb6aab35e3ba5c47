/* Encryption and decryption of activation matrices in the packed layout (see ensi/packed.h):
 * column c of pack m at slots c + C t. */
#include <ensi/packed.h>

#include <stdlib.h>

#include "base/error.h"

static size_t power_of_two_at_least(size_t x) {
  size_t p = 1;
  while (p < x)
    p *= 2;
  return p;
}

static ensi_status packed_create(ensi_packed_matrix **out, const ensi_context *ctx, size_t rows,
                                 size_t cols, size_t level) {
  const size_t slots = ensi_params_slots(ensi_context_params(ctx));
  if (rows == 0 || cols == 0 || power_of_two_at_least(rows) > slots)
    return ensi_fail(ENSI_ERR_ARG, "packed matrix: %zu x %zu does not fit %zu slots", rows, cols,
                     slots);
  ensi_packed_matrix *m = calloc(1, sizeof *m);
  if (!m)
    return ENSI_ERR_NOMEM;
  m->rows = rows;
  m->cols = cols;
  m->per_pack = slots / power_of_two_at_least(rows);
  m->pack_count = (cols + m->per_pack - 1) / m->per_pack;
  m->pack = calloc(m->pack_count, sizeof *m->pack);
  ensi_status s = m->pack ? ENSI_OK : ENSI_ERR_NOMEM;
  for (size_t k = 0; s == ENSI_OK && k < m->pack_count; k++)
    s = ensi_ciphertext_create(&m->pack[k], ctx, level);
  if (s != ENSI_OK) {
    ensi_packed_matrix_free(m);
    return s;
  }
  *out = m;
  return ENSI_OK;
}

ensi_status ensi_packed_matrix_create(ensi_packed_matrix **out, const ensi_context *ctx,
                                      size_t rows, size_t cols, size_t level) {
  if (!out || !ctx)
    return ensi_fail(ENSI_ERR_ARG, "packed matrix: null argument");
  return packed_create(out, ctx, rows, cols, level);
}

ensi_status ensi_packed_matrix_encrypt(ensi_packed_matrix **out, const ensi_context *ctx,
                                       const double *x, size_t rows, size_t cols, size_t level,
                                       double scale, const ensi_public_key *pk) {
  if (!out || !ctx || !x || !pk)
    return ensi_fail(ENSI_ERR_ARG, "packed matrix: null argument");
  ensi_packed_matrix *m = NULL;
  ENSI_TRY(packed_create(&m, ctx, rows, cols, level));
  const size_t slots = ensi_params_slots(ensi_context_params(ctx)), C = m->per_pack;
  double *v = malloc(slots * sizeof *v);
  ensi_plaintext *pt = NULL;
  ensi_status s = v ? ensi_plaintext_create(&pt, ctx, level) : ENSI_ERR_NOMEM;
  for (size_t k = 0; s == ENSI_OK && k < m->pack_count; k++) {
    for (size_t j = 0; j < slots; j++) { /* slot c + C t: token t of column k C + c */
      const size_t c = j % C, t = j / C, col = k * C + c;
      v[j] = t < rows && col < cols ? x[t * cols + col] : 0.0;
    }
    s = ensi_encode_real(ctx, pt, v, slots, scale);
    if (s == ENSI_OK)
      s = ensi_encrypt_pk(ctx, m->pack[k], pt, pk, NULL);
  }
  ensi_plaintext_free(pt);
  free(v);
  if (s != ENSI_OK) {
    ensi_packed_matrix_free(m);
    return s;
  }
  *out = m;
  return ENSI_OK;
}

ensi_status ensi_packed_matrix_decrypt(const ensi_context *ctx, double *x,
                                       const ensi_packed_matrix *m, const ensi_secret_key *sk) {
  if (!ctx || !x || !m || !sk)
    return ensi_fail(ENSI_ERR_ARG, "packed matrix: null argument");
  const size_t slots = ensi_params_slots(ensi_context_params(ctx)), C = m->per_pack;
  double *re = malloc(slots * sizeof *re), *im = malloc(slots * sizeof *im);
  ensi_plaintext *pt = NULL;
  ensi_status s = re && im ? ensi_plaintext_create(&pt, ctx, ensi_context_max_level(ctx))
                           : ENSI_ERR_NOMEM;
  for (size_t k = 0; s == ENSI_OK && k < m->pack_count; k++) {
    s = ensi_decrypt(ctx, pt, m->pack[k], sk);
    if (s == ENSI_OK)
      s = ensi_decode(ctx, re, im, slots, pt);
    for (size_t t = 0; s == ENSI_OK && t < m->rows; t++)
      for (size_t c = 0; c < C && k * C + c < m->cols; c++)
        x[t * m->cols + k * C + c] = re[c + C * t];
  }
  ensi_plaintext_free(pt);
  free(re);
  free(im);
  return s;
}

void ensi_packed_matrix_free(ensi_packed_matrix *m) {
  if (!m)
    return;
  for (size_t k = 0; m->pack && k < m->pack_count; k++)
    ensi_ciphertext_free(m->pack[k]);
  free(m->pack);
  free(m);
}
