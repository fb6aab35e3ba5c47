/* What the encrypted layers in the packed layout share (internal to src/henn; docs/PACKED_LAYOUT.md):
 * the geometry of the packs and of the attention's head order, and the small tools of every
 * component (refreshing packs, plaintext vectors that repeat every C slots, ternary weights with
 * their norm's gamma and their beta folded in).
 *
 * Layout: C = N / (2 b) columns per pack (b: the token block), column c of pack m at slots c + C t.
 * The residual stream, the FFN and the norms keep the features in their order (feature j in pack
 * j / C at position j % C). The attention's q, k, v and output use the head order instead: dim d of
 * head h sits in pack d / e at position h + H (d % e) (H heads, e dims of every head per pack), so
 * that
 *   - a head's score is a sum over packs (additions) and over the e positions h + H i of one
 *     pack (rotations by multiples of H within the token's C slots, which never cross into the
 *     next token);
 *   - RoPE's partner dims d and d + dh / 2 sit at the same slot of packs m and m + P / 2 (P packs):
 *     RoPE is plaintext products, no rotation.
 * The ternary products write and read this order through their weights (a permutation of rows or
 * columns: free). */
#ifndef ENSI_PACKED_EVAL_H
#define ENSI_PACKED_EVAL_H

#include <ensi/packed_forward.h>

#include "henn/henn_eval.h"

typedef struct {
  henn_eval ev;             /* slots: N / 2; block: b */
  const ensi_model_config *config;
  size_t per_pack;          /* C */
  size_t heads, head_dim;   /* H, dh */
  size_t per_head;          /* e: dims of each head in one attention pack */
  size_t attention_packs;   /* P = dh / e */
  size_t shift_groups;      /* G = ceil(rows / e): the score packs (shifts g e + i, i < e) */
  size_t top;               /* levels after bootstrapping */
} packed_eval;

/* The geometry for `rows` tokens of a model: fails with a clear error when the head order does not
 * fit (C must hold at least one dim of every head, e | dh / 2). */
ensi_status packed_geometry(packed_eval *pe, const ensi_context *ctx, const ensi_model_config *c,
                            size_t rows);

/* The original feature (h dh + d) at packed attention index r (pack r / C, position r % C), or
 * SIZE_MAX for a position no dim uses. */
size_t packed_head_feature(const packed_eval *pe, size_t r);

/* ---- packs -------------------------------------------------------------------------------- */
size_t packed_level(const ensi_packed_matrix *m);
/* Drops every pack to at most `level`. */
ensi_status packed_drop_to(const packed_eval *pe, ensi_packed_matrix *m, size_t level);
/* Bootstraps packs[0 .. count) in place, two a bootstrap, charged to the bootstrapping and
 * counted as a refresh by `who`. A pack at scale s is read at the bootstrapper's input scale, so
 * its values must stay within boot_scale / s (the calibrated bound at the working scale); it comes
 * back at scale s (prime_level SIZE_MAX), or at the prime of prime_level, where the caller's
 * polynomial starts (the input of ensi_eval_chebyshev_unit must sit near its level's prime: the
 * working scale need not). */
ensi_status packed_refresh(packed_eval *pe, ensi_ciphertext **packs, size_t count,
                           size_t prime_level, ensi_henn_stage who);
/* Makes sure m has `need` levels (refreshing it when it has fewer) and drops it to exactly
 * `need` (every operation costs in proportion to the primes it carries). */
ensi_status packed_ensure(packed_eval *pe, ensi_packed_matrix *m, size_t need, ensi_henn_stage who);
/* The factor by which values on [-1, 1] (polynomial inputs mapped ahead of time) are multiplied,
 * their scale lowered alike, so that a refresh reads them within its range: 1, or the calibrated
 * bound where that is below 1. */
double packed_unit_shrink(const packed_eval *pe);
/* A new matrix of zero packs shaped for `cols` features at `level`. */
ensi_status packed_new(const packed_eval *pe, ensi_packed_matrix **out, size_t cols, size_t level);
/* out[k] = a[k] * b relinearized and rescaled for every pack (b: one ciphertext for all). */
ensi_status packed_times(const packed_eval *pe, ensi_packed_matrix *m, const ensi_ciphertext *b);

/* ---- plaintexts --------------------------------------------------------------------------- */
/* A plaintext of the C-periodic vector values[0 .. C) (a sparse encoding: cheap). */
ensi_status packed_plain_periodic(const packed_eval *pe, ensi_plaintext **out, const double *values,
                                  size_t level, double scale);
/* A plaintext of values[0 .. N / 2) at `level` and `scale`. */
ensi_status packed_plain(const packed_eval *pe, ensi_plaintext **out, const double *values,
                         size_t level, double scale);

