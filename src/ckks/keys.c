/* Key generation: secret, public, switching (relinearization, Galois) keys. See keys.h. */
#include "ckks/keys.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/large_alloc.h"
#include "ckks/galois.h"

ensi_status ensi_prng_open(ensi_prng *prng, const uint8_t *seed) {
  if (seed) {
    ensi_prng_init_seeded(prng, seed);
    return ENSI_OK;
  }
  return ensi_prng_init_random(prng);
}

/* Writes small signed coefficients into count limbs (moduli first..first+count) and NTTs them. */
static void lift_small_ntt(const ensi_context *ctx, uint64_t *out, const int8_t *coeffs,
                           size_t first, size_t count) {
  const size_t n = ctx->n;
  for (size_t k = 0; k < count; k++) {
    const uint64_t q = ctx->moduli[first + k].value;
    uint64_t *limb = out + k * n;
    for (size_t t = 0; t < n; t++)
      limb[t] = coeffs[t] >= 0 ? (uint64_t)coeffs[t] : q - (uint64_t)(-coeffs[t]);
    ensi_ntt_forward(ctx->ntt[first + k], limb);
  }
}

void ensi_sample_error_ntt(const ensi_context *ctx, ensi_prng *prng, uint64_t *out, size_t first,
                           size_t count) {
  int8_t *e = malloc(ctx->n);
  if (!e)
    return;
  ensi_sample_gaussian(prng, e, ctx->n);
  lift_small_ntt(ctx, out, e, first, count);
  sodium_memzero(e, ctx->n);
  free(e);
}

ensi_status ensi_secret_key_generate(ensi_secret_key **out, const ensi_context *ctx,
                                     const uint8_t *seed) {
  if (!out || !ctx)
    return ensi_fail(ENSI_ERR_ARG, "secret key: null argument");
  ensi_secret_key *sk = calloc(1, sizeof *sk);
  if (!sk)
    return ENSI_ERR_NOMEM;
  sk->n = ctx->n;
  sk->limbs = ctx->q_count + ctx->p_count;
  sk->ntt = calloc(sk->limbs * ctx->n, sizeof *sk->ntt);
  sk->coeffs = calloc(ctx->n, 1);
  ensi_prng prng;
  ensi_status s = sk->ntt && sk->coeffs ? ensi_prng_open(&prng, seed) : ENSI_ERR_NOMEM;
  if (s != ENSI_OK) {
    ensi_secret_key_free(sk);
    return s;
  }
  const size_t h = ensi_params_hamming_weight(ctx->params);
  if (h)
    ensi_sample_ternary_hw(&prng, sk->coeffs, ctx->n, h);
  else
    ensi_sample_ternary(&prng, sk->coeffs, ctx->n);
  ensi_prng_clear(&prng);
  lift_small_ntt(ctx, sk->ntt, sk->coeffs, 0, sk->limbs);
  *out = sk;
  return ENSI_OK;
}

ensi_status ensi_secret_key_from_coeffs(ensi_secret_key **out, const ensi_context *ctx,
                                        const int8_t *coeffs) {
  ensi_secret_key *sk = calloc(1, sizeof *sk);
  if (!sk)
    return ENSI_ERR_NOMEM;
  sk->n = ctx->n;
  sk->limbs = ctx->q_count + ctx->p_count;
  sk->ntt = calloc(sk->limbs * ctx->n, sizeof *sk->ntt);
  sk->coeffs = malloc(ctx->n);
  if (!sk->ntt || !sk->coeffs) {
    ensi_secret_key_free(sk);
    return ENSI_ERR_NOMEM;
  }
  memcpy(sk->coeffs, coeffs, ctx->n);
  lift_small_ntt(ctx, sk->ntt, sk->coeffs, 0, sk->limbs);
  *out = sk;
  return ENSI_OK;
}

void ensi_secret_key_free(ensi_secret_key *sk) {
  if (!sk)
    return;
  if (sk->ntt)
    sodium_memzero(sk->ntt, sk->limbs * sk->n * sizeof *sk->ntt);
  if (sk->coeffs)
    sodium_memzero(sk->coeffs, sk->n);
  free(sk->ntt);
  free(sk->coeffs);
  free(sk);
}

