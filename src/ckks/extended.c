/* Ciphertexts on the key-switching basis Q_l P (see extended.h). */
#include "ckks/extended.h"

#include <string.h>

#include "base/error.h"
#include "base/large_alloc.h"
#include "ckks/ciphertext.h"
#include "ckks/galois.h"
#include "ckks/keyswitch.h"
#include "math/limb_ops.h"

ensi_status ensi_extended_rotation_key(const ensi_context *ctx, const ensi_eval_keys *keys,
                                       long long step, const ensi_galois_key **out) {
  *out = ensi_eval_keys_find(keys, ensi_galois_element_rotation(step, ctx->n));
  return *out ? ENSI_OK
              : ensi_fail(ENSI_ERR_KEY_MISSING, "no key for a rotation by %lld slots", step);
}

ensi_status ensi_extended_init(ensi_extended *e, const ensi_context *ctx, size_t level) {
  const size_t n = ctx->n, ext = level + 1 + ctx->p_count;
  *e = (ensi_extended){.ctx = ctx, .level = level, .ext = ext, .n = n, .words = 2 * ext * n};
  e->decomposition = ensi_large_alloc(ensi_ks_decomposition_words(ctx, level), sizeof(uint64_t));
  /* acc: a switched result (extended); c1 and scratch: level + 1 limbs each */
  e->acc = ensi_large_alloc(e->words + 2 * (level + 1) * n, sizeof(uint64_t));
  if (!e->decomposition || !e->acc) {
    ensi_extended_free(e);
    return ENSI_ERR_NOMEM;
  }
  e->c1 = e->acc + e->words;
  e->scratch = e->c1 + (level + 1) * n;
  return ENSI_OK;
}

void ensi_extended_free(ensi_extended *e) {
  ensi_large_free(e->decomposition);
  ensi_large_free(e->acc);
  e->decomposition = e->acc = e->c1 = e->scratch = NULL;
}

static uint64_t modulus(const ensi_extended *e, size_t i) {
  return e->ctx->moduli[ensi_ks_ext_modulus(e->ctx, e->level, i)].value;
}

/* out += P sigma(c_k) on the Q limbs for x's first `polys` polynomials (perm: an NTT-domain
 * automorphism, or NULL). */
static void add_lifted(const ensi_extended *e, uint64_t *out, const ensi_ciphertext *x,
                       size_t polys, const uint32_t *perm) {
  const size_t n = e->n;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i <= e->level; i++) {
    for (size_t k = 0; k < polys; k++)
      ensi_limb_add_mul_const(out + (k * e->ext + i) * n, ensi_ct_limb(x, k, i), perm,
                              e->ctx->p_mod_q[i], n, &e->ctx->moduli[i]);
  }
}

void ensi_extended_lift(const ensi_extended *e, uint64_t *out, const ensi_ciphertext *x) {
  memset(out, 0, e->words * sizeof *out);
  add_lifted(e, out, x, 2, NULL);
}

ensi_status ensi_extended_decompose(const ensi_extended *e, const ensi_ciphertext *x) {
  return ensi_ks_decompose(e->ctx, e->decomposition, ensi_ct_poly(x, 1), e->level);
}

ensi_status ensi_extended_rotate_hoisted(const ensi_extended *e, uint64_t *out,
                                         const ensi_ciphertext *x, const ensi_galois_key *gk) {
  ENSI_TRY(ensi_ks_inner_product(e->ctx, out, out + e->ext * e->n, e->decomposition, e->level,
                                 gk->key, gk->permutation));
  add_lifted(e, out, x, 1, gk->permutation);
  return ENSI_OK;
}

ensi_status ensi_extended_relinearize(const ensi_extended *e, uint64_t *out,
                                      const ensi_ciphertext *x, const ensi_switching_key *relin) {
  ENSI_TRY(ensi_ks_decompose(e->ctx, e->decomposition, ensi_ct_poly(x, 2), e->level));
  ENSI_TRY(ensi_ks_inner_product(e->ctx, out, out + e->ext * e->n, e->decomposition, e->level,
                                 relin, NULL));
  add_lifted(e, out, x, 2, NULL);
  return ENSI_OK;
}