/* ---- weights ------------------------------------------------------------------------------ */
/* A BitLinear weight as the packed product reads it: T with the factor (its beta, the norm's
 * 1 / sqrt(center), ...) and the preceding norm's gamma per input folded in; rows and columns in
 * the attention's head order when asked. */
typedef struct {
  const packed_eval *pe;
  const ensi_ternary *w;
  const float *gamma;      /* per input feature, in the model's order */
  double factor;
  bool head_rows, head_cols;
} packed_weight;

/* The product of weight at `level` (its rotations' baby steps: packed_baby_steps). */
ensi_status packed_weight_prepare(const packed_eval *pe, const packed_weight *weight, size_t level,
                                  ensi_packed_pcmm **out);
/* The weight's extent in the packs (the head order spans P packs of C). */
size_t packed_weight_inputs(const packed_weight *w);
size_t packed_weight_outputs(const packed_weight *w);

/* The rotated inputs (ensi_packed_rotations) of several products of one input: q, k and v, or
 * the gate and the up projection. The first product computes them at `level`, the highest
 * level among the products, with the wrapped copies; the owner frees them. */
typedef struct {
  ensi_packed_rotations *rotations; /* NULL until the first product */
  size_t level;
} packed_shared_input;

/* y = x W^T for a prepared weight, from the shared rotations of x (computed on first use). */
ensi_status packed_apply_shared(const packed_eval *pe, ensi_packed_matrix **y,
                                const ensi_packed_pcmm *p, const ensi_packed_matrix *x,
                                packed_shared_input *shared);

/* The level whose costs pick the products' baby steps: that of q, k, v and the up projection
 * (the gate's is 9, the output and down projections' 2). At level 2 a giant rotation has one
 * digit and the model picked B = 4 (63 giant rotations an output ciphertext); at 5, with two
 * digits, B = 8: bench pcmm at level 5, 1536 x 1536, s = 128, two threads: 3.32 s at B = 4,
 * 2.77 s at 8, 3.21 s at 16; and 28 rotation keys fewer. */
#define PACKED_PRODUCT_COST_LEVEL 5
/* The baby steps B of every product of the layers: the count the cost model picks for a hidden x
 * hidden product at PACKED_PRODUCT_COST_LEVEL. One B for all shapes and levels, so that the
 * products share their rotation keys (B = 4 for the down projection and 16 for the gate would
 * add 60 keys at bitnet_b1_58-large's shape) and the client knows them before any level. */
size_t packed_baby_steps(const packed_eval *pe);

/* ---- components ----------------------------------------------------------------------------- */
/* Levels the inverse RMS of a norm of `kind` uses: the sum of squares 1, the mask that also maps to
 * the polynomial's interval 1, the polynomial without its own map. */
size_t packed_norm_depth(const packed_eval *pe, ensi_norm_kind kind);
/* inv = sqrt(center) / sqrt(mean square + eps) of every token of x (the mean over its `features`
 * model features; the head order spans more columns than that), at each of its C slots, as the
 * reference's polynomial of `kind`; at level(x) - packed_norm_depth, at the prime of its level (a
 * product with it keeps the other factor's scale). packed_norm.c */
ensi_status packed_inverse_rms(packed_eval *pe, const ensi_packed_matrix *x, size_t features,
                               ensi_norm_kind kind, ensi_ciphertext **inv);
/* The least level of an input to packed_inverse_rms_refreshed: its square and its mask. */
#define PACKED_NORM_REFRESHED_LEVEL 2
/* The same from an input with fewer levels (at least PACKED_NORM_REFRESHED_LEVEL): the mapped sum
 * of squares, one ciphertext, is bootstrapped (a single refresh instead of one per pack of x) and
 * the polynomial runs from the fresh levels. inv lands above `at`, at the prime of `at` (the level
 * of the product it multiplies). packed_norm.c */
ensi_status packed_inverse_rms_refreshed(packed_eval *pe, const ensi_packed_matrix *x,
                                         size_t features, ensi_norm_kind kind, size_t at,
                                         ensi_ciphertext **inv);

/* Lowest level of the inverse RMS that packed_attention accepts: the projections at one above,
 * v times inv at 3, so that S V lands at 2 (enough for the inner norm's bootstrapped sum). */
#define PACKED_ATTENTION_INV_LEVEL 4
/* a = the attention block before the inner norm, on x (the residual stream) with inv its input
 * norm's inverse RMS: projections (gamma and the betas folded into the weights), RoPE, Q K^T in the
 * head order, sigmoid on the score packs (bootstrapped first), causal mask, S V. packed_attention.c */
ensi_status packed_attention(packed_eval *pe, const ensi_layer *l, const ensi_packed_matrix *x,
                             const ensi_ciphertext *inv, ensi_packed_matrix **a);

/* The rotation steps the attention uses (packed_attention.c); returns the count. */
size_t packed_attention_steps(const packed_eval *pe, long long *steps);

#endif
