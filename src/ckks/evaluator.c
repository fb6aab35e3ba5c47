/* Homomorphic operations on ciphertexts: additions, multiplications, rescaling, level changes,
 * rotations and conjugation (key switching in keyswitch.c). Every operation works in the NTT
 * domain limb by limb; binary operations run at the lower of the two levels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/large_alloc.h"
#include "ckks/ciphertext.h"
#include "ckks/encoder.h"
#include "ckks/extended.h"
#include "ckks/galois.h"
#include "ckks/keyswitch.h"
#include "ckks/op_counts.h"
#include "math/dot.h"
#include "math/limb_ops.h"

/* Scales are equal when they agree to 2^-32 relative: anything coarser would silently cost
 * precision, so the caller must match scales first. */
static bool scales_match(double a, double b) { return fabs(a - b) <= 0x1p-32 * fabs(a); }

static ensi_status check_binary(const ensi_context *ctx, const ensi_ciphertext *out,
                                const ensi_ciphertext *a, const ensi_ciphertext *b) {
  if (!ctx || !out || !a || !b || a->n != ctx->n || b->n != ctx->n || out->n != ctx->n)
    return ensi_fail(ENSI_ERR_ARG, "evaluator: bad argument");
  if (!scales_match(a->scale, b->scale))
    return ensi_fail(ENSI_ERR_LEVEL, "evaluator: scales differ (2^%.6f vs 2^%.6f)", log2(a->scale),
                     log2(b->scale));
  return ENSI_OK;
}

/* Sets out's shape (level, degree, scale, slots) keeping data that aliases an input valid. */
static ensi_status shape_output(ensi_ciphertext *out, size_t level, size_t degree, double scale,
                                size_t slots) {
  ENSI_TRY(ensi_ciphertext_reserve(out, level, degree));
  out->degree = degree;
  out->scale = scale;
  out->slots = slots;
  return ENSI_OK;
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }
static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

typedef enum { OP_ADD, OP_SUB } add_op;

static ensi_status add_sub(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           const ensi_ciphertext *b, add_op op) {
  ensi_op_count(OP_COUNT_ADD, 1);
  ENSI_TRY(check_binary(ctx, out, a, b));
  const size_t n = ctx->n, level = min_size(a->level, b->level);
  const size_t degree = max_size(a->degree, b->degree);
  const size_t slots = max_size(a->slots, b->slots);
  ENSI_TRY(ensi_ciphertext_reserve(out, level, degree)); /* keeps an aliased input's data */
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i <= level; i++)
    for (size_t k = 0; k <= degree; k++) {
      const uint64_t q = ctx->moduli[i].value;
      const uint64_t *x = k <= a->degree ? ensi_ct_limb(a, k, i) : NULL;
      const uint64_t *y = k <= b->degree ? ensi_ct_limb(b, k, i) : NULL;
      uint64_t *o = ensi_ct_limb(out, k, i);
      for (size_t t = 0; t < n; t++) {
        const uint64_t u = x ? x[t] : 0, v = y ? y[t] : 0;
        o[t] = op == OP_ADD ? ensi_add_mod(u, v, q) : ensi_sub_mod(u, v, q);
      }
    }
  out->level = level;
  out->degree = degree;
  out->scale = a->scale;
  out->slots = slots;
  return ENSI_OK;
}

ensi_status ensi_add(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                     const ensi_ciphertext *b) {
  return add_sub(ctx, out, a, b, OP_ADD);
}

ensi_status ensi_sub(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                     const ensi_ciphertext *b) {
  return add_sub(ctx, out, a, b, OP_SUB);
}

ensi_status ensi_negate(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a) {
  if (!ctx || !out || !a)
    return ensi_fail(ENSI_ERR_ARG, "negate: null argument");
  ENSI_TRY(shape_output(out, a->level, a->degree, a->scale, a->slots));
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i <= a->level; i++)
    for (size_t k = 0; k <= a->degree; k++) { /* elementwise: out may alias a */
      const uint64_t *x = ensi_ct_limb(a, k, i);
      uint64_t *o = ensi_ct_limb(out, k, i);
      for (size_t t = 0; t < ctx->n; t++)
        o[t] = ensi_neg_mod(x[t], ctx->moduli[i].value);
    }
  return ENSI_OK;
}

