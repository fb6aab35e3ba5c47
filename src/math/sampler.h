/* Randomness for key generation and encryption.
 *
 * ensi_prng expands a 32-byte seed with the ChaCha20 stream cipher (libsodium), so the same seed
 * always gives the same stream: that is how seeded key parts `a` are regenerated, and how tests
 * get reproducible keys. ensi_prng_init_random draws the seed from the OS CSPRNG.
 *
 * Samplers: uniform modulo q by rejection (no modulo bias); uniform ternary {-1, 0, 1};
 * ternary with exactly h nonzero coefficients; the centered discrete Gaussian of sigma 3.2
 * bounded at 6 sigma (|e| <= 19) by a cumulative table scanned in full for every sample, with
 * no branch on secret values. */
#ifndef ENSI_MATH_SAMPLER_H
#define ENSI_MATH_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include <ensi/status.h>

enum { ENSI_PRNG_SEED_BYTES = 32 };

typedef struct {
  uint8_t key[32];
  uint64_t block; /* next ChaCha20 nonce/counter block */
  uint8_t buffer[512];
  size_t used;    /* bytes of buffer consumed */
} ensi_prng;

ensi_status ensi_prng_init_random(ensi_prng *prng);
void ensi_prng_init_seeded(ensi_prng *prng, const uint8_t seed[ENSI_PRNG_SEED_BYTES]);
/* Zeroizes the state. */
void ensi_prng_clear(ensi_prng *prng);

uint64_t ensi_prng_u64(ensi_prng *prng);

void ensi_sample_uniform_mod(ensi_prng *prng, uint64_t *out, size_t n, uint64_t q);
void ensi_sample_ternary(ensi_prng *prng, int8_t *out, size_t n);
/* h <= n nonzero coefficients at uniformly random positions, each -1 or 1. */
void ensi_sample_ternary_hw(ensi_prng *prng, int8_t *out, size_t n, size_t h);
void ensi_sample_gaussian(ensi_prng *prng, int8_t *out, size_t n);

/* The Gaussian's parameters. */
#define ENSI_GAUSSIAN_SIGMA 3.2
#define ENSI_GAUSSIAN_BOUND 19

#endif
