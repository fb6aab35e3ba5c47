/* Residue number system (RNS) polynomials and the base conversions of RNS-CKKS.
 *
 * A basis is k NTT-friendly primes with their NTT tables; a polynomial over it is k limbs of N
 * words in one allocation, limb i holding the residues modulo q_i, either as coefficients or in
 * NTT form (ntt.h).
 *
 * Fast base conversion (Bajard et al.; used by ModUp/ModDown of hybrid key switching): for x
 * given by residues x_i modulo q_i (basis Q = prod q_i, qhat_i = Q / q_i),
 *     Conv(x) = sum_i [x_i qhat_i^{-1}]_{q_i} qhat_i   computed modulo each target prime p_j,
 * equals x + u Q for an integer 0 <= u < k (x taken in [0, Q)). The caller's algorithm must
 * tolerate that multiple of Q: ModUp does (it is absorbed as a small key-switching error), and
 * ModDown divides it away by P.
 *
 * Rescaling divides by the last prime with rounding: round(x / q_last), exact for x in [0, Q). */
#ifndef ENSI_MATH_RNS_H
#define ENSI_MATH_RNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "math/modarith.h"
#include "math/ntt.h"

typedef struct {
  size_t n;
  size_t count;
  ensi_modulus *moduli;
  ensi_ntt_table **ntt;
} ensi_rns_basis;

typedef struct {
  size_t n, limbs;
  bool ntt_form;
  uint64_t *data; /* limbs x n words, limb i at data + i n */
} ensi_rns_poly;

/* A basis of the given primes for ring dimension n (copies the primes, builds NTT tables). */
ensi_status ensi_rns_basis_create(ensi_rns_basis **out, const uint64_t *primes, size_t count,
                                  size_t n);
void ensi_rns_basis_free(ensi_rns_basis *basis);

ensi_status ensi_rns_poly_create(ensi_rns_poly **out, const ensi_rns_basis *basis);
void ensi_rns_poly_free(ensi_rns_poly *p);
void ensi_rns_poly_copy(ensi_rns_poly *dst, const ensi_rns_poly *src);

/* Limb-wise arithmetic; operands share the basis and form (mul needs NTT form). */
void ensi_rns_add(const ensi_rns_basis *b, ensi_rns_poly *out, const ensi_rns_poly *x,
                  const ensi_rns_poly *y);
void ensi_rns_sub(const ensi_rns_basis *b, ensi_rns_poly *out, const ensi_rns_poly *x,
                  const ensi_rns_poly *y);
void ensi_rns_neg(const ensi_rns_basis *b, ensi_rns_poly *out, const ensi_rns_poly *x);
void ensi_rns_mul(const ensi_rns_basis *b, ensi_rns_poly *out, const ensi_rns_poly *x,
                  const ensi_rns_poly *y);
void ensi_rns_mul_scalar(const ensi_rns_basis *b, ensi_rns_poly *out, const ensi_rns_poly *x,
                         int64_t scalar);
void ensi_rns_ntt(const ensi_rns_basis *b, ensi_rns_poly *p);
void ensi_rns_intt(const ensi_rns_basis *b, ensi_rns_poly *p);

/* Sets p (coefficient form) to the small signed integers coeffs[0..n) on every limb. */
void ensi_rns_from_signed(const ensi_rns_basis *b, ensi_rns_poly *p, const int64_t *coeffs);

/* Fast base conversion between two lists of moduli (see the comment at the top). */
typedef struct ensi_base_converter ensi_base_converter;
ensi_status ensi_base_converter_create(ensi_base_converter **out, const ensi_modulus *from,
                                       size_t from_count, const ensi_modulus *to, size_t to_count);
void ensi_base_converter_free(ensi_base_converter *bc);
/* out: to_count limbs of n coefficients; in: from_count limbs (coefficient form, reduced). */
void ensi_base_convert(const ensi_base_converter *bc, uint64_t *out, const uint64_t *in, size_t n);

/* The fast conversion corrected to the centered remainder: out = x - M round(x / M) modulo each
 * target, M the product of the source moduli (a rounding multiple from doubles per coefficient,
 * which can be off by one only when x / M is within about 2^-46 of a half-integer). Dividing by M
 * with it rounds, where the plain conversion's excess of up to F multiples of M would not. */
void ensi_base_convert_centered(const ensi_base_converter *bc, uint64_t *out, const uint64_t *in,
                                size_t n);

/* Rounded division by the last of `limbs` primes of a polynomial in NTT form: afterwards limbs
 * 0 .. limbs - 2 hold round(x / q_last) in NTT form. scratch: limbs * n words. */
void ensi_rns_rescale_ntt(const ensi_modulus *moduli, ensi_ntt_table *const *ntt, uint64_t *poly,
                          size_t limbs, size_t n, uint64_t *scratch);

#endif