/* out = -a s + e on the given limbs (moduli first..first+count), all in NTT form. */
static void rlwe_body(const ensi_context *ctx, ensi_prng *prng, uint64_t *out, const uint64_t *a,
                      const uint64_t *s_ntt, size_t first, size_t count) {
  const size_t n = ctx->n;
  ensi_sample_error_ntt(ctx, prng, out, first, count);
  for (size_t k = 0; k < count; k++) {
    const ensi_modulus *q = &ctx->moduli[first + k];
    uint64_t *o = out + k * n;
    const uint64_t *ak = a + k * n, *sk = s_ntt + (first + k) * n;
    for (size_t t = 0; t < n; t++)
      o[t] = ensi_sub_mod(o[t], ensi_mul_mod(ak[t], sk[t], q), q->value);
  }
}

/* Uniform polynomial in NTT form on count limbs starting at modulus first (uniform in the NTT
 * domain is uniform in the ring). */
static void sample_uniform(const ensi_context *ctx, ensi_prng *prng, uint64_t *out, size_t first,
                           size_t count) {
  for (size_t k = 0; k < count; k++)
    ensi_sample_uniform_mod(prng, out + k * ctx->n, ctx->n, ctx->moduli[first + k].value);
}

void ensi_expand_a(const ensi_context *ctx, uint64_t *a, const uint8_t seed[32], size_t digits,
                   size_t q_limbs, size_t p_limbs) {
  ensi_prng prng;
  ensi_prng_init_seeded(&prng, seed);
  for (size_t j = 0; j < digits; j++) {
    uint64_t *aj = a + j * (q_limbs + p_limbs) * ctx->n;
    sample_uniform(ctx, &prng, aj, 0, q_limbs);
    sample_uniform(ctx, &prng, aj + q_limbs * ctx->n, ctx->q_count, p_limbs);
  }
  ensi_prng_clear(&prng);
}

static void draw_seed(ensi_prng *prng, uint8_t seed[32]) {
  for (int i = 0; i < 4; i++) {
    const uint64_t x = ensi_prng_u64(prng);
    memcpy(seed + 8 * i, &x, 8);
  }
}

ensi_status ensi_public_key_generate(ensi_public_key **out, const ensi_context *ctx,
                                     const ensi_secret_key *sk, const uint8_t *seed) {
  if (!out || !ctx || !sk || sk->n != ctx->n)
    return ensi_fail(ENSI_ERR_ARG, "public key: bad argument");
  ensi_public_key *pk = calloc(1, sizeof *pk);
  if (!pk)
    return ENSI_ERR_NOMEM;
  pk->b = ensi_large_calloc(ctx->q_count * ctx->n, sizeof *pk->b);
  pk->a = ensi_large_calloc(ctx->q_count * ctx->n, sizeof *pk->a);
  ensi_prng prng;
  ensi_status s = pk->a && pk->b ? ensi_prng_open(&prng, seed) : ENSI_ERR_NOMEM;
  if (s != ENSI_OK) {
    ensi_public_key_free(pk);
    return s;
  }
  draw_seed(&prng, pk->seed);
  ensi_expand_a(ctx, pk->a, pk->seed, 1, ctx->q_count, 0);
  rlwe_body(ctx, &prng, pk->b, pk->a, sk->ntt, 0, ctx->q_count);
  ensi_prng_clear(&prng);
  *out = pk;
  return ENSI_OK;
}

void ensi_public_key_free(ensi_public_key *pk) {
  if (!pk)
    return;
  ensi_large_free(pk->a);
  ensi_large_free(pk->b);
  free(pk);
}

static void switching_key_free(ensi_switching_key *key) {
  if (!key)
    return;
  ensi_large_free(key->a);
  ensi_large_free(key->b);
  free(key);
}

/* out = -a s + e on a key's stored limbs (primes q_0 .. q_{q_limbs - 1}, then the special
 * primes), with one error polynomial for all of them. */
static ensi_status key_rlwe_body(const ensi_context *ctx, ensi_prng *prng, uint64_t *out,
                                 const uint64_t *a, const uint64_t *s_ntt, size_t q_limbs) {
  const size_t n = ctx->n;
  int8_t *e = malloc(n);
  if (!e)
    return ENSI_ERR_NOMEM;
  ensi_sample_gaussian(prng, e, n);
  lift_small_ntt(ctx, out, e, 0, q_limbs);
  lift_small_ntt(ctx, out + q_limbs * n, e, ctx->q_count, ctx->p_count);
  sodium_memzero(e, n);
  free(e);
  for (size_t k = 0; k < q_limbs + ctx->p_count; k++) {
    const size_t m = k < q_limbs ? k : ctx->q_count + (k - q_limbs);
    const ensi_modulus *q = &ctx->moduli[m];
    uint64_t *o = out + k * n;
    const uint64_t *ak = a + k * n, *sk = s_ntt + m * n;
    for (size_t t = 0; t < n; t++)
      o[t] = ensi_sub_mod(o[t], ensi_mul_mod(ak[t], sk[t], q), q->value);
  }
  return ENSI_OK;
}

