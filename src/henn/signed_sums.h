/* The primitive of the plain ternary product: a signed sum of rows of residues, with lazy
 * reduction: residues below q are added in 64 bits until the next ones could overflow
 * (henn_lazy_terms), and conditional subtractions then bring the sum back below q. No
 * multiplication anywhere. */
#ifndef ENSI_HENN_SIGNED_SUMS_H
#define ENSI_HENN_SIGNED_SUMS_H

#include <stddef.h>
#include <stdint.h>

/* out[0..len) = sum over plus[0..plus_count) of row plus[i] - the same over minus (mod q), where
 * row j is rows[j * len .. (j + 1) * len), residues below q; len <= HENN_MAX_TILE. */
void henn_signed_sum(uint64_t *out, const uint64_t *rows, const uint32_t *plus, size_t plus_count,
                     const uint32_t *minus, size_t minus_count, size_t len, uint64_t q);

#endif
