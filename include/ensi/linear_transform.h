/* Homomorphic linear transforms y = M x on the slots, from the nonzero diagonals of M, evaluated
 * with baby-step giant-step (BSGS) and hoisted baby-step rotations.
 *
 * Diagonal k of an s x s matrix (s = slot count) is d_k[j] = M[j][(j + k) mod s], so that
 * M x = sum_k d_k * rot(x, k). With n1 baby steps, k = g n1 + b and
 *   M x = sum_g rot( sum_b rot(d_{g n1 + b}, -g n1) * rot(x, b), g n1 ),
 * which costs about n1 + (number of giant steps) rotations instead of one per diagonal. When every
 * index is a multiple of a stride t (the diagonals of a DFT's radix stage), the split is made in
 * units of t: k = t (g n1 + b), baby steps t b and giant steps t g n1. The
 * plaintext diagonals are pre-rotated and encoded once at creation, on the key-switching basis
 * Q_l P: the baby-step rotations share one decomposition of the input and skip their division
 * by P, the products with the diagonals are summed in Q_l P, and the giant steps' results are
 * added there and divided by P once (double hoisting: per giant step one ModDown of one
 * polynomial instead of two per rotation). The output scale is the input
 * scale times the diagonals' scale (rescale afterwards). */
#ifndef ENSI_LINEAR_TRANSFORM_H
#define ENSI_LINEAR_TRANSFORM_H

#include <ensi/ckks.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ensi_linear_transform ensi_linear_transform;

/* indices[i] in [0, slots) names diagonal i, whose slots complex values are re[i][0..slots) and
 * im[i][0..slots) (im may be NULL for real diagonals). The transform is encoded for inputs at
 * `level`, with diagonals at `scale`. baby_steps = 0 picks about sqrt(number of diagonals); it
 * counts in units of the indices' common power-of-two stride. */
ensi_status ensi_linear_transform_create(ensi_linear_transform **out, const ensi_context *ctx,
                                         size_t slots, const size_t *indices,
                                         const double *const *re, const double *const *im,
                                         size_t count, size_t level, double scale,
                                         size_t baby_steps);
void ensi_linear_transform_free(ensi_linear_transform *lt);

/* The rotation steps the transform needs keys for (steps must hold count entries; *count is set;
 * at most 2 * number of diagonals). */
void ensi_linear_transform_rotations(const ensi_linear_transform *lt, long long *steps,
                                     size_t *count);

/* out = M in. in must be at the transform's level (or above: it is dropped first). */
ensi_status ensi_linear_transform_apply(const ensi_context *ctx, ensi_ciphertext *out,
                                        const ensi_linear_transform *lt, const ensi_ciphertext *in,
                                        const ensi_eval_keys *keys);

#ifdef __cplusplus
}
#endif
#endif
