/* CKKS bootstrapping: refreshes a ciphertext at any level into one with the levels of
 * ensi_bootstrap_output_level(). The slots may be complex, so two ciphertexts of real slots can
 * share one bootstrap (ensi_bootstrap_pair).
 *
 * Pipeline (Cheon-Han-Kim-Kim-Song, Chen-Chillotti-Song, Han-Ki): ModRaise (the level-0
 * ciphertext read modulo the whole chain decrypts to m + q0 I), SubSum for sparse slots (keeps
 * the coefficients of the slot subring), CoeffsToSlots (the encoder's inverse DFT as a few BSGS
 * linear transforms, then real and imaginary parts split with a conjugation), EvalMod on each
 * part (x -> sin(2 pi x) / (2 pi) evaluated as a scaled cosine by a Chebyshev polynomial on
 * [-K, K] followed by double-angle steps), and SlotsToCoeffs (the DFT). With sparse slots
 * (2 n <= N/2 for n slots) both parts share one ciphertext of 2 n slots, [re | im], so EvalMod
 * runs once: the last CoeffsToSlots and first SlotsToCoeffs transforms work on 2 n slots
 * (src/boot/dft.h). The message must satisfy |m| << q0: the slot values times the input scale
 * should stay below about q0 / 2^11, which keeps sin(2 pi x) / (2 pi) within 2^-19.3 of x even
 * when the whole message sits in one coefficient (a constant vector).
 *
 * K bounds the integer part I after ModRaise and depends on the secret's Hamming weight h
 * (about 4-5 sqrt(h / 12) + 1 with high probability); sparse secrets keep it small. A dense
 * secret is handled by sparse-secret encapsulation: the level-0 ciphertext is switched to an
 * ephemeral sparse secret for ModRaise and switched back at the top level. */
#ifndef ENSI_BOOTSTRAP_H
#define ENSI_BOOTSTRAP_H

#include <ensi/ckks.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  size_t slots;          /* slot count of the inputs (a power of two <= N/2) */
  size_t cts_levels;     /* level budget of CoeffsToSlots */
  size_t stc_levels;     /* level budget of SlotsToCoeffs */
  double k_bound;        /* K: EvalMod's interval is [-K, K] */
  int cos_degree;        /* Chebyshev degree of the scaled cosine */
  int double_angles;     /* r: the cosine is evaluated at x / 2^r, then doubled r times */
  double input_scale;    /* scale of the ciphertexts to bootstrap (their message is m / scale) */
  size_t sparse_weight;  /* > 0: encapsulate with an ephemeral secret of this Hamming weight
                            (needs ensi_eval_keys_add_encapsulation with the same weight) */
} ensi_bootstrap_config;

typedef struct ensi_bootstrapper ensi_bootstrapper;

/* A configuration for the context's parameters and slot count (level budgets 3 and 3, K from the
 * secret's Hamming weight, degree and double angles for about 2^-30 EvalMod error, input scale
 * q0 / 2^11 for messages in [-1, 1]). */
ensi_status ensi_bootstrap_config_default(ensi_bootstrap_config *out, const ensi_context *ctx,
                                          size_t slots);

ensi_status ensi_bootstrapper_create(ensi_bootstrapper **out, const ensi_context *ctx,
                                     const ensi_bootstrap_config *config);
void ensi_bootstrapper_free(ensi_bootstrapper *bt);

/* The rotation steps whose Galois keys bootstrapping needs (plus conjugation and
 * relinearization). steps must have room for ensi_bootstrapper_rotation_count() entries. */
size_t ensi_bootstrapper_rotation_count(const ensi_bootstrapper *bt);
void ensi_bootstrapper_rotations(const ensi_bootstrapper *bt, long long *steps);

/* The configuration the bootstrapper was built with. */
const ensi_bootstrap_config *ensi_bootstrapper_config(const ensi_bootstrapper *bt);

/* levels[i] = the highest level at which step i of ensi_bootstrapper_rotations rotates, so that
 * its key can be made with ensi_eval_keys_add_rotations_up_to (SlotsToCoeffs rotates low). */
void ensi_bootstrapper_rotation_levels(const ensi_bootstrapper *bt, size_t *levels);

/* All the evaluation keys bootstrapping needs: relinearization, conjugation, each rotation key up
 * to the level it rotates at, and the encapsulation keys when the configuration uses them. */
ensi_status ensi_bootstrap_keys_generate(ensi_eval_keys **out, const ensi_context *ctx,
                                         const ensi_secret_key *sk, const ensi_bootstrapper *bt);

/* Levels left after bootstrapping. */
size_t ensi_bootstrap_output_level(const ensi_bootstrapper *bt);

/* out = a fresh encryption of in's slots at ensi_bootstrap_output_level(), with in's scale. */
ensi_status ensi_bootstrap(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *in,
                           const ensi_bootstrapper *bt, const ensi_eval_keys *keys);

/* The same with out's slots factor times in's (factor in [2^-20, 2^20]; it rides on EvalMod's
 * scales at no cost): a ciphertext whose scale is far from the primes can come back near them,
 * relabeled. */
ensi_status ensi_bootstrap_scaled(const ensi_context *ctx, ensi_ciphertext *out,
                                  const ensi_ciphertext *in, double factor,
                                  const ensi_bootstrapper *bt, const ensi_eval_keys *keys);

/* Two ciphertexts of real slots refreshed by one bootstrap: factor (in_re + i in_im) / 2 is
 * bootstrapped (the slots are complex anyway; the factor is in EvalMod's scales, at no cost), and
 * one conjugation at the output level separates the parts again: out_re = w + conj(w),
 * out_im = i (conj(w) - w), each factor times its input (1: unchanged). Both inputs at the input
 * scale, any levels; the outputs distinct, created at ensi_bootstrap_output_level() or above.
 * Each output also carries the other input's imaginary part (CKKS noise on real slots), and its
 * own imaginary part is cleared. About half the time of two bootstraps. */
ensi_status ensi_bootstrap_pair(const ensi_context *ctx, ensi_ciphertext *out_re,
                                ensi_ciphertext *out_im, const ensi_ciphertext *in_re,
                                const ensi_ciphertext *in_im, double factor,
                                const ensi_bootstrapper *bt, const ensi_eval_keys *keys);

#ifdef __cplusplus
}
#endif
#endif
