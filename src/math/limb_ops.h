/* Element-wise operations on one limb (n words modulo q) with a constant factor, the steps that
 * end every division of a polynomial by a prime or by P (rescale, ModDown) and every product by
 * an integer or a scaled constant:
 *
 *   out[t] = (x[t] - y[t]) w mod q,   or x[t] w mod q when y is NULL,
 *
 * for x[t], y[t] in [0, q), w < q, fully reduced; out may alias x or y. The AVX2 kernel
 * (limb_ops_avx2.c, chosen with the NTT's kernel, ntt.h) gives the portable kernel's words. */
#ifndef ENSI_MATH_LIMB_OPS_H
#define ENSI_MATH_LIMB_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "math/modarith.h"

void ensi_limb_sub_mul_const(uint64_t *out, const uint64_t *x, const uint64_t *y, uint64_t w,
                             size_t n, const ensi_modulus *q);

/* The AVX2 kernel, for limb_ops.c's dispatch (n a multiple of 4; ws = floor(w 2^64 / q)). */
void ensi_limb_sub_mul_const_avx2(uint64_t *out, const uint64_t *x, const uint64_t *y, uint64_t w,
                                  uint64_t ws, size_t n, uint64_t q);

#endif