/* A key switching s_from (NTT form over Q, q_count limbs at least) to sk, usable at levels up to
 * max_level (see keys.h). */
static ensi_status switching_key_generate(ensi_switching_key **out, const ensi_context *ctx,
                                          const ensi_secret_key *sk, const uint64_t *s_from,
                                          ensi_prng *prng, size_t max_level) {
  const size_t n = ctx->n;
  ensi_switching_key *key = calloc(1, sizeof *key);
  if (!key)
    return ENSI_ERR_NOMEM;
  key->max_level = max_level;
  key->digits = ensi_context_digits(ctx, max_level);
  key->limbs = max_level + 1 + ctx->p_count;
  key->words = key->digits * key->limbs * n;
  key->a = ensi_large_calloc(key->words, sizeof *key->a);
  key->b = ensi_large_calloc(key->words, sizeof *key->b);
  if (!key->a || !key->b) {
    switching_key_free(key);
    return ENSI_ERR_NOMEM;
  }
  draw_seed(prng, key->seed);
  ensi_expand_a(ctx, key->a, key->seed, key->digits, max_level + 1, ctx->p_count);
  ensi_status s = ENSI_OK;
  for (size_t j = 0; s == ENSI_OK && j < key->digits; j++) {
    uint64_t *a = key->a + j * key->limbs * n, *b = key->b + j * key->limbs * n;
    s = key_rlwe_body(ctx, prng, b, a, sk->ntt, max_level + 1);
    const size_t begin = j * ctx->alpha;
    const size_t end = begin + ctx->alpha < max_level + 1 ? begin + ctx->alpha : max_level + 1;
    for (size_t i = begin; s == ENSI_OK && i < end; i++) { /* + P s_from on the digit's primes */
      const ensi_modulus *q = &ctx->moduli[i];
      const uint64_t p = ctx->p_mod_q[i];
      for (size_t t = 0; t < n; t++)
        b[i * n + t] = ensi_add_mod(b[i * n + t], ensi_mul_mod(p, s_from[i * n + t], q), q->value);
    }
  }
  if (s != ENSI_OK) {
    switching_key_free(key);
    return s;
  }
  *out = key;
  return ENSI_OK;
}

/* Builds the Galois key of g usable up to max_level into gk, with its own PRNG opened from seed
 * (so that keys can be built in parallel and still come out the same for a given seed). */
static ensi_status galois_key_make(ensi_galois_key *gk, const ensi_context *ctx,
                                   const ensi_secret_key *sk, uint64_t g, const uint8_t seed[32],
                                   size_t max_level) {
  const size_t n = ctx->n;
  memset(gk, 0, sizeof *gk);
  gk->element = g;
  gk->permutation = malloc(n * sizeof *gk->permutation);
  uint64_t *s_g = malloc(ctx->q_count * n * sizeof *s_g);
  ensi_status s = gk->permutation && s_g ? ENSI_OK : ENSI_ERR_NOMEM;
  ensi_prng prng;
  ensi_prng_init_seeded(&prng, seed);
  if (s == ENSI_OK) {
    ensi_galois_ntt_permutation(gk->permutation, g, n);
    for (size_t i = 0; i < ctx->q_count; i++)
      ensi_galois_apply_ntt(s_g + i * n, sk->ntt + i * n, gk->permutation, n);
    s = switching_key_generate(&gk->key, ctx, sk, s_g, &prng, max_level);
  }
  ensi_prng_clear(&prng);
  if (s_g)
    sodium_memzero(s_g, ctx->q_count * n * sizeof *s_g);
  free(s_g);
  if (s != ENSI_OK) {
    free(gk->permutation);
    gk->permutation = NULL;
  }
  return s;
}

/* Adds the Galois keys of elements[0 .. count) usable up to max_level, replacing keys usable only
 * lower and skipping those already usable as high. The keys are built in parallel, each from a
 * seed drawn from prng in order. */
