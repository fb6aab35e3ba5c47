/* The CKKS scheme: context, keys, encryption and evaluation.
 *
 * A context holds a validated parameter set (ensi/params.h) and every precomputed table (NTT
 * twiddles, base-conversion constants for hybrid key switching). Ciphertexts and plaintexts live in
 * the NTT domain at a level l (l + 1 primes of the chain Q) with an exact scale (a double).
 * Key switching is hybrid: Q is cut into dnum digits of alpha primes and lifted to Q*P, where P is
 * the product of the special primes.
 *
 * Randomness: functions that sample take `seed`: NULL means fresh randomness from the OS CSPRNG
 * (libsodium); a 32-byte seed makes them deterministic, which is only for tests and known-answer
 * vectors. Secret material is zeroized when freed.
 *
 * Thread safety: a context and keys are read-only after creation and may be shared by threads;
 * each thread uses its own output objects. */
#ifndef ENSI_CKKS_H
#define ENSI_CKKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ensi/params.h>
#include <ensi/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ensi_context ensi_context;
typedef struct ensi_secret_key ensi_secret_key;
typedef struct ensi_public_key ensi_public_key;
typedef struct ensi_switching_key ensi_switching_key;
typedef struct ensi_eval_keys ensi_eval_keys;
typedef struct ensi_plaintext ensi_plaintext;
typedef struct ensi_ciphertext ensi_ciphertext;

/* ---- context ---------------------------------------------------------------------------- */
ensi_status ensi_context_create(ensi_context **out, const ensi_params *params);
void ensi_context_free(ensi_context *ctx);
const ensi_params *ensi_context_params(const ensi_context *ctx);
size_t ensi_context_max_level(const ensi_context *ctx);

/* ---- keys ------------------------------------------------------------------------------- */
ensi_status ensi_secret_key_generate(ensi_secret_key **out, const ensi_context *ctx,
                                     const uint8_t *seed);
void ensi_secret_key_free(ensi_secret_key *sk);

ensi_status ensi_public_key_generate(ensi_public_key **out, const ensi_context *ctx,
                                     const ensi_secret_key *sk, const uint8_t *seed);
void ensi_public_key_free(ensi_public_key *pk);

/* Evaluation keys: a relinearization key (when `relin`) and one Galois key per rotation step in
 * steps[0..step_count) (any integer; taken modulo the slot count N/2) and, when `conjugation`, a
 * key for complex conjugation. More rotation keys can be added later. */
ensi_status ensi_eval_keys_generate(ensi_eval_keys **out, const ensi_context *ctx,
                                    const ensi_secret_key *sk, bool relin, const long long *steps,
                                    size_t step_count, bool conjugation, const uint8_t *seed);
ensi_status ensi_eval_keys_add_rotations(ensi_eval_keys *keys, const ensi_context *ctx,
                                         const ensi_secret_key *sk, const long long *steps,
                                         size_t step_count, const uint8_t *seed);
/* Rotation keys usable only at levels 0 .. max_level: they store only those primes (and the digits
 * those levels use), a fraction of a full key's memory when max_level is low. A step that already
 * has a key usable at least that high is skipped; a shorter one is replaced. */
ensi_status ensi_eval_keys_add_rotations_up_to(ensi_eval_keys *keys, const ensi_context *ctx,
                                               const ensi_secret_key *sk, const long long *steps,
                                               size_t step_count, size_t max_level,
                                               const uint8_t *seed);
/* Keys for sparse-secret encapsulation in bootstrapping (Bossuat et al. 2022): switching from
 * the secret to a fresh ephemeral secret with `weight` nonzero coefficients at the lowest level
 * (modulus q_0 P only), and back at the top level. They keep ModRaise's overflow small with a
 * dense secret. */
ensi_status ensi_eval_keys_add_encapsulation(ensi_eval_keys *keys, const ensi_context *ctx,
                                             const ensi_secret_key *sk, size_t weight,
                                             const uint8_t *seed);
