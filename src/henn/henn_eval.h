/* What the encrypted layers share while they run (internal to src/henn): the keys and the
 * bootstrapper, the layout (tokens, block, slots), the scale every matrix holds between
 * components, the polynomials, and the statistics. Also the small tools every component uses:
 * timing a component, encoding a plaintext vector, rotating by powers of two, and refreshing a
 * matrix that has run out of levels (pack, bootstrap, unpack: refresh.c). */
#ifndef ENSI_HENN_EVAL_H
#define ENSI_HENN_EVAL_H

#include <ensi/henn.h>

typedef struct {
  const ensi_henn_setup *setup;
  const ensi_context *ctx;
  const ensi_eval_keys *keys;
  size_t rows;          /* tokens */
  size_t block;         /* b: rows rounded up to a power of two */
  size_t slots;         /* n: slots of every ciphertext */
  double work_scale;    /* scale of every matrix between components */
  double boot_scale;    /* the bootstrapper's input scale (= work_scale * bound) */
  double eps;           /* RMSNorm's epsilon */
  double *sigmoid, *silu, *rsqrt; /* Chebyshev coefficients (ensi_forward_options degrees) */
  ensi_henn_stats *stats;
  int layer;            /* for progress reports */
} henn_eval;

/* ---- timing ----------------------------------------------------------------------------- */
typedef struct {
  double start;
  ensi_op_counts ops;
} henn_mark;

void henn_begin(const henn_eval *ev, henn_mark *mark, const char *what);
void henn_end(henn_eval *ev, ensi_henn_stage stage, const henn_mark *mark);

/* ---- small tools ------------------------------------------------------------------------ */
size_t henn_level(const ensi_enc_matrix *m);
double henn_prime(const henn_eval *ev, size_t level);

/* A plaintext of values[0 .. slots) at `level` and `scale`. */
ensi_status henn_plain(const henn_eval *ev, ensi_plaintext **out, const double *values,
                       size_t level, double scale);

/* A slot vector: `value` on token slots first .. rows - 1, zero elsewhere. */
void henn_token_vector(const henn_eval *ev, double *values, size_t first, double value);

/* outs[j] = in rotated by -j * unit (a power of two) for j < count, by doubling: each output is
 * one rotation of an earlier one, so only the keys -2^k are needed. outs[0] is a copy. */
ensi_status henn_shifts(const henn_eval *ev, ensi_ciphertext **outs, const ensi_ciphertext *in,
                        size_t unit, size_t count);

/* A new matrix of `cols` columns shaped like the layout (zero ciphertexts at `level`). */
ensi_status henn_matrix_new(const henn_eval *ev, ensi_enc_matrix **out, size_t cols, size_t level);

/* out = sum over i of a[i] * b[i] (tensor products accumulated in degree 2), relinearized and
 * rescaled once. */
ensi_status henn_dot(const henn_eval *ev, ensi_ciphertext *out, ensi_ciphertext *const *a,
                     ensi_ciphertext *const *b, size_t count);

/* ---- refreshing (refresh.c) --------------------------------------------------------------- */
/* Makes sure m has at least `need` levels: if not, packs its columns (n / b per ciphertext),
 * bootstraps the packs and unpacks them, at the working scale. `who` is the component charged. */
ensi_status henn_ensure_levels(henn_eval *ev, ensi_enc_matrix *m, size_t need, ensi_henn_stage who);

/* ---- components ----------------------------------------------------------------------------- */
/* y[f] = RMSNorm(x) * gamma * folds[f] for f < nfold, with at least need_after levels left
 * (refreshing x in place first when it has too few). rmsnorm.c */
ensi_status henn_rmsnorm(henn_eval *ev, ensi_enc_matrix *x, const float *gamma,
                         const double *folds, size_t nfold, size_t need_after, ensi_enc_matrix **y);

/* Levels henn_attention needs in its input. */
size_t henn_attention_input_levels(void);

/* out = the attention block before o_proj on y = RMSNorm(x) * gamma * beta_v: projections,
 * RoPE, Q K^T, sigmoid, causal mask, S V. attention.c */
ensi_status henn_attention(henn_eval *ev, const ensi_model_config *c, const ensi_layer *l,
                           const ensi_enc_matrix *y, ensi_enc_matrix **out);

/* h = SiLU(g) * u on the gate and up projections (refreshed when needed). ffn.c */
ensi_status henn_swiglu(henn_eval *ev, ensi_enc_matrix *g, ensi_enc_matrix *u, ensi_enc_matrix **h);

/* Ternary product of the layer's weight, charged to the PCMM component. */
ensi_status henn_pcmm(henn_eval *ev, const ensi_enc_matrix *x, const ensi_ternary *w,
                      ensi_enc_matrix **y);

#endif
