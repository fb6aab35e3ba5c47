/* Payloads of parameters, keys, ciphertexts and plaintexts (see ensi/io.h and docs/FORMATS.md).
 * Loaders check every declared size against the bytes present before allocating, and every
 * residue against its prime. */
#include <ensi/io.h>

#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/large_alloc.h"
#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "ckks/galois.h"
#include "ckks/keys.h"
#include "io/container.h"

enum { FINGERPRINT_BYTES = 32, MAX_GALOIS_KEYS = 1 << 16 };

/* ---- parameters ------------------------------------------------------------------------- */

static void write_params(ensi_writer *w, const ensi_params *p) {
  const ensi_params_literal *lit = ensi_params_literal_of(p);
  ensi_write_u32(w, lit->log_n);
  ensi_write_u32(w, (uint32_t)lit->first_bits);
  ensi_write_u32(w, (uint32_t)lit->levels);
  ensi_write_u32(w, (uint32_t)lit->scale_bits);
  for (size_t i = 0; i < ENSI_MAX_PRIMES; i++)
    ensi_write_u8(w, (uint8_t)lit->level_bits[i]);
  ensi_write_u32(w, (uint32_t)lit->special_count);
  ensi_write_u32(w, (uint32_t)lit->special_bits);
  ensi_write_u32(w, (uint32_t)lit->dnum);
  ensi_write_u32(w, (uint32_t)lit->hamming_weight);
  ensi_write_u8(w, lit->allow_insecure);
  ensi_write_u32(w, (uint32_t)ensi_params_q_count(p));
  for (size_t i = 0; i < ensi_params_q_count(p); i++)
    ensi_write_u64(w, ensi_params_q(p, i));
  ensi_write_u32(w, (uint32_t)ensi_params_p_count(p));
  for (size_t i = 0; i < ensi_params_p_count(p); i++)
    ensi_write_u64(w, ensi_params_p(p, i));
}

ensi_status ensi_params_save(const ensi_params *params, uint8_t **out, size_t *length) {
  if (!params)
    return ensi_fail(ENSI_ERR_ARG, "params save: null argument");
  ensi_writer w;
  ensi_writer_init(&w);
  write_params(&w, params);
  ensi_status s = ensi_container_seal(out, length, ENSI_OBJECT_PARAMS, &w);
  ensi_writer_free(&w);
  return s;
}

ensi_status ensi_params_fingerprint(const ensi_params *params, uint8_t out[32]) {
  ensi_writer w;
  ensi_writer_init(&w);
  write_params(&w, params);
  if (w.failed) {
    ensi_writer_free(&w);
    return ENSI_ERR_NOMEM;
  }
  crypto_generichash(out, FINGERPRINT_BYTES, w.data, w.length, NULL, 0);
  ensi_writer_free(&w);
  return ENSI_OK;
}

/* Small fields are range-checked here; ensi_params_create validates the rest. */
static ensi_status read_literal(ensi_reader *r, ensi_params_literal *lit) {
  memset(lit, 0, sizeof *lit);
  lit->log_n = ensi_read_u32(r);
  lit->first_bits = (int)(ensi_read_u32(r) & 0xff);
  lit->levels = ensi_read_u32(r);
  lit->scale_bits = (int)(ensi_read_u32(r) & 0xff);
  for (size_t i = 0; i < ENSI_MAX_PRIMES; i++)
    lit->level_bits[i] = ensi_read_u8(r);
  lit->special_count = ensi_read_u32(r);
  lit->special_bits = (int)(ensi_read_u32(r) & 0xff);
  lit->dnum = ensi_read_u32(r);
  lit->hamming_weight = ensi_read_u32(r);
  const uint8_t insecure = ensi_read_u8(r);
  lit->allow_insecure = insecure != 0;
  if (r->failed || insecure > 1)
    return ensi_fail(ENSI_ERR_FORMAT, "params: truncated or malformed literal");
  for (size_t i = 0; i < ENSI_MAX_PRIMES; i++)
    if (lit->level_bits[i] && (lit->level_bits[i] < 20 || lit->level_bits[i] > 61))
      return ensi_fail(ENSI_ERR_FORMAT, "params: prime size %d out of range", lit->level_bits[i]);
  if (lit->first_bits < 20 || lit->first_bits > 61 || lit->special_bits < 20 || lit->special_bits > 61)
    return ensi_fail(ENSI_ERR_FORMAT, "params: prime sizes out of range");
  return ENSI_OK;
}

