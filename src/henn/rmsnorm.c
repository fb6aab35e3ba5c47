/* RMSNorm on column-encoded ciphertexts, with the bootstrapping embedded (ENSI).
 *
 * In column encoding the mean square of every token is one ciphertext: the sum of the squared
 * columns (tensor products accumulated, one relinearization). The inverse square root of
 * mean square + eps runs once on it, as the Chebyshev polynomial of the plaintext reference, and
 * multiplies every column scaled by its gamma (and the following BitLinear's beta). RMSNorm is
 * invariant to the scale of its input, which is what lets the input be refreshed at the bound's
 * scale first (henn_ensure_levels) when the levels after the norm would not suffice.
 *
 * A norm whose input is not needed afterwards (the inner and FFN norms) and must be refreshed
 * runs on the bootstrapped pack instead: the pack squared and summed over its blocks is the sum of
 * squares in every block, one product scales all columns at once, and gamma rides on unpacking's
 * masks; about C key switches fewer for C columns (docs/LAYERS.md).
 *
 * Levels: square 1, polynomial R, scaling 1 (the gamma multiplication runs in parallel); on the
 * pack: square 1, polynomial R, product 1, unpacking 1 (the refresh's own unpacking). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/error.h"
#include "henn/henn_eval.h"

/* The mean square's ciphertext outside the tokens is zero, which lies outside the polynomial's
 * interval; a plaintext puts a harmless value there (those slots multiply zero columns). The
 * tokens repeat every `period` slots (a column: once; a pack: in every block). */
static ensi_status fill_padding(const henn_eval *ev, ensi_ciphertext *sum_sq, double value,
                                size_t period) {
  double *values = malloc(ev->slots * sizeof *values);
  if (!values)
    return ENSI_ERR_NOMEM;
  for (size_t i = 0; i < ev->slots; i++)
    values[i] = i % period < ev->rows ? 0.0 : value;
  ensi_plaintext *pt = NULL;
  ensi_status s = henn_plain(ev, &pt, values, ensi_ciphertext_level(sum_sq),
                             ensi_ciphertext_scale(sum_sq));
  if (s == ENSI_OK)
    s = ensi_add_plain(ev->ctx, sum_sq, sum_sq, pt);
  ensi_plaintext_free(pt);
  free(values);
  return s;
}

double henn_norm_center(const henn_eval *ev, ensi_norm_kind kind) {
  const int l = ev->layer < ENSI_NORM_LAYERS ? ev->layer : ENSI_NORM_LAYERS - 1;
  return ev->setup->approx.rsqrt_center[l][kind];
}

/* inv = sqrt(c) / sqrt(sum_sq / n + eps) as the reference's polynomial, at `scale`, for the sum of
 * squares of n columns (whose tokens repeat every `period` slots). */
static ensi_status inverse_rms(henn_eval *ev, ensi_ciphertext *inv, ensi_ciphertext *sum_sq,
                               size_t n, size_t period, ensi_norm_kind kind, double scale) {
  const ensi_forward_options *o = &ev->setup->approx;
  const double eps = ev->eps, c = henn_norm_center(ev, kind);
  /* the reference evaluates p(v / c) for v = sum / n + eps with p on [lo, hi]; in terms of the
   * sum the interval is [n (c lo - eps), n (c hi - eps)] with the same Chebyshev coefficients
   * (the 1 / sqrt(c) rides on gamma) */
  const double a = (double)n * (c * o->rsqrt_lo[kind] - eps);
  const double b = (double)n * (c * o->rsqrt_hi[kind] - eps);
  ENSI_TRY(fill_padding(ev, sum_sq, 0.5 * (a + b), period));
  return ensi_eval_chebyshev(ev->ctx, inv, sum_sq, ev->rsqrt[kind], o->rsqrt_degree[kind], a, b,
                             scale, ev->keys);
}

static size_t rsqrt_depth(const henn_eval *ev, ensi_norm_kind kind) {
  const ensi_forward_options *o = &ev->setup->approx;
  return ensi_chebyshev_depth(o->rsqrt_degree[kind], o->rsqrt_lo[kind], o->rsqrt_hi[kind]);
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
      s = ensi_mul_relin_rescale(ev->ctx, y->column[j], y->column[j], inv, ev->keys);
    if (s != ENSI_OK) {
#pragma omp critical
      status = s;
    }
  }
  return status;
}

