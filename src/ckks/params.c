/* Parameter literals, presets, prime generation and the 128-bit security check (ensi/params.h). */
#include <ensi/params.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "math/primes.h"

struct ensi_params {
  ensi_params_literal literal;
  size_t q_count, p_count;
  uint64_t q[ENSI_MAX_PRIMES], p[ENSI_MAX_PRIMES];
  double log_qp;
  bool secure;
};

/* HomomorphicEncryption.org standard, 128-bit classical security, ternary secret. */
int ensi_params_max_log_qp(unsigned log_n) {
  switch (log_n) {
  case 12: return 109;
  case 13: return 218;
  case 14: return 438;
  case 15: return 881;
  case 16: return 1747;
  case 17: return 3523;
  default: return 0;
  }
}

static const char *const preset_names[] = {"test-n10", "test-n12", "test-boot", "test-layer",
                                           "n15", "n16", "n16-boot", NULL};

/* 128-bit bootstrapping preset, dense ternary secret (bootstrapped with sparse-secret
 * encapsulation): N = 2^16, q0 = 60 bits, scale 2^40, 27 levels: 10 for the application x 40
 * bits, 3 SlotsToCoeffs x 45, 11 EvalMod x 60 (the cosine's own noise needs the large scales
 * for 20 bits at full slots), 3 CoeffsToSlots x 56; P = 6 x 51, dnum 6 (digits of at most 5
 * primes, 300 bits, below P's 306; primes below 2^51 take the IFMA kernels, which 61-bit ones
 * cannot). log2 QP = 1729 <= 1747. */
static void preset_n16_boot(ensi_params_literal *out) {
  *out = (ensi_params_literal){.log_n = 16, .first_bits = 60, .levels = 27, .scale_bits = 40,
                               .special_count = 6, .special_bits = 51, .dnum = 6};
  for (size_t level = 1; level <= out->levels; level++)
    out->level_bits[level - 1] = level <= 10 ? 40 : level <= 13 ? 45 : level <= 24 ? 60 : 56;
}

/* Insecure preset for the encrypted-layer tests: test-boot's bootstrapping levels with the
 * 10 application levels of n16-boot (45 bits each), so that a layer meets the level budget of the
 * 128-bit preset at N = 2^11. 29 levels, P = 2 x 61, digits of 2 primes. */
static void preset_test_layer(ensi_params_literal *out) {
  *out = (ensi_params_literal){.log_n = 11, .first_bits = 60, .levels = 29, .scale_bits = 45,
                               .special_count = 2, .special_bits = 61, .dnum = 15,
                               .hamming_weight = 32, .allow_insecure = true};
  for (size_t level = 1; level <= out->levels; level++)
    out->level_bits[level - 1] = level <= 10 ? 45 : level <= 13 ? 50 : 55;
}

/* Insecure bootstrapping preset for tests: N = 2^11, sparse secret h = 32, scale 2^45 with
 * q0 = 2^60 (so messages stay below q0 / 2^15), 21 levels: 2 for the application,
 * 3 SlotsToCoeffs x 50 bits, 13 EvalMod x 55, 3 CoeffsToSlots x 55; P = 2 x 61, digits of 2. */
static void preset_test_boot(ensi_params_literal *out) {
  *out = (ensi_params_literal){.log_n = 11, .first_bits = 60, .levels = 21, .scale_bits = 45,
                               .special_count = 2, .special_bits = 61, .dnum = 11,
                               .hamming_weight = 32, .allow_insecure = true};
  for (size_t level = 1; level <= out->levels; level++)
    out->level_bits[level - 1] = level <= 2 ? 45 : level <= 5 ? 50 : 55;
}

const char *const *ensi_params_preset_names(void) { return preset_names; }