static ensi_status add_galois_keys(ensi_eval_keys *keys, const ensi_context *ctx,
                                   const ensi_secret_key *sk, const uint64_t *elements,
                                   size_t count, ensi_prng *prng, size_t max_level) {
  uint64_t *todo = malloc((count ? count : 1) * sizeof *todo);
  if (!todo)
    return ENSI_ERR_NOMEM;
  size_t fresh = 0;
  for (size_t i = 0; i < count; i++) {
    const ensi_galois_key *existing = ensi_eval_keys_find(keys, elements[i]);
    bool listed = false;
    for (size_t j = 0; j < fresh && !listed; j++)
      listed = todo[j] == elements[i];
    if (listed || (existing && existing->key->max_level >= max_level))
      continue;
    if (existing) { /* usable only lower: removed, then made again */
      const size_t at = (size_t)(existing - keys->galois);
      free(keys->galois[at].permutation);
      switching_key_free(keys->galois[at].key);
      keys->galois[at] = keys->galois[--keys->galois_count];
    }
    todo[fresh++] = elements[i];
  }
  ensi_galois_key *grown = realloc(keys->galois, (keys->galois_count + fresh + 1) * sizeof *grown);
  uint8_t (*seeds)[32] = malloc((fresh ? fresh : 1) * sizeof *seeds);
  ensi_status status = grown && seeds ? ENSI_OK : ENSI_ERR_NOMEM;
  if (grown)
    keys->galois = grown;
  for (size_t i = 0; status == ENSI_OK && i < fresh; i++)
    draw_seed(prng, seeds[i]);
  ensi_galois_key *made = status == ENSI_OK ? keys->galois + keys->galois_count : NULL;
#pragma omp parallel for schedule(dynamic)
  for (size_t i = 0; i < fresh; i++) {
    if (!made)
      continue;
    const ensi_status s = galois_key_make(&made[i], ctx, sk, todo[i], seeds[i], max_level);
    if (s != ENSI_OK) {
#pragma omp critical
      status = s;
    }
  }
  if (made) { /* keep the keys that were made */
    for (size_t i = 0; i < fresh; i++)
      if (made[i].permutation)
        keys->galois[keys->galois_count++] = made[i];
  }
  if (seeds)
    sodium_memzero(seeds, (fresh ? fresh : 1) * sizeof *seeds);
  free(seeds);
  free(todo);
  return status;
}

static ensi_status add_relin_key(ensi_eval_keys *keys, const ensi_context *ctx,
                                 const ensi_secret_key *sk, ensi_prng *prng) {
  const size_t n = ctx->n;
  uint64_t *s2 = malloc(ctx->q_count * n * sizeof *s2);
  if (!s2)
    return ENSI_ERR_NOMEM;
  for (size_t i = 0; i < ctx->q_count; i++)
    for (size_t t = 0; t < n; t++)
      s2[i * n + t] = ensi_mul_mod(sk->ntt[i * n + t], sk->ntt[i * n + t], &ctx->moduli[i]);
  ensi_status s = switching_key_generate(&keys->relin, ctx, sk, s2, prng, ctx->q_count - 1);
  sodium_memzero(s2, ctx->q_count * n * sizeof *s2);
  free(s2);
  return s;
}

ensi_status ensi_eval_keys_add_rotations(ensi_eval_keys *keys, const ensi_context *ctx,
                                         const ensi_secret_key *sk, const long long *steps,
                                         size_t step_count, const uint8_t *seed) {
  return ctx ? ensi_eval_keys_add_rotations_up_to(keys, ctx, sk, steps, step_count,
                                                  ctx->q_count - 1, seed)
             : ensi_fail(ENSI_ERR_ARG, "rotation keys: bad argument");
}

ensi_status ensi_eval_keys_add_rotations_up_to(ensi_eval_keys *keys, const ensi_context *ctx,
                                               const ensi_secret_key *sk, const long long *steps,
                                               size_t step_count, size_t max_level,
                                               const uint8_t *seed) {
  if (!keys || !ctx || !sk || (step_count && !steps) || max_level >= ctx->q_count)
    return ensi_fail(ENSI_ERR_ARG, "rotation keys: bad argument");
  uint64_t *elements = malloc((step_count ? step_count : 1) * sizeof *elements);
  if (!elements)
    return ENSI_ERR_NOMEM;
  for (size_t i = 0; i < step_count; i++)
    elements[i] = ensi_galois_element_rotation(steps[i], ctx->n);
  ensi_prng prng;
  ensi_status s = ensi_prng_open(&prng, seed);
  if (s == ENSI_OK) {
    s = add_galois_keys(keys, ctx, sk, elements, step_count, &prng, max_level);
    ensi_prng_clear(&prng);
  }
  free(elements);
  return s;
}