/* Bytes of memory held by the evaluation keys. */
size_t ensi_eval_keys_bytes(const ensi_eval_keys *keys);
bool ensi_eval_keys_has_rotation(const ensi_eval_keys *keys, const ensi_context *ctx, long long step);
void ensi_eval_keys_free(ensi_eval_keys *keys);

/* ---- plaintexts and ciphertexts ----------------------------------------------------------- */
ensi_status ensi_plaintext_create(ensi_plaintext **out, const ensi_context *ctx, size_t level);
void ensi_plaintext_free(ensi_plaintext *pt);
size_t ensi_plaintext_level(const ensi_plaintext *pt);
double ensi_plaintext_scale(const ensi_plaintext *pt);

/* Encodes values[0..count) (count a power of two <= N/2: the slot count; shorter vectors are
 * replicated by sparse packing) at the plaintext's level with the given scale. */
ensi_status ensi_encode_complex(const ensi_context *ctx, ensi_plaintext *pt, const double *re,
                                const double *im, size_t count, double scale);
ensi_status ensi_encode_real(const ensi_context *ctx, ensi_plaintext *pt, const double *values,
                             size_t count, double scale);
/* Decodes `count` slots (the slot count the plaintext was encoded with). im may be NULL. */
ensi_status ensi_decode(const ensi_context *ctx, double *re, double *im, size_t count,
                        const ensi_plaintext *pt);

ensi_status ensi_ciphertext_create(ensi_ciphertext **out, const ensi_context *ctx, size_t level);
void ensi_ciphertext_free(ensi_ciphertext *ct);
ensi_status ensi_ciphertext_copy(ensi_ciphertext *dst, const ensi_ciphertext *src);
size_t ensi_ciphertext_level(const ensi_ciphertext *ct);
double ensi_ciphertext_scale(const ensi_ciphertext *ct);
size_t ensi_ciphertext_slots(const ensi_ciphertext *ct);

/* ---- encryption ------------------------------------------------------------------------- */
ensi_status ensi_encrypt_pk(const ensi_context *ctx, ensi_ciphertext *out, const ensi_plaintext *pt,
                            const ensi_public_key *pk, const uint8_t *seed);
ensi_status ensi_encrypt_sk(const ensi_context *ctx, ensi_ciphertext *out, const ensi_plaintext *pt,
                            const ensi_secret_key *sk, const uint8_t *seed);
ensi_status ensi_decrypt(const ensi_context *ctx, ensi_plaintext *out, const ensi_ciphertext *ct,
                         const ensi_secret_key *sk);

/* ---- evaluation (out may alias an input unless stated) ------------------------------------ */
ensi_status ensi_add(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                     const ensi_ciphertext *b);
ensi_status ensi_sub(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                     const ensi_ciphertext *b);
ensi_status ensi_negate(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a);
ensi_status ensi_add_plain(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           const ensi_plaintext *b);
ensi_status ensi_add_const(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           double c);
/* out = a * b, degree 2 (relinearize before rotating or decrypting with ensi_decrypt). */
ensi_status ensi_mul(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                     const ensi_ciphertext *b);
ensi_status ensi_relinearize(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                             const ensi_eval_keys *keys);
/* out = a * b relinearized; the scale is the product of the scales (rescale afterwards). */
ensi_status ensi_mul_relin(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           const ensi_ciphertext *b, const ensi_eval_keys *keys);
/* ensi_relinearize then ensi_rescale in one step: the key switch's division by its special
 * modulus P and the rescale's by the last prime are one division by their product (fewer NTTs;
 * the rounding differs by a few units of the last place). A degree-1 input is only rescaled. */
ensi_status ensi_relinearize_rescale(const ensi_context *ctx, ensi_ciphertext *out,
                                     const ensi_ciphertext *a, const ensi_eval_keys *keys);