ensi_status ensi_add_plain(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           const ensi_plaintext *b) {
  ensi_op_count(OP_COUNT_ADD, 1);
  if (!ctx || !out || !a || !b)
    return ensi_fail(ENSI_ERR_ARG, "add_plain: null argument");
  if (!scales_match(a->scale, b->scale))
    return ensi_fail(ENSI_ERR_LEVEL, "add_plain: scales differ");
  if (out != a)
    ENSI_TRY(ensi_ciphertext_copy(out, a));
  out->level = min_size(a->level, b->level);
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i <= out->level; i++) {
    uint64_t *o = ensi_ct_limb(out, 0, i);
    for (size_t t = 0; t < ctx->n; t++)
      o[t] = ensi_add_mod(o[t], b->data[i * ctx->n + t], ctx->moduli[i].value);
  }
  return ENSI_OK;
}

ensi_status ensi_add_const(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           double c) {
  ensi_op_count(OP_COUNT_ADD, 1);
  if (!ctx || !out || !a || !isfinite(c))
    return ensi_fail(ENSI_ERR_ARG, "add_const: bad argument");
  if (out != a)
    ENSI_TRY(ensi_ciphertext_copy(out, a));
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i <= out->level; i++) { /* a constant polynomial is constant in NTT form */
    const uint64_t k = ensi_double_mod(c * a->scale, &ctx->moduli[i]);
    uint64_t *o = ensi_ct_limb(out, 0, i);
    for (size_t t = 0; t < ctx->n; t++)
      o[t] = ensi_add_mod(o[t], k, ctx->moduli[i].value);
  }
  return ENSI_OK;
}

/* out = a * k_i on limb i, for per-limb constants k (already reduced). */
static ensi_status mul_limb_constants(const ensi_context *ctx, ensi_ciphertext *out,
                                      const ensi_ciphertext *a, const uint64_t *k) {
  ENSI_TRY(shape_output(out, a->level, a->degree, a->scale, a->slots));
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i <= a->level; i++) {
    for (size_t p = 0; p <= a->degree; p++) /* elementwise: out may alias a */
      ensi_limb_sub_mul_const(ensi_ct_limb(out, p, i), ensi_ct_limb(a, p, i), NULL, k[i], ctx->n,
                              &ctx->moduli[i]);
  }
  return ENSI_OK;
}

ensi_status ensi_mul_integer(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                             int64_t value) {
  ensi_op_count(OP_COUNT_MUL_PLAIN, 1);
  if (!ctx || !out || !a)
    return ensi_fail(ENSI_ERR_ARG, "mul_integer: null argument");
  uint64_t k[64];
  if (a->level >= 64)
    return ensi_fail(ENSI_ERR_UNSUPPORTED, "mul_integer: more than 64 limbs");
  const uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
  for (size_t i = 0; i <= a->level; i++) {
    const uint64_t q = ctx->moduli[i].value, r = magnitude % q;
    k[i] = value < 0 ? ensi_neg_mod(r, q) : r;
  }
  return mul_limb_constants(ctx, out, a, k);
}

ensi_status ensi_mul_const_scaled(const ensi_context *ctx, ensi_ciphertext *out,
                                  const ensi_ciphertext *a, double c, double factor) {
  ensi_op_count(OP_COUNT_MUL_PLAIN, 1);
  if (!ctx || !out || !a || !isfinite(c) || !isfinite(factor) || factor <= 0)
    return ensi_fail(ENSI_ERR_ARG, "mul_const: bad argument (c = %g, factor = %g)", c, factor);
  uint64_t k[64];
  if (a->level >= 64)
    return ensi_fail(ENSI_ERR_UNSUPPORTED, "mul_const: more than 64 limbs");
  for (size_t i = 0; i <= a->level; i++)
    k[i] = ensi_double_mod(c * factor, &ctx->moduli[i]);
  ENSI_TRY(mul_limb_constants(ctx, out, a, k));
  out->scale = a->scale * factor;
  return ENSI_OK;
}