ensi_status ensi_eval_keys_generate(ensi_eval_keys **out, const ensi_context *ctx,
                                    const ensi_secret_key *sk, bool relin, const long long *steps,
                                    size_t step_count, bool conjugation, const uint8_t *seed) {
  if (!out || !ctx || !sk || sk->n != ctx->n || (step_count && !steps))
    return ensi_fail(ENSI_ERR_ARG, "evaluation keys: bad argument");
  ensi_eval_keys *keys = calloc(1, sizeof *keys);
  if (!keys)
    return ENSI_ERR_NOMEM;
  ensi_prng prng;
  ensi_status s = ensi_prng_open(&prng, seed);
  if (s == ENSI_OK && relin)
    s = add_relin_key(keys, ctx, sk, &prng);
  uint64_t *elements = malloc((step_count + 1) * sizeof *elements);
  if (s == ENSI_OK && !elements)
    s = ENSI_ERR_NOMEM;
  for (size_t i = 0; s == ENSI_OK && i < step_count; i++)
    elements[i] = ensi_galois_element_rotation(steps[i], ctx->n);
  if (s == ENSI_OK && conjugation)
    elements[step_count] = ensi_galois_element_conjugation(ctx->n);
  if (s == ENSI_OK)
    s = add_galois_keys(keys, ctx, sk, elements, step_count + (conjugation ? 1 : 0), &prng,
                        ctx->q_count - 1);
  free(elements);
  ensi_prng_clear(&prng);
  if (s != ENSI_OK) {
    ensi_eval_keys_free(keys);
    return s;
  }
  *out = keys;
  return ENSI_OK;
}

const ensi_galois_key *ensi_eval_keys_find(const ensi_eval_keys *keys, uint64_t g) {
  for (size_t i = 0; keys && i < keys->galois_count; i++)
    if (keys->galois[i].element == g)
      return &keys->galois[i];
  return NULL;
}

bool ensi_eval_keys_has_rotation(const ensi_eval_keys *keys, const ensi_context *ctx,
                                 long long step) {
  return ensi_eval_keys_find(keys, ensi_galois_element_rotation(step, ctx->n)) != NULL;
}

ensi_status ensi_eval_keys_add_encapsulation(ensi_eval_keys *keys, const ensi_context *ctx,
                                             const ensi_secret_key *sk, size_t weight,
                                             const uint8_t *seed) {
  if (!keys || !ctx || !sk || weight == 0 || weight > ctx->n)
    return ensi_fail(ENSI_ERR_ARG, "encapsulation keys: bad argument");
  if (keys->to_sparse)
    return ENSI_OK;
  const size_t limbs = ctx->q_count + ctx->p_count;
  ensi_secret_key sparse = {ctx->n, limbs, calloc(limbs * ctx->n, sizeof(uint64_t)), calloc(ctx->n, 1)};
  ensi_prng prng;
  ensi_status s = sparse.ntt && sparse.coeffs ? ensi_prng_open(&prng, seed) : ENSI_ERR_NOMEM;
  if (s == ENSI_OK) {
    ensi_sample_ternary_hw(&prng, sparse.coeffs, ctx->n, weight);
    lift_small_ntt(ctx, sparse.ntt, sparse.coeffs, 0, limbs);
    s = switching_key_generate(&keys->to_sparse, ctx, &sparse, sk->ntt, &prng, 0);
    if (s == ENSI_OK)
      s = switching_key_generate(&keys->from_sparse, ctx, sk, sparse.ntt, &prng, ctx->q_count - 1);
    ensi_prng_clear(&prng);
  }
  if (sparse.ntt)
    sodium_memzero(sparse.ntt, limbs * ctx->n * sizeof(uint64_t));
  if (sparse.coeffs)
    sodium_memzero(sparse.coeffs, ctx->n);
  free(sparse.ntt);
  free(sparse.coeffs);
  if (s == ENSI_OK)
    keys->sparse_weight = weight;
  return s;
}

static size_t switching_key_bytes(const ensi_switching_key *key) {
  return key ? 2 * key->words * sizeof(uint64_t) : 0;
}

size_t ensi_eval_keys_bytes(const ensi_eval_keys *keys) {
  if (!keys)
    return 0;
  size_t bytes = switching_key_bytes(keys->relin) + switching_key_bytes(keys->to_sparse) +
                 switching_key_bytes(keys->from_sparse);
  for (size_t i = 0; i < keys->galois_count; i++)
    bytes += switching_key_bytes(keys->galois[i].key);
  return bytes;
}

void ensi_eval_keys_free(ensi_eval_keys *keys) {
  if (!keys)
    return;
  switching_key_free(keys->relin);
  switching_key_free(keys->to_sparse);
  switching_key_free(keys->from_sparse);
  for (size_t i = 0; i < keys->galois_count; i++) {
    free(keys->galois[i].permutation);
    switching_key_free(keys->galois[i].key);
  }
  free(keys->galois);
  free(keys);
}
