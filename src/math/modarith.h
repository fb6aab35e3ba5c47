/* Arithmetic modulo word-size primes q < 2^61: addition, subtraction, Barrett multiplication
 * with 128-bit products, Shoup multiplication by a precomputed constant, powers and inverses.
 *
 * Conventions: inputs of the _mod functions are reduced (in [0, q)) and so are outputs. The
 * "lazy" Shoup variant returns a value in [0, 2q) and accepts any 64-bit input; NTT butterflies
 * keep values in [0, 4q), which fits 64 bits because q < 2^61. */
#ifndef ENSI_MATH_MODARITH_H
#define ENSI_MATH_MODARITH_H

#include <stdbool.h>
#include <stdint.h>

#include <ensi/status.h>

typedef unsigned __int128 ensi_u128;

/* A modulus with its Barrett constant floor(2^128 / q) in two words. */
typedef struct {
  uint64_t value;
  uint64_t ratio_hi, ratio_lo;
  int bits;
} ensi_modulus;

/* Largest supported modulus size in bits. */
#define ENSI_MODULUS_MAX_BITS 61

/* q must be odd, at least 3, and below 2^61. */
ensi_status ensi_modulus_init(ensi_modulus *m, uint64_t q);

static inline uint64_t ensi_add_mod(uint64_t a, uint64_t b, uint64_t q) {
  const uint64_t s = a + b;
  return s >= q ? s - q : s;
}

static inline uint64_t ensi_sub_mod(uint64_t a, uint64_t b, uint64_t q) {
  return a >= b ? a - b : a + q - b;
}

static inline uint64_t ensi_neg_mod(uint64_t a, uint64_t q) { return a ? q - a : 0; }

/* Barrett reduction of a 128-bit value: x mod q. */
static inline uint64_t ensi_reduce_u128(ensi_u128 x, const ensi_modulus *m) {
  const uint64_t x0 = (uint64_t)x, x1 = (uint64_t)(x >> 64);
  /* floor(x * ratio / 2^128) approximates floor(x / q) from below by at most 1 (after the
   * dropped low products), so one conditional subtraction finishes the reduction. */
  const ensi_u128 p00 = (ensi_u128)x0 * m->ratio_lo;
  const ensi_u128 p01 = (ensi_u128)x0 * m->ratio_hi;
  const ensi_u128 p10 = (ensi_u128)x1 * m->ratio_lo;
  const ensi_u128 middle = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
  const uint64_t quotient = x1 * m->ratio_hi + (uint64_t)(p01 >> 64) + (uint64_t)(p10 >> 64) +
                            (uint64_t)(middle >> 64);
  const uint64_t r = x0 - quotient * m->value;
  return r >= m->value ? r - m->value : r;
}

static inline uint64_t ensi_mul_mod(uint64_t a, uint64_t b, const ensi_modulus *m) {
  return ensi_reduce_u128((ensi_u128)a * b, m);
}

/* Reduces any 64-bit value modulo q. */
static inline uint64_t ensi_reduce_u64(uint64_t x, const ensi_modulus *m) {
  return ensi_reduce_u128((ensi_u128)x, m);
}

/* Shoup's constant floor(w 2^64 / q) for a fixed multiplicand w < q. */
static inline uint64_t ensi_shoup_precompute(uint64_t w, uint64_t q) {
  return (uint64_t)(((ensi_u128)w << 64) / q);
}

/* a w mod q in [0, 2q) for any a < 2^64 (Shoup, without the final correction). */
static inline uint64_t ensi_mul_shoup_lazy(uint64_t a, uint64_t w, uint64_t w_shoup, uint64_t q) {
  const uint64_t hi = (uint64_t)(((ensi_u128)a * w_shoup) >> 64);
  return a * w - hi * q;
}

/* a w mod q in [0, q). */
static inline uint64_t ensi_mul_shoup(uint64_t a, uint64_t w, uint64_t w_shoup, uint64_t q) {
  const uint64_t r = ensi_mul_shoup_lazy(a, w, w_shoup, q);
  return r >= q ? r - q : r;
}

uint64_t ensi_pow_mod(uint64_t base, uint64_t exponent, const ensi_modulus *m);

/* Inverse of a modulo q (q prime); returns 0 when a = 0 mod q (not invertible). */
uint64_t ensi_inv_mod(uint64_t a, const ensi_modulus *m);

#endif