ensi_status ensi_mul_const(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           double c) {
  if (!ctx || !out || !a)
    return ensi_fail(ENSI_ERR_ARG, "mul_const: null argument");
  if (a->level == 0)
    return ensi_fail(ENSI_ERR_LEVEL, "mul_const: no level left to rescale");
  return ensi_mul_const_scaled(ctx, out, a, c, (double)ctx->moduli[a->level].value);
}

ensi_status ensi_set_scale(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           double scale) {
  if (!ctx || !out || !a || !(scale > 0))
    return ensi_fail(ENSI_ERR_ARG, "set_scale: bad argument");
  if (a->level == 0)
    return ensi_fail(ENSI_ERR_LEVEL, "set_scale: no level left");
  const double q = (double)ctx->moduli[a->level].value, original = a->scale;
  const double k = nearbyint(scale * q / original);
  ENSI_TRY(ensi_mul_const_scaled(ctx, out, a, 1.0, k));
  ENSI_TRY(ensi_rescale(ctx, out, out));
  out->scale = original * k / q;
  return ENSI_OK;
}

double ensi_context_prime(const ensi_context *ctx, size_t level) {
  return level < ctx->q_count ? (double)ctx->moduli[level].value : 0.0;
}

ensi_status ensi_mul_plain(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           const ensi_plaintext *b) {
  ensi_op_count(OP_COUNT_MUL_PLAIN, 1);
  if (!ctx || !out || !a || !b)
    return ensi_fail(ENSI_ERR_ARG, "mul_plain: null argument");
  const size_t level = min_size(a->level, b->level), n = ctx->n;
  ENSI_TRY(shape_output(out, level, a->degree, a->scale * b->scale, a->slots));
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i <= level; i++)
    for (size_t p = 0; p <= a->degree; p++) { /* elementwise: out may alias a */
      const uint64_t *x = ensi_ct_limb(a, p, i), *w = b->data + i * n;
      uint64_t *o = ensi_ct_limb(out, p, i);
      for (size_t t = 0; t < n; t++)
        o[t] = ensi_mul_mod(x[t], w[t], &ctx->moduli[i]);
    }
  return ENSI_OK;
}

ensi_status ensi_mul_plain_add(const ensi_context *ctx, ensi_ciphertext *acc,
                               const ensi_ciphertext *a, const ensi_plaintext *b) {
  ensi_op_count(OP_COUNT_MUL_PLAIN, 1);
  ensi_op_count(OP_COUNT_ADD, 1);
  if (!ctx || !acc || !a || !b || acc == a || acc->degree != a->degree)
    return ensi_fail(ENSI_ERR_ARG, "mul_plain_add: bad argument");
  if (!scales_match(acc->scale, a->scale * b->scale))
    return ensi_fail(ENSI_ERR_LEVEL, "mul_plain_add: scales differ (2^%.6f vs 2^%.6f)",
                     log2(acc->scale), log2(a->scale * b->scale));
  const size_t level = min_size(acc->level, min_size(a->level, b->level)), n = ctx->n;
  acc->level = level;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i <= level; i++)
    for (size_t p = 0; p <= a->degree; p++) {
      const uint64_t *x = ensi_ct_limb(a, p, i), *w = b->data + i * n, q = ctx->moduli[i].value;
      uint64_t *o = ensi_ct_limb(acc, p, i);
      for (size_t t = 0; t < n; t++)
        o[t] = ensi_add_mod(o[t], ensi_mul_mod(x[t], w[t], &ctx->moduli[i]), q);
    }
  acc->slots = max_size(acc->slots, a->slots);
  return ENSI_OK;
}