/* out = a * b relinearized and rescaled (ensi_relinearize_rescale). */
ensi_status ensi_mul_relin_rescale(const ensi_context *ctx, ensi_ciphertext *out,
                                   const ensi_ciphertext *a, const ensi_ciphertext *b,
                                   const ensi_eval_keys *keys);
ensi_status ensi_mul_plain(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           const ensi_plaintext *b);
/* acc += a * b in one pass (the inner loop of plaintext-matrix products): acc's scale must be
 * a's scale times b's; the result is at the lowest of the three levels. */
ensi_status ensi_mul_plain_add(const ensi_context *ctx, ensi_ciphertext *acc,
                               const ensi_ciphertext *a, const ensi_plaintext *b);
/* out = a[0] * b[0] + ... + a[count - 1] * b[count - 1] in one pass over out, reduced once per
 * group of products (the sum of a baby-step giant-step group): the same words as ensi_mul_plain
 * followed by ensi_mul_plain_add, faster. All a[k] of degree 1 and one scale, all b[k] of one
 * scale; out (at the lowest level of the inputs) must be none of the a[k]. */
ensi_status ensi_mul_plain_sum(const ensi_context *ctx, ensi_ciphertext *out,
                               const ensi_ciphertext *const *a, const ensi_plaintext *const *b,
                               size_t count);
/* out = a * c for a real constant, encoded at a scale equal to the current top prime so that a
 * following rescale returns exactly to a's scale. */
ensi_status ensi_mul_const(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           double c);
/* out = a * c with c encoded at scale `factor` (the integer round(c * factor) multiplies a):
 * the output scale is a's scale times factor, so a following rescale by q gives an exact,
 * chosen scale (factor = target * q / scale). No level is consumed before the rescale. */
ensi_status ensi_mul_const_scaled(const ensi_context *ctx, ensi_ciphertext *out,
                                  const ensi_ciphertext *a, double c, double factor);
/* Brings a to exactly `scale` (up to 2^-40 relative) at the cost of one level. */
ensi_status ensi_set_scale(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           double scale);
/* The prime q_level (the divisor of the next rescale at that level). */
double ensi_context_prime(const ensi_context *ctx, size_t level);
/* out = a * n for an integer n (no scale change, no level consumed). */
ensi_status ensi_mul_integer(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                             int64_t n);
/* Divides by the last prime of a's level, rounding; level - 1, scale / q_level. */
ensi_status ensi_rescale(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a);
/* Drops to a lower level without changing the scale. */
ensi_status ensi_drop_level(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                            size_t level);
ensi_status ensi_rotate(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                        long long step, const ensi_eval_keys *keys);
/* out = i * a on every slot: multiplication by the monomial X^(N/2), exact (no level, no
 * noise growth), because X^(N/2) evaluates to i at every root of the slot embedding. */
ensi_status ensi_mul_by_i(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a);
ensi_status ensi_conjugate(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           const ensi_eval_keys *keys);
/* Rotations of one input by several steps sharing one decomposition (hoisting). outs[i] receives
 * a rotated by steps[i]; outputs must not alias a. */
ensi_status ensi_rotate_hoisted(const ensi_context *ctx, ensi_ciphertext **outs,
                                const ensi_ciphertext *a, const long long *steps, size_t count,
                                const ensi_eval_keys *keys);

/* ---- operation counts -------------------------------------------------------------------- */
/* Process-wide totals since start-up (thread-safe); take differences around a computation. */
typedef struct {
  uint64_t add;       /* additions and subtractions (ciphertext, plaintext or constant) */
  uint64_t mul_plain; /* multiplications by a plaintext, a constant or an integer */
  uint64_t mul;       /* ciphertext x ciphertext tensor products */
  uint64_t keyswitch; /* key switches (relinearizations, rotations, conjugations) */
  uint64_t rotation;  /* rotations and conjugations */
  uint64_t rescale;
} ensi_op_counts;

void ensi_op_counts_get(ensi_op_counts *out);

#ifdef __cplusplus
}
#endif
#endif
