/* Addition-only ternary PCMM in the column layout (see ensi/henn.h): each output column is the
 * sum of the input columns of its +1 weights minus the sum of those of its -1 weights, computed
 * tile by tile (column_tiles.h). Plain sums walk the weight's index lists; lookup sums
 * (lookup_sums.h) add one precomputed signed sum per group of three inputs instead. Both are
 * exact modular additions, so they give the same ciphertexts bit for bit. */
#include <string.h>

#include "base/error.h"
#include "ckks/op_counts.h"
#include "henn/column_tiles.h"
#include "henn/lookup_sums.h"
#include "henn/matrix_internal.h"
#include "henn/signed_sums.h"

/* Copies the tile of every input into contiguous scratch (the inputs' tiles lie a multiple of
 * 4 KiB apart and would share a few cache sets), then sums each output column from it. */
static void plain_tile(const void *arg, const henn_tile *tile, ensi_enc_matrix *y) {
  const ensi_ternary *w = arg;
  const size_t len = tile->count;
  for (size_t j = 0; j < (size_t)w->cols; j++)
    memcpy(tile->scratch + j * len, tile->x[j] + tile->offset, len * sizeof *tile->scratch);
  for (size_t k = 0; k < y->cols; k++)
    henn_signed_sum(henn_tile_output(tile, y, k), tile->scratch, w->plus + w->plus_start[k],
                    w->plus_start[k + 1] - w->plus_start[k], w->minus + w->minus_start[k],
                    w->minus_start[k + 1] - w->minus_start[k], len, tile->q->value);
}

/* Runs the plain or the lookup kernel, whichever `how` names, or (auto) whichever needs fewer
 * ciphertext additions. */
static ensi_status run_sums(const ensi_context *ctx, const ensi_enc_matrix *x, ensi_enc_matrix *y,
                            const ensi_ternary *w, ensi_pcmm_sums how) {
  const uint64_t plain = (uint64_t)w->plus_start[w->rows] + w->minus_start[w->rows];
  henn_lookup_plan plan = {0};
  if (how != ENSI_PCMM_PLAIN_SUMS)
    ENSI_TRY(henn_lookup_plan_create(&plan, w));
  const bool lookup = how == ENSI_PCMM_LOOKUP_SUMS ||
                      (how == ENSI_PCMM_AUTO && plan.additions < plain);
  ensi_status s;
  if (lookup) {
    const henn_tile_kernel kernel = henn_lookup_kernel(&plan);
    ensi_op_count(OP_COUNT_ADD, plan.additions);
    s = henn_column_tiles(ctx, x, y, &kernel);
  } else {
    const henn_tile_kernel kernel = {.fn = plain_tile, .arg = w, .cached_rows = x->cols,
                                     .scratch_rows = x->cols};
    ensi_op_count(OP_COUNT_ADD, plain);
    s = henn_column_tiles(ctx, x, y, &kernel);
  }
  henn_lookup_plan_free(&plan);
  return s;
}

ensi_status ensi_ternary_pcmm_with(const ensi_context *ctx, ensi_enc_matrix **out,
                                   const ensi_enc_matrix *x, const ensi_ternary *w,
                                   ensi_pcmm_sums how) {
  if (!ctx || !out || !x || !w || (size_t)w->cols != x->cols || how < ENSI_PCMM_AUTO ||
      how > ENSI_PCMM_LOOKUP_SUMS)
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
  const ensi_status s = run_sums(ctx, x, y, w, how);
  if (s != ENSI_OK) {
    ensi_enc_matrix_free(y);
    return s;
  }
  *out = y;
  return ENSI_OK;
}

ensi_status ensi_ternary_pcmm(const ensi_context *ctx, ensi_enc_matrix **out,
                              const ensi_enc_matrix *x, const ensi_ternary *w) {
  return ensi_ternary_pcmm_with(ctx, out, x, w, ENSI_PCMM_AUTO);
}
