/* Matrix products in the column layout computed tile by tile: every output column is a sum over
 * input columns, and each sum only reads the same residues of its inputs. So the residues are cut
 * into tiles (one polynomial, one limb, a run of coefficients) small enough that the tile of every
 * input column stays in cache while all output columns are summed from it: the inputs stream from
 * memory once, not once per output column. Used by the ternary PCMM (additions only) and by the
 * NEXUS-style baseline (a multiplication per weight), so both are measured on the same loop. */
#ifndef ENSI_HENN_COLUMN_TILES_H
#define ENSI_HENN_COLUMN_TILES_H

#include <ensi/henn.h>

#include "math/modarith.h"

/* a mod q for a < 8 q (a lazily reduced sum: q < 2^61, so 8 q < 2^64). */
static inline uint64_t henn_reduce_below_8q(uint64_t a, uint64_t q) {
  a = a >= 4 * q ? a - 4 * q : a;
  a = a >= 2 * q ? a - 2 * q : a;
  return a >= q ? a - q : a;
}

/* Tiles never exceed this many coefficients, so a tile function may keep a tile on its stack. */
#define HENN_MAX_TILE 4096

/* Fills out[0..count) with output column k's residues of limb `limb` (modulus q) at coefficients
 * offset .. offset+count, from x[j] + offset, the same residues of every input column j. */
typedef void (*henn_tile_fn)(const void *arg, size_t k, size_t limb, const ensi_modulus *q,
                             const uint64_t *const *x, size_t offset, size_t count, uint64_t *out);

/* Runs fn for every output column of y (its cols, created at x's level) over every tile of both
 * polynomials and every limb of x's level, tiles in parallel. x must be relinearized. */
ensi_status henn_column_tiles(const ensi_context *ctx, const ensi_enc_matrix *x, ensi_enc_matrix *y,
                              henn_tile_fn fn, const void *arg);

#endif