static ensi_status check_primes(ensi_reader *r, const ensi_params *p) {
  const uint32_t q_count = ensi_read_u32(r);
  if (q_count != ensi_params_q_count(p))
    return ensi_fail(ENSI_ERR_FORMAT, "params: %u primes in Q, the literal makes %zu", q_count,
                     ensi_params_q_count(p));
  for (size_t i = 0; i < q_count; i++)
    if (ensi_read_u64(r) != ensi_params_q(p, i))
      return ensi_fail(ENSI_ERR_FORMAT, "params: prime q_%zu does not match the literal", i);
  const uint32_t p_count = ensi_read_u32(r);
  if (p_count != ensi_params_p_count(p))
    return ensi_fail(ENSI_ERR_FORMAT, "params: %u special primes, the literal makes %zu", p_count,
                     ensi_params_p_count(p));
  for (size_t i = 0; i < p_count; i++)
    if (ensi_read_u64(r) != ensi_params_p(p, i))
      return ensi_fail(ENSI_ERR_FORMAT, "params: special prime %zu does not match", i);
  if (r->failed || ensi_reader_left(r))
    return ensi_fail(ENSI_ERR_FORMAT, "params: truncated or trailing bytes");
  return ENSI_OK;
}

ensi_status ensi_params_load(ensi_params **out, const uint8_t *data, size_t length,
                             bool allow_insecure) {
  if (!out)
    return ensi_fail(ENSI_ERR_ARG, "params load: null argument");
  ensi_reader r;
  ENSI_TRY(ensi_container_open(&r, data, length, ENSI_OBJECT_PARAMS));
  ensi_params_literal lit;
  ENSI_TRY(read_literal(&r, &lit));
  if (lit.allow_insecure && !allow_insecure)
    return ensi_fail(ENSI_ERR_INSECURE, "params: the file asks for insecure parameters");
  ensi_params *p;
  ENSI_TRY(ensi_params_create(&p, &lit));
  ensi_status s = check_primes(&r, p);
  if (s != ENSI_OK) {
    ensi_params_free(p);
    return s;
  }
  *out = p;
  return ENSI_OK;
}

/* ---- shared pieces ---------------------------------------------------------------------- */

/* A payload writer (payload_hint: its size when known, 0 otherwise) with the fingerprint. */
static ensi_status begin_sized(ensi_writer *w, const ensi_context *ctx, size_t payload_hint) {
  uint8_t fingerprint[FINGERPRINT_BYTES];
  ENSI_TRY(ensi_params_fingerprint(ensi_context_params(ctx), fingerprint));
  ensi_container_start(w, payload_hint);
  ensi_write_bytes(w, fingerprint, sizeof fingerprint);
  return ENSI_OK;
}

static ensi_status begin(ensi_writer *w, const ensi_context *ctx) {
  return begin_sized(w, ctx, 0);
}

static ensi_status finish(ensi_writer *w, ensi_object_type type, uint8_t **out, size_t *length) {
  return ensi_container_finish(w, type, out, length);
}

