/* Hybrid key switching: ModUp decomposition, key inner product with lazy reduction, ModDown.
 * See keyswitch.h. */
#include "ckks/keyswitch.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/large_alloc.h"
#include "ckks/ciphertext.h"
#include "ckks/op_counts.h"
#include "math/dot.h"
#include "math/limb_ops.h"

size_t ensi_ks_ext_modulus(const ensi_context *ctx, size_t level, size_t i) {
  return i <= level ? i : ctx->q_count + (i - level - 1);
}

size_t ensi_ks_decomposition_words(const ensi_context *ctx, size_t level) {
  return ensi_context_digits(ctx, level) * (level + 1 + ctx->p_count) * ctx->n;
}

/* Digit j's limbs [begin, end) of Q_l. */
static void digit_range(const ensi_context *ctx, size_t level, size_t j, size_t *begin,
                        size_t *end) {
  *begin = j * ctx->alpha;
  *end = *begin + ctx->alpha < level + 1 ? *begin + ctx->alpha : level + 1;
}

/* Each digit's extended polynomial is stored in ModUp's converter order, the converted limbs (Q_l
 * without the digit, then P) followed by the digit's own limbs, so that the conversion writes in
 * place: this is where extended limb i of digit j lies. */
static size_t digit_limb_position(const ensi_context *ctx, size_t level, size_t j, size_t i) {
  size_t begin, end;
  digit_range(ctx, level, j, &begin, &end);
  const size_t converted = level + 1 + ctx->p_count - (end - begin);
  return i < begin ? i : i < end ? converted + (i - begin) : i - (end - begin);
}

ensi_status ensi_ks_decompose(const ensi_context *ctx, uint64_t *decomposition, const uint64_t *c,
                              size_t level) {
  const size_t n = ctx->n, ext = level + 1 + ctx->p_count;
  const size_t digits = ensi_context_digits(ctx, level);
  uint64_t *coeff = ensi_large_alloc((level + 1) * n, sizeof *coeff);
  if (!coeff)
    return ENSI_ERR_NOMEM;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i <= level; i++) {
    memcpy(coeff + i * n, c + i * n, n * sizeof *coeff);
    ensi_ntt_inverse(ctx->ntt[i], coeff + i * n);
  }
  for (size_t j = 0; j < digits; j++) {
    size_t begin, end;
    digit_range(ctx, level, j, &begin, &end);
    const size_t converted = ext - (end - begin);
    uint64_t *d = decomposition + j * ext * n;
    ensi_base_convert(ctx->mod_up[level][j], d, coeff + begin * n, n);
    /* the loop runs over the converted limbs only, so that the threads share the transforms
     * evenly */
#pragma omp parallel for schedule(static)
    for (size_t next = 0; next < converted; next++) {
      const size_t i = next < begin ? next : next + (end - begin); /* limb in extended order */
      ensi_ntt_forward(ctx->ntt[ensi_ks_ext_modulus(ctx, level, i)], d + next * n);
    }
    memcpy(d + converted * n, c + begin * n, (end - begin) * n * sizeof *d); /* the digit itself */
  }
  ensi_large_free(coeff);
  return ENSI_OK;
}

ensi_status ensi_ks_inner_product(const ensi_context *ctx, uint64_t *acc0, uint64_t *acc1,
                                  const uint64_t *decomposition, size_t level,
                                  const ensi_switching_key *key, const uint32_t *perm) {
  if (level > key->max_level)
    return ensi_fail(ENSI_ERR_KEY_MISSING, "key switch at level %zu with a key for levels up to %zu",
                     level, key->max_level);
  ensi_op_count(OP_COUNT_KEYSWITCH, 1);
  const size_t n = ctx->n, ext = level + 1 + ctx->p_count, key_limbs = key->limbs;
  const size_t digits = ensi_context_digits(ctx, level);
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < ext; i++) {
    const size_t m = ensi_ks_ext_modulus(ctx, level, i), k = ensi_switching_key_limb(ctx, key, m);
    const uint64_t *d[ENSI_MAX_PRIMES], *b[ENSI_MAX_PRIMES], *a[ENSI_MAX_PRIMES];
    for (size_t j = 0; j < digits; j++) {
      d[j] = decomposition + (j * ext + digit_limb_position(ctx, level, j, i)) * n;
      b[j] = key->b + (j * key_limbs + k) * n;
      a[j] = key->a + (j * key_limbs + k) * n;
    }
    ensi_dot2_mod(acc0 + i * n, acc1 + i * n, d, b, a, digits, perm, n, &ctx->moduli[m]);
  }
  return ENSI_OK;
}

