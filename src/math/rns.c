/* RNS bases, limb-wise polynomial arithmetic, fast base conversion and rescaling (see rns.h). */
#include "math/rns.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/large_alloc.h"
#include "math/limb_ops.h"
#include "math/rns_internal.h"

ensi_status ensi_rns_basis_create(ensi_rns_basis **out, const uint64_t *primes, size_t count,
                                  size_t n) {
  if (!out || !primes || count == 0)
    return ensi_fail(ENSI_ERR_ARG, "RNS basis: empty");
  ensi_rns_basis *b = calloc(1, sizeof *b);
  if (!b)
    return ENSI_ERR_NOMEM;
  b->n = n;
  b->count = count;
  b->moduli = calloc(count, sizeof *b->moduli);
  b->ntt = calloc(count, sizeof *b->ntt);
  ensi_status s = b->moduli && b->ntt ? ENSI_OK : ENSI_ERR_NOMEM;
  for (size_t i = 0; s == ENSI_OK && i < count; i++) {
    s = ensi_modulus_init(&b->moduli[i], primes[i]);
    if (s == ENSI_OK)
      s = ensi_ntt_table_create(&b->ntt[i], &b->moduli[i], n);
  }
  if (s != ENSI_OK) {
    ensi_rns_basis_free(b);
    return s;
  }
  *out = b;
  return ENSI_OK;
}

void ensi_rns_basis_free(ensi_rns_basis *b) {
  if (!b)
    return;
  for (size_t i = 0; b->ntt && i < b->count; i++)
    ensi_ntt_table_free(b->ntt[i]);
  free(b->ntt);
  free(b->moduli);
  free(b);
}

ensi_status ensi_rns_poly_create(ensi_rns_poly **out, const ensi_rns_basis *basis) {
  ensi_rns_poly *p = calloc(1, sizeof *p);
  if (!p)
    return ENSI_ERR_NOMEM;
  p->n = basis->n;
  p->limbs = basis->count;
  p->data = ensi_large_calloc(p->limbs * p->n, sizeof *p->data);
  if (!p->data) {
    free(p);
    return ENSI_ERR_NOMEM;
  }
  *out = p;
  return ENSI_OK;
}

void ensi_rns_poly_free(ensi_rns_poly *p) {
  if (!p)
    return;
  ensi_large_free(p->data);
  free(p);
}

void ensi_rns_poly_copy(ensi_rns_poly *dst, const ensi_rns_poly *src) {
  memcpy(dst->data, src->data, src->limbs * src->n * sizeof *dst->data);
  dst->ntt_form = src->ntt_form;
}

void ensi_rns_add(const ensi_rns_basis *b, ensi_rns_poly *out, const ensi_rns_poly *x,
                  const ensi_rns_poly *y) {
  for (size_t i = 0; i < b->count; i++)
    for (size_t t = 0; t < b->n; t++)
      out->data[i * b->n + t] = ensi_add_mod(x->data[i * b->n + t], y->data[i * b->n + t],
                                             b->moduli[i].value);
  out->ntt_form = x->ntt_form;
}

void ensi_rns_sub(const ensi_rns_basis *b, ensi_rns_poly *out, const ensi_rns_poly *x,
                  const ensi_rns_poly *y) {
  for (size_t i = 0; i < b->count; i++)
    for (size_t t = 0; t < b->n; t++)
      out->data[i * b->n + t] = ensi_sub_mod(x->data[i * b->n + t], y->data[i * b->n + t],
                                             b->moduli[i].value);
  out->ntt_form = x->ntt_form;
}

void ensi_rns_neg(const ensi_rns_basis *b, ensi_rns_poly *out, const ensi_rns_poly *x) {
  for (size_t i = 0; i < b->count; i++)
    for (size_t t = 0; t < b->n; t++)
      out->data[i * b->n + t] = ensi_neg_mod(x->data[i * b->n + t], b->moduli[i].value);
  out->ntt_form = x->ntt_form;
}

