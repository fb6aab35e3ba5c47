/* Addition-only ternary PCMM in the column layout (see ensi/henn.h): each output column is a
 * signed sum of input column ciphertexts, walking the +1 and -1 index lists of its weight row. */
#include "base/error.h"
#include "henn/matrix_internal.h"

/* out = sum of x over plus - sum over minus (a difference of a column with itself when the row
 * has no nonzero weight, which gives an encryption of zero at the right level and scale). */
static ensi_status signed_sum(const ensi_context *ctx, ensi_ciphertext *out, const ensi_enc_matrix *x,
                              const ensi_ternary *w, size_t k) {
  const uint32_t *plus = w->plus + w->plus_start[k], *minus = w->minus + w->minus_start[k];
  const size_t n_plus = w->plus_start[k + 1] - w->plus_start[k];
  const size_t n_minus = w->minus_start[k + 1] - w->minus_start[k];
  if (n_plus)
    ENSI_TRY(ensi_ciphertext_copy(out, x->column[plus[0]]));
  else if (n_minus)
    ENSI_TRY(ensi_negate(ctx, out, x->column[minus[0]]));
  else
    return ensi_sub(ctx, out, x->column[0], x->column[0]);
  for (size_t i = 1; i < n_plus; i++)
    ENSI_TRY(ensi_add(ctx, out, out, x->column[plus[i]]));
  for (size_t i = n_plus ? 0 : 1; i < n_minus; i++)
    ENSI_TRY(ensi_sub(ctx, out, out, x->column[minus[i]]));
  return ENSI_OK;
}

ensi_status ensi_ternary_pcmm(const ensi_context *ctx, ensi_enc_matrix **out,
                              const ensi_enc_matrix *x, const ensi_ternary *w) {
  if (!ctx || !out || !x || !w || (size_t)w->cols != x->cols)
    return ensi_fail(ENSI_ERR_ARG, "pcmm: weight of %d inputs against %zu columns",
                     w ? w->cols : 0, x ? x->cols : 0);
  ensi_enc_matrix *y;
  ENSI_TRY(ensi_enc_matrix_create(&y, ctx, x->rows, (size_t)w->rows, x->block, x->slots,
                                  ensi_ciphertext_level(x->column[0])));
  ensi_status status = ENSI_OK;
#pragma omp parallel for schedule(dynamic, 4)
  for (int k = 0; k < w->rows; k++) {
    const ensi_status s = signed_sum(ctx, y->column[k], x, w, (size_t)k);
    if (s != ENSI_OK) {
#pragma omp critical
      status = s;
    }
  }
  if (status != ENSI_OK) {
    ensi_enc_matrix_free(y);
    return status;
  }
  *out = y;
  return ENSI_OK;
}
