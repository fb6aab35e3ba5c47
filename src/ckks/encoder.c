/* CKKS encoding and decoding: slots <-> special FFT (fft.h) <-> scaled, rounded coefficients in
 * RNS form. Sparse packing with n < N/2 slots places the 2n coefficients at X^(k N / 2n), which
 * replicates the n slots over the whole slot array; its NTT form is then 2n run values, each
 * repeated over N / 2n coefficients, which a 2n-point transform gives (encoder.h). Decoding reconstructs each needed coefficient
 * from its residues with Garner's mixed-radix CRT, centered, in long double. */
#include "ckks/encoder.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "ckks/fft.h"
#include "ckks/keyswitch.h"

uint64_t ensi_double_mod(double v, const ensi_modulus *q) {
  v = nearbyint(v);
  const bool negative = v < 0;
  int exponent;
  const double mantissa = frexp(fabs(v), &exponent); /* |v| = mantissa 2^exponent, mantissa < 1 */
  uint64_t r;
  if (exponent <= 63) {
    r = (uint64_t)fabs(v) % q->value;
  } else {
    const uint64_t m = (uint64_t)ldexp(mantissa, 63); /* |v| = m 2^(exponent - 63) exactly */
    r = ensi_mul_mod(m % q->value, ensi_pow_mod(2, (uint64_t)(exponent - 63), q), q);
  }
  return negative ? ensi_neg_mod(r, q->value) : r;
}

static bool valid_slot_count(const ensi_context *ctx, size_t count) {
  return count >= 1 && count <= ctx->n / 2 && (count & (count - 1)) == 0;
}

/* w = the special inverse FFT of re + i im (count values), checked to stay finite once scaled:
 * coefficient k of the encoding is creal(w[k]) scale, coefficient k + count cimag(w[k]) scale. */
static ensi_status slot_coefficients(double complex **out, const double *re, const double *im,
                                     size_t count, double scale) {
  double complex *w = malloc(count * sizeof *w);
  if (!w)
    return ENSI_ERR_NOMEM;
  for (size_t j = 0; j < count; j++)
    w[j] = re[j] + I * (im ? im[j] : 0.0);
  ensi_status s = ensi_special_ifft(w, count);
  for (size_t j = 0; s == ENSI_OK && j < count; j++)
    if (!isfinite(creal(w[j]) * scale) || !isfinite(cimag(w[j]) * scale))
      s = ensi_fail(ENSI_ERR_ARG, "encode: values or scale too large");
  if (s != ENSI_OK) {
    free(w);
    return s;
  }
  *out = w;
  return ENSI_OK;
}

/* Limb i's run values: the 2 count coefficients at multiples of the gap, packed, and transformed
 * by the prefix transform (2 count >= ENSI_NTT_MIN). */
static void limb_runs(const ensi_context *ctx, const double complex *w, size_t count, double scale,
                      size_t i, uint64_t *runs) {
  for (size_t k = 0; k < count; k++) {
    runs[k] = ensi_double_mod(creal(w[k]) * scale, &ctx->moduli[i]);
    runs[k + count] = ensi_double_mod(cimag(w[k]) * scale, &ctx->moduli[i]);
  }
  ensi_ntt_forward_prefix(ctx->ntt[i], runs, 2 * count);
}

/* Limb i of the encoding in NTT form: its run values spread over their runs (last run first, so
 * that none is overwritten before it is read; nothing to spread at N/2 slots), or, for fewer than
 * ENSI_NTT_MIN / 2 slots, the coefficients placed and transformed in full. */
