/* The baselines ENSI's claims are measured against (docs/PAPER.md), on this engine and at the
 * same parameters as the ENSI kernels, so that a ratio compares algorithms, not libraries:
 *
 *   ensi_nexus_pcmm       a plaintext-weight matrix product as NEXUS computes it: one
 *                         ciphertext-plaintext multiplication per weight (general weights, zeros
 *                         included), against the addition-only ternary PCMM (ensi_ternary_pcmm);
 *   ensi_diagonal_pcmm    the standard diagonal method (Halevi-Shoup with baby-step giant-step
 *                         rotations) for the same product, rows of X packed into full
 *                         ciphertexts: what a packed layout would pay instead of the column
 *                         layout's one ciphertext per column;
 *   ensi_nexus_layernorm  NEXUS's LayerNorm (an unweighted RMSNorm: x (mean x^2)^(-1/2), the
 *                         inverse square root by Newton iterations), to be followed by a separate
 *                         bootstrap, against ENSI's RMSNorm with embedded bootstrapping;
 *   ensi_nexus_softmax    NEXUS's softmax (its released code): exp(x) = (1 + x/128)^128, row sums
 *                         by rotations, the reciprocal by Goldschmidt iterations, against ENSI's
 *                         sigmoid attention (one polynomial, no rotation). */
#ifndef ENSI_BASELINES_H
#define ENSI_BASELINES_H

#include <ensi/henn.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Y[:, k] = sum_j w[k * cols + j] X[:, j] for k < rows (w: rows x cols real weights), in the
 * column layout of ensi_enc_matrix: rows x cols multiplications by a constant and one rescale
 * per output column. Y is one level below X, at X's scale. Output columns run in parallel. */
ensi_status ensi_nexus_pcmm(const ensi_context *ctx, ensi_enc_matrix **out,
                            const ensi_enc_matrix *x, const double *w, size_t rows, size_t cols);

/* Y = X W^T for W rows x cols (row-major), X packed by rows: a ciphertext read with `slots`
 * slots holds slots / D rows (D: the larger of rows and cols rounded up to a power of two), row r
 * of X in slots [r D, r D + cols), zeros elsewhere; row r of Y comes out in [r D, r D + rows).
 * The block-diagonal matrix has 2 D - 1 diagonals, encoded once at `level` (the offline part:
 * (2 D - 1) plaintexts); each product is 2 D - 1 plaintext multiplications and about
 * 2 sqrt(2 D) rotations, with one rescale. */
typedef struct ensi_diagonal_pcmm ensi_diagonal_pcmm;
ensi_status ensi_diagonal_pcmm_create(ensi_diagonal_pcmm **out, const ensi_context *ctx,
                                      const double *w, size_t rows, size_t cols, size_t slots,
                                      size_t level);
/* The rotation steps the products need (steps has room for 2 (2 D - 1); *count is set). */
void ensi_diagonal_pcmm_rotations(const ensi_diagonal_pcmm *p, long long *steps, size_t *count);
/* out = the packed rows of X W^T, rescaled (one level below in, at in's scale). */
ensi_status ensi_diagonal_pcmm_apply(const ensi_context *ctx, ensi_ciphertext *out,
                                     const ensi_diagonal_pcmm *p, const ensi_ciphertext *in,
                                     const ensi_eval_keys *keys);
/* D, the row pitch of the packed layout. */
size_t ensi_diagonal_pcmm_pitch(const ensi_diagonal_pcmm *p);
void ensi_diagonal_pcmm_free(ensi_diagonal_pcmm *p);

/* x (mean x^2)^(-1/2) for each row of d values of x, row r in slots [2 D r, 2 D r + d) (D: d
 * rounded up to a power of two; slots >= 2 D), the other slots zero. The mean square of a row is
 * expected in [lo, hi] (the first guess of the inverse square root is fitted to it); `newton`
 * Newton steps refine it (4: relative error about 1e-2 at a range of 20, 5: 1e-4). Needs
 * ensi_nexus_layernorm_depth(newton) levels (4 per Newton step) and the rotations of
 * ensi_nexus_layernorm_rotations (by -D and 1, 2, .., D/2). The output has x's scale. */
ensi_status ensi_nexus_layernorm(const ensi_context *ctx, ensi_ciphertext *out,
                                 const ensi_ciphertext *x, size_t d, size_t slots, double lo,
                                 double hi, int newton, const ensi_eval_keys *keys);
size_t ensi_nexus_layernorm_depth(int newton);
/* The steps above (steps has room for 64); returns their count. */
size_t ensi_nexus_layernorm_rotations(size_t d, long long *steps);

/* Softmax of each row of an s x s score block held in one ciphertext read with `slots` slots:
 * row i in slots [2 s i, 2 s i + s), every other slot zero (so slots >= 2 s^2; s a power of two).
 * The padding is pushed to -128 (exp of it is exactly 0 in this approximation), e = (1 +
 * x/128)^128 by seven squarings, the row sums by a copy and log2(s) rotations, the reciprocal of
 * the sum as sum_scale times the Goldschmidt product (1 + y)(1 + y^2)...(1 + y^(2^(factors-1))),
 * y = 1 - sum_scale sum (accurate while sum_scale sum stays well inside (0, 2); NEXUS's code:
 * sum_scale 0.01, 4 factors), then e times it. Consumes ensi_nexus_softmax_depth(factors) levels;
 * needs rotations by -s and 1, 2, .., s/2 (ensi_nexus_softmax_rotations). Row i of the output
 * sits where its input did. Like NEXUS's code it rescales after every product and lets the scale
 * follow: the input's scale must be close to the primes of the levels it passes through (as in
 * NEXUS's parameters, where every prime has the scale's size), else the scale collapses or
 * overflows within the seven squarings. */
ensi_status ensi_nexus_softmax(const ensi_context *ctx, ensi_ciphertext *out,
                               const ensi_ciphertext *scores, size_t s, size_t slots,
                               double sum_scale, int factors, const ensi_eval_keys *keys);
/* The steps above (steps has room for 64); returns their count. */
size_t ensi_nexus_softmax_rotations(size_t s, long long *steps);
/* Levels ensi_nexus_softmax consumes (15 at NEXUS's 4 factors). */
size_t ensi_nexus_softmax_depth(int factors);

#ifdef __cplusplus
}
#endif
#endif