void ensi_rns_mul(const ensi_rns_basis *b, ensi_rns_poly *out, const ensi_rns_poly *x,
                  const ensi_rns_poly *y) {
  for (size_t i = 0; i < b->count; i++)
    for (size_t t = 0; t < b->n; t++)
      out->data[i * b->n + t] = ensi_mul_mod(x->data[i * b->n + t], y->data[i * b->n + t],
                                             &b->moduli[i]);
  out->ntt_form = x->ntt_form;
}

static uint64_t signed_mod(int64_t v, const ensi_modulus *q) {
  const uint64_t magnitude = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  const uint64_t r = ensi_reduce_u64(magnitude, q);
  return v < 0 ? ensi_neg_mod(r, q->value) : r;
}

void ensi_rns_mul_scalar(const ensi_rns_basis *b, ensi_rns_poly *out, const ensi_rns_poly *x,
                         int64_t scalar) {
  for (size_t i = 0; i < b->count; i++) {
    const uint64_t q = b->moduli[i].value, k = signed_mod(scalar, &b->moduli[i]);
    const uint64_t ks = ensi_shoup_precompute(k, q);
    for (size_t t = 0; t < b->n; t++)
      out->data[i * b->n + t] = ensi_mul_shoup(x->data[i * b->n + t], k, ks, q);
  }
  out->ntt_form = x->ntt_form;
}

void ensi_rns_ntt(const ensi_rns_basis *b, ensi_rns_poly *p) {
  for (size_t i = 0; i < b->count; i++)
    ensi_ntt_forward(b->ntt[i], p->data + i * b->n);
  p->ntt_form = true;
}

void ensi_rns_intt(const ensi_rns_basis *b, ensi_rns_poly *p) {
  for (size_t i = 0; i < b->count; i++)
    ensi_ntt_inverse(b->ntt[i], p->data + i * b->n);
  p->ntt_form = false;
}

void ensi_rns_from_signed(const ensi_rns_basis *b, ensi_rns_poly *p, const int64_t *coeffs) {
  for (size_t i = 0; i < b->count; i++)
    for (size_t t = 0; t < b->n; t++)
      p->data[i * b->n + t] = signed_mod(coeffs[t], &b->moduli[i]);
  p->ntt_form = false;
}

ensi_status ensi_base_converter_create(ensi_base_converter **out, const ensi_modulus *from,
                                       size_t from_count, const ensi_modulus *to, size_t to_count) {
  if (!out || !from || !to || from_count == 0 || to_count == 0 ||
      from_count > ENSI_CONVERT_MAX_FROM)
    return ensi_fail(ENSI_ERR_ARG, "base converter: bad bases");
  ensi_base_converter *bc = calloc(1, sizeof *bc);
  if (!bc)
    return ENSI_ERR_NOMEM;
  bc->from_count = from_count;
  bc->to_count = to_count;
  bc->from = malloc(from_count * sizeof *bc->from);
  bc->to = malloc(to_count * sizeof *bc->to);
  bc->qhat_inv = malloc(from_count * sizeof *bc->qhat_inv);
  bc->qhat_inv_shoup = malloc(from_count * sizeof *bc->qhat_inv_shoup);
  bc->qhat_mod_to = malloc(from_count * to_count * sizeof *bc->qhat_mod_to);
  bc->qhat_mod_to_shoup = malloc(from_count * to_count * sizeof *bc->qhat_mod_to_shoup);
  bc->qhat_mod_to_montgomery = malloc(from_count * to_count * sizeof *bc->qhat_mod_to_montgomery);
  bc->multiple_mod_to = malloc((from_count + 1) * to_count * sizeof *bc->multiple_mod_to);
  if (!bc->from || !bc->to || !bc->qhat_inv || !bc->qhat_inv_shoup || !bc->qhat_mod_to ||
      !bc->qhat_mod_to_shoup || !bc->qhat_mod_to_montgomery || !bc->multiple_mod_to) {
    ensi_base_converter_free(bc);
    return ENSI_ERR_NOMEM;
  }
  memcpy(bc->from, from, from_count * sizeof *from);
  memcpy(bc->to, to, to_count * sizeof *to);
  for (size_t i = 0; i < from_count; i++) {
    uint64_t qhat = 1;
    for (size_t k = 0; k < from_count; k++)
      if (k != i)
        qhat = ensi_mul_mod(qhat, ensi_reduce_u64(from[k].value, &from[i]), &from[i]);
    bc->qhat_inv[i] = ensi_inv_mod(qhat, &from[i]);
    bc->qhat_inv_shoup[i] = ensi_shoup_precompute(bc->qhat_inv[i], from[i].value);
    for (size_t j = 0; j < to_count; j++) {
      uint64_t h = 1;
      for (size_t k = 0; k < from_count; k++)
        if (k != i)
          h = ensi_mul_mod(h, ensi_reduce_u64(from[k].value, &to[j]), &to[j]);
      bc->qhat_mod_to[j * from_count + i] = h;
      bc->qhat_mod_to_shoup[j * from_count + i] = ensi_shoup_precompute(h, to[j].value);
      bc->qhat_mod_to_montgomery[j * from_count + i] =
          ensi_reduce_u128((ensi_u128)h << 64, &to[j]);
    }
  }
  for (size_t j = 0; j < to_count; j++) {
    uint64_t q_mod_p = 1, *multiple = bc->multiple_mod_to + j * (from_count + 1);
    for (size_t k = 0; k < from_count; k++)
      q_mod_p = ensi_mul_mod(q_mod_p, ensi_reduce_u64(from[k].value, &to[j]), &to[j]);
    multiple[0] = 0;
    for (size_t u = 1; u <= from_count; u++)
      multiple[u] = ensi_add_mod(multiple[u - 1], q_mod_p, to[j].value);
  }
  *out = bc;
  return ENSI_OK;
}

