/* Addition-only ternary PCMM in the column layout (see ensi/henn.h): each output column is the
 * sum of the input columns of its +1 weights minus the sum of those of its -1 weights. Computed
 * tile by tile (column_tiles.h) with lazy reduction: residues are below q < 2^61, so seven can be
 * added in 64 bits before one reduction (three conditional subtractions) brings the sum back
 * below q. No multiplication anywhere. */
#include "base/error.h"
#include "ckks/ciphertext.h"
#include "ckks/op_counts.h"
#include "henn/column_tiles.h"
#include "henn/matrix_internal.h"

enum { LAZY_TERMS = 7 }; /* q < 2^61: a reduced value plus 7 more stays below 8 q < 2^64 */

static const uint64_t zero_tile[HENN_MAX_TILE];

/* acc[0..len) = sum over idx[0..count) of x[idx] + offset, mod q: seven inputs per pass (missing
 * ones read a zero tile), so each pass loads the accumulator once for seven additions. Compiled
 * for AVX-512, AVX2 and the portable baseline; the loader picks one for the running CPU. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void lazy_sum(uint64_t *restrict acc, const uint64_t *const *x, const uint32_t *idx, size_t count,
                     size_t offset, size_t len, uint64_t q) {
  for (size_t t = 0; t < len; t++)
    acc[t] = 0;
  for (size_t j = 0; j < count; j += LAZY_TERMS) {
    const uint64_t *v[LAZY_TERMS];
    for (size_t i = 0; i < LAZY_TERMS; i++)
      v[i] = j + i < count ? x[idx[j + i]] + offset : zero_tile;
    for (size_t t = 0; t < len; t++)
      acc[t] = henn_reduce_below_8q(acc[t] + v[0][t] + v[1][t] + v[2][t] + v[3][t] + v[4][t] +
                                   v[5][t] + v[6][t], q);
  }
}

static void ternary_tile(const void *arg, size_t k, size_t limb, const ensi_modulus *m,
                         const uint64_t *const *x, size_t offset, size_t count, uint64_t *out) {
  (void)limb;
  const ensi_ternary *w = arg;
  uint64_t minus[HENN_MAX_TILE];
  const uint64_t q = m->value;
  lazy_sum(out, x, w->plus + w->plus_start[k], w->plus_start[k + 1] - w->plus_start[k], offset,
           count, q);
  lazy_sum(minus, x, w->minus + w->minus_start[k], w->minus_start[k + 1] - w->minus_start[k],
           offset, count, q);
  for (size_t t = 0; t < count; t++)
    out[t] = ensi_sub_mod(out[t], minus[t], q);
}

ensi_status ensi_ternary_pcmm(const ensi_context *ctx, ensi_enc_matrix **out,
                              const ensi_enc_matrix *x, const ensi_ternary *w) {
  if (!ctx || !out || !x || !w || (size_t)w->cols != x->cols)
    return ensi_fail(ENSI_ERR_ARG, "pcmm: weight of %d inputs against %zu columns",
                     w ? w->cols : 0, x ? x->cols : 0);
  const ensi_ciphertext *first = x->column[0];
  ensi_enc_matrix *y;
  ENSI_TRY(ensi_enc_matrix_create(&y, ctx, x->rows, (size_t)w->rows, x->block, x->slots,
                                  first->level));
  for (size_t k = 0; k < y->cols; k++) {
    y->column[k]->scale = first->scale;
    y->column[k]->slots = first->slots;
  }
  ensi_op_count(OP_COUNT_ADD, w->plus_start[w->rows] + w->minus_start[w->rows]);
  const ensi_status s = henn_column_tiles(ctx, x, y, ternary_tile, w);
  if (s != ENSI_OK) {
    ensi_enc_matrix_free(y);
    return s;
  }
  *out = y;
  return ENSI_OK;
}