static ensi_status open_object(ensi_reader *r, const ensi_context *ctx, const uint8_t *data,
                               size_t length, ensi_object_type type) {
  if (!ctx)
    return ensi_fail(ENSI_ERR_ARG, "load: null context");
  ENSI_TRY(ensi_container_open(r, data, length, type));
  uint8_t stored[FINGERPRINT_BYTES], mine[FINGERPRINT_BYTES];
  ensi_read_bytes(r, stored, sizeof stored);
  ENSI_TRY(ensi_params_fingerprint(ensi_context_params(ctx), mine));
  if (r->failed)
    return ensi_fail(ENSI_ERR_FORMAT, "load: truncated fingerprint");
  if (memcmp(stored, mine, sizeof mine))
    return ensi_fail(ENSI_ERR_MISMATCH, "load: object made under other parameters");
  return ENSI_OK;
}

/* Reads count limbs of N residues, each limb modulo moduli[first_modulus + limb]. */
static ensi_status read_limbs(ensi_reader *r, const ensi_context *ctx, uint64_t *out,
                              size_t count, const size_t *modulus_of_limb) {
  const size_t n = ctx->n;
  if (count > ensi_reader_left(r) / 8 / n)
    return ensi_fail(ENSI_ERR_FORMAT, "load: %zu limbs declared, fewer bytes present", count);
  for (size_t i = 0; i < count; i++) {
    const uint64_t q = ctx->moduli[modulus_of_limb[i]].value;
    ensi_read_u64_array(r, out + i * n, n);
    for (size_t t = 0; t < n; t++)
      if (out[i * n + t] >= q)
        return ensi_fail(ENSI_ERR_FORMAT, "load: residue not below its prime (limb %zu)", i);
  }
  return r->failed ? ensi_fail(ENSI_ERR_FORMAT, "load: truncated") : ENSI_OK;
}

static ensi_status expect_end(const ensi_reader *r) {
  if (r->failed)
    return ensi_fail(ENSI_ERR_FORMAT, "load: truncated");
  if (ensi_reader_left(r))
    return ensi_fail(ENSI_ERR_FORMAT, "load: %zu trailing bytes", ensi_reader_left(r));
  return ENSI_OK;
}

/* limb i -> modulus i (Q limbs of a level) */
static size_t *identity_map(size_t count) {
  size_t *map = malloc((count ? count : 1) * sizeof *map);
  for (size_t i = 0; map && i < count; i++)
    map[i] = i;
  return map;
}

/* ---- ciphertexts and plaintexts ----------------------------------------------------------- */

static bool valid_slots(const ensi_context *ctx, uint64_t slots) {
  return slots >= 1 && slots <= ctx->n / 2 && (slots & (slots - 1)) == 0;
}

ensi_status ensi_ciphertext_save(const ensi_context *ctx, const ensi_ciphertext *ct, uint8_t **out,
                                 size_t *length) {
  if (!ctx || !ct || ct->n != ctx->n)
    return ensi_fail(ENSI_ERR_ARG, "ciphertext save: bad argument");
  ensi_writer w;
  ENSI_TRY(begin(&w, ctx));
  ensi_write_u32(&w, (uint32_t)ct->level);
  ensi_write_u32(&w, (uint32_t)ct->degree);
  ensi_write_u32(&w, (uint32_t)ct->slots);
  ensi_write_f64(&w, ct->scale);
  for (size_t k = 0; k <= ct->degree; k++)
    ensi_write_u64_array(&w, ensi_ct_poly(ct, k), (ct->level + 1) * ct->n);
  return finish(&w, ENSI_OBJECT_CIPHERTEXT, out, length);
}

