/* Prime testing and generation of NTT-friendly primes. */
#include "math/primes.h"

#include "base/error.h"
#include "math/modarith.h"

static uint64_t mul_mod_any(uint64_t a, uint64_t b, uint64_t n) {
  return (uint64_t)((ensi_u128)a * b % n);
}

static uint64_t pow_mod_any(uint64_t b, uint64_t e, uint64_t n) {
  uint64_t r = 1;
  for (b %= n; e; e >>= 1) {
    if (e & 1)
      r = mul_mod_any(r, b, n);
    b = mul_mod_any(b, b, n);
  }
  return r;
}

bool ensi_is_prime(uint64_t n) {
  static const uint64_t witnesses[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
  if (n < 2)
    return false;
  for (size_t i = 0; i < 12; i++)
    if (n % witnesses[i] == 0)
      return n == witnesses[i];
  uint64_t d = n - 1;
  int s = 0;
  while (!(d & 1)) {
    d >>= 1;
    s++;
  }
  for (size_t i = 0; i < 12; i++) { /* these 12 witnesses decide every n < 2^64 */
    uint64_t x = pow_mod_any(witnesses[i], d, n);
    if (x == 1 || x == n - 1)
      continue;
    bool composite = true;
    for (int r = 1; r < s && composite; r++) {
      x = mul_mod_any(x, x, n);
      composite = x != n - 1;
    }
    if (composite)
      return false;
  }
  return true;
}

static bool listed(uint64_t q, const uint64_t *list, size_t count) {
  for (size_t i = 0; i < count; i++)
    if (list[i] == q)
      return true;
  return false;
}

static ensi_status check_request(int bits, uint64_t two_n) {
  if (two_n < 4 || (two_n & (two_n - 1)))
    return ensi_fail(ENSI_ERR_ARG, "primes: 2N = %llu is not a power of two",
                     (unsigned long long)two_n);
  if (bits > ENSI_MODULUS_MAX_BITS || ((uint64_t)1 << bits) <= 4 * two_n)
    return ensi_fail(ENSI_ERR_ARG, "primes: %d bits out of range for 2N = %llu", bits,
                     (unsigned long long)two_n);
  return ENSI_OK;
}

ensi_status ensi_primes_near(uint64_t *out, size_t count, int log2_target, uint64_t two_n,
                             const uint64_t *exclude, size_t exclude_count) {
  ENSI_TRY(check_request(log2_target, two_n));
  const uint64_t target = (uint64_t)1 << log2_target, limit = (uint64_t)1 << ENSI_MODULUS_MAX_BITS;
  uint64_t below = target + 1, above = target + 1; /* both = 1 mod 2N */
  size_t found = 0;
  bool take_below = true;
  while (found < count) {
    uint64_t candidate;
    if (take_below) {
      below -= two_n;
      candidate = below;
    } else {
      above += two_n;
      candidate = above;
    }
    take_below = !take_below;
    if (candidate < two_n || candidate >= limit)
      continue;
    if (ensi_is_prime(candidate) && !listed(candidate, exclude, exclude_count) &&
        !listed(candidate, out, found))
      out[found++] = candidate;
  }
  return ENSI_OK;
}

ensi_status ensi_primes_below(uint64_t *out, size_t count, int bits, uint64_t two_n,
                              const uint64_t *exclude, size_t exclude_count) {
  ENSI_TRY(check_request(bits, two_n));
  uint64_t candidate = ((uint64_t)1 << bits) + 1;
  size_t found = 0;
  while (found < count) {
    candidate -= two_n;
    if (candidate < two_n)
      return ensi_fail(ENSI_ERR_ARG, "primes: not enough %d-bit primes", bits);
    if (ensi_is_prime(candidate) && !listed(candidate, exclude, exclude_count))
      out[found++] = candidate;
  }
  return ENSI_OK;
}

ensi_status ensi_primitive_root_2n(uint64_t q, uint64_t two_n, uint64_t *psi) {
  if (!psi || two_n < 2 || (q - 1) % two_n || !ensi_is_prime(q))
    return ensi_fail(ENSI_ERR_ARG, "primitive root: q = %llu is not a prime = 1 mod %llu",
                     (unsigned long long)q, (unsigned long long)two_n);
  for (uint64_t g = 2; g < q; g++) {
    const uint64_t root = pow_mod_any(g, (q - 1) / two_n, q);
    if (pow_mod_any(root, two_n / 2, q) == q - 1) { /* order exactly two_n */
      *psi = root;
      return ENSI_OK;
    }
  }
  return ensi_fail(ENSI_ERR_INTERNAL, "primitive root: none found");
}
