/* NEXUS's softmax (see ensi/baselines.h), as its released code computes it: no row maximum (the
 * inputs are taken as non-positive), exp by repeated squaring, row sums by rotations, and the
 * reciprocal by Goldschmidt's product. The baseline of ENSI's sigmoid attention. */
#include <ensi/baselines.h>

#include <stdlib.h>

#include "base/error.h"
#include "henn/row_sums.h"

enum { EXP_SQUARINGS = 7 };
static const double PADDING = -128; /* 1 + PADDING / 2^7 = 0: exp of the padding is 0 */

/* exp: 1 + 7; y: 1; the Goldschmidt product: the first multiplication waits one level for its
 * factor, so factors levels (none for one factor); times the sum scale: 1; times e: 1. */
size_t ensi_nexus_softmax_depth(int factors) {
  return (size_t)(1 + EXP_SQUARINGS) + 1 + (size_t)(factors >= 2 ? factors : 0) + 1 + 1;
}

size_t ensi_nexus_softmax_rotations(size_t s, long long *steps) {
  return henn_row_sum_rotations(s, steps);
}

/* out = a * b, rescaled (a and b at any levels: the product is at the lower one, minus one). */
static ensi_status mul_rescale(const ensi_context *ctx, ensi_ciphertext *out,
                               const ensi_ciphertext *a, const ensi_ciphertext *b,
                               const ensi_eval_keys *keys) {
  return ensi_mul_relin_rescale(ctx, out, a, b, keys);
}

/* out = a * c + add, rescaled. */
static ensi_status affine(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                          double c, double add) {
  ENSI_TRY(ensi_mul_const(ctx, out, a, c));
  ENSI_TRY(ensi_rescale(ctx, out, out));
  return ensi_add_const(ctx, out, out, add);
}

/* e = (1 + x / 128)^128 with the padding pushed to PADDING first. */
static ensi_status exponential(const ensi_context *ctx, ensi_ciphertext *e,
                               const ensi_ciphertext *x, size_t s, size_t slots,
                               const ensi_eval_keys *keys) {
  double *offsets = calloc(slots, sizeof *offsets);
  ensi_plaintext *pt = NULL;
  ensi_status st = offsets ? ensi_plaintext_create(&pt, ctx, ensi_ciphertext_level(x)) : ENSI_ERR_NOMEM;
  for (size_t i = 0; offsets && i < slots; i++)
    offsets[i] = i % (2 * s) < s ? 0 : PADDING;
  if (st == ENSI_OK)
    st = ensi_encode_real(ctx, pt, offsets, slots, ensi_ciphertext_scale(x));
  if (st == ENSI_OK)
    st = ensi_add_plain(ctx, e, x, pt);
  if (st == ENSI_OK)
    st = affine(ctx, e, e, 1.0 / (1 << EXP_SQUARINGS), 1);
  for (int i = 0; st == ENSI_OK && i < EXP_SQUARINGS; i++)
    st = mul_rescale(ctx, e, e, e, keys);
  ensi_plaintext_free(pt);
  free(offsets);
  return st;
}

/* inv = 1 / sum as c (1 + y)(1 + y^2)...(1 + y^(2^(factors-1))) = c (1 - y^(2^factors)) / (1 - y),
 * y = 1 - c sum. */
static ensi_status reciprocal(const ensi_context *ctx, ensi_ciphertext *inv,
                              const ensi_ciphertext *sum, double c, int factors,
                              const ensi_eval_keys *keys) {
  ensi_ciphertext *y = NULL, *factor = NULL;
  ENSI_TRY(ensi_ciphertext_create(&y, ctx, ensi_ciphertext_level(sum)));
  ensi_status st = ensi_ciphertext_create(&factor, ctx, ensi_ciphertext_level(sum));
  if (st == ENSI_OK)
    st = affine(ctx, y, sum, -c, 1);
  if (st == ENSI_OK)
    st = ensi_add_const(ctx, inv, y, 1);
  for (int i = 1; st == ENSI_OK && i < factors; i++) {
    st = mul_rescale(ctx, y, y, y, keys);
    if (st == ENSI_OK)
      st = ensi_add_const(ctx, factor, y, 1);
    if (st == ENSI_OK)
      st = mul_rescale(ctx, inv, inv, factor, keys);
  }
  if (st == ENSI_OK)
    st = ensi_mul_const(ctx, inv, inv, c);
  if (st == ENSI_OK)
    st = ensi_rescale(ctx, inv, inv);
  ensi_ciphertext_free(y);
  ensi_ciphertext_free(factor);
  return st;
}

ensi_status ensi_nexus_softmax(const ensi_context *ctx, ensi_ciphertext *out,
                               const ensi_ciphertext *scores, size_t s, size_t slots,
                               double sum_scale, int factors, const ensi_eval_keys *keys) {
  if (!ctx || !out || !scores || !keys || s < 2 || (s & (s - 1)) || slots < 2 * s * s ||
      !(sum_scale > 0) || factors < 1 || factors > 16)
    return ensi_fail(ENSI_ERR_ARG, "nexus softmax: %zu x %zu scores (need %zu slots, have %zu), "
                     "sum scale %g, %d factors", s, s, 2 * s * s, slots, sum_scale, factors);
  if (ensi_ciphertext_level(scores) < ensi_nexus_softmax_depth(factors))
    return ensi_fail(ENSI_ERR_LEVEL, "nexus softmax: needs %zu levels, the input has %zu",
                     ensi_nexus_softmax_depth(factors), ensi_ciphertext_level(scores));
  const size_t level = ensi_ciphertext_level(scores);
  ensi_ciphertext *e = NULL, *sum = NULL, *inv = NULL;
  ENSI_TRY(ensi_ciphertext_create(&e, ctx, level));
  ensi_status st = ensi_ciphertext_create(&sum, ctx, level);
  if (st == ENSI_OK)
    st = ensi_ciphertext_create(&inv, ctx, level);
  if (st == ENSI_OK)
    st = exponential(ctx, e, scores, s, slots, keys);
  if (st == ENSI_OK)
    st = ensi_ciphertext_copy(sum, e);
  if (st == ENSI_OK)
    st = henn_row_sums(ctx, sum, s, keys);
  if (st == ENSI_OK)
    st = reciprocal(ctx, inv, sum, sum_scale, factors, keys);
  if (st == ENSI_OK)
    st = mul_rescale(ctx, out, e, inv, keys);
  ensi_ciphertext_free(e);
  ensi_ciphertext_free(sum);
  ensi_ciphertext_free(inv);
  return st;
}
