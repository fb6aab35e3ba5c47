/* Matrix products in the column layout computed tile by tile: every output column is a sum over
 * input columns, and each sum only reads the same residues of its inputs. So the residues are cut
 * into tiles (one polynomial, one limb, a run of coefficients) small enough that what the sums read
 * of a tile (the inputs, and any table built from them) stays in cache while all output columns
 * are summed from it: the inputs stream from memory once, not once per output column. Used by the
 * ternary PCMM (additions only, plain or with lookup sums) and by the NEXUS-style baseline (a
 * multiplication per weight), so all are measured on the same loop. */
#ifndef ENSI_HENN_COLUMN_TILES_H
#define ENSI_HENN_COLUMN_TILES_H

#include <ensi/henn.h>

#include "ckks/ciphertext.h"
#include "math/modarith.h"

/* a mod q for a < 8 q (a lazily reduced sum: q < 2^61, so 8 q < 2^64). */
static inline uint64_t henn_reduce_below_8q(uint64_t a, uint64_t q) {
  a = a >= 4 * q ? a - 4 * q : a;
  a = a >= 2 * q ? a - 2 * q : a;
  return a >= q ? a - q : a;
}

/* Lazy reduction budget: how many residues below q (a reduced accumulator included) can be
 * added in 64 bits, floor((2^64 - 1) / q): 8 or more below 2^61, 2^24 for a 40-bit prime. */
static inline uint64_t henn_lazy_terms(uint64_t q) { return UINT64_MAX / q; }

/* The conditional subtractions of q 2^k, k = steps - 1 .. 0, that bring a sum of up to
 * henn_lazy_terms(q) residues below q: ceil(log2(terms)). */
static inline unsigned henn_reduce_steps(uint64_t q) {
  unsigned steps = 0;
  while (steps < 64 && ((uint64_t)1 << steps) < henn_lazy_terms(q))
    steps++;
  return steps;
}

/* Tiles never exceed this many coefficients, so a tile function may keep a tile on its stack. */
#define HENN_MAX_TILE 4096

/* One tile: coefficients offset .. offset + count of one polynomial and limb of every column. */
typedef struct {
  size_t poly, limb, offset, count;
  const ensi_modulus *q;    /* the limb's prime */
  const uint64_t *const *x; /* x[j]: input column j's residues of this limb (tile at + offset) */
  uint64_t *scratch;        /* the kernel's scratch_rows x count words, private to the thread */
} henn_tile;

/* Output column k's residues of the tile: count words to fill. */
static inline uint64_t *henn_tile_output(const henn_tile *t, ensi_enc_matrix *y, size_t k) {
  return ensi_ct_limb(y->column[k], t->poly, t->limb) + t->offset;
}

/* Fills every output column of y over one tile. */
typedef void (*henn_tile_fn)(const void *arg, const henn_tile *tile, ensi_enc_matrix *y);

typedef struct {
  henn_tile_fn fn;
  const void *arg;
  size_t tile;         /* coefficients per tile, a power of two; 0: sized from cached_rows */
  size_t cached_rows;  /* rows of a tile that the sums read repeatedly */
  size_t scratch_rows; /* rows of a tile's length of scratch per thread */
} henn_tile_kernel;

/* Runs the kernel over every tile of both polynomials and every limb of x's level, tiles in
 * parallel; y's columns are created at x's level. x must be relinearized. */
ensi_status henn_column_tiles(const ensi_context *ctx, const ensi_enc_matrix *x, ensi_enc_matrix *y,
                              const henn_tile_kernel *kernel);

#endif