/* The common level of a plaintext sum's terms, or an error for a malformed one. */
static ensi_status plain_sum_level(const ensi_ciphertext *out, const ensi_ciphertext *const *a,
                                   const ensi_plaintext *const *b, size_t count, size_t *level) {
  *level = SIZE_MAX;
  for (size_t k = 0; k < count; k++) {
    if (!a[k] || !b[k] || a[k] == out || a[k]->degree != 1)
      return ensi_fail(ENSI_ERR_ARG, "mul_plain_sum: term %zu missing, of degree 2 or aliasing out", k);
    if (!scales_match(a[k]->scale, a[0]->scale) || !scales_match(b[k]->scale, b[0]->scale))
      return ensi_fail(ENSI_ERR_LEVEL, "mul_plain_sum: term %zu at another scale", k);
    *level = min_size(*level, min_size(a[k]->level, b[k]->level));
  }
  return ENSI_OK;
}

ensi_status ensi_mul_plain_sum(const ensi_context *ctx, ensi_ciphertext *out,
                               const ensi_ciphertext *const *a, const ensi_plaintext *const *b,
                               size_t count) {
  if (!ctx || !out || !a || !b || count == 0)
    return ensi_fail(ENSI_ERR_ARG, "mul_plain_sum: bad argument");
  ensi_op_count(OP_COUNT_MUL_PLAIN, count);
  ensi_op_count(OP_COUNT_ADD, count - 1);
  size_t level, slots = 0;
  ENSI_TRY(plain_sum_level(out, a, b, count, &level));
  for (size_t k = 0; k < count; k++)
    slots = max_size(slots, a[k]->slots);
  ENSI_TRY(shape_output(out, level, 1, a[0]->scale * b[0]->scale, slots));
  const uint64_t **rows = malloc(3 * count * (level + 1) * sizeof *rows);
  if (!rows)
    return ENSI_ERR_NOMEM;
  const size_t n = ctx->n;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i <= level; i++) {
    const uint64_t **w = rows + 3 * count * i, **c0 = w + count, **c1 = c0 + count;
    for (size_t k = 0; k < count; k++) {
      w[k] = b[k]->data + i * n;
      c0[k] = ensi_ct_limb(a[k], 0, i);
      c1[k] = ensi_ct_limb(a[k], 1, i);
    }
    ensi_dot2_mod(ensi_ct_limb(out, 0, i), ensi_ct_limb(out, 1, i), w, c0, c1, count, NULL, n,
                  &ctx->moduli[i]);
  }
  free(rows);
  return ENSI_OK;
}

ensi_status ensi_mul(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                     const ensi_ciphertext *b) {
  ensi_op_count(OP_COUNT_MUL, 1);
  if (!ctx || !out || !a || !b)
    return ensi_fail(ENSI_ERR_ARG, "mul: null argument");
  if (a->degree != 1 || b->degree != 1)
    return ensi_fail(ENSI_ERR_ARG, "mul: relinearize inputs first");
  const size_t n = ctx->n, level = min_size(a->level, b->level);
  const double scale = a->scale * b->scale;
  const size_t slots = max_size(a->slots, b->slots);
  ensi_ciphertext *dst = out;
  ensi_ciphertext *tmp = NULL;
  /* the product reads both inputs and needs room for c2: unless out already has it and aliases
   * neither input, compute into a temporary and swap it in (no copy) */
  if (out == a || out == b || out->polys < 3 || out->capacity < level) {
    ENSI_TRY(ensi_ciphertext_create_with_degree(&tmp, ctx, level, 2));
    dst = tmp;
  }
  ensi_status s = shape_output(dst, level, 2, scale, slots);
  if (s == ENSI_OK) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i <= level; i++) {
      const ensi_modulus *q = &ctx->moduli[i];
      const uint64_t *a0 = ensi_ct_limb(a, 0, i), *a1 = ensi_ct_limb(a, 1, i);
      const uint64_t *b0 = ensi_ct_limb(b, 0, i), *b1 = ensi_ct_limb(b, 1, i);
      uint64_t *d0 = ensi_ct_limb(dst, 0, i), *d1 = ensi_ct_limb(dst, 1, i), *d2 = ensi_ct_limb(dst, 2, i);
      for (size_t t = 0; t < n; t++) {
        d0[t] = ensi_mul_mod(a0[t], b0[t], q);
        d1[t] = ensi_reduce_u128((unsigned __int128)a0[t] * b1[t] + (unsigned __int128)a1[t] * b0[t], q);
        d2[t] = ensi_mul_mod(a1[t], b1[t], q);
      }
    }
  }
  if (tmp) {
    if (s == ENSI_OK)
      ensi_ciphertext_swap(out, tmp);
    ensi_ciphertext_free(tmp);
  }
  return s;
}