ensi_status ensi_params_preset(const char *name, ensi_params_literal *out) {
  if (!name || !out)
    return ensi_fail(ENSI_ERR_ARG, "preset: null argument");
  memset(out, 0, sizeof *out);
  if (!strcmp(name, "test-n10") || !strcmp(name, "test-n12")) {
    /* insecure, for fast tests: 60 + 11 x 40 bits, P = 2 x 61, dnum 6 */
    *out = (ensi_params_literal){.log_n = !strcmp(name, "test-n10") ? 10 : 12, .first_bits = 60,
                                 .levels = 11, .scale_bits = 40, .special_count = 2,
                                 .special_bits = 61, .dnum = 6, .allow_insecure = true};
  } else if (!strcmp(name, "test-boot")) {
    preset_test_boot(out);
  } else if (!strcmp(name, "test-layer")) {
    preset_test_layer(out);
  } else if (!strcmp(name, "n16-boot")) {
    preset_n16_boot(out);
  } else if (!strcmp(name, "n15")) {
    /* 128-bit: 60 + 15 x 40 + P 3 x 60 = 840 <= 881 */
    *out = (ensi_params_literal){.log_n = 15, .first_bits = 60, .levels = 15, .scale_bits = 40,
                                 .special_count = 3, .special_bits = 60, .dnum = 6};
  } else if (!strcmp(name, "n16")) {
    /* 128-bit, the shape of OpenFHE's figures in shared/research: 25 primes (60 + 24 x 50),
     * dnum 3, P = 8 x 60; log QP = 1740 <= 1747 */
    *out = (ensi_params_literal){.log_n = 16, .first_bits = 60, .levels = 24, .scale_bits = 50,
                                 .special_count = 8, .special_bits = 60, .dnum = 3};
  } else {
    return ensi_fail(ENSI_ERR_ARG, "unknown preset '%s'", name);
  }
  return ENSI_OK;
}

static ensi_status check_literal(const ensi_params_literal *lit) {
  if (lit->log_n < 10 || lit->log_n > 17)
    return ensi_fail(ENSI_ERR_ARG, "params: log N = %u outside 10..17", lit->log_n);
  if (lit->levels + 1 > ENSI_MAX_PRIMES || lit->special_count == 0 ||
      lit->special_count > ENSI_MAX_PRIMES)
    return ensi_fail(ENSI_ERR_ARG, "params: %zu levels and %zu special primes out of range",
                     lit->levels, lit->special_count);
  if (lit->dnum == 0 || lit->dnum > lit->levels + 1)
    return ensi_fail(ENSI_ERR_ARG, "params: dnum %zu must be in 1..%zu", lit->dnum,
                     lit->levels + 1);
  if (lit->scale_bits < 20 || lit->scale_bits > 60)
    return ensi_fail(ENSI_ERR_ARG, "params: scale 2^%d outside 2^20..2^60", lit->scale_bits);
  if (lit->hamming_weight > ((size_t)1 << lit->log_n))
    return ensi_fail(ENSI_ERR_ARG, "params: Hamming weight %zu above N", lit->hamming_weight);
  return ENSI_OK;
}

static int level_bits(const ensi_params_literal *lit, size_t level) {
  return lit->level_bits[level - 1] ? lit->level_bits[level - 1] : lit->scale_bits;
}

/* q_0, then the scaling primes grouped by size, then P; all distinct. */
static ensi_status generate_primes(ensi_params *p) {
  const ensi_params_literal *lit = &p->literal;
  const uint64_t two_n = (uint64_t)2 << lit->log_n;
  uint64_t used[2 * ENSI_MAX_PRIMES];
  size_t used_count = 0;
  ENSI_TRY(ensi_primes_near(&p->q[0], 1, lit->first_bits, two_n, NULL, 0));
  used[used_count++] = p->q[0];
  for (size_t level = 1; level <= lit->levels; level++) {
    const int bits = level_bits(lit, level);
    ENSI_TRY(ensi_primes_near(&p->q[level], 1, bits, two_n, used, used_count));
    used[used_count++] = p->q[level];
  }
  for (size_t k = 0; k < lit->special_count; k++) {
    ENSI_TRY(ensi_primes_below(&p->p[k], 1, lit->special_bits, two_n, used, used_count));
    used[used_count++] = p->p[k];
  }
  return ENSI_OK;
}

/* Hybrid key switching multiplies its rounding error by (digit modulus) / P: P must be at
 * least as large as every digit. */