ensi_status ensi_ciphertext_load(const ensi_context *ctx, ensi_ciphertext **out,
                                 const uint8_t *data, size_t length) {
  if (!out)
    return ensi_fail(ENSI_ERR_ARG, "ciphertext load: null argument");
  ensi_reader r;
  ENSI_TRY(open_object(&r, ctx, data, length, ENSI_OBJECT_CIPHERTEXT));
  const uint32_t level = ensi_read_u32(&r), degree = ensi_read_u32(&r), slots = ensi_read_u32(&r);
  const double scale = ensi_read_f64(&r);
  if (r.failed || level > ensi_context_max_level(ctx) || degree < 1 || degree > 2 ||
      !valid_slots(ctx, slots) || !isfinite(scale) || !(scale > 0))
    return ensi_fail(ENSI_ERR_FORMAT, "ciphertext: level %u, degree %u, %u slots or scale out of "
                     "range", level, degree, slots);
  if ((size_t)(degree + 1) * (level + 1) != ensi_reader_left(&r) / 8 / ctx->n ||
      ensi_reader_left(&r) % (8 * ctx->n))
    return ensi_fail(ENSI_ERR_FORMAT, "ciphertext: size does not match level and degree");
  ensi_ciphertext *ct;
  ENSI_TRY(ensi_ciphertext_create(&ct, ctx, level));
  size_t *map = identity_map(level + 1);
  ensi_status s = map ? ENSI_OK : ENSI_ERR_NOMEM;
  for (size_t k = 0; s == ENSI_OK && k <= degree; k++)
    s = read_limbs(&r, ctx, ensi_ct_poly(ct, k), level + 1, map);
  free(map);
  if (s == ENSI_OK)
    s = expect_end(&r);
  if (s != ENSI_OK) {
    ensi_ciphertext_free(ct);
    return s;
  }
  ct->degree = degree;
  ct->slots = slots;
  ct->scale = scale;
  *out = ct;
  return ENSI_OK;
}

ensi_status ensi_plaintext_save(const ensi_context *ctx, const ensi_plaintext *pt, uint8_t **out,
                                size_t *length) {
  if (!ctx || !pt || pt->n != ctx->n)
    return ensi_fail(ENSI_ERR_ARG, "plaintext save: bad argument");
  ensi_writer w;
  ENSI_TRY(begin(&w, ctx));
  ensi_write_u32(&w, (uint32_t)pt->level);
  ensi_write_u32(&w, (uint32_t)pt->slots);
  ensi_write_f64(&w, pt->scale);
  ensi_write_u64_array(&w, pt->data, (pt->level + 1) * pt->n);
  return finish(&w, ENSI_OBJECT_PLAINTEXT, out, length);
}

ensi_status ensi_plaintext_load(const ensi_context *ctx, ensi_plaintext **out,
                                const uint8_t *data, size_t length) {
  if (!out)
    return ensi_fail(ENSI_ERR_ARG, "plaintext load: null argument");
  ensi_reader r;
  ENSI_TRY(open_object(&r, ctx, data, length, ENSI_OBJECT_PLAINTEXT));
  const uint32_t level = ensi_read_u32(&r), slots = ensi_read_u32(&r);
  const double scale = ensi_read_f64(&r);
  if (r.failed || level > ensi_context_max_level(ctx) || !valid_slots(ctx, slots) ||
      !isfinite(scale) || !(scale > 0))
    return ensi_fail(ENSI_ERR_FORMAT, "plaintext: level %u, %u slots or scale out of range", level,
                     slots);
  if ((size_t)(level + 1) != ensi_reader_left(&r) / 8 / ctx->n || ensi_reader_left(&r) % (8 * ctx->n))
    return ensi_fail(ENSI_ERR_FORMAT, "plaintext: size does not match the level");
  ensi_plaintext *pt;
  ENSI_TRY(ensi_plaintext_create(&pt, ctx, level));
  size_t *map = identity_map(level + 1);
  ensi_status s = map ? read_limbs(&r, ctx, pt->data, level + 1, map) : ENSI_ERR_NOMEM;
  free(map);
  if (s == ENSI_OK)
    s = expect_end(&r);
  if (s != ENSI_OK) {
    ensi_plaintext_free(pt);
    return s;
  }
  pt->slots = slots;
  pt->scale = scale;
  *out = pt;
  return ENSI_OK;
}

/* ---- keys ------------------------------------------------------------------------------- */

