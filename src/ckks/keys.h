/* Internal layout of CKKS keys.
 *
 * The secret key s is kept in the NTT domain over every prime (Q and P), plus its small signed
 * coefficients for serialization. The public key is (b, a) = (-a s + e, a) over Q. A switching key
 * from s' to s has one pair (b_j, a_j) per digit j over Q and P:
 *   b_j = -a_j s + e_j + P s' on the primes of digit j (and -a_j s + e_j elsewhere),
 * which is what hybrid key switching (keyswitch.h) consumes. The relinearization key switches s^2;
 * the Galois key of element g switches sigma_g(s). */
#ifndef ENSI_CKKS_KEYS_H
#define ENSI_CKKS_KEYS_H

#include <ensi/ckks.h>

#include "ckks/context.h"
#include "math/sampler.h"

struct ensi_secret_key {
  size_t n, limbs;
  uint64_t *ntt;    /* limbs = q_count + p_count, in NTT form */
  int8_t *coeffs;   /* N small coefficients in {-1, 0, 1} */
};

/* The uniform parts `a` of public and switching keys are expanded from a 32-byte seed, so a
 * serialized key stores the seed instead of a (half the size): ensi_expand_a. */
struct ensi_public_key {
  uint8_t seed[32];
  uint64_t *b, *a; /* q_count limbs each */
};

/* A switching key usable at levels 0 .. max_level stores only the primes q_0 .. q_max_level and
 * the special primes, and only the digits those levels use: a key that only ever switches
 * ciphertexts at low levels (most rotations of the encrypted layers, the SlotsToCoeffs rotations)
 * is a fraction of a full one. The encapsulation key into the sparse secret has max_level 0. */
struct ensi_switching_key {
  size_t max_level;
  size_t digits;     /* ensi_context_digits(ctx, max_level) */
  size_t limbs;      /* max_level + 1 + p_count */
  size_t words;      /* words of a (and of b): digits x limbs x N */
  uint8_t seed[32];
  uint64_t *b, *a;
};

/* The stored limb of modulus index m (a prime of Q up to max_level, or a special prime). */
static inline size_t ensi_switching_key_limb(const ensi_context *ctx, const ensi_switching_key *key,
                                             size_t m) {
  return m < ctx->q_count ? m : key->max_level + 1 + (m - ctx->q_count);
}

/* a = digits x (q_limbs + p_limbs) uniform limbs from seed: moduli 0 .. q_limbs - 1, then the
 * first p_limbs special primes. */
void ensi_expand_a(const ensi_context *ctx, uint64_t *a, const uint8_t seed[32], size_t digits,
                   size_t q_limbs, size_t p_limbs);

typedef struct {
  uint64_t element;        /* Galois element g */
  uint32_t *permutation;   /* NTT-domain index map of X -> X^g */
  ensi_switching_key *key; /* switches sigma_g(s) to s */
} ensi_galois_key;

struct ensi_eval_keys {
  ensi_switching_key *relin; /* NULL when not generated */
  ensi_galois_key *galois;
  size_t galois_count;
  /* sparse-secret encapsulation for bootstrapping (NULL when not generated): to_sparse switches
   * s to an ephemeral sparse secret s' and exists only modulo q_0 and P (an RLWE sample with a
   * sparse secret is only published at that small modulus); from_sparse switches s' back to s */
  ensi_switching_key *to_sparse, *from_sparse;
  size_t sparse_weight;
};

/* A secret key from its small coefficients (validated by the caller). */
ensi_status ensi_secret_key_from_coeffs(ensi_secret_key **out, const ensi_context *ctx,
                                        const int8_t *coeffs);

/* The Galois key of element g, or NULL. */
const ensi_galois_key *ensi_eval_keys_find(const ensi_eval_keys *keys, uint64_t g);

/* Samples a centered discrete Gaussian error and writes it in NTT form on limbs [0, count) of
 * ctx->moduli starting at modulus index first (limb k uses modulus first + k). */
void ensi_sample_error_ntt(const ensi_context *ctx, ensi_prng *prng, uint64_t *out, size_t first,
                           size_t count);

/* Opens a PRNG from an optional 32-byte seed (NULL: OS randomness). */
ensi_status ensi_prng_open(ensi_prng *prng, const uint8_t *seed);

#endif
