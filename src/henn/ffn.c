/* The SwiGLU nonlinearity on column-encoded ciphertexts: h = SiLU(g) * u with SiLU(g) = g s(g),
 * s the reference's Chebyshev polynomial of the logistic function on its interval (no -ln s bias:
 * that belongs to the attention only). g and u arrive with their betas already applied (the post
 * attention RMSNorm produced one input per projection).
 * Levels: the polynomial F, then two products: g needs F + 2 levels and u one. */
#include <stdlib.h>

#include "base/error.h"
#include "henn/henn_eval.h"

/* h_j = (s(g_j) g_j) u_j. s lands at scale q_m q_sig / working so that s g lands at q_m, the
 * prime of the level m where the product with u runs, and h at the working scale. */
static ensi_status silu_column(henn_eval *ev, ensi_ciphertext *h, const ensi_ciphertext *g,
                               const ensi_ciphertext *u, size_t depth) {
  const ensi_forward_options *o = &ev->setup->approx;
  const size_t sig_level = ensi_ciphertext_level(g) - depth;
  const size_t a_level = sig_level - 1, u_level = ensi_ciphertext_level(u);
  const size_t m = a_level < u_level ? a_level : u_level;
  const double sig_scale = henn_prime(ev, m) * henn_prime(ev, sig_level) / ev->work_scale;
  ENSI_TRY(ensi_eval_chebyshev(ev->ctx, h, g, ev->silu, o->silu_degree, o->silu_lo, o->silu_hi,
                               sig_scale, ev->keys));
  ENSI_TRY(ensi_mul_relin(ev->ctx, h, h, g, ev->keys));
  ENSI_TRY(ensi_rescale(ev->ctx, h, h));
  ENSI_TRY(ensi_mul_relin(ev->ctx, h, h, u, ev->keys));
  return ensi_rescale(ev->ctx, h, h);
}

ensi_status henn_swiglu(henn_eval *ev, ensi_enc_matrix *g, ensi_enc_matrix *u, ensi_enc_matrix **h) {
  const ensi_forward_options *o = &ev->setup->approx;
  const size_t depth = ensi_chebyshev_depth(o->silu_degree, o->silu_lo, o->silu_hi);
  *h = NULL;
  ENSI_TRY(henn_ensure_levels(ev, g, depth + 2, ENSI_STAGE_FFN_ACT));
  ENSI_TRY(henn_ensure_levels(ev, u, 1, ENSI_STAGE_FFN_ACT));
  henn_mark mark;
  henn_begin(ev, &mark, "SiLU(gate) * up");
  ensi_status status = henn_matrix_new(ev, h, g->cols, henn_level(g));
  if (status == ENSI_OK) {
#pragma omp parallel for schedule(dynamic)
    for (size_t j = 0; j < g->cols; j++) {
      if (status != ENSI_OK)
        continue;
      const ensi_status s = silu_column(ev, (*h)->column[j], g->column[j], u->column[j], depth);
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
