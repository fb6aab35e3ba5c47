/* The NEXUS-style matrix product (see ensi/baselines.h): every weight, zero or not, costs one
 * multiplication of a ciphertext by a constant (round(w q_L) mod each prime, Shoup's method), and
 * every output column one rescale. It runs on the same tiled loop as the addition-only ternary
 * PCMM (column_tiles.h), with the same lazy reduction, so that the two differ only by what the
 * algorithms do per weight. */
#include <ensi/baselines.h>

#include <stdlib.h>

#include "base/error.h"
#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "ckks/encoder.h"
#include "ckks/op_counts.h"
#include "henn/column_tiles.h"
#include "henn/matrix_internal.h"

typedef struct {
  size_t cols, limbs;
  uint64_t *w, *w_shoup; /* [k][j][limb]: round(w_kj q_L) mod q_limb and Shoup's constant */
} weight_constants;

/* Compiled for the same instruction sets as the ternary kernel (pcmm.c), for a fair ratio. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void weighted_column(const weight_constants *c, size_t k, size_t limb, const ensi_modulus *m,
                            const uint64_t *const *x, size_t offset, size_t count, uint64_t *out) {
  const uint64_t q = m->value;
  const uint64_t *w = c->w + k * c->cols * c->limbs + limb, *ws = c->w_shoup + k * c->cols * c->limbs + limb;
  for (size_t t = 0; t < count; t++)
    out[t] = 0;
  /* products below 2 q: three of them on a reduced sum stay below 8 q; a missing third weighs 0 */
  for (size_t j = 0; j < c->cols; j += 3) {
    const uint64_t *v[3];
    uint64_t wj[3], sj[3];
    for (size_t i = 0; i < 3; i++) {
      const bool present = j + i < c->cols;
      v[i] = present ? x[j + i] + offset : x[j] + offset;
      wj[i] = present ? w[(j + i) * c->limbs] : 0;
      sj[i] = present ? ws[(j + i) * c->limbs] : 0;
    }
    for (size_t t = 0; t < count; t++)
      out[t] = henn_reduce_below_8q(out[t] + ensi_mul_shoup_lazy(v[0][t], wj[0], sj[0], q) +
                                        ensi_mul_shoup_lazy(v[1][t], wj[1], sj[1], q) +
                                        ensi_mul_shoup_lazy(v[2][t], wj[2], sj[2], q),
                                    q);
  }
}

static void weighted_tile(const void *arg, const henn_tile *tile, ensi_enc_matrix *y) {
  for (size_t k = 0; k < y->cols; k++)
    weighted_column(arg, k, tile->limb, tile->q, tile->x, tile->offset, tile->count,
                    henn_tile_output(tile, y, k));
}

static ensi_status make_constants(weight_constants *c, const ensi_context *ctx, const double *w,
                                  size_t rows, size_t cols, size_t level) {
  c->cols = cols;
  c->limbs = level + 1;
  const size_t count = rows * cols * c->limbs;
  c->w = malloc(count * sizeof *c->w);
  c->w_shoup = malloc(count * sizeof *c->w_shoup);
  if (!c->w || !c->w_shoup)
    return ENSI_ERR_NOMEM;
  const double factor = (double)ctx->moduli[level].value;
  for (size_t kj = 0; kj < rows * cols; kj++)
    for (size_t i = 0; i <= level; i++) {
      const uint64_t v = ensi_double_mod(w[kj] * factor, &ctx->moduli[i]);
      c->w[kj * c->limbs + i] = v;
      c->w_shoup[kj * c->limbs + i] = ensi_shoup_precompute(v, ctx->moduli[i].value);
    }
  return ENSI_OK;
}

static ensi_status rescale_all(const ensi_context *ctx, ensi_enc_matrix *y) {
  ensi_status status = ENSI_OK;
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t k = 0; k < y->cols; k++) {
    const ensi_status s = ensi_rescale(ctx, y->column[k], y->column[k]);
    if (s != ENSI_OK) {
#pragma omp critical
      status = s;
    }
  }
  return status;
}

ensi_status ensi_nexus_pcmm(const ensi_context *ctx, ensi_enc_matrix **out,
                            const ensi_enc_matrix *x, const double *w, size_t rows, size_t cols) {
  if (!ctx || !out || !x || !w || rows == 0 || cols != x->cols)
    return ensi_fail(ENSI_ERR_ARG, "nexus pcmm: %zu x %zu weights against %zu columns", rows, cols,
                     x ? x->cols : 0);
  const ensi_ciphertext *first = x->column[0];
  if (first->level == 0)
    return ensi_fail(ENSI_ERR_LEVEL, "nexus pcmm: the input has no level left to rescale");
  weight_constants c = {0};
  ensi_enc_matrix *y = NULL;
  ensi_status s = make_constants(&c, ctx, w, rows, cols, first->level);
  if (s == ENSI_OK)
    s = ensi_enc_matrix_create(&y, ctx, x->rows, rows, x->block, x->slots, first->level);
  for (size_t k = 0; s == ENSI_OK && k < rows; k++) {
    y->column[k]->scale = first->scale * (double)ctx->moduli[first->level].value;
    y->column[k]->slots = first->slots;
  }
  ensi_op_count(OP_COUNT_MUL_PLAIN, rows * cols);
  ensi_op_count(OP_COUNT_ADD, rows * cols);
  const henn_tile_kernel kernel = {.fn = weighted_tile, .arg = &c, .cached_rows = cols};
  if (s == ENSI_OK)
    s = henn_column_tiles(ctx, x, y, &kernel);
  if (s == ENSI_OK)
    s = rescale_all(ctx, y);
  free(c.w);
  free(c.w_shoup);
  if (s != ENSI_OK) {
    ensi_enc_matrix_free(y);
    return s;
  }
  *out = y;
  return ENSI_OK;
}