ensi_status ensi_secret_key_save(const ensi_context *ctx, const ensi_secret_key *sk, uint8_t **out,
                                 size_t *length) {
  if (!ctx || !sk || sk->n != ctx->n)
    return ensi_fail(ENSI_ERR_ARG, "secret key save: bad argument");
  ensi_writer w;
  ENSI_TRY(begin(&w, ctx));
  ensi_write_bytes(&w, sk->coeffs, sk->n);
  ensi_status s = finish(&w, ENSI_OBJECT_SECRET_KEY, out, length);
  return s;
}

ensi_status ensi_secret_key_load(const ensi_context *ctx, ensi_secret_key **out,
                                 const uint8_t *data, size_t length) {
  if (!out)
    return ensi_fail(ENSI_ERR_ARG, "secret key load: null argument");
  ensi_reader r;
  ENSI_TRY(open_object(&r, ctx, data, length, ENSI_OBJECT_SECRET_KEY));
  if (ensi_reader_left(&r) != ctx->n)
    return ensi_fail(ENSI_ERR_FORMAT, "secret key: %zu coefficient bytes, expected %zu",
                     ensi_reader_left(&r), ctx->n);
  int8_t *coeffs = malloc(ctx->n);
  if (!coeffs)
    return ENSI_ERR_NOMEM;
  ensi_read_bytes(&r, coeffs, ctx->n);
  unsigned bad = 0;
  for (size_t t = 0; t < ctx->n; t++) /* no early exit: the scan does not depend on the key */
    bad |= (unsigned)(coeffs[t] + 1) > 2u;
  ensi_status s = bad ? ensi_fail(ENSI_ERR_FORMAT, "secret key: coefficient outside {-1, 0, 1}")
                      : ensi_secret_key_from_coeffs(out, ctx, coeffs);
  sodium_memzero(coeffs, ctx->n);
  free(coeffs);
  return s;
}

ensi_status ensi_public_key_save(const ensi_context *ctx, const ensi_public_key *pk, uint8_t **out,
                                 size_t *length) {
  if (!ctx || !pk)
    return ensi_fail(ENSI_ERR_ARG, "public key save: bad argument");
  ensi_writer w;
  ENSI_TRY(begin(&w, ctx));
  ensi_write_bytes(&w, pk->seed, sizeof pk->seed);
  ensi_write_u64_array(&w, pk->b, ctx->q_count * ctx->n);
  return finish(&w, ENSI_OBJECT_PUBLIC_KEY, out, length);
}

ensi_status ensi_public_key_load(const ensi_context *ctx, ensi_public_key **out,
                                 const uint8_t *data, size_t length) {
  if (!out)
    return ensi_fail(ENSI_ERR_ARG, "public key load: null argument");
  ensi_reader r;
  ENSI_TRY(open_object(&r, ctx, data, length, ENSI_OBJECT_PUBLIC_KEY));
  if (ensi_reader_left(&r) != 32 + 8 * ctx->q_count * ctx->n)
    return ensi_fail(ENSI_ERR_FORMAT, "public key: wrong size");
  ensi_public_key *pk = calloc(1, sizeof *pk);
  if (!pk)
    return ENSI_ERR_NOMEM;
  pk->a = ensi_large_alloc(ctx->q_count * ctx->n, sizeof *pk->a);
  pk->b = ensi_large_alloc(ctx->q_count * ctx->n, sizeof *pk->b);
  size_t *map = identity_map(ctx->q_count);
  ensi_status s = pk->a && pk->b && map ? ENSI_OK : ENSI_ERR_NOMEM;
  if (s == ENSI_OK) {
    ensi_read_bytes(&r, pk->seed, sizeof pk->seed);
    s = read_limbs(&r, ctx, pk->b, ctx->q_count, map);
  }
  if (s == ENSI_OK)
    s = expect_end(&r);
  free(map);
  if (s != ENSI_OK) {
    ensi_public_key_free(pk);
    return s;
  }
  ensi_expand_a(ctx, pk->a, pk->seed, 1, ctx->q_count, 0);
  *out = pk;
  return ENSI_OK;
}