/* out (kept limbs, NTT) = (x - Conv(x mod D)) / D for an extended x (NTT) at `level`, D the
 * product of its limbs after the first `kept`: P for ModDown (kept = level + 1), q_level P with
 * the rescale (kept = level, a centered conversion so that the division rounds). The limbs of D
 * are overwritten; scratch holds kept limbs. */
static void divide_by_tail(const ensi_context *ctx, uint64_t *out, uint64_t *x, size_t level,
                           size_t kept, uint64_t *scratch) {
  const size_t n = ctx->n, divisors = level + 1 + ctx->p_count - kept;
  const bool rescale = kept == level;
  uint64_t *tail = x + kept * n;
#pragma omp parallel for schedule(static)
  for (size_t k = 0; k < divisors; k++)
    ensi_ntt_inverse(ctx->ntt[ensi_ks_ext_modulus(ctx, level, kept + k)], tail + k * n);
  if (rescale)
    ensi_base_convert_centered(ctx->mod_down_rescale[level], scratch, tail, n);
  else
    ensi_base_convert(ctx->mod_down[level], scratch, tail, n);
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < kept; i++) {
    const ensi_modulus *q = &ctx->moduli[i];
    uint64_t *conv = scratch + i * n;
    ensi_ntt_forward(ctx->ntt[i], conv);
    uint64_t inv = ctx->p_inv_mod_q[i];
    if (rescale)
      inv = ensi_mul_mod(inv, ensi_inv_mod(ensi_reduce_u64(ctx->moduli[level].value, q), q), q);
    ensi_limb_sub_mul_const(out + i * n, x + i * n, conv, inv, n, q);
  }
}

void ensi_ks_mod_down(const ensi_context *ctx, uint64_t *out, uint64_t *x, size_t level,
                      uint64_t *scratch) {
  divide_by_tail(ctx, out, x, level, level + 1, scratch);
}

void ensi_ks_mod_down_rescale(const ensi_context *ctx, uint64_t *out, uint64_t *x, size_t level,
                              uint64_t *scratch) {
  divide_by_tail(ctx, out, x, level, level, scratch);
}

ensi_status ensi_ks_apply(const ensi_context *ctx, uint64_t *out0, uint64_t *out1,
                          const uint64_t *decomposition, size_t level,
                          const ensi_switching_key *key, const uint32_t *permutation) {
  const size_t n = ctx->n, ext = level + 1 + ctx->p_count;
  uint64_t *acc = ensi_large_alloc((2 * ext + level + 1) * n, sizeof *acc);
  if (!acc)
    return ENSI_ERR_NOMEM;
  uint64_t *acc0 = acc, *acc1 = acc + ext * n, *scratch = acc + 2 * ext * n;
  const ensi_status s = ensi_ks_inner_product(ctx, acc0, acc1, decomposition, level, key, permutation);
  if (s == ENSI_OK) {
    ensi_ks_mod_down(ctx, out0, acc0, level, scratch);
    ensi_ks_mod_down(ctx, out1, acc1, level, scratch);
  }
  ensi_large_free(acc);
  return s;
}

ensi_status ensi_ks_ciphertext(const ensi_context *ctx, ensi_ciphertext *out,
                               const ensi_ciphertext *a, const ensi_switching_key *key) {
  if (!ctx || !out || !a || !key || a->degree != 1)
    return ensi_fail(ENSI_ERR_ARG, "key switch: bad argument");
  const size_t n = ctx->n, level = a->level;
  uint64_t *decomposition = ensi_large_alloc(ensi_ks_decomposition_words(ctx, level), sizeof(uint64_t));
  uint64_t *d = ensi_large_alloc(2 * (level + 1) * n, sizeof *d);
  ensi_status s = decomposition && d ? ensi_ks_decompose(ctx, decomposition, ensi_ct_poly(a, 1), level)
                                     : ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    s = ensi_ks_apply(ctx, d, d + (level + 1) * n, decomposition, level, key, NULL);
  if (s == ENSI_OK && out != a)
    s = ensi_ciphertext_copy(out, a);
  if (s == ENSI_OK) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i <= level; i++) {
      uint64_t *c0 = ensi_ct_limb(out, 0, i), *c1 = ensi_ct_limb(out, 1, i);
      const uint64_t q = ctx->moduli[i].value;
      for (size_t t = 0; t < n; t++) {
        c0[t] = ensi_add_mod(c0[t], d[i * n + t], q);
        c1[t] = d[(level + 1 + i) * n + t];
      }
    }
  }
  ensi_large_free(decomposition);
  ensi_large_free(d);
  return s;
}
