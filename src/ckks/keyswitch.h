/* Hybrid key switching (Han-Ki): decompose a polynomial of level l into digits of alpha primes,
 * lift each digit to Q_l * P (ModUp, approximate base extension), take the inner product with a
 * switching key, and divide by P (ModDown). The decomposition can be shared by several keys
 * (hoisting): an automorphism applied to the decomposed digits equals the decomposition of the
 * automorphism's image, up to the same approximation.
 *
 * "Extended" polynomials have l + 1 + K limbs: q_0..q_l followed by p_0..p_{K-1}, NTT form.
 * ensi_ks_apply is ensi_ks_inner_product followed by ensi_ks_mod_down of both halves; callers
 * that sum several switched results (double hoisting, linear_transform.c) call the two parts
 * themselves and divide by P once. */
#ifndef ENSI_CKKS_KEYSWITCH_H
#define ENSI_CKKS_KEYSWITCH_H

#include "ckks/context.h"
#include "ckks/keys.h"

/* Words needed for the decomposition of a level-l polynomial. */
size_t ensi_ks_decomposition_words(const ensi_context *ctx, size_t level);

/* Decomposes c (NTT form, level + 1 limbs) into ensi_context_digits(level) extended polynomials,
 * their limbs in an order of keyswitch.c's own: only ensi_ks_inner_product reads them. */
ensi_status ensi_ks_decompose(const ensi_context *ctx, uint64_t *decomposition, const uint64_t *c,
                              size_t level);

/* (out0, out1) = ModDown(sum_j perm(D_j) * key_j): out0/out1 have level + 1 limbs (NTT form).
 * permutation: NULL, or an NTT-domain automorphism applied to the digits first. */
ensi_status ensi_ks_apply(const ensi_context *ctx, uint64_t *out0, uint64_t *out1,
                          const uint64_t *decomposition, size_t level,
                          const ensi_switching_key *key, const uint32_t *permutation);

/* Modulus index in ctx->moduli of limb i of an extended polynomial at `level`. */
size_t ensi_ks_ext_modulus(const ensi_context *ctx, size_t level, size_t i);

/* (acc0, acc1) (extended, NTT) = sum_j perm(D_j) * key_j: the key switch before ModDown, about
 * P times the switched polynomial. */
ensi_status ensi_ks_inner_product(const ensi_context *ctx, uint64_t *acc0, uint64_t *acc1,
                                  const uint64_t *decomposition, size_t level,
                                  const ensi_switching_key *key, const uint32_t *permutation);

/* ModDown: out (level + 1 limbs, NTT) = (x - ConvP->Q(x mod P)) * P^{-1} for an extended x
 * (NTT), whose P limbs are overwritten; scratch holds level + 1 limbs. */
void ensi_ks_mod_down(const ensi_context *ctx, uint64_t *out, uint64_t *x, size_t level,
                      uint64_t *scratch);

/* ModDown fused with a rescale: out (level limbs, NTT) = round(x / (q_level P)) for an extended x
 * (NTT) at level >= 1, whose limbs q_level and P are overwritten; scratch holds level limbs. The
 * remainder comes from the centered conversion (rns.h): the fast one's excess of up to K + 1
 * multiples of q_level P would otherwise stay in the result as an error of that many units, 2.5
 * bits lost at every product. One conversion and level forward NTTs instead of ModDown's level + 1
 * and the rescale's level more. */
void ensi_ks_mod_down_rescale(const ensi_context *ctx, uint64_t *out, uint64_t *x, size_t level,
                              uint64_t *scratch);

/* out = (c0 + KS_0(c1), KS_1(c1)): a's ciphertext re-encrypted under the key's target secret. */
ensi_status ensi_ks_ciphertext(const ensi_context *ctx, ensi_ciphertext *out,
                               const ensi_ciphertext *a, const ensi_switching_key *key);

#endif