/* Key-switches polynomial c (of ct's level) with key and adds the result to (c0, c1) of out. */
static ensi_status switch_and_add(const ensi_context *ctx, ensi_ciphertext *out, const uint64_t *c,
                                  const ensi_switching_key *key, const uint32_t *perm) {
  const size_t n = ctx->n, level = out->level;
  uint64_t *decomposition = ensi_large_alloc(ensi_ks_decomposition_words(ctx, level), sizeof(uint64_t));
  uint64_t *d = ensi_large_alloc(2 * (level + 1) * n, sizeof *d);
  ensi_status s = decomposition && d ? ensi_ks_decompose(ctx, decomposition, c, level) : ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    s = ensi_ks_apply(ctx, d, d + (level + 1) * n, decomposition, level, key, perm);
  if (s == ENSI_OK) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i <= level; i++)
      for (size_t p = 0; p < 2; p++) {
        uint64_t *o = ensi_ct_limb(out, p, i);
        const uint64_t *x = d + (p * (level + 1) + i) * n, q = ctx->moduli[i].value;
        for (size_t t = 0; t < n; t++)
          o[t] = ensi_add_mod(o[t], x[t], q);
      }
  }
  ensi_large_free(decomposition);
  ensi_large_free(d);
  return s;
}

ensi_status ensi_relinearize(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                             const ensi_eval_keys *keys) {
  if (!ctx || !out || !a || !keys)
    return ensi_fail(ENSI_ERR_ARG, "relinearize: null argument");
  if (!keys->relin)
    return ensi_fail(ENSI_ERR_KEY_MISSING, "relinearize: no relinearization key");
  if (out != a)
    ENSI_TRY(ensi_ciphertext_copy(out, a));
  if (out->degree == 1)
    return ENSI_OK;
  out->degree = 1; /* c2 stays in place (polynomial 2) while (c0, c1) accumulate */
  return switch_and_add(ctx, out, ensi_ct_poly(out, 2), keys->relin, NULL);
}

ensi_status ensi_mul_relin(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           const ensi_ciphertext *b, const ensi_eval_keys *keys) {
  ENSI_TRY(ensi_mul(ctx, out, a, b));
  return ensi_relinearize(ctx, out, out, keys);
}

/* Relinearized in Q_l P and divided by P q_l at once (extended.h, keyswitch.h). */
ensi_status ensi_relinearize_rescale(const ensi_context *ctx, ensi_ciphertext *out,
                                     const ensi_ciphertext *a, const ensi_eval_keys *keys) {
  if (!ctx || !out || !a || !keys)
    return ensi_fail(ENSI_ERR_ARG, "relinearize_rescale: null argument");
  if (a->degree == 1)
    return ensi_rescale(ctx, out, a);
  if (!keys->relin)
    return ensi_fail(ENSI_ERR_KEY_MISSING, "relinearize: no relinearization key");
  if (a->level == 0)
    return ensi_fail(ENSI_ERR_LEVEL, "rescale: already at level 0");
  ensi_op_count(OP_COUNT_RESCALE, 1);
  ensi_extended e;
  ENSI_TRY(ensi_extended_init(&e, ctx, a->level));
  uint64_t *sum = ensi_large_alloc(e.words, sizeof *sum);
  ensi_status s = sum ? ensi_extended_relinearize(&e, sum, a, keys->relin) : ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    s = ensi_extended_finish_rescale(&e, out, sum, a->scale, a->slots);
  ensi_large_free(sum);
  ensi_extended_free(&e);
  return s;
}

ensi_status ensi_mul_relin_rescale(const ensi_context *ctx, ensi_ciphertext *out,
                                   const ensi_ciphertext *a, const ensi_ciphertext *b,
                                   const ensi_eval_keys *keys) {
  ENSI_TRY(ensi_mul(ctx, out, a, b));
  return ensi_relinearize_rescale(ctx, out, out, keys);
}

