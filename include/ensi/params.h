/* CKKS parameter sets: a plain literal (Lattigo style) validated in one place.
 *
 * A literal names the ring dimension, the bit sizes of the primes of the modulus chain
 * Q = q_0 q_1 ... q_L (q_0 first, then one scaling prime per level), of the special primes P of
 * hybrid key switching, the number of key-switching digits dnum, the default scale 2^scale_bits,
 * and the secret distribution. ensi_params_create generates the primes deterministically (NTT
 * friendly, distinct, scaling primes alternating around 2^bits), computes log2(QP) from the
 * actual primes and checks it against the HomomorphicEncryption.org table for 128-bit classical
 * security with ternary secrets (N = 2^12: 109 bits, 2^13: 218, 2^14: 438, 2^15: 881, 2^16: 1747,
 * 2^17: 3523). A set above the bound, with a smaller ring, or with a sparse secret is refused with
 * ENSI_ERR_INSECURE unless the literal sets allow_insecure (test presets do, by name). */
#ifndef ENSI_PARAMS_H
#define ENSI_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ensi/status.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ENSI_MAX_PRIMES 64

typedef struct {
  unsigned log_n;         /* ring dimension N = 2^log_n, 10 .. 17 */
  int first_bits;         /* bits of q_0 */
  size_t levels;          /* number of scaling primes q_1 .. q_L */
  int scale_bits;         /* default scale 2^scale_bits; scaling primes default to this size */
  int level_bits[ENSI_MAX_PRIMES]; /* optional: bits of q_1 .. q_L (0 = scale_bits) */
  size_t special_count;   /* number of special primes */
  int special_bits;       /* bits of each special prime */
  size_t dnum;            /* key-switching digits (Q is cut into dnum groups) */
  size_t hamming_weight;  /* 0: uniform ternary secret; h > 0: exactly h nonzero coefficients */
  bool allow_insecure;    /* accept sets below 128-bit security (tests only) */
} ensi_params_literal;

typedef struct ensi_params ensi_params;

/* Fills *out with a named preset: "test-n10", "test-n12", "test-boot", "test-layer" (insecure, tests only),
 * "n15", "n16", "n16-boot" (128-bit; docs/PARAMETERS.md). ENSI_ERR_ARG for an unknown name. */
ensi_status ensi_params_preset(const char *name, ensi_params_literal *out);

/* Names of all presets, NULL-terminated. */
const char *const *ensi_params_preset_names(void);

ensi_status ensi_params_create(ensi_params **out, const ensi_params_literal *literal);
ensi_status ensi_params_clone(ensi_params **out, const ensi_params *params);
void ensi_params_free(ensi_params *params);

/* The 128-bit bound on log2(QP) for ring dimension 2^log_n (0 when below 2^12 or unknown). */
int ensi_params_max_log_qp(unsigned log_n);

const ensi_params_literal *ensi_params_literal_of(const ensi_params *p);
size_t ensi_params_n(const ensi_params *p);
size_t ensi_params_slots(const ensi_params *p);
size_t ensi_params_q_count(const ensi_params *p);  /* L + 1 */
uint64_t ensi_params_q(const ensi_params *p, size_t i);
size_t ensi_params_p_count(const ensi_params *p);
uint64_t ensi_params_p(const ensi_params *p, size_t i);
size_t ensi_params_dnum(const ensi_params *p);
double ensi_params_scale(const ensi_params *p);
size_t ensi_params_hamming_weight(const ensi_params *p);
double ensi_params_log_qp(const ensi_params *p);
bool ensi_params_is_secure(const ensi_params *p);

#ifdef __cplusplus
}
#endif
#endif
