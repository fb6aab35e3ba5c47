/* Lookup sums for the ternary PCMM (shared/research/bitnet.md section 4): the inputs are cut into
 * groups of three columns, and for each group the 27 signed sums t0 x0 + t1 x1 + t2 x2 (t in
 * {-1, 0, 1}) are built once per tile: 10 additions (the 13 with a positive first weight; the
 * rest are the three inputs themselves, their negations and zero). Every output column then adds
 * one table row per group instead of up to three input columns: 26/27 additions per group against
 * 2 (a third of ternary weights are zero), 2.07x fewer, and the table is shared by all output
 * columns. The sums are exact modular additions: the result is the plain sums' bit for bit.
 *
 * Tiles are 8 coefficients (one AVX-512 vector), and the groups are taken in blocks small enough
 * that a block's tables (HENN_LOOKUP_BLOCK x 27 rows of 64 bytes) stay in the level-1 cache while
 * every output column adds its block's rows into its tile of the output. */
#ifndef ENSI_HENN_LOOKUP_SUMS_H
#define ENSI_HENN_LOOKUP_SUMS_H

#include <ensi/model.h>

#include "henn/column_tiles.h"

/* codes[(block x outputs + k) x HENN_LOOKUP_BLOCK + i]: output k's code of group
 * block x HENN_LOOKUP_BLOCK + i, t0 + 3 t1 + 9 t2 in -13 .. 13 (0 past the last group). */
typedef struct {
  size_t outputs, inputs, groups, blocks;
  int8_t *codes;
  uint64_t additions; /* ciphertext additions: nonzero codes plus the tables' */
} henn_lookup_plan;

enum { HENN_LOOKUP_BLOCK = 7 }; /* below 2^61 a reduced sum takes 7 more residues */

ensi_status henn_lookup_plan_create(henn_lookup_plan *plan, const ensi_ternary *w);
void henn_lookup_plan_free(henn_lookup_plan *plan);

/* The tile kernel of the plan (its arg). */
henn_tile_kernel henn_lookup_kernel(const henn_lookup_plan *plan);

#endif
