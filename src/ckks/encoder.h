/* Internal helpers of the encoder shared with the evaluator. */
#ifndef ENSI_CKKS_ENCODER_H
#define ENSI_CKKS_ENCODER_H

#include "math/modarith.h"

/* round(v) modulo q for a finite double of any magnitude. Doubles beyond 2^53 are integers, so
 * the result is exact: |v| = mantissa * 2^e is reduced as (mantissa mod q) * (2^e mod q). */
uint64_t ensi_double_mod(double v, const ensi_modulus *q);

#endif