ensi_status ensi_extended_add_rotation(const ensi_extended *e, uint64_t *sum,
                                       const ensi_ciphertext *x, const ensi_galois_key *gk) {
  ENSI_TRY(ensi_extended_decompose(e, x));
  ENSI_TRY(ensi_extended_rotate_hoisted(e, e->acc, x, gk));
  ensi_extended_add(e, sum, e->acc);
  return ENSI_OK;
}

ensi_status ensi_extended_add_rotation_of(const ensi_extended *e, uint64_t *sum, uint64_t *x,
                                          const ensi_galois_key *gk) {
  const size_t n = e->n, ext = e->ext;
  ensi_ks_mod_down(e->ctx, e->c1, x + ext * n, e->level, e->scratch);
  ENSI_TRY(ensi_ks_decompose(e->ctx, e->decomposition, e->c1, e->level));
  ENSI_TRY(ensi_ks_inner_product(e->ctx, e->acc, e->acc + ext * n, e->decomposition, e->level,
                                 gk->key, gk->permutation));
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < ext; i++) {
    const uint64_t q = modulus(e, i);
    uint64_t *s0 = sum + i * n, *s1 = sum + (ext + i) * n;
    const uint64_t *c0 = x + i * n, *a0 = e->acc + i * n, *a1 = e->acc + (ext + i) * n;
    for (size_t t = 0; t < n; t++) {
      s0[t] = ensi_add_mod(s0[t], ensi_add_mod(c0[gk->permutation[t]], a0[t], q), q);
      s1[t] = ensi_add_mod(s1[t], a1[t], q);
    }
  }
  return ENSI_OK;
}

void ensi_extended_mul_plain(const ensi_extended *e, uint64_t *out, const uint64_t *x,
                             const uint64_t *pt) {
  const size_t n = e->n, ext = e->ext;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < ext; i++) {
    const ensi_modulus *q = &e->ctx->moduli[ensi_ks_ext_modulus(e->ctx, e->level, i)];
    const uint64_t *w = pt + i * n;
    for (size_t k = 0; k < 2; k++) {
      const uint64_t *y = x + (k * ext + i) * n;
      uint64_t *o = out + (k * ext + i) * n;
      for (size_t t = 0; t < n; t++)
        o[t] = ensi_mul_mod(w[t], y[t], q);
    }
  }
}

void ensi_extended_add(const ensi_extended *e, uint64_t *sum, const uint64_t *x) {
  const size_t n = e->n, ext = e->ext;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < ext; i++) {
    const uint64_t q = modulus(e, i);
    for (size_t k = 0; k < 2; k++) {
      uint64_t *s = sum + (k * ext + i) * n;
      const uint64_t *y = x + (k * ext + i) * n;
      for (size_t t = 0; t < n; t++)
        s[t] = ensi_add_mod(s[t], y[t], q);
    }
  }
}

ensi_status ensi_extended_finish(const ensi_extended *e, ensi_ciphertext *out, uint64_t *sum,
                                 double scale, size_t slots) {
  ENSI_TRY(ensi_ciphertext_reserve(out, e->level, 1));
  out->degree = 1;
  out->scale = scale;
  out->slots = slots;
  ensi_ks_mod_down(e->ctx, ensi_ct_poly(out, 0), sum, e->level, e->scratch);
  ensi_ks_mod_down(e->ctx, ensi_ct_poly(out, 1), sum + e->ext * e->n, e->level, e->scratch);
  return ENSI_OK;
}

ensi_status ensi_extended_finish_rescale(const ensi_extended *e, ensi_ciphertext *out,
                                         uint64_t *sum, double scale, size_t slots) {
  if (e->level == 0)
    return ensi_fail(ENSI_ERR_LEVEL, "rescale: already at level 0");
  ENSI_TRY(ensi_ciphertext_reserve(out, e->level - 1, 1));
  out->degree = 1;
  out->scale = scale / (double)e->ctx->moduli[e->level].value;
  out->slots = slots;
  ensi_ks_mod_down_rescale(e->ctx, ensi_ct_poly(out, 0), sum, e->level, e->scratch);
  ensi_ks_mod_down_rescale(e->ctx, ensi_ct_poly(out, 1), sum + e->ext * e->n, e->level,
                           e->scratch);
  return ENSI_OK;
}
