/* The tiled driver of column-layout matrix products (see column_tiles.h). */
#include "henn/column_tiles.h"

#include <stdlib.h>

#include "base/error.h"
#include "ckks/context.h"

enum { TILE_BUDGET_BYTES = 1 << 19, MIN_TILE = 64 };

/* The kernel's fixed tile, or the largest power of two of coefficients whose cached rows fit the
 * budget (at least MIN_TILE, so long vector runs keep the loop overhead small). */
static size_t tile_size(const henn_tile_kernel *kernel, size_t n) {
  if (kernel->tile)
    return kernel->tile < n ? kernel->tile : n;
  const size_t rows = kernel->cached_rows;
  size_t t = MIN_TILE;
  while (2 * t <= n && 2 * t <= HENN_MAX_TILE && 2 * t * rows * sizeof(uint64_t) <= TILE_BUDGET_BYTES)
    t *= 2;
  return t < n ? t : n;
}

ensi_status henn_column_tiles(const ensi_context *ctx, const ensi_enc_matrix *x, ensi_enc_matrix *y,
                              const henn_tile_kernel *kernel) {
  const size_t n = ctx->n, level = ensi_ciphertext_level(x->column[0]), cols = x->cols;
  for (size_t j = 0; j < cols; j++)
    if (x->column[j]->degree != 1 || x->column[j]->level != level)
      return ensi_fail(ENSI_ERR_ARG, "column product: input %zu is not relinearized at level %zu",
                       j, level);
  const size_t tile = tile_size(kernel, n), per_limb = n / tile;
  const size_t tiles = 2 * (level + 1) * per_limb;
  const uint64_t **inputs = malloc(2 * (level + 1) * cols * sizeof *inputs);
  if (!inputs)
    return ENSI_ERR_NOMEM;
  for (size_t p = 0; p < 2; p++) /* the input limbs, per polynomial and limb */
    for (size_t i = 0; i <= level; i++)
      for (size_t j = 0; j < cols; j++)
        inputs[(p * (level + 1) + i) * cols + j] = ensi_ct_limb(x->column[j], p, i);
  ensi_status status = ENSI_OK;
#pragma omp parallel
  {
    uint64_t *scratch = malloc((kernel->scratch_rows * tile + 1) * sizeof *scratch);
    if (!scratch) {
#pragma omp critical
      status = ENSI_ERR_NOMEM;
    }
#pragma omp for schedule(dynamic, 1)
    for (size_t t = 0; t < tiles; t++) {
      const size_t poly_limb = t / per_limb, p = poly_limb / (level + 1), i = poly_limb % (level + 1);
      const henn_tile one = {.poly = p, .limb = i, .offset = (t % per_limb) * tile, .count = tile,
                             .q = &ctx->moduli[i], .x = inputs + poly_limb * cols, .scratch = scratch};
      if (scratch)
        kernel->fn(kernel->arg, &one, y);
    }
    free(scratch);
  }
  free((void *)inputs);
  return status;
}
