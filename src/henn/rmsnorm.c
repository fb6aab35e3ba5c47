/* RMSNorm on column-encoded ciphertexts, with the bootstrapping embedded (ENSI).
 *
 * In column encoding the mean square of every token is one ciphertext: the sum of the squared
 * columns (tensor products accumulated, one relinearization). The inverse square root of
 * mean square + eps runs once on it, as the Chebyshev polynomial of the plaintext reference, and
 * multiplies every column scaled by its gamma (and the following BitLinear's beta). RMSNorm is
 * invariant to the scale of its input, which is what lets the input be refreshed at the bound's
 * scale first (henn_ensure_levels) when the levels after the norm would not suffice.
 *
 * Levels: square 1, polynomial R, scaling 1 (the gamma multiplication runs in parallel). */
#include <math.h>
#include <stdlib.h>

#include "base/error.h"
#include "henn/henn_eval.h"

/* The mean square's ciphertext outside the tokens is zero, which lies outside the polynomial's
 * interval; a plaintext puts a harmless value there (those slots multiply zero columns). */
static ensi_status fill_padding(const henn_eval *ev, ensi_ciphertext *sum_sq, double value) {
  double *values = malloc(ev->slots * sizeof *values);
  if (!values)
    return ENSI_ERR_NOMEM;
  for (size_t i = 0; i < ev->slots; i++)
    values[i] = i < ev->rows ? 0.0 : value;
  ensi_plaintext *pt = NULL;
  ensi_status s = henn_plain(ev, &pt, values, ensi_ciphertext_level(sum_sq),
                             ensi_ciphertext_scale(sum_sq));
  if (s == ENSI_OK)
    s = ensi_add_plain(ev->ctx, sum_sq, sum_sq, pt);
  ensi_plaintext_free(pt);
  free(values);
  return s;
}

static double norm_center(const henn_eval *ev, ensi_norm_kind kind) {
  const int l = ev->layer < ENSI_NORM_LAYERS ? ev->layer : ENSI_NORM_LAYERS - 1;
  return ev->setup->approx.rsqrt_center[l][kind];
}

/* inv = sqrt(c) / sqrt(sum of squares / n + eps) as the reference's polynomial, at `scale`. */
static ensi_status inverse_rms(henn_eval *ev, ensi_ciphertext *inv, const ensi_enc_matrix *x,
                               ensi_norm_kind kind, double scale) {
  const ensi_forward_options *o = &ev->setup->approx;
  const double n = (double)x->cols, eps = ev->eps, c = norm_center(ev, kind);
  /* the reference evaluates p(v / c) for v = sum / n + eps with p on [lo, hi]; in terms of the
   * sum the interval is [n (c lo - eps), n (c hi - eps)] with the same Chebyshev coefficients
   * (the 1 / sqrt(c) rides on gamma) */
  const double a = n * (c * o->rsqrt_lo[kind] - eps), b = n * (c * o->rsqrt_hi[kind] - eps);
  ensi_ciphertext *sum_sq = NULL;
  ensi_status s = ensi_ciphertext_create(&sum_sq, ev->ctx, henn_level(x));
  if (s == ENSI_OK)
    s = henn_dot(ev, sum_sq, x->column, x->column, x->cols);
  if (s == ENSI_OK)
    s = fill_padding(ev, sum_sq, 0.5 * (a + b));
  if (s == ENSI_OK)
    s = ensi_eval_chebyshev(ev->ctx, inv, sum_sq, ev->rsqrt[kind], o->rsqrt_degree[kind], a, b, scale,
                            ev->keys);
  ensi_ciphertext_free(sum_sq);
  return s;
}

/* y = (x * gamma * fold) * inv: the constant multiplication returns to the working scale, and inv
 * sits at the prime of its level so that the product's rescale returns there too. */
static ensi_status scale_columns(henn_eval *ev, ensi_enc_matrix *y, const ensi_enc_matrix *x,
                                 const ensi_ciphertext *inv, const float *gamma, double fold) {
  ensi_status status = ENSI_OK;
#pragma omp parallel for schedule(dynamic)
  for (size_t j = 0; j < x->cols; j++) {
    ensi_status s = ensi_mul_const(ev->ctx, y->column[j], x->column[j], (double)gamma[j] * fold);
    if (s == ENSI_OK)
      s = ensi_rescale(ev->ctx, y->column[j], y->column[j]);
    if (s == ENSI_OK)
      s = ensi_mul_relin(ev->ctx, y->column[j], y->column[j], inv, ev->keys);
    if (s == ENSI_OK)
      s = ensi_rescale(ev->ctx, y->column[j], y->column[j]);
    if (s != ENSI_OK) {
#pragma omp critical
      status = s;
    }
  }
  return status;
}

ensi_status henn_rmsnorm(henn_eval *ev, ensi_enc_matrix *x, ensi_norm_kind kind, const float *gamma,
                         const double *folds, size_t nfold, henn_levels after, ensi_enc_matrix **y) {
  const ensi_forward_options *o = &ev->setup->approx;
  const size_t depth = ensi_chebyshev_depth(o->rsqrt_degree[kind], o->rsqrt_lo[kind], o->rsqrt_hi[kind]);
  ENSI_TRY(henn_ensure_levels(ev, x, (henn_levels){2 + depth + after.need, 2 + depth + after.ideal},
                               ENSI_STAGE_RMSNORM));
  ENSI_TRY(henn_drop_to(ev, x, 2 + depth + after.ideal));
  henn_mark mark;
  henn_begin(ev, &mark, "RMSNorm");
  const size_t inv_level = henn_level(x) - 1 - depth;
  for (size_t f = 0; f < nfold; f++)
    y[f] = NULL;
  ensi_ciphertext *inv = NULL;
  ensi_status s = ensi_ciphertext_create(&inv, ev->ctx, inv_level);
  if (s == ENSI_OK)
    s = inverse_rms(ev, inv, x, kind, henn_prime(ev, inv_level));
  for (size_t f = 0; s == ENSI_OK && f < nfold; f++) {
    s = henn_matrix_new(ev, &y[f], x->cols, henn_level(x));
    if (s == ENSI_OK)
      s = scale_columns(ev, y[f], x, inv, gamma, folds[f] / sqrt(norm_center(ev, kind)));
  }
  ensi_ciphertext_free(inv);
  for (size_t f = 0; s != ENSI_OK && f < nfold; f++) {
    ensi_enc_matrix_free(y[f]);
    y[f] = NULL;
  }
  henn_end(ev, ENSI_STAGE_RMSNORM, &mark);
  return s;
}
