/* Sums of products whose first factors are constant over runs of coefficients: the packed
 * layout's weight diagonals (docs/PACKED_LAYOUT.md), whose NTT form is 2C distinct values each
 * repeated over a run of N / (2C) consecutive coefficients.
 *
 *   out0[t] = sum_k c[(t / run) count + k] y0_k[t] mod q,   out1[t] likewise with y1_k,
 *
 * for the coefficients t < length (whole runs) of a range: every array starts at the range's first
 * coefficient, and c holds, run by run, one value below q per term (the terms' constants of a run
 * side by side), c_shoup their Shoup constants; y below q < 2^61. A caller with many sums over
 * the same inputs takes them range by range, with the inputs' range copied side by side so that
 * it stays in cache. The portable kernel sums lazy Shoup products below 2q; the AVX-512 one
 * likewise (run_sums_avx512.c), the AVX2 one in 32-bit halves reduced once per group of terms
 * (run_sums_avx2.c). Both vector kernels, chosen with the NTT's kernel (ntt.h), need runs of a
 * multiple of 8 coefficients, and all give the same words. */
#ifndef ENSI_MATH_RUN_SUMS_H
#define ENSI_MATH_RUN_SUMS_H

#include <stddef.h>
#include <stdint.h>

#include "math/modarith.h"

void ensi_run_sums2(uint64_t *out0, uint64_t *out1, const uint64_t *c, const uint64_t *c_shoup,
                    const uint64_t *const *y0,
                    const uint64_t *const *y1, size_t count, size_t run,
                    size_t length, const ensi_modulus *q);

/* The AVX-512 and AVX2 kernels, for run_sums.c's dispatch (run a multiple of 8). */
void ensi_run_sums2_avx512(uint64_t *out0, uint64_t *out1, const uint64_t *c,
                           const uint64_t *c_shoup, const uint64_t *const *y0,
                           const uint64_t *const *y1, size_t count, size_t run,
                           size_t length, const ensi_modulus *q);
void ensi_run_sums2_avx2(uint64_t *out0, uint64_t *out1, const uint64_t *c,
                         const uint64_t *c_shoup, const uint64_t *const *y0,
                         const uint64_t *const *y1, size_t count, size_t run,
                         size_t length, const ensi_modulus *q);

#endif