static void write_switching_key(ensi_writer *w, const ensi_switching_key *key) {
  ensi_write_u32(w, (uint32_t)key->max_level);
  ensi_write_bytes(w, key->seed, sizeof key->seed);
  ensi_write_u32(w, (uint32_t)key->digits);
  ensi_write_u64_array(w, key->b, key->words);
}

/* Bytes of a serialized switching key usable up to max_level. */
static size_t switching_key_size(const ensi_context *ctx, size_t max_level) {
  return 4 + 32 + 4 + 8 * ensi_context_digits(ctx, max_level) * (max_level + 1 + ctx->p_count) * ctx->n;
}

/* Reads a switching key whose max_level must lie in [lowest, highest]. */
static ensi_status read_switching_key(ensi_reader *r, const ensi_context *ctx,
                                      ensi_switching_key **out, size_t lowest, size_t highest) {
  if (ensi_reader_left(r) < switching_key_size(ctx, 0))
    return ensi_fail(ENSI_ERR_FORMAT, "evaluation keys: truncated switching key");
  const uint32_t max_level = ensi_read_u32(r);
  uint8_t seed[32];
  ensi_read_bytes(r, seed, sizeof seed);
  const uint32_t digits = ensi_read_u32(r);
  if (max_level < lowest || max_level > highest || digits != ensi_context_digits(ctx, max_level))
    return ensi_fail(ENSI_ERR_FORMAT, "evaluation keys: switching key for level %u with %u digits "
                     "(expected levels %zu..%zu)", max_level, digits, lowest, highest);
  const size_t limbs = max_level + 1 + ctx->p_count, words = digits * limbs * ctx->n;
  if (ensi_reader_left(r) < 8 * words)
    return ensi_fail(ENSI_ERR_FORMAT, "evaluation keys: truncated switching key");
  ensi_switching_key *key = calloc(1, sizeof *key);
  if (!key)
    return ENSI_ERR_NOMEM;
  key->max_level = max_level;
  key->digits = digits;
  key->limbs = limbs;
  key->words = words;
  memcpy(key->seed, seed, sizeof seed);
  key->a = ensi_large_alloc(words, sizeof *key->a);
  key->b = ensi_large_alloc(words, sizeof *key->b);
  size_t *map = malloc(digits * limbs * sizeof *map);
  ensi_status s = key->a && key->b && map ? ENSI_OK : ENSI_ERR_NOMEM;
  for (size_t i = 0; s == ENSI_OK && i < digits * limbs; i++) { /* stored limb -> modulus */
    const size_t k = i % limbs;
    map[i] = k <= max_level ? k : ctx->q_count + (k - max_level - 1);
  }
  if (s == ENSI_OK)
    s = read_limbs(r, ctx, key->b, digits * limbs, map);
  free(map);
  if (s != ENSI_OK) {
    ensi_large_free(key->a);
    ensi_large_free(key->b);
    free(key);
    return s;
  }
  ensi_expand_a(ctx, key->a, key->seed, digits, max_level + 1, ctx->p_count);
  *out = key;
  return ENSI_OK;
}

ensi_status ensi_eval_keys_save(const ensi_context *ctx, const ensi_eval_keys *keys, uint8_t **out,
                                size_t *length) {
  if (!ctx || !keys)
    return ensi_fail(ENSI_ERR_ARG, "evaluation keys save: bad argument");
  size_t size = FINGERPRINT_BYTES + 1 + 1 + 4 + 4;
  if (keys->relin)
    size += switching_key_size(ctx, keys->relin->max_level);
  if (keys->to_sparse)
    size += switching_key_size(ctx, keys->to_sparse->max_level) +
            switching_key_size(ctx, keys->from_sparse->max_level);
  for (size_t i = 0; i < keys->galois_count; i++)
    size += 8 + switching_key_size(ctx, keys->galois[i].key->max_level);
  ensi_writer w;
  ENSI_TRY(begin_sized(&w, ctx, size));
  ensi_write_u8(&w, keys->relin != NULL);
  ensi_write_u8(&w, keys->to_sparse != NULL);
  ensi_write_u32(&w, (uint32_t)keys->sparse_weight);
  ensi_write_u32(&w, (uint32_t)keys->galois_count);
  if (keys->relin)
    write_switching_key(&w, keys->relin);
  if (keys->to_sparse) {
    write_switching_key(&w, keys->to_sparse);
    write_switching_key(&w, keys->from_sparse);
  }
  for (size_t i = 0; i < keys->galois_count; i++) {
    ensi_write_u64(&w, keys->galois[i].element);
    write_switching_key(&w, keys->galois[i].key);
  }
  return finish(&w, ENSI_OBJECT_EVAL_KEYS, out, length);
}

