/* Galois elements and automorphism index maps (see galois.h). */
#include "ckks/galois.h"

static unsigned log2_exact(size_t n) {
  unsigned log_n = 0;
  while (((size_t)1 << log_n) < n)
    log_n++;
  return log_n;
}

static uint64_t bit_reverse(uint64_t x, unsigned bits) {
  uint64_t r = 0;
  for (unsigned i = 0; i < bits; i++, x >>= 1)
    r = (r << 1) | (x & 1);
  return r;
}

uint64_t ensi_galois_element_rotation(long long k, size_t n) {
  const uint64_t two_n = 2 * (uint64_t)n, half = n / 2;
  long long r = k % (long long)half;
  uint64_t steps = (uint64_t)(r < 0 ? r + (long long)half : r);
  uint64_t g = 1, base = 5;
  for (; steps; steps >>= 1) { /* 5^steps mod 2N, by squaring */
    if (steps & 1)
      g = g * base % two_n;
    base = base * base % two_n;
  }
  return g;
}

uint64_t ensi_galois_element_conjugation(size_t n) { return 2 * (uint64_t)n - 1; }

void ensi_galois_ntt_permutation(uint32_t *perm, uint64_t g, size_t n) {
  const unsigned log_n = log2_exact(n);
  const uint64_t mask = 2 * (uint64_t)n - 1;
  for (size_t i = 0; i < n; i++) {
    uint64_t exponent = 2 * bit_reverse(i, log_n) + 1; /* index i evaluates at psi^exponent */
    uint64_t source = ((g * exponent) & mask) >> 1;    /* (sigma_g a)(psi^e) = a(psi^(g e)) */
    perm[i] = (uint32_t)bit_reverse(source, log_n);
  }
}

void ensi_galois_apply_coeff(uint64_t *out, const uint64_t *in, uint64_t g, size_t n, uint64_t q) {
  const uint64_t mask = 2 * (uint64_t)n - 1;
  for (size_t i = 0; i < n; i++) {
    uint64_t j = (i * g) & mask; /* X^i -> X^(i g) = -X^(i g - N) when i g mod 2N >= N */
    if (j < n)
      out[j] = in[i];
    else
      out[j - n] = in[i] ? q - in[i] : 0;
  }
}

void ensi_galois_apply_ntt(uint64_t *out, const uint64_t *in, const uint32_t *perm, size_t n) {
  for (size_t i = 0; i < n; i++)
    out[i] = in[perm[i]];
}