ensi_status ensi_rescale(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a) {
  ensi_op_count(OP_COUNT_RESCALE, 1);
  if (!ctx || !out || !a)
    return ensi_fail(ENSI_ERR_ARG, "rescale: null argument");
  if (a->level == 0)
    return ensi_fail(ENSI_ERR_LEVEL, "rescale: already at level 0");
  if (out != a)
    ENSI_TRY(ensi_ciphertext_copy(out, a));
  const size_t n = ctx->n, l = out->level;
  uint64_t *scratch = ensi_large_alloc((l + 1) * n, sizeof *scratch);
  if (!scratch)
    return ENSI_ERR_NOMEM;
  for (size_t p = 0; p <= out->degree; p++)
    ensi_rns_rescale_ntt(ctx->moduli, ctx->ntt, ensi_ct_poly(out, p), l + 1, n, scratch);
  ensi_large_free(scratch);
  out->level = l - 1;
  out->scale = a->scale / (double)ctx->moduli[l].value;
  return ENSI_OK;
}

ensi_status ensi_mul_by_i(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a) {
  if (!ctx || !out || !a)
    return ensi_fail(ENSI_ERR_ARG, "mul_by_i: null argument");
  if (out != a)
    ENSI_TRY(ensi_ciphertext_copy(out, a));
  const size_t n = ctx->n;
  uint64_t *monomial = malloc(n * sizeof *monomial);
  if (!monomial)
    return ENSI_ERR_NOMEM;
  for (size_t i = 0; i <= out->level; i++) {
    memset(monomial, 0, n * sizeof *monomial);
    monomial[n / 2] = 1;
    ensi_ntt_forward(ctx->ntt[i], monomial);
    for (size_t p = 0; p <= out->degree; p++) {
      uint64_t *o = ensi_ct_limb(out, p, i);
      for (size_t t = 0; t < n; t++)
        o[t] = ensi_mul_mod(o[t], monomial[t], &ctx->moduli[i]);
    }
  }
  free(monomial);
  return ENSI_OK;
}

ensi_status ensi_drop_level(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                            size_t level) {
  if (!ctx || !out || !a || level > a->level)
    return ensi_fail(ENSI_ERR_LEVEL, "drop_level: target level above the ciphertext's");
  if (out != a)
    ENSI_TRY(ensi_ciphertext_copy(out, a));
  out->level = level;
  return ENSI_OK;
}

/* out = sigma_g(a) key-switched back to s, with the decomposition of c1 given (hoisting). */
static ensi_status automorphism_from_decomposition(const ensi_context *ctx, ensi_ciphertext *out,
                                                   const ensi_ciphertext *a,
                                                   const uint64_t *decomposition,
                                                   const ensi_galois_key *gk) {
  const size_t n = ctx->n, level = a->level;
  ENSI_TRY(shape_output(out, level, 1, a->scale, a->slots));
  uint64_t *d = ensi_large_alloc(2 * (level + 1) * n, sizeof *d);
  if (!d)
    return ENSI_ERR_NOMEM;
  ensi_status s = ensi_ks_apply(ctx, d, d + (level + 1) * n, decomposition, level, gk->key,
                                gk->permutation);
  if (s == ENSI_OK) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i <= level; i++) {
      const uint64_t q = ctx->moduli[i].value;
      uint64_t *o0 = ensi_ct_limb(out, 0, i), *o1 = ensi_ct_limb(out, 1, i);
      const uint64_t *c0 = ensi_ct_limb(a, 0, i);
      for (size_t t = 0; t < n; t++) {
        o0[t] = ensi_add_mod(c0[gk->permutation[t]], d[i * n + t], q);
        o1[t] = d[(level + 1 + i) * n + t];
      }
    }
  }
  ensi_large_free(d);
  return s;
}

