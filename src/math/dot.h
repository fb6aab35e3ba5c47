/* Sums of products modulo q over a few vectors, two sums at once: the inner product of key
 * switching (a decomposition's digits times a key's two halves), where it spends most of its time.
 *
 *   out0[t] = sum_j x_j[src(t)] y0_j[t] mod q,   out1[t] = sum_j x_j[src(t)] y1_j[t] mod q,
 *
 * for t < n, src(t) = perm[t] (an automorphism applied on the fly) or t when perm is NULL. A perm
 * must map every aligned block of eight (and so of four) indices onto an aligned block of eight,
 * as the NTT-domain Galois permutations do (ckks/galois.h): the vector kernels rely on it. Inputs
 * must be below q < 2^61; any count. The portable kernel sums 128-bit products and reduces once
 * per 64 terms; the AVX-512 and AVX2 ones (dot_avx512.c, dot_avx2.c, chosen with the NTT's kernel,
 * ntt.h) split products into 32-bit halves and reduce once per few terms, or (IFMA, q below 2^52)
 * sum 52-bit halves and reduce once, and give the same words. */
#ifndef ENSI_MATH_DOT_H
#define ENSI_MATH_DOT_H

#include <stddef.h>
#include <stdint.h>

#include "math/modarith.h"

void ensi_dot2_mod(uint64_t *out0, uint64_t *out1, const uint64_t *const *x,
                   const uint64_t *const *y0, const uint64_t *const *y1, size_t count,
                   const uint32_t *perm, size_t n, const ensi_modulus *q);

/* The AVX-512 and AVX2 kernels, for dot.c's dispatch (n a multiple of 8, of 4). */
void ensi_dot2_mod_avx512(uint64_t *out0, uint64_t *out1, const uint64_t *const *x,
                          const uint64_t *const *y0, const uint64_t *const *y1, size_t count,
                          const uint32_t *perm, size_t n, const ensi_modulus *q);
void ensi_dot2_mod_avx2(uint64_t *out0, uint64_t *out1, const uint64_t *const *x,
                        const uint64_t *const *y0, const uint64_t *const *y1, size_t count,
                        const uint32_t *perm, size_t n, const ensi_modulus *q);

#endif
