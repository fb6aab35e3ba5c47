/* Signed sums of residue rows with lazy reduction (see signed_sums.h). */
#include "henn/signed_sums.h"

#include "henn/column_tiles.h"

enum { LAZY_TERMS = 7 }; /* rows per pass: q < 2^61 lets a reduced value take seven more */

static const uint64_t zero_tile[HENN_MAX_TILE];

/* acc[0..len) mod q, for acc below q times henn_lazy_terms(q). */
static inline __attribute__((always_inline)) void reduce(uint64_t *restrict acc, size_t len,
                                                         uint64_t q, unsigned steps) {
  for (unsigned s = steps; s-- > 0;) {
    const uint64_t m = q << s;
    for (size_t t = 0; t < len; t++)
      acc[t] = acc[t] >= m ? acc[t] - m : acc[t];
  }
}

/* acc[0..len) = sum over idx[0..count) of row idx, mod q: seven rows per pass (missing ones read
 * a zero tile), so each pass loads the accumulator once for seven additions, and a reduction only
 * when the next pass could overflow 64 bits (every pass below 2^61, never before the end for a
 * 40-bit prime). Compiled for AVX-512, AVX2 and the portable baseline; the loader picks one for
 * the running CPU. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void lazy_sum(uint64_t *restrict acc, const uint64_t *rows, const uint32_t *idx,
                     size_t count, size_t len, uint64_t q) {
  const uint64_t budget = henn_lazy_terms(q);
  const unsigned steps = henn_reduce_steps(q);
  uint64_t terms = 1; /* the accumulator, below q */
  for (size_t t = 0; t < len; t++)
    acc[t] = 0;
  for (size_t j = 0; j < count; j += LAZY_TERMS) {
    if (terms + LAZY_TERMS > budget) {
      reduce(acc, len, q, steps);
      terms = 1;
    }
    const uint64_t *v[LAZY_TERMS];
    for (size_t i = 0; i < LAZY_TERMS; i++)
      v[i] = j + i < count ? rows + idx[j + i] * len : zero_tile;
    for (size_t t = 0; t < len; t++)
      acc[t] += v[0][t] + v[1][t] + v[2][t] + v[3][t] + v[4][t] + v[5][t] + v[6][t];
    terms += LAZY_TERMS;
  }
  reduce(acc, len, q, steps);
}

void henn_signed_sum(uint64_t *out, const uint64_t *rows, const uint32_t *plus, size_t plus_count,
                     const uint32_t *minus, size_t minus_count, size_t len, uint64_t q) {
  uint64_t negative[HENN_MAX_TILE];
  lazy_sum(out, rows, plus, plus_count, len, q);
  lazy_sum(negative, rows, minus, minus_count, len, q);
  for (size_t t = 0; t < len; t++)
    out[t] = ensi_sub_mod(out[t], negative[t], q);
}
