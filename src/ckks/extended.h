/* Ciphertexts kept on the key-switching basis Q_l P, for double hoisting (Bossuat et al.,
 * Eurocrypt 2021). A key switch ends with ModDown, a division by P that costs about as many NTTs
 * as the decomposition before it; when several switched results are only added (and multiplied
 * by plaintexts) before they are used, the division can wait and be done once.
 *
 * An extended ciphertext is a buffer of 2 (l + 1 + K) N words: c0 then c1, each with limbs
 * q_0..q_l then p_0..p_{K-1} (keyswitch.h), NTT form, standing for P times a ciphertext of level
 * l. A rotation of an extended (c0, c1) is (sigma(c0), 0) + KS(sigma(ModDown(c1))): the part of
 * c1 that ModDown drops is below P and leaves, after the final division, an error of the size of
 * one ModDown's. */
#ifndef ENSI_CKKS_EXTENDED_H
#define ENSI_CKKS_EXTENDED_H

#include "ckks/context.h"
#include "ckks/keys.h"

/* Level, sizes and the temporaries of key switching at that level. */
typedef struct {
  const ensi_context *ctx;
  size_t level, ext, n;
  size_t words; /* of one extended ciphertext */
  uint64_t *decomposition, *acc, *c1, *scratch;
} ensi_extended;

/* The Galois key of a rotation by step, or ENSI_ERR_KEY_MISSING naming it. */
ensi_status ensi_extended_rotation_key(const ensi_context *ctx, const ensi_eval_keys *keys,
                                       long long step, const ensi_galois_key **out);

ensi_status ensi_extended_init(ensi_extended *e, const ensi_context *ctx, size_t level);
void ensi_extended_free(ensi_extended *e);

/* out = P x for a ciphertext x at e's level (degree 1). */
void ensi_extended_lift(const ensi_extended *e, uint64_t *out, const ensi_ciphertext *x);

/* Decomposes x's c1 once for ensi_extended_rotate_hoisted (x at e's level, degree 1). */
ensi_status ensi_extended_decompose(const ensi_extended *e, const ensi_ciphertext *x);

/* out = P rot(x) from the decomposition of x's c1 made by ensi_extended_decompose. */
ensi_status ensi_extended_rotate_hoisted(const ensi_extended *e, uint64_t *out,
                                         const ensi_ciphertext *x, const ensi_galois_key *gk);

/* out = P (c0, c1) + KS(c2) for a degree-2 ciphertext x at e's level: relinearized, before
 * ModDown. */
ensi_status ensi_extended_relinearize(const ensi_extended *e, uint64_t *out,
                                      const ensi_ciphertext *x, const ensi_switching_key *relin);

/* sum += P rot(x) for a ciphertext x at e's level (degree 1); uses the decomposition buffer. */
ensi_status ensi_extended_add_rotation(const ensi_extended *e, uint64_t *sum,
                                       const ensi_ciphertext *x, const ensi_galois_key *gk);

/* sum += rot(x) for an extended x, whose c1's P limbs are overwritten. */
ensi_status ensi_extended_add_rotation_of(const ensi_extended *e, uint64_t *sum, uint64_t *x,
                                          const ensi_galois_key *gk);

/* out = pt x, pt a plaintext encoded on the extended basis (ensi_encode_extended). */
void ensi_extended_mul_plain(const ensi_extended *e, uint64_t *out, const uint64_t *x,
                             const uint64_t *pt);

/* sum += x (both extended). */
void ensi_extended_add(const ensi_extended *e, uint64_t *sum, const uint64_t *x);

/* out = sum / P (ModDown of both polynomials) at e's level with the given scale and slots; the
 * P limbs of sum are overwritten. */
ensi_status ensi_extended_finish(const ensi_extended *e, ensi_ciphertext *out, uint64_t *sum,
                                 double scale, size_t slots);

/* out = sum / (P q_l) (ModDown fused with the rescale, keyswitch.h) at level l - 1, scale / q_l;
 * the limbs q_l and P of sum are overwritten. */
ensi_status ensi_extended_finish_rescale(const ensi_extended *e, ensi_ciphertext *out,
                                         uint64_t *sum, double scale, size_t slots);

#endif