static ensi_status check_digits(const ensi_params *p) {
  const size_t alpha = (p->q_count + p->literal.dnum - 1) / p->literal.dnum;
  double log_p = 0;
  for (size_t k = 0; k < p->p_count; k++)
    log_p += log2((double)p->p[k]);
  for (size_t begin = 0; begin < p->q_count; begin += alpha) {
    double log_digit = 0;
    for (size_t i = begin; i < begin + alpha && i < p->q_count; i++)
      log_digit += log2((double)p->q[i]);
    if (log_digit > log_p)
      return ensi_fail(ENSI_ERR_ARG, "params: key-switching digit of %.1f bits exceeds P = %.1f "
                       "bits; raise dnum or the special primes", log_digit, log_p);
  }
  return ENSI_OK;
}

ensi_status ensi_params_create(ensi_params **out, const ensi_params_literal *lit) {
  if (!out || !lit)
    return ensi_fail(ENSI_ERR_ARG, "params: null argument");
  ENSI_TRY(check_literal(lit));
  ensi_params *p = calloc(1, sizeof *p);
  if (!p)
    return ENSI_ERR_NOMEM;
  p->literal = *lit;
  p->q_count = lit->levels + 1;
  p->p_count = lit->special_count;
  ensi_status s = generate_primes(p);
  if (s != ENSI_OK) {
    free(p);
    return s;
  }
  s = check_digits(p);
  if (s != ENSI_OK) {
    free(p);
    return s;
  }
  for (size_t i = 0; i < p->q_count; i++)
    p->log_qp += log2((double)p->q[i]);
  for (size_t i = 0; i < p->p_count; i++)
    p->log_qp += log2((double)p->p[i]);
  const int bound = ensi_params_max_log_qp(lit->log_n);
  p->secure = bound > 0 && p->log_qp <= bound && lit->hamming_weight == 0;
  if (!p->secure && !lit->allow_insecure) {
    const double log_qp = p->log_qp;
    free(p);
    if (lit->hamming_weight)
      return ensi_fail(ENSI_ERR_INSECURE, "params: a sparse secret (h = %zu) is not covered by "
                       "the 128-bit table", lit->hamming_weight);
    return ensi_fail(ENSI_ERR_INSECURE, "params: log2(QP) = %.1f exceeds the 128-bit bound %d "
                     "for N = 2^%u", log_qp, bound, lit->log_n);
  }
  *out = p;
  return ENSI_OK;
}

ensi_status ensi_params_clone(ensi_params **out, const ensi_params *params) {
  if (!out || !params)
    return ensi_fail(ENSI_ERR_ARG, "params: null argument");
  ensi_params *p = malloc(sizeof *p);
  if (!p)
    return ENSI_ERR_NOMEM;
  memcpy(p, params, sizeof *p);
  *out = p;
  return ENSI_OK;
}

void ensi_params_free(ensi_params *p) { free(p); }

const ensi_params_literal *ensi_params_literal_of(const ensi_params *p) { return &p->literal; }
size_t ensi_params_n(const ensi_params *p) { return (size_t)1 << p->literal.log_n; }
size_t ensi_params_slots(const ensi_params *p) { return ensi_params_n(p) / 2; }
size_t ensi_params_q_count(const ensi_params *p) { return p->q_count; }
uint64_t ensi_params_q(const ensi_params *p, size_t i) { return i < p->q_count ? p->q[i] : 0; }
size_t ensi_params_p_count(const ensi_params *p) { return p->p_count; }
uint64_t ensi_params_p(const ensi_params *p, size_t i) { return i < p->p_count ? p->p[i] : 0; }
size_t ensi_params_dnum(const ensi_params *p) { return p->literal.dnum; }
double ensi_params_scale(const ensi_params *p) { return ldexp(1.0, p->literal.scale_bits); }
size_t ensi_params_hamming_weight(const ensi_params *p) { return p->literal.hamming_weight; }
double ensi_params_log_qp(const ensi_params *p) { return p->log_qp; }
bool ensi_params_is_secure(const ensi_params *p) { return p->secure; }
