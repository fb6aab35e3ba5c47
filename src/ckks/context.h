/* The CKKS context: the parameter set plus every table precomputed from it.
 *
 * Moduli are indexed in one array: q_0 .. q_L (the chain Q, q_0 first) followed by the special
 * primes p_0 .. p_{K-1} (the basis P). Hybrid key switching cuts Q into dnum digits of
 * alpha = ceil((L + 1) / dnum) consecutive primes: digit j holds q_{j alpha} .. q_{min((j+1) alpha, L+1) - 1}. At level l a
 * digit is truncated to the primes <= l, so level l has ceil((l+1)/alpha) digits.
 *
 * For each level l and digit j the context keeps a base converter from the digit's primes to the
 * other primes of Q_l plus P (ModUp), and for each level one converter from P to Q_l (ModDown). */
#ifndef ENSI_CKKS_CONTEXT_H
#define ENSI_CKKS_CONTEXT_H

#include <ensi/ckks.h>

#include "math/modarith.h"
#include "math/ntt.h"
#include "math/rns.h"

struct ensi_context {
  ensi_params *params;          /* owned copy */
  size_t n;                     /* ring dimension N */
  unsigned log_n;
  size_t slots;                 /* default slot count of the parameters */
  size_t q_count;               /* L + 1 */
  size_t p_count;               /* K special primes */
  size_t alpha;                 /* primes per digit */
  size_t dnum;                  /* digits at the top level */
  ensi_modulus *moduli;         /* q_0..q_L, p_0..p_{K-1} */
  ensi_ntt_table **ntt;         /* one per modulus */
  /* key switching */
  ensi_base_converter ***mod_up;   /* [level][digit]: digit primes -> (Q_l \ digit) u P */
  ensi_base_converter **mod_down;  /* [level]: P -> Q_l */
  ensi_base_converter **mod_down_rescale; /* [level >= 1]: {q_l} u P -> Q_{l-1} (keyswitch.h) */
  uint64_t *p_inv_mod_q;           /* P^{-1} mod q_i */
  uint64_t *p_mod_q;               /* P mod q_i (gadget factor of the key) */
};

/* Number of key-switching digits at level l. */
static inline size_t ensi_context_digits(const ensi_context *ctx, size_t level) {
  return (level + ctx->alpha) / ctx->alpha;
}

/* Index of the first special prime in ctx->moduli. */
static inline size_t ensi_context_p_index(const ensi_context *ctx) { return ctx->q_count; }

#endif