static ensi_status read_eval_keys(ensi_reader *r, const ensi_context *ctx, ensi_eval_keys *keys) {
  const uint8_t has_relin = ensi_read_u8(r), has_sparse = ensi_read_u8(r);
  const uint32_t weight = ensi_read_u32(r), galois = ensi_read_u32(r);
  if (r->failed || has_relin > 1 || has_sparse > 1 || galois > MAX_GALOIS_KEYS ||
      (has_sparse && (weight == 0 || weight > ctx->n)) || (!has_sparse && weight))
    return ensi_fail(ENSI_ERR_FORMAT, "evaluation keys: malformed header");
  const size_t declared = (size_t)has_relin + 2 * (size_t)has_sparse + galois;
  if (declared > ensi_reader_left(r) / switching_key_size(ctx, 0))
    return ensi_fail(ENSI_ERR_FORMAT, "evaluation keys: %zu keys declared, fewer present", declared);
  if (has_relin)
    ENSI_TRY(read_switching_key(r, ctx, &keys->relin, ctx->q_count - 1, ctx->q_count - 1));
  if (has_sparse) {
    ENSI_TRY(read_switching_key(r, ctx, &keys->to_sparse, 0, 0));
    ENSI_TRY(read_switching_key(r, ctx, &keys->from_sparse, ctx->q_count - 1, ctx->q_count - 1));
    keys->sparse_weight = weight;
  }
  keys->galois = calloc(galois ? galois : 1, sizeof *keys->galois);
  if (!keys->galois)
    return ENSI_ERR_NOMEM;
  for (size_t i = 0; i < galois; i++) {
    const uint64_t g = ensi_read_u64(r);
    if (!(g & 1) || g >= 2 * (uint64_t)ctx->n || ensi_eval_keys_find(keys, g))
      return ensi_fail(ENSI_ERR_FORMAT, "evaluation keys: bad or repeated Galois element %llu",
                       (unsigned long long)g);
    ensi_galois_key *gk = &keys->galois[keys->galois_count++]; /* freed with keys on failure */
    gk->element = g;
    gk->permutation = malloc(ctx->n * sizeof *gk->permutation);
    if (!gk->permutation)
      return ENSI_ERR_NOMEM;
    ensi_galois_ntt_permutation(gk->permutation, g, ctx->n);
    ENSI_TRY(read_switching_key(r, ctx, &gk->key, 0, ctx->q_count - 1));
  }
  return expect_end(r);
}

ensi_status ensi_eval_keys_load(const ensi_context *ctx, ensi_eval_keys **out,
                                const uint8_t *data, size_t length) {
  if (!out)
    return ensi_fail(ENSI_ERR_ARG, "evaluation keys load: null argument");
  ensi_reader r;
  ENSI_TRY(open_object(&r, ctx, data, length, ENSI_OBJECT_EVAL_KEYS));
  ensi_eval_keys *keys = calloc(1, sizeof *keys);
  if (!keys)
    return ENSI_ERR_NOMEM;
  ensi_status s = read_eval_keys(&r, ctx, keys);
  if (s != ENSI_OK) {
    ensi_eval_keys_free(keys);
    return s;
  }
  *out = keys;
  return ENSI_OK;
}
