/* Negacyclic number-theoretic transform over Z_q[X]/(X^N + 1), N = 2^4 .. 2^17, in place.
 *
 * Ordering: the forward transform takes coefficients in natural order and returns evaluations in
 * bit-reversed order: output index i holds a(psi^(2 bitrev(i) + 1)), where psi is the primitive
 * 2N-th root of ensi_primitive_root_2n and bitrev reverses log2(N) bits. The inverse takes that
 * order back to coefficients. A Galois automorphism X -> X^g is therefore the permutation
 * i -> bitrev(((g (2 bitrev(i) + 1)) mod 2N - 1) / 2) of the evaluations (src/ckks/galois.h).
 *
 * Inside, butterflies are Harvey's lazy ones with Shoup twiddles (values kept below a small
 * multiple of q, each kernel its own: ntt_internal.h); inputs and outputs are fully reduced, in
 * [0, q).
 * Kernels (portable C, AVX2, AVX-512) share the cache-blocked drivers and give identical results; the
 * fastest one the CPU runs is chosen at the first table's creation (ntt.c), unless the environment
 * variable ENSI_NTT_KERNEL names another. */
#ifndef ENSI_MATH_NTT_H
#define ENSI_MATH_NTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "math/modarith.h"

typedef struct ensi_ntt_table ensi_ntt_table;

enum { ENSI_NTT_MIN = 16 }; /* the smallest transform */

ensi_status ensi_ntt_table_create(ensi_ntt_table **out, const ensi_modulus *q, size_t n);
void ensi_ntt_table_free(ensi_ntt_table *table);

void ensi_ntt_forward(const ensi_ntt_table *table, uint64_t *a);
/* The forward transform of size m (a power of two, ENSI_NTT_MIN <= m <= N) with root psi^(N/m),
 * in the same ordering: bit-reversed storage makes the table's first m roots exactly its roots.
 * For a polynomial whose coefficients sit at multiples of N/m, output i of the full transform is
 * output i / (N/m) of this one. */
void ensi_ntt_forward_prefix(const ensi_ntt_table *table, uint64_t *a, size_t m);
void ensi_ntt_inverse(const ensi_ntt_table *table, uint64_t *a);

/* Name of the kernel in use ("avx512ifma", "avx512", "avx2", "portable"). */
const char *ensi_ntt_kernel_name(void);

/* Names of the kernels this CPU runs, fastest first; returns how many (at most max written). */
size_t ensi_ntt_kernel_names(const char **names, size_t max);

/* Whether an AVX-512 kernel (with IFMA or not; or the AVX2 kernel) is in use: the fast base
 * conversion (rns.h), the sums of products (dot.h, run_sums.h) and the limb operations
 * (limb_ops.h) follow the NTT's choice, so that ENSI_NTT_KERNEL and ensi_ntt_use_kernel select
 * them all; ensi_ntt_kernel_uses_ifma says whether they may take IFMA's 52-bit products. */
bool ensi_ntt_kernel_is_avx512(void);
bool ensi_ntt_kernel_uses_ifma(void);
bool ensi_ntt_kernel_is_avx2(void);

/* Switches every later transform to the named kernel (tests and benchmarks compare them); call
 * it between transforms, never during one. */
ensi_status ensi_ntt_use_kernel(const char *name);

#endif
