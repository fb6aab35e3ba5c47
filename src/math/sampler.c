/* ChaCha20-expanded PRNG and the samplers of sampler.h. */
#include "math/sampler.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "base/error.h"

static void refill(ensi_prng *prng) {
  uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
  memcpy(nonce, &prng->block, sizeof nonce < sizeof prng->block ? sizeof nonce : sizeof prng->block);
  crypto_stream_chacha20(prng->buffer, sizeof prng->buffer, nonce, prng->key);
  prng->block++;
  prng->used = 0;
}

ensi_status ensi_prng_init_random(ensi_prng *prng) {
  if (sodium_init() < 0)
    return ensi_fail(ENSI_ERR_RANDOM, "libsodium failed to initialize");
  randombytes_buf(prng->key, sizeof prng->key);
  prng->block = 0;
  prng->used = sizeof prng->buffer;
  return ENSI_OK;
}

void ensi_prng_init_seeded(ensi_prng *prng, const uint8_t seed[ENSI_PRNG_SEED_BYTES]) {
  memcpy(prng->key, seed, sizeof prng->key);
  prng->block = 0;
  prng->used = sizeof prng->buffer;
}

void ensi_prng_clear(ensi_prng *prng) { sodium_memzero(prng, sizeof *prng); }

uint64_t ensi_prng_u64(ensi_prng *prng) {
  if (prng->used + 8 > sizeof prng->buffer)
    refill(prng);
  uint64_t x;
  memcpy(&x, prng->buffer + prng->used, 8);
  prng->used += 8;
  return x;
}

void ensi_sample_uniform_mod(ensi_prng *prng, uint64_t *out, size_t n, uint64_t q) {
  const int bits = 64 - __builtin_clzll(q);
  const uint64_t mask = bits == 64 ? ~(uint64_t)0 : ((uint64_t)1 << bits) - 1;
  for (size_t i = 0; i < n; i++) {
    uint64_t x;
    do /* rejection on the smallest power of two above q: at most 2 draws on average */
      x = ensi_prng_u64(prng) & mask;
    while (x >= q);
    out[i] = x;
  }
}

void ensi_sample_ternary(ensi_prng *prng, int8_t *out, size_t n) {
  uint64_t bits = 0;
  int left = 0;
  for (size_t i = 0; i < n;) {
    if (left == 0) {
      bits = ensi_prng_u64(prng);
      left = 32;
    }
    const uint64_t two = bits & 3; /* 0, 1, 2 -> -1, 0, 1; 3 is rejected */
    bits >>= 2;
    left--;
    if (two != 3)
      out[i++] = (int8_t)((int)two - 1);
  }
}

void ensi_sample_ternary_hw(ensi_prng *prng, int8_t *out, size_t n, size_t h) {
  memset(out, 0, n);
  for (size_t i = 0; i < h && i < n; i++) { /* the first h entries, then a Fisher-Yates shuffle */
    out[i] = (int8_t)((ensi_prng_u64(prng) & 1) ? 1 : -1);
  }
  for (size_t i = n; i > 1; i--) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % i, x;
    do
      x = ensi_prng_u64(prng);
    while (x >= limit);
    const size_t j = (size_t)(x % i);
    const int8_t t = out[i - 1];
    out[i - 1] = out[j];
    out[j] = t;
  }
}

/* cdt[k] = floor(2^63 P(|e| <= k)) for the discrete Gaussian rho(e) = exp(-e^2 / (2 sigma^2))
 * truncated at the bound, with P(|e| = k) counting both signs for k > 0. */
static uint64_t cdt[ENSI_GAUSSIAN_BOUND + 1];
static pthread_once_t cdt_once = PTHREAD_ONCE_INIT;

static void build_cdt(void) {
  long double weight[ENSI_GAUSSIAN_BOUND + 1], total = 0;
  for (int k = 0; k <= ENSI_GAUSSIAN_BOUND; k++) {
    weight[k] = expl(-(long double)k * k / (2.0L * ENSI_GAUSSIAN_SIGMA * ENSI_GAUSSIAN_SIGMA));
    if (k > 0)
      weight[k] *= 2;
    total += weight[k];
  }
  long double cumulative = 0;
  for (int k = 0; k <= ENSI_GAUSSIAN_BOUND; k++) {
    cumulative += weight[k];
    cdt[k] = k == ENSI_GAUSSIAN_BOUND ? (uint64_t)1 << 63
                                      : (uint64_t)(cumulative / total * 0x1p63L);
  }
}

void ensi_sample_gaussian(ensi_prng *prng, int8_t *out, size_t n) {
  pthread_once(&cdt_once, build_cdt);
  for (size_t i = 0; i < n; i++) {
    const uint64_t r = ensi_prng_u64(prng);
    const uint64_t u = r >> 1, sign = r & 1; /* u uniform in [0, 2^63) */
    uint64_t magnitude = 0;
    for (int k = 0; k < ENSI_GAUSSIAN_BOUND; k++) /* magnitude = #{k : u >= cdt[k]} */
      magnitude += (cdt[k] - 1 - u) >> 63;      /* 1 exactly when u >= cdt[k] (both < 2^63) */
    const int64_t m = (int64_t)magnitude;
    const int64_t mask = -(int64_t)sign;        /* all ones for a negative sample */
    out[i] = (int8_t)((m ^ mask) - mask);
  }
}