static ensi_status automorphisms(const ensi_context *ctx, ensi_ciphertext **outs,
                                 const ensi_ciphertext *a, const uint64_t *elements, size_t count,
                                 const ensi_eval_keys *keys) {
  ensi_op_count(OP_COUNT_ROTATION, count);
  if (!ctx || !outs || !a || !keys)
    return ensi_fail(ENSI_ERR_ARG, "rotate: null argument");
  if (a->degree != 1)
    return ensi_fail(ENSI_ERR_ARG, "rotate: relinearize first");
  const ensi_galois_key **gks = malloc(count * sizeof *gks);
  if (!gks)
    return ENSI_ERR_NOMEM;
  for (size_t r = 0; r < count; r++) {
    gks[r] = ensi_eval_keys_find(keys, elements[r]);
    if (!gks[r]) {
      free(gks);
      return ensi_fail(ENSI_ERR_KEY_MISSING, "rotate: no key for Galois element %llu",
                       (unsigned long long)elements[r]);
    }
  }
  uint64_t *decomposition = ensi_large_alloc(ensi_ks_decomposition_words(ctx, a->level), sizeof(uint64_t));
  ensi_status s = decomposition ? ensi_ks_decompose(ctx, decomposition, ensi_ct_poly(a, 1), a->level)
                                : ENSI_ERR_NOMEM;
  ensi_ciphertext *tmp = NULL;
  for (size_t r = 0; s == ENSI_OK && r < count; r++) {
    if (outs[r] == a) { /* in place: rotate into a temporary, copy back at the end */
      s = ensi_ciphertext_create(&tmp, ctx, a->level);
      if (s == ENSI_OK)
        s = automorphism_from_decomposition(ctx, tmp, a, decomposition, gks[r]);
      continue;
    }
    s = automorphism_from_decomposition(ctx, outs[r], a, decomposition, gks[r]);
  }
  for (size_t r = 0; s == ENSI_OK && tmp && r < count; r++)
    if (outs[r] == a)
      s = ensi_ciphertext_copy(outs[r], tmp);
  ensi_ciphertext_free(tmp);
  ensi_large_free(decomposition);
  free(gks);
  return s;
}

ensi_status ensi_rotate(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                        long long step, const ensi_eval_keys *keys) {
  if (!ctx)
    return ensi_fail(ENSI_ERR_ARG, "rotate: null context");
  const uint64_t g = ensi_galois_element_rotation(step, ctx->n);
  if (g == 1)
    return out == a ? ENSI_OK : ensi_ciphertext_copy(out, a);
  return automorphisms(ctx, &out, a, &g, 1, keys);
}

ensi_status ensi_conjugate(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           const ensi_eval_keys *keys) {
  if (!ctx)
    return ensi_fail(ENSI_ERR_ARG, "conjugate: null context");
  const uint64_t g = ensi_galois_element_conjugation(ctx->n);
  return automorphisms(ctx, &out, a, &g, 1, keys);
}

ensi_status ensi_rotate_hoisted(const ensi_context *ctx, ensi_ciphertext **outs,
                                const ensi_ciphertext *a, const long long *steps, size_t count,
                                const ensi_eval_keys *keys) {
  if (!ctx || !outs || !a || !steps)
    return ensi_fail(ENSI_ERR_ARG, "rotate_hoisted: null argument");
  uint64_t *elements = malloc(count * sizeof *elements);
  if (!elements)
    return ENSI_ERR_NOMEM;
  ensi_status s = ENSI_OK;
  size_t keyed = 0;
  for (size_t r = 0; r < count; r++) {
    elements[r] = ensi_galois_element_rotation(steps[r], ctx->n);
    if (elements[r] == 1)
      s = ensi_ciphertext_copy(outs[r], a); /* rotation by 0 (mod N/2) */
  }
  ensi_ciphertext **keyed_outs = malloc(count * sizeof *keyed_outs);
  if (!keyed_outs) {
    free(elements);
    return ENSI_ERR_NOMEM;
  }
  for (size_t r = 0; r < count; r++)
    if (elements[r] != 1) {
      elements[keyed] = elements[r];
      keyed_outs[keyed++] = outs[r];
    }
  if (s == ENSI_OK && keyed)
    s = automorphisms(ctx, keyed_outs, a, elements, keyed, keys);
  free(keyed_outs);
  free(elements);
  return s;
}
