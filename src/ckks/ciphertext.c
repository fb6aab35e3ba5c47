/* Allocation, copies and accessors of plaintexts and ciphertexts (layout in ciphertext.h). */
#include "ckks/ciphertext.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/large_alloc.h"
#include "ckks/context.h"

ensi_status ensi_plaintext_create(ensi_plaintext **out, const ensi_context *ctx, size_t level) {
  if (!out || !ctx || level > ensi_context_max_level(ctx))
    return ensi_fail(ENSI_ERR_ARG, "plaintext level %zu above the maximum", level);
  ensi_plaintext *pt = calloc(1, sizeof *pt);
  if (!pt)
    return ENSI_ERR_NOMEM;
  pt->n = ctx->n;
  pt->level = pt->capacity = level;
  pt->slots = ctx->slots;
  pt->scale = 1.0;
  pt->data = ensi_large_calloc((level + 1) * ctx->n, sizeof *pt->data);
  if (!pt->data) {
    free(pt);
    return ENSI_ERR_NOMEM;
  }
  *out = pt;
  return ENSI_OK;
}

void ensi_plaintext_free(ensi_plaintext *pt) {
  if (!pt)
    return;
  ensi_large_free(pt->data);
  free(pt);
}

size_t ensi_plaintext_level(const ensi_plaintext *pt) { return pt->level; }
double ensi_plaintext_scale(const ensi_plaintext *pt) { return pt->scale; }

ensi_status ensi_ciphertext_create_with_degree(ensi_ciphertext **out, const ensi_context *ctx,
                                               size_t level, size_t degree) {
  if (!out || !ctx || level > ensi_context_max_level(ctx) || degree < 1 || degree > 2)
    return ensi_fail(ENSI_ERR_ARG, "ciphertext level %zu above the maximum", level);
  ensi_ciphertext *ct = calloc(1, sizeof *ct);
  if (!ct)
    return ENSI_ERR_NOMEM;
  ct->n = ctx->n;
  ct->level = ct->capacity = level;
  ct->degree = 1;
  ct->polys = degree + 1;
  ct->slots = ctx->slots;
  ct->scale = 1.0;
  ct->data = ensi_large_calloc(ct->polys * (level + 1) * ctx->n, sizeof *ct->data);
  if (!ct->data) {
    free(ct);
    return ENSI_ERR_NOMEM;
  }
  *out = ct;
  return ENSI_OK;
}

ensi_status ensi_ciphertext_create(ensi_ciphertext **out, const ensi_context *ctx, size_t level) {
  return ensi_ciphertext_create_with_degree(out, ctx, level, 1);
}

void ensi_ciphertext_swap(ensi_ciphertext *a, ensi_ciphertext *b) {
  const ensi_ciphertext t = *a;
  *a = *b;
  *b = t;
}

void ensi_ciphertext_free(ensi_ciphertext *ct) {
  if (!ct)
    return;
  ensi_large_free(ct->data);
  free(ct);
}

ensi_status ensi_ciphertext_reserve(ensi_ciphertext *ct, size_t level, size_t degree) {
  if (level > ct->capacity || degree + 1 > ct->polys) {
    const size_t capacity = level > ct->capacity ? level : ct->capacity;
    const size_t polys = degree + 1 > ct->polys ? degree + 1 : ct->polys;
    uint64_t *data = ensi_large_calloc(polys * (capacity + 1) * ct->n, sizeof *data);
    if (!data)
      return ENSI_ERR_NOMEM;
    const size_t kept = ct->level < capacity ? ct->level + 1 : capacity + 1; /* limbs */
    for (size_t k = 0; k <= ct->degree && k < polys; k++)
      memcpy(data + k * (capacity + 1) * ct->n, ensi_ct_poly(ct, k), kept * ct->n * sizeof *data);
    ensi_large_free(ct->data);
    ct->data = data;
    ct->capacity = capacity;
    ct->polys = polys;
  }
  ct->level = level;
  return ENSI_OK;
}

ensi_status ensi_ciphertext_copy(ensi_ciphertext *dst, const ensi_ciphertext *src) {
  if (!dst || !src || dst->n != src->n)
    return ensi_fail(ENSI_ERR_ARG, "ciphertext copy between different rings");
  if (dst == src)
    return ENSI_OK;
  ENSI_TRY(ensi_ciphertext_reserve(dst, src->level, src->degree));
  for (size_t k = 0; k <= src->degree; k++)
    memcpy(ensi_ct_poly(dst, k), ensi_ct_poly(src, k), (src->level + 1) * src->n * sizeof(uint64_t));
  dst->degree = src->degree;
  dst->scale = src->scale;
  dst->slots = src->slots;
  return ENSI_OK;
}

size_t ensi_ciphertext_level(const ensi_ciphertext *ct) { return ct->level; }
double ensi_ciphertext_scale(const ensi_ciphertext *ct) { return ct->scale; }
size_t ensi_ciphertext_slots(const ensi_ciphertext *ct) { return ct->slots; }
