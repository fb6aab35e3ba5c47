/* Internal helpers of the encoder shared with the evaluator. */
#ifndef ENSI_CKKS_ENCODER_H
#define ENSI_CKKS_ENCODER_H

#include <ensi/ckks.h>

#include "math/modarith.h"

/* round(v) modulo q for a finite double of any magnitude. Doubles beyond 2^53 are integers, so
 * the result is exact: |v| = mantissa * 2^e is reduced as (mantissa mod q) * (2^e mod q). */
uint64_t ensi_double_mod(double v, const ensi_modulus *q);

/* The encoding of re + i im (count slots, as ensi_encode_complex) on the extended basis of
 * `level` (keyswitch.h): limbs q_0..q_level then p_0..p_{K-1}, NTT form, into limbs. Double
 * hoisting multiplies such plaintexts with ciphertexts that are still in Q_l P. */
ensi_status ensi_encode_extended(const ensi_context *ctx, uint64_t *limbs, const double *re,
                                 const double *im, size_t count, double scale, size_t level);

/* A count-slot encoding has its 2 count coefficients at multiples of N / (2 count), so its NTT
 * form is, per limb, 2 count values each repeated over a run of N / (2 count) consecutive
 * coefficients (ntt.h, ensi_ntt_forward_prefix). ensi_encode_runs computes those run values with
 * 2 count-point transforms instead of N-point ones: out[i * 2 count + u] is limb i's value on run
 * u, for the limbs 0 .. level, equal to ensi_encode_complex's (re + i im; im may be NULL) at
 * coefficient u N / (2 count). */
ensi_status ensi_encode_runs(const ensi_context *ctx, const double *re, const double *im,
                             size_t count, double scale, size_t level, uint64_t *out);

#endif
