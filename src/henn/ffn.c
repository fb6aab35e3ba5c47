/* The SwiGLU nonlinearity on column-encoded ciphertexts: h = SiLU(g) * u with SiLU(g) = g s(g),
 * s the reference's Chebyshev polynomial of the logistic function on its interval (no -ln s bias:
 * that belongs to the attention only). g arrives with its beta applied; u comes from the same
 * normed input, so it carries the gate's beta, and the ratio of the betas rides on the mask that
 * unpacking SiLU(g) multiplies by anyway. SiLU is slot-wise, so it runs once per pack of gate
 * columns (bootstrapped first when the levels are short), not once per column.
 * Levels of g: the polynomial F, the product with g 1, unpacking 1, the product with u 1. */
#include <stdint.h>
#include <stdlib.h>

#include "base/error.h"
#include "henn/henn_eval.h"

static size_t silu_depth(const henn_eval *ev) {
  const ensi_forward_options *o = &ev->setup->approx;
  return ensi_chebyshev_depth(o->silu_degree, o->silu_lo, o->silu_hi);
}

henn_levels henn_swiglu_input_levels(const henn_eval *ev) {
  return (henn_levels){0, silu_depth(ev) + 3};
}

/* pack = pack * s(pack): s lands at the prime of its level so that the product returns to the
 * pack's scale. */
static ensi_status silu_pack(henn_eval *ev, ensi_ciphertext *pack, void *unused) {
  (void)unused;
  const ensi_forward_options *o = &ev->setup->approx;
  const size_t sig_level = ensi_ciphertext_level(pack) - silu_depth(ev);
  ensi_ciphertext *sig = NULL;
  ensi_status s = ensi_ciphertext_create(&sig, ev->ctx, sig_level);
  if (s == ENSI_OK)
    s = ensi_eval_chebyshev(ev->ctx, sig, pack, ev->silu, o->silu_degree, o->silu_lo, o->silu_hi,
                            henn_prime(ev, sig_level), ev->keys);
  if (s == ENSI_OK)
    s = ensi_mul_relin_rescale(ev->ctx, pack, sig, pack, ev->keys);
  ensi_ciphertext_free(sig);
  return s;
}

/* Unpacking's mask: the token slots times u's correction. */
static void ratio_mask(const henn_eval *ev, size_t column, double *values, void *arg) {
  (void)column;
  henn_token_vector(ev, values, 0, *(const double *)arg);
}

ensi_status henn_swiglu(henn_eval *ev, ensi_enc_matrix *g, ensi_enc_matrix *u, double u_ratio,
                        ensi_enc_matrix **h) {
  const size_t depth = silu_depth(ev);
  *h = NULL;
  ENSI_TRY(henn_ensure_levels(ev, u, (henn_levels){1, 1}, ENSI_STAGE_FFN_ACT));
  henn_progress(ev, "SiLU(gate) * up");
  const henn_repack_plan plan = {.bootstrap = henn_level(g) < depth + 3, .fn = silu_pack,
                                 .arg = &u_ratio, .depth = depth + 1, .keep = 1,
                                 .partner_level = henn_level(u), .mask = ratio_mask,
                                 .who = ENSI_STAGE_FFN_ACT};
  ENSI_TRY(henn_repack(ev, g, &plan)); /* g now holds SiLU(g), at the product's prime */
  henn_mark mark;
  henn_begin(ev, &mark, NULL);
  ensi_status status = henn_matrix_new(ev, h, g->cols, henn_level(g));
  if (status == ENSI_OK) {
#pragma omp parallel for schedule(dynamic)
    for (size_t j = 0; j < g->cols; j++) {
      if (status != ENSI_OK)
        continue;
      ensi_ciphertext *out = (*h)->column[j];
      ensi_status s = ensi_mul_relin_rescale(ev->ctx, out, g->column[j], u->column[j], ev->keys);
      if (s != ENSI_OK) {
#pragma omp critical
        status = s;
      }
    }
  }
  henn_end(ev, ENSI_STAGE_FFN_ACT, &mark);
  if (status != ENSI_OK) {
    ensi_enc_matrix_free(*h);
    *h = NULL;
  }
  return status;
}