static void encode_limb(const ensi_context *ctx, const double complex *w, size_t count,
                        double scale, size_t i, uint64_t *limb) {
  const size_t n = ctx->n, runs = 2 * count, gap = n / runs;
  if (runs >= ENSI_NTT_MIN) {
    limb_runs(ctx, w, count, scale, i, limb);
    for (size_t u = runs; gap > 1 && u-- > 0;) {
      const uint64_t v = limb[u];
      for (size_t t = 0; t < gap; t++)
        limb[u * gap + t] = v;
    }
    return;
  }
  memset(limb, 0, n * sizeof *limb);
  for (size_t k = 0; k < count; k++) {
    limb[k * gap] = ensi_double_mod(creal(w[k]) * scale, &ctx->moduli[i]);
    limb[(k + count) * gap] = ensi_double_mod(cimag(w[k]) * scale, &ctx->moduli[i]);
  }
  ensi_ntt_forward(ctx->ntt[i], limb);
}

ensi_status ensi_encode_complex(const ensi_context *ctx, ensi_plaintext *pt, const double *re,
                                const double *im, size_t count, double scale) {
  if (!ctx || !pt || !re || pt->n != ctx->n || !(scale > 0) || !isfinite(scale))
    return ensi_fail(ENSI_ERR_ARG, "encode: bad argument");
  if (!valid_slot_count(ctx, count))
    return ensi_fail(ENSI_ERR_ARG, "encode: %zu slots is not a power of two up to N/2 = %zu", count,
                     ctx->n / 2);
  double complex *w;
  ENSI_TRY(slot_coefficients(&w, re, im, count, scale));
  for (size_t i = 0; i <= pt->level; i++)
    encode_limb(ctx, w, count, scale, i, pt->data + i * ctx->n);
  free(w);
  pt->scale = scale;
  pt->slots = count;
  return ENSI_OK;
}

ensi_status ensi_encode_extended(const ensi_context *ctx, uint64_t *limbs, const double *re,
                                 const double *im, size_t count, double scale, size_t level) {
  if (!ctx || !limbs || !re || level >= ctx->q_count || !(scale > 0) || !isfinite(scale))
    return ensi_fail(ENSI_ERR_ARG, "encode extended: bad argument");
  if (!valid_slot_count(ctx, count))
    return ensi_fail(ENSI_ERR_ARG, "encode extended: %zu slots is not a power of two up to N/2",
                     count);
  double complex *w;
  ENSI_TRY(slot_coefficients(&w, re, im, count, scale));
  for (size_t i = 0; i < level + 1 + ctx->p_count; i++)
    encode_limb(ctx, w, count, scale, ensi_ks_ext_modulus(ctx, level, i), limbs + i * ctx->n);
  free(w);
  return ENSI_OK;
}

ensi_status ensi_encode_runs(const ensi_context *ctx, const double *re, const double *im,
                             size_t count, double scale, size_t level, uint64_t *out) {
  if (!ctx || !re || !out || level >= ctx->q_count || !(scale > 0) || !isfinite(scale))
    return ensi_fail(ENSI_ERR_ARG, "encode runs: bad argument");
  if (!valid_slot_count(ctx, count))
    return ensi_fail(ENSI_ERR_ARG, "encode runs: %zu slots is not a power of two up to N/2",
                     count);
  const size_t n = ctx->n, runs = 2 * count, gap = n / runs;
  uint64_t *full = runs < ENSI_NTT_MIN ? malloc(n * sizeof *full) : NULL;
  if (runs < ENSI_NTT_MIN && !full)
    return ENSI_ERR_NOMEM;
  double complex *w;
  const ensi_status s = slot_coefficients(&w, re, im, count, scale);
  for (size_t i = 0; s == ENSI_OK && i <= level; i++) {
    if (!full) {
      limb_runs(ctx, w, count, scale, i, out + i * runs);
      continue;
    }
    encode_limb(ctx, w, count, scale, i, full); /* too few values for the prefix transform */
    for (size_t u = 0; u < runs; u++)
      out[i * runs + u] = full[u * gap];
  }
  if (s == ENSI_OK)
    free(w);
  free(full);
  return s;
}

