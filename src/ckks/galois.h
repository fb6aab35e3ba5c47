/* Galois automorphisms of Z[X]/(X^N + 1): X -> X^g for odd g. In CKKS, rotating the slots by k
 * is the automorphism with g = 5^k mod 2N and complex conjugation is g = 2N - 1 (the encoder's
 * slot order follows the powers of 5; see ensi/encoder.h). These helpers compute Galois elements
 * and the index maps that apply an automorphism to a polynomial in coefficient form or, as a
 * plain permutation, in NTT form (ordering of src/math/ntt.h). */
#ifndef ENSI_CKKS_GALOIS_H
#define ENSI_CKKS_GALOIS_H

#include <stddef.h>
#include <stdint.h>

/* Galois element of a rotation of the slots by k positions to the left (k may be negative or
 * exceed the slot count; it is taken modulo N/2). */
uint64_t ensi_galois_element_rotation(long long k, size_t n);

/* Galois element of complex conjugation of the slots: 2N - 1. */
uint64_t ensi_galois_element_conjugation(size_t n);

/* Fills perm[0..n) so that (sigma_g a)_ntt[i] = a_ntt[perm[i]] for polynomials in the NTT form of
 * src/math/ntt.h (index i holds a(psi^(2 bitrev(i) + 1))). g must be odd. In natural order the
 * map is affine, j -> g j + (g - 1) / 2 mod n, so under bit reversal it sends every aligned block
 * of 2^b indices onto an aligned block of 2^b (vector kernels read it blockwise, math/dot.h). */
void ensi_galois_ntt_permutation(uint32_t *perm, uint64_t g, size_t n);

/* Applies X -> X^g to a polynomial in coefficient form modulo q: out must not alias in. */
void ensi_galois_apply_coeff(uint64_t *out, const uint64_t *in, uint64_t g, size_t n, uint64_t q);

/* Applies a permutation made by ensi_galois_ntt_permutation: out[i] = in[perm[i]]. */
void ensi_galois_apply_ntt(uint64_t *out, const uint64_t *in, const uint32_t *perm, size_t n);

#endif