void ensi_base_converter_free(ensi_base_converter *bc) {
  if (!bc)
    return;
  free(bc->from);
  free(bc->to);
  free(bc->qhat_inv);
  free(bc->qhat_inv_shoup);
  free(bc->qhat_mod_to);
  free(bc->qhat_mod_to_shoup);
  free(bc->qhat_mod_to_montgomery);
  free(bc->multiple_mod_to);
  free(bc);
}

/* The portable block kernel: k products below 2^122 each summed in 128 bits (k <= 64 fits),
 * reduced once per coefficient. */
static void convert_block_portable(const ensi_base_converter *bc, uint64_t *out, const uint64_t *in,
                                   size_t n, size_t start, size_t len, uint64_t *y) {
  const size_t k = bc->from_count;
  for (size_t i = 0; i < k; i++)
    for (size_t t = 0; t < len; t++)
      y[i * ENSI_CONVERT_BLOCK + t] = ensi_mul_shoup(in[i * n + start + t], bc->qhat_inv[i],
                                                     bc->qhat_inv_shoup[i], bc->from[i].value);
  for (size_t j = 0; j < bc->to_count; j++) {
    const uint64_t *h = bc->qhat_mod_to + j * k;
    for (size_t t = 0; t < len; t++) {
      ensi_u128 acc = 0;
      for (size_t i = 0; i < k; i++)
        acc += (ensi_u128)y[i * ENSI_CONVERT_BLOCK + t] * h[i];
      out[j * n + start + t] = ensi_reduce_u128(acc, &bc->to[j]);
    }
  }
}

typedef void convert_block_fn(const ensi_base_converter *bc, uint64_t *out, const uint64_t *in,
                              size_t n, size_t start, size_t len, uint64_t *y);

static convert_block_fn *block_kernel(size_t n) {
#if defined(__x86_64__)
  if (n % 8 == 0 && ensi_ntt_kernel_is_avx512())
    return ensi_base_convert_block_avx512;
  if (n % 4 == 0 && ensi_ntt_kernel_is_avx2())
    return ensi_base_convert_block_avx2;
#endif
  return convert_block_portable;
}

