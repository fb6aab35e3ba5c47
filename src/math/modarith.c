/* Modulus set-up, powers and inverses (the inline hot paths are in modarith.h). */
#include "math/modarith.h"

#include "base/error.h"

ensi_status ensi_modulus_init(ensi_modulus *m, uint64_t q) {
  if (!m || q < 3 || !(q & 1) || q >> ENSI_MODULUS_MAX_BITS)
    return ensi_fail(ENSI_ERR_ARG, "modulus %llu: must be odd, >= 3 and below 2^%d",
                     (unsigned long long)q, ENSI_MODULUS_MAX_BITS);
  m->value = q;
  m->bits = 64 - __builtin_clzll(q);
  /* floor(2^128 / q): divide 2^128 - 1 (q does not divide 2^128 as it is odd) */
  const ensi_u128 all_ones = ~(ensi_u128)0;
  const ensi_u128 ratio = all_ones / q;
  m->ratio_hi = (uint64_t)(ratio >> 64);
  m->ratio_lo = (uint64_t)ratio;
  return ENSI_OK;
}

uint64_t ensi_pow_mod(uint64_t base, uint64_t exponent, const ensi_modulus *m) {
  uint64_t result = 1 % m->value, b = ensi_reduce_u64(base, m);
  for (; exponent; exponent >>= 1) {
    if (exponent & 1)
      result = ensi_mul_mod(result, b, m);
    b = ensi_mul_mod(b, b, m);
  }
  return result;
}

uint64_t ensi_inv_mod(uint64_t a, const ensi_modulus *m) {
  a = ensi_reduce_u64(a, m);
  return a ? ensi_pow_mod(a, m->value - 2, m) : 0; /* Fermat: q is prime */
}