ensi_status ensi_encode_real(const ensi_context *ctx, ensi_plaintext *pt, const double *values,
                             size_t count, double scale) {
  return ensi_encode_complex(ctx, pt, values, NULL, count, scale);
}

/* Centered value of the integer with residues x[0..limbs) (x[i] mod q_i), as a long double. */
static long double crt_centered(const ensi_context *ctx, const uint64_t *x, size_t limbs,
                                const uint64_t *prefix_inv) {
  uint64_t digit[64], y[64];
  bool negative = false;
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < limbs; i++) /* pass 1 reconstructs -x when x is above Q/2 */
      y[i] = pass ? ensi_neg_mod(x[i], ctx->moduli[i].value) : x[i];
    for (size_t i = 0; i < limbs; i++) { /* Garner: digit_i = (y_i - partial) / (q_0..q_{i-1}) */
      const ensi_modulus *qi = &ctx->moduli[i];
      uint64_t partial = 0, radix = 1;
      for (size_t j = 0; j < i; j++) {
        partial = ensi_add_mod(partial, ensi_mul_mod(digit[j] % qi->value, radix, qi), qi->value);
        radix = ensi_mul_mod(radix, ctx->moduli[j].value % qi->value, qi);
      }
      digit[i] = ensi_mul_mod(ensi_sub_mod(y[i], partial, qi->value), prefix_inv[i], qi);
    }
    if (pass == 1 || digit[limbs - 1] <= ctx->moduli[limbs - 1].value / 2)
      break;
    negative = true;
  }
  long double value = 0;
  for (size_t i = limbs; i-- > 0;)
    value = value * (long double)ctx->moduli[i].value + (long double)digit[i];
  return negative ? -value : value;
}

ensi_status ensi_decode(const ensi_context *ctx, double *re, double *im, size_t count,
                        const ensi_plaintext *pt) {
  if (!ctx || !pt || !re || pt->n != ctx->n)
    return ensi_fail(ENSI_ERR_ARG, "decode: bad argument");
  const size_t slots = pt->slots, n = ctx->n, limbs = pt->level + 1, gap = n / (2 * slots);
  if (count > slots || limbs > 64)
    return ensi_fail(ENSI_ERR_ARG, "decode: %zu slots requested, plaintext has %zu", count, slots);
  uint64_t *coeff = malloc(limbs * n * sizeof *coeff);
  double complex *w = malloc(slots * sizeof *w);
  if (!coeff || !w) {
    free(coeff);
    free(w);
    return ENSI_ERR_NOMEM;
  }
  memcpy(coeff, pt->data, limbs * n * sizeof *coeff);
  uint64_t prefix_inv[64]; /* (q_0 ... q_{i-1})^{-1} mod q_i */
  for (size_t i = 0; i < limbs; i++) {
    ensi_ntt_inverse(ctx->ntt[i], coeff + i * n);
    uint64_t prod = 1;
    for (size_t j = 0; j < i; j++)
      prod = ensi_mul_mod(prod, ctx->moduli[j].value % ctx->moduli[i].value, &ctx->moduli[i]);
    prefix_inv[i] = ensi_inv_mod(prod, &ctx->moduli[i]);
  }
  uint64_t residues[64];
  double m[2];
  for (size_t k = 0; k < slots; k++) {
    for (size_t half = 0; half < 2; half++) {
      const size_t index = (k + half * slots) * gap;
      for (size_t i = 0; i < limbs; i++)
        residues[i] = coeff[i * n + index];
      m[half] = (double)(crt_centered(ctx, residues, limbs, prefix_inv) / pt->scale);
    }
    w[k] = m[0] + I * m[1];
  }
  ensi_status s = ensi_special_fft(w, slots);
  for (size_t j = 0; s == ENSI_OK && j < count; j++) {
    re[j] = creal(w[j]);
    if (im)
      im[j] = cimag(w[j]);
  }
  free(coeff);
  free(w);
  return s;
}