void ensi_base_convert(const ensi_base_converter *bc, uint64_t *out, const uint64_t *in, size_t n) {
  convert_block_fn *const kernel = block_kernel(n);
#pragma omp parallel for schedule(static)
  for (size_t start = 0; start < n; start += ENSI_CONVERT_BLOCK) {
    uint64_t y[ENSI_CONVERT_MAX_FROM * ENSI_CONVERT_BLOCK];
    const size_t len = n - start < ENSI_CONVERT_BLOCK ? n - start : ENSI_CONVERT_BLOCK;
    kernel(bc, out, in, n, start, len, y);
  }
}

/* Per coefficient of a block: u = round(sum_k y_k / m_k) with y_k = [x_k (M / m_k)^{-1}]_{m_k},
 * the multiple of M = prod m_k that the fast conversion's sum sum_k y_k (M / m_k) exceeds the
 * centered remainder by. Doubles hold each y_k / m_k to 2^-52; u can be off by one only when the
 * sum's fraction is within about F 2^-52 of one half. */
static void rounding_multiples(const ensi_base_converter *bc, const uint64_t *in, size_t n,
                               size_t start, size_t len, uint8_t *u) {
  double v[ENSI_CONVERT_BLOCK] = {0};
  for (size_t k = 0; k < bc->from_count; k++) {
    const uint64_t m = bc->from[k].value;
    const double inv_m = 1.0 / (double)m;
    const uint64_t *x = in + k * n + start;
    for (size_t t = 0; t < len; t++)
      v[t] += (double)ensi_mul_shoup(x[t], bc->qhat_inv[k], bc->qhat_inv_shoup[k], m) * inv_m;
  }
  for (size_t t = 0; t < len; t++)
    u[t] = (uint8_t)floor(v[t] + 0.5);
}

void ensi_base_convert_centered(const ensi_base_converter *bc, uint64_t *out, const uint64_t *in,
                                size_t n) {
  ensi_base_convert(bc, out, in, n);
  const size_t row = bc->from_count + 1;
#pragma omp parallel for schedule(static)
  for (size_t start = 0; start < n; start += ENSI_CONVERT_BLOCK) {
    const size_t len = n - start < ENSI_CONVERT_BLOCK ? n - start : ENSI_CONVERT_BLOCK;
    uint8_t u[ENSI_CONVERT_BLOCK];
    rounding_multiples(bc, in, n, start, len, u);
    for (size_t j = 0; j < bc->to_count; j++) {
      const uint64_t *multiple = bc->multiple_mod_to + j * row, p = bc->to[j].value;
      uint64_t *o = out + j * n + start;
      for (size_t t = 0; t < len; t++)
        o[t] = ensi_sub_mod(o[t], multiple[u[t]], p);
    }
  }
}

void ensi_rns_rescale_ntt(const ensi_modulus *moduli, ensi_ntt_table *const *ntt, uint64_t *poly,
                          size_t limbs, size_t n, uint64_t *scratch) {
  const size_t l = limbs - 1;
  const ensi_modulus *ql = &moduli[l];
  const uint64_t half = ql->value >> 1;
  uint64_t *last = scratch;
  memcpy(last, poly + l * n, n * sizeof *last);
  ensi_ntt_inverse(ntt[l], last);
  /* y = (x - r) / q_l with r = [x + q_l/2]_{q_l} - q_l/2 the centered remainder: y = round(x/q_l) */
  for (size_t t = 0; t < n; t++)
    last[t] = ensi_add_mod(last[t], half, ql->value);
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < l; i++) {
    uint64_t *tmp = scratch + (i + 1) * n;
    const ensi_modulus *qi = &moduli[i];
    const uint64_t inv = ensi_inv_mod(ql->value, qi);
    const uint64_t half_i = ensi_reduce_u64(half, qi);
    for (size_t t = 0; t < n; t++)
      tmp[t] = ensi_sub_mod(ensi_reduce_u64(last[t], qi), half_i, qi->value);
    ensi_ntt_forward(ntt[i], tmp);
    ensi_limb_sub_mul_const(poly + i * n, poly + i * n, tmp, inv, n, qi);
  }
}
