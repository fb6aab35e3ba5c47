/* Encryption with the public or the secret key, and decryption. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "ckks/ciphertext.h"
#include "ckks/keys.h"

static ensi_status check_plaintext(const ensi_context *ctx, const ensi_ciphertext *out,
                                   const ensi_plaintext *pt) {
  if (!ctx || !out || !pt || pt->n != ctx->n || out->n != ctx->n)
    return ensi_fail(ENSI_ERR_ARG, "encrypt: bad argument");
  return ENSI_OK;
}

/* c0 += m on limbs 0..level */
static void add_message(const ensi_context *ctx, ensi_ciphertext *ct, const ensi_plaintext *pt) {
  const size_t n = ctx->n;
  for (size_t i = 0; i <= ct->level; i++) {
    uint64_t *c0 = ensi_ct_limb(ct, 0, i);
    const uint64_t *m = pt->data + i * n, q = ctx->moduli[i].value;
    for (size_t t = 0; t < n; t++)
      c0[t] = ensi_add_mod(c0[t], m[t], q);
  }
  ct->degree = 1;
  ct->scale = pt->scale;
  ct->slots = pt->slots;
}

ensi_status ensi_encrypt_pk(const ensi_context *ctx, ensi_ciphertext *out, const ensi_plaintext *pt,
                            const ensi_public_key *pk, const uint8_t *seed) {
  ENSI_TRY(check_plaintext(ctx, out, pt));
  if (!pk)
    return ensi_fail(ENSI_ERR_ARG, "encrypt: null public key");
  const size_t n = ctx->n, level = pt->level;
  ENSI_TRY(ensi_ciphertext_reserve(out, level, 1));
  int8_t *v = malloc(n);
  uint64_t *v_ntt = malloc((level + 1) * n * sizeof *v_ntt);
  ensi_prng prng;
  ensi_status s = v && v_ntt ? ensi_prng_open(&prng, seed) : ENSI_ERR_NOMEM;
  if (s == ENSI_OK) {
    ensi_sample_ternary(&prng, v, n); /* c = v pk + (e0, e1) */
    for (size_t i = 0; i <= level; i++) {
      const uint64_t q = ctx->moduli[i].value;
      for (size_t t = 0; t < n; t++)
        v_ntt[i * n + t] = v[t] >= 0 ? (uint64_t)v[t] : q - (uint64_t)(-v[t]);
      ensi_ntt_forward(ctx->ntt[i], v_ntt + i * n);
    }
    ensi_sample_error_ntt(ctx, &prng, ensi_ct_poly(out, 0), 0, level + 1);
    ensi_sample_error_ntt(ctx, &prng, ensi_ct_poly(out, 1), 0, level + 1);
    ensi_prng_clear(&prng);
    for (size_t i = 0; i <= level; i++) {
      const ensi_modulus *q = &ctx->moduli[i];
      uint64_t *c0 = ensi_ct_limb(out, 0, i), *c1 = ensi_ct_limb(out, 1, i);
      for (size_t t = 0; t < n; t++) {
        const uint64_t vt = v_ntt[i * n + t];
        c0[t] = ensi_add_mod(c0[t], ensi_mul_mod(vt, pk->b[i * n + t], q), q->value);
        c1[t] = ensi_add_mod(c1[t], ensi_mul_mod(vt, pk->a[i * n + t], q), q->value);
      }
    }
    add_message(ctx, out, pt);
  }
  if (v)
    sodium_memzero(v, n);
  if (v_ntt)
    sodium_memzero(v_ntt, (level + 1) * n * sizeof *v_ntt);
  free(v);
  free(v_ntt);
  return s;
}

ensi_status ensi_encrypt_sk(const ensi_context *ctx, ensi_ciphertext *out, const ensi_plaintext *pt,
                            const ensi_secret_key *sk, const uint8_t *seed) {
  ENSI_TRY(check_plaintext(ctx, out, pt));
  if (!sk)
    return ensi_fail(ENSI_ERR_ARG, "encrypt: null secret key");
  const size_t n = ctx->n, level = pt->level;
  ENSI_TRY(ensi_ciphertext_reserve(out, level, 1));
  ensi_prng prng;
  ENSI_TRY(ensi_prng_open(&prng, seed));
  for (size_t i = 0; i <= level; i++) /* c1 = a uniform */
    ensi_sample_uniform_mod(&prng, ensi_ct_limb(out, 1, i), n, ctx->moduli[i].value);
  ensi_sample_error_ntt(ctx, &prng, ensi_ct_poly(out, 0), 0, level + 1);
  ensi_prng_clear(&prng);
  for (size_t i = 0; i <= level; i++) { /* c0 = -a s + e */
    const ensi_modulus *q = &ctx->moduli[i];
    uint64_t *c0 = ensi_ct_limb(out, 0, i);
    const uint64_t *c1 = ensi_ct_limb(out, 1, i), *s = sk->ntt + i * n;
    for (size_t t = 0; t < n; t++)
      c0[t] = ensi_sub_mod(c0[t], ensi_mul_mod(c1[t], s[t], q), q->value);
  }
  add_message(ctx, out, pt);
  return ENSI_OK;
}

ensi_status ensi_decrypt(const ensi_context *ctx, ensi_plaintext *out, const ensi_ciphertext *ct,
                         const ensi_secret_key *sk) {
  if (!ctx || !out || !ct || !sk || ct->n != ctx->n || out->n != ctx->n)
    return ensi_fail(ENSI_ERR_ARG, "decrypt: bad argument");
  if (out->capacity < ct->level)
    return ensi_fail(ENSI_ERR_LEVEL, "decrypt: plaintext level %zu below ciphertext level %zu",
                     out->capacity, ct->level);
  const size_t n = ctx->n;
  for (size_t i = 0; i <= ct->level; i++) { /* m = c0 + s (c1 + s c2), Horner */
    const ensi_modulus *q = &ctx->moduli[i];
    const uint64_t *s = sk->ntt + i * n;
    uint64_t *m = out->data + i * n;
    for (size_t t = 0; t < n; t++) {
      uint64_t acc = ensi_ct_limb(ct, ct->degree, i)[t];
      for (size_t k = ct->degree; k-- > 0;)
        acc = ensi_add_mod(ensi_mul_mod(acc, s[t], q), ensi_ct_limb(ct, k, i)[t], q->value);
      m[t] = acc;
    }
  }
  out->level = ct->level;
  out->scale = ct->scale;
  out->slots = ct->slots;
  return ENSI_OK;
}
