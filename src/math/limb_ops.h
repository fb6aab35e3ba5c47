/* Element-wise operations on one limb (n words modulo q) with a constant factor w < q, results
 * fully reduced. The AVX-512 and AVX2 kernels (limb_ops_avx512.c, limb_ops_avx2.c, chosen with
 * the NTT's kernel, ntt.h) give the portable kernels' words. */
#ifndef ENSI_MATH_LIMB_OPS_H
#define ENSI_MATH_LIMB_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "math/modarith.h"

/* out[t] = (x[t] - y[t]) w mod q, or x[t] w mod q when y is NULL, for x[t], y[t] in [0, q); out
 * may alias x or y: the step that ends every division of a polynomial by a prime or by P
 * (rescale, ModDown) and every product by an integer or a scaled constant. */
void ensi_limb_sub_mul_const(uint64_t *out, const uint64_t *x, const uint64_t *y, uint64_t w,
                             size_t n, const ensi_modulus *q);

/* out[t] = out[t] + x[src(t)] w mod q, src(t) = perm[t] (a Galois permutation, which keeps aligned
 * blocks of eight together as math/dot.h requires) or t when perm is NULL; out[t], x[t] in [0, q),
 * out must not alias x: adds P times a (rotated) polynomial on Q in the extended basis. */
void ensi_limb_add_mul_const(uint64_t *out, const uint64_t *x, const uint32_t *perm, uint64_t w,
                             size_t n, const ensi_modulus *q);

/* The AVX-512 and AVX2 kernels, for limb_ops.c's dispatch (n a multiple of 8, or of 4 for AVX2;
 * ws = floor(w 2^64 / q)). */
void ensi_limb_sub_mul_const_avx512(uint64_t *out, const uint64_t *x, const uint64_t *y,
                                    uint64_t w, uint64_t ws, size_t n, uint64_t q);
void ensi_limb_add_mul_const_avx512(uint64_t *out, const uint64_t *x, const uint32_t *perm,
                                    uint64_t w, uint64_t ws, size_t n, uint64_t q);
void ensi_limb_sub_mul_const_avx2(uint64_t *out, const uint64_t *x, const uint64_t *y, uint64_t w,
                                  uint64_t ws, size_t n, uint64_t q);
void ensi_limb_add_mul_const_avx2(uint64_t *out, const uint64_t *x, const uint32_t *perm,
                                  uint64_t w, uint64_t ws, size_t n, uint64_t q);

#endif
