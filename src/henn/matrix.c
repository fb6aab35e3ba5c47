/* Column-encoded encrypted activation matrices (see ensi/henn.h). */
#include "henn/matrix_internal.h"

#include <stdlib.h>

#include "base/error.h"

size_t ensi_henn_block(size_t rows) {
  size_t p = 2;
  while (p < rows)
    p *= 2;
  return p;
}

ensi_status ensi_enc_matrix_create(ensi_enc_matrix **out, const ensi_context *ctx, size_t rows,
                                   size_t cols, size_t block, size_t slots, size_t level) {
  if (block == 0)
    block = ensi_henn_block(rows);
  if (slots == 0)
    slots = 2 * block;
  if (!out || !ctx || rows == 0 || cols == 0 || block < ensi_henn_block(rows) ||
      (block & (block - 1)) || slots < 2 * block || (slots & (slots - 1)) ||
      slots > ensi_params_slots(ensi_context_params(ctx)))
    return ensi_fail(ENSI_ERR_ARG, "encrypted matrix: %zu x %zu in %zu slots does not fit the parameters",
                     rows, cols, slots);
  ensi_enc_matrix *m = calloc(1, sizeof *m);
  if (!m || !(m->column = calloc(cols, sizeof *m->column))) {
    free(m);
    return ENSI_ERR_NOMEM;
  }
  m->rows = rows;
  m->cols = cols;
  m->block = block;
  m->slots = slots;
  ensi_status s = ENSI_OK;
  for (size_t j = 0; s == ENSI_OK && j < cols; j++)
    s = ensi_ciphertext_create(&m->column[j], ctx, level);
  if (s != ENSI_OK) {
    ensi_enc_matrix_free(m);
    return s;
  }
  *out = m;
  return ENSI_OK;
}

ensi_status ensi_enc_matrix_encrypt(ensi_enc_matrix **out, const ensi_context *ctx,
                                    const double *x, size_t rows, size_t cols, size_t slots,
                                    size_t level, double scale, const ensi_public_key *pk) {
  return ensi_enc_matrix_encrypt_block(out, ctx, x, rows, cols, 0, slots, level, scale, pk);
}

/* Encrypts column j of the row-major rows x cols matrix x into m->column[j], for j in the share of
 * this thread (the columns are independent: each has its own randomness). */
static ensi_status encrypt_columns(ensi_enc_matrix *m, const ensi_context *ctx, const double *x,
                                   size_t level, double scale, const ensi_public_key *pk) {
  ensi_status status = ENSI_OK;
#pragma omp parallel
  {
    double *column = calloc(m->slots, sizeof *column);
    ensi_plaintext *pt = NULL;
    ensi_status s = column ? ensi_plaintext_create(&pt, ctx, level) : ENSI_ERR_NOMEM;
#pragma omp for schedule(dynamic)
    for (size_t j = 0; j < m->cols; j++) {
      if (s != ENSI_OK)
        continue;
      for (size_t i = 0; i < m->rows; i++)
        column[i] = x[i * m->cols + j];
      s = ensi_encode_real(ctx, pt, column, m->slots, scale);
      if (s == ENSI_OK)
        s = ensi_encrypt_pk(ctx, m->column[j], pt, pk, NULL);
    }
    if (s != ENSI_OK) {
#pragma omp critical
      status = s;
    }
    ensi_plaintext_free(pt);
    free(column);
  }
  return status;
}

ensi_status ensi_enc_matrix_encrypt_block(ensi_enc_matrix **out, const ensi_context *ctx,
                                          const double *x, size_t rows, size_t cols, size_t block,
                                          size_t slots, size_t level, double scale,
                                          const ensi_public_key *pk) {
  if (!x || !pk)
    return ensi_fail(ENSI_ERR_ARG, "encrypted matrix: null argument");
  ensi_enc_matrix *m;
  ENSI_TRY(ensi_enc_matrix_create(&m, ctx, rows, cols, block, slots, level));
  const ensi_status s = encrypt_columns(m, ctx, x, level, scale, pk);
  if (s != ENSI_OK) {
    ensi_enc_matrix_free(m);
    return s;
  }
  *out = m;
  return ENSI_OK;
}

ensi_status ensi_enc_matrix_decrypt(const ensi_context *ctx, double *x, const ensi_enc_matrix *m,
                                    const ensi_secret_key *sk) {
  if (!ctx || !x || !m || !sk)
    return ensi_fail(ENSI_ERR_ARG, "encrypted matrix: null argument");
  double *column = malloc(m->slots * sizeof *column);
  ensi_plaintext *pt = NULL;
  ensi_status s = column ? ensi_plaintext_create(&pt, ctx, ensi_context_max_level(ctx)) : ENSI_ERR_NOMEM;
  for (size_t j = 0; s == ENSI_OK && j < m->cols; j++) {
    s = ensi_decrypt(ctx, pt, m->column[j], sk);
    if (s == ENSI_OK)
      s = ensi_decode(ctx, column, NULL, m->slots, pt);
    for (size_t i = 0; s == ENSI_OK && i < m->rows; i++)
      x[i * m->cols + j] = column[i];
  }
  ensi_plaintext_free(pt);
  free(column);
  return s;
}

void ensi_enc_matrix_free(ensi_enc_matrix *m) {
  if (!m)
    return;
  for (size_t j = 0; m->column && j < m->cols; j++)
    ensi_ciphertext_free(m->column[j]);
  free(m->column);
  free(m);
}