ensi_status henn_rmsnorm(henn_eval *ev, ensi_enc_matrix *x, ensi_norm_kind kind, const float *gamma,
                         const double *folds, size_t nfold, henn_levels after, ensi_enc_matrix **y) {
  const size_t depth = rsqrt_depth(ev, kind);
  ENSI_TRY(henn_ensure_levels(ev, x, (henn_levels){2 + depth + after.need, 2 + depth + after.ideal},
                               ENSI_STAGE_RMSNORM));
  ENSI_TRY(henn_drop_to(ev, x, 2 + depth + after.ideal));
  henn_mark mark;
  henn_begin(ev, &mark, "RMSNorm");
  const size_t inv_level = henn_level(x) - 1 - depth;
  for (size_t f = 0; f < nfold; f++)
    y[f] = NULL;
  ensi_ciphertext *inv = NULL, *sum_sq = NULL;
  ensi_status s = ensi_ciphertext_create(&inv, ev->ctx, inv_level);
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&sum_sq, ev->ctx, henn_level(x));
  if (s == ENSI_OK)
    s = henn_dot(ev, sum_sq, x->column, x->column, x->cols);
  if (s == ENSI_OK)
    s = inverse_rms(ev, inv, sum_sq, x->cols, ev->slots, kind, henn_prime(ev, inv_level));
  for (size_t f = 0; s == ENSI_OK && f < nfold; f++) {
    s = henn_matrix_new(ev, &y[f], x->cols, henn_level(x));
    if (s == ENSI_OK)
      s = scale_columns(ev, y[f], x, inv, gamma, folds[f] / sqrt(henn_norm_center(ev, kind)));
  }
  ensi_ciphertext_free(inv);
  ensi_ciphertext_free(sum_sq);
  for (size_t f = 0; s != ENSI_OK && f < nfold; f++) {
    ensi_enc_matrix_free(y[f]);
    y[f] = NULL;
  }
  henn_end(ev, ENSI_STAGE_RMSNORM, &mark);
  return s;
}

/* ---- the norm on the bootstrapped pack ---------------------------------------------------- */

typedef struct {
  ensi_norm_kind kind;
  const float *gamma;
  double fold;  /* the folded scale over sqrt(c) */
  size_t cols;  /* columns in the pack */
} packed_norm;

/* pack = pack * inv: the sum of squares of all columns is the square of the pack summed over its
 * blocks (log2(n / b) rotations by doubling; blocks without a column are zero), which leaves it
 * in every block, so one product scales every column by its token's inverse RMS. */
static ensi_status norm_pack(henn_eval *ev, ensi_ciphertext *pack, void *arg) {
  const packed_norm *pn = arg;
  const size_t depth = rsqrt_depth(ev, pn->kind), level = ensi_ciphertext_level(pack);
  const size_t inv_level = level - 1 - depth;
  ensi_ciphertext *sum_sq = NULL, *rotated = NULL, *inv = NULL;
  ensi_status s = ensi_ciphertext_create(&sum_sq, ev->ctx, level);
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&rotated, ev->ctx, level);
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&inv, ev->ctx, inv_level);
  if (s == ENSI_OK)
    s = henn_dot(ev, sum_sq, &pack, &pack, 1);
  for (size_t step = ev->block; s == ENSI_OK && step < ev->slots; step *= 2) {
    s = ensi_rotate(ev->ctx, rotated, sum_sq, -(long long)step, ev->keys);
    if (s == ENSI_OK)
      s = ensi_add(ev->ctx, sum_sq, sum_sq, rotated);
  }
  if (s == ENSI_OK)
    s = inverse_rms(ev, inv, sum_sq, pn->cols, ev->block, pn->kind, henn_prime(ev, inv_level));
  if (s == ENSI_OK)
    s = ensi_mul_relin_rescale(ev->ctx, pack, pack, inv, ev->keys);
  ensi_ciphertext_free(sum_sq);
  ensi_ciphertext_free(rotated);
  ensi_ciphertext_free(inv);
  return s;
}

/* Unpacking's mask for column `column`: its gamma times the fold on the token slots. */
static void gamma_mask(const henn_eval *ev, size_t column, double *values, void *arg) {
  const packed_norm *pn = arg;
  henn_token_vector(ev, values, 0, (double)pn->gamma[column] * pn->fold);
}

ensi_status henn_rmsnorm_consume(henn_eval *ev, ensi_enc_matrix **x, ensi_norm_kind kind,
                                 const float *gamma, double fold, henn_levels after,
                                 ensi_enc_matrix **y) {
  const size_t depth = rsqrt_depth(ev, kind), need = 2 + depth + after.need;
  const ensi_bootstrapper *bt = ev->setup->boot;
  const bool one_pack = (*x)->cols <= ev->slots / ev->block;
  if (!bt || !one_pack || henn_level(*x) >= need || ensi_bootstrap_output_level(bt) < 1 + need)
    return henn_rmsnorm(ev, *x, kind, gamma, &fold, 1, after, y);
  /* levels of the pack: square 1, polynomial, product 1, unpacking 1 */
  const size_t most = ensi_bootstrap_output_level(bt) - 3 - depth;
  const packed_norm pn = {.kind = kind, .gamma = gamma, .fold = fold / sqrt(henn_norm_center(ev, kind)),
                          .cols = (*x)->cols};
  const henn_repack_plan plan = {.bootstrap = true, .fn = norm_pack, .arg = (void *)&pn,
                                 .depth = 2 + depth, .keep = after.ideal < most ? after.ideal : most,
                                 .partner_level = SIZE_MAX, .mask = gamma_mask,
                                 .who = ENSI_STAGE_RMSNORM};
  henn_progress(ev, "RMSNorm");
  ENSI_TRY(henn_repack(ev, *x, &plan));
  *y = *x;
  *x = NULL;
  return ENSI_OK;
}
