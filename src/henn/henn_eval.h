/* What the encrypted layers share while they run (internal to src/henn): the keys and the
 * bootstrapper, the layout (tokens, block, slots), the scale every matrix holds between
 * components, the polynomials, and the statistics. Also the small tools every component uses:
 * timing a component, encoding a plaintext vector, rotating by powers of two, and refreshing a
 * matrix that has run out of levels (pack, bootstrap, unpack: refresh.c). */
#ifndef ENSI_HENN_EVAL_H
#define ENSI_HENN_EVAL_H

#include <stdbool.h>
#include <stdint.h>

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
  double *sigmoid, *silu;         /* Chebyshev coefficients (ensi_forward_options degrees) */
  double *rsqrt[ENSI_NORM_KINDS];
  ensi_henn_stats *stats;
  int layer, layers;    /* for progress reports */
} henn_eval;

/* Levels a consumer of a matrix must have (need) and would like to have (ideal: enough to finish
 * its segment without a refresh). Everything above ideal is dropped first, because the cost of
 * every operation grows with the number of primes. */
typedef struct {
  size_t need, ideal;
} henn_levels;

/* Fills ev for a pass of `rows` tokens in blocks of `block` read with `slots` slots: the scales,
 * and the polynomials fitted to the setup's intervals. henn_eval_release frees them (also after a
 * failed prepare). The setup's keys are not needed here (the client prepares to encrypt without
 * them); henn_check_keys is for the passes that evaluate. */
ensi_status henn_eval_prepare(henn_eval *ev, const ensi_henn_setup *st, const ensi_model *model,
                              size_t rows, size_t block, size_t slots, ensi_henn_stats *stats);
void henn_eval_release(henn_eval *ev);
ensi_status henn_check_keys(const ensi_henn_setup *st);

/* Layers a pass runs: the setup's count, or all the model's (0 or more than it has). */
int henn_layer_count(const ensi_henn_setup *st, const ensi_model *model);
/* ENSI_ERR_LIMIT when the setup's stop callback asks to stop (checked between blocks). */
ensi_status henn_keep_going(const henn_eval *ev);
/* *out = the embeddings of tokens (count x hidden, row-major, new), checked against the
 * vocabulary: what the client encrypts in either layout. */
ensi_status henn_embed_tokens(const ensi_model *model, const int32_t *tokens, size_t count,
                              double **out);

/* ---- timing ----------------------------------------------------------------------------- */
typedef struct {
  double start;
  ensi_op_counts ops;
} henn_mark;

/* Reports `what` to the progress callback (if any). */
void henn_progress(const henn_eval *ev, const char *what);
/* Starts timing a component (reporting `what` when not NULL); henn_end charges it. Marks do not
 * nest: a component that calls others reports progress only. */
void henn_begin(const henn_eval *ev, henn_mark *mark, const char *what);
void henn_end(henn_eval *ev, ensi_henn_stage stage, const henn_mark *mark);

/* ---- small tools ------------------------------------------------------------------------ */
size_t henn_level(const ensi_enc_matrix *m);
double henn_prime(const henn_eval *ev, size_t level);

/* A plaintext of values[0 .. slots) at `level` and `scale`. */
ensi_status henn_plain(const henn_eval *ev, ensi_plaintext **out, const double *values,
                       size_t level, double scale);

/* n new ciphertexts at `level` in a new array (all or none), and their release. */
ensi_status henn_ciphertexts_new(const ensi_context *ctx, ensi_ciphertext ***out, size_t n,
                                 size_t level);
void henn_ciphertexts_free(ensi_ciphertext **cts, size_t n);

/* A slot vector: `value` on token slots first .. rows - 1, zero elsewhere. */
void henn_token_vector(const henn_eval *ev, double *values, size_t first, double value);

/* outs[j] = in rotated by j * step slots for j < count (step -1: shifted down by j), hoisted: the
 * rotations share one decomposition of in. outs[0] is a copy. */
ensi_status henn_rotations(const henn_eval *ev, ensi_ciphertext **outs, const ensi_ciphertext *in,
                           size_t count, long long step);

/* The baby-step size B of a baby-step giant-step split of `count` shifts (j = g B + b): the
 * smallest power of two with B^2 >= count. */
size_t henn_baby_steps(size_t count);

/* A new matrix of `cols` columns shaped like the layout (zero ciphertexts at `level`). */
ensi_status henn_matrix_new(const henn_eval *ev, ensi_enc_matrix **out, size_t cols, size_t level);

/* out = sum over i of a[i] * b[i] (tensor products accumulated in degree 2), relinearized and
 * rescaled once. */
ensi_status henn_dot(const henn_eval *ev, ensi_ciphertext *out, ensi_ciphertext *const *a,
                     ensi_ciphertext *const *b, size_t count);

/* ---- packing and refreshing (repack.c) ----------------------------------------------------- */
/* A function run on every packed ciphertext (a slot-wise function costs 1 / (n / b) of running it
 * on every column); it consumes `depth` levels and may leave any scale. */
typedef ensi_status (*henn_pack_fn)(henn_eval *ev, ensi_ciphertext *pack, void *arg);

/* The values (ev->slots of them) that unpacking multiplies column `column` of the matrix by, in
 * place of the plain token mask (which keeps the token slots at 1): a free place for a per-column
 * plaintext factor, since unpacking spends the level anyway. */
typedef void (*henn_unpack_mask_fn)(const henn_eval *ev, size_t column, double *values, void *arg);

typedef struct {
  bool bootstrap;        /* refresh the packs */
  henn_pack_fn fn;       /* NULL: none */
  void *arg;             /* for fn and mask */
  size_t depth;          /* levels fn consumes */
  size_t keep;           /* levels the unpacked columns must keep (the packs are dropped to
                            keep + 1 + depth first: fewer primes, cheaper rotations) */
  size_t partner_level;  /* SIZE_MAX: unpack to the working scale; else to the prime of the
                            level where a product with a working-scale partner at this level runs,
                            so that the product returns to the working scale */
  henn_unpack_mask_fn mask; /* NULL: the token mask for every column */
  ensi_henn_stage who;   /* the component that asked (for the statistics) */
} henn_repack_plan;

/* fresh[0 .. count) (count 1 or 2, made here at the bootstrapper's output level) = in's refreshed:
 * each read at the bootstrapper's input scale (its values / the bound), two of one scale in one
 * bootstrap (ensi_bootstrap_pair), and back at `scale` (the ratio rides on the bootstrap, free).
 * in is left as it was; timed and counted as bootstrapping. Both layouts refresh through this. */
ensi_status henn_bootstrap(henn_eval *ev, ensi_ciphertext **fresh, ensi_ciphertext *const *in,
                           size_t count, double scale);

/* Packs m's columns (n / b per ciphertext: rotations and additions, no level), bootstraps the
 * packs if asked, runs fn on each, and unpacks them back into m (rotations and a mask: 1 level). */
ensi_status henn_repack(henn_eval *ev, ensi_enc_matrix *m, const henn_repack_plan *plan);

/* Makes sure m has at least levels.need levels, refreshing it (henn_repack) when it has fewer;
 * a refreshed matrix keeps up to levels.ideal. */
ensi_status henn_ensure_levels(henn_eval *ev, ensi_enc_matrix *m, henn_levels levels,
                               ensi_henn_stage who);

/* ---- components ----------------------------------------------------------------------------- */
/* Drops m to at most `level` (no-op when it is lower). */
ensi_status henn_drop_to(const henn_eval *ev, ensi_enc_matrix *m, size_t level);

/* The center c of the layer's norm of `kind`: its polynomial evaluates sqrt(c) / sqrt(v) and the
 * 1 / sqrt(c) rides on gamma (rmsnorm.c). */
double henn_norm_center(const henn_eval *ev, ensi_norm_kind kind);

/* y[f] = RMSNorm(x) * gamma * folds[f] for f < nfold, with the levels `after` asks for (x is
 * refreshed in place when it has too few, and dropped in place when it has more than ideal). */
ensi_status henn_rmsnorm(henn_eval *ev, ensi_enc_matrix *x, ensi_norm_kind kind, const float *gamma,
                         const double *folds, size_t nfold, henn_levels after, ensi_enc_matrix **y);

/* *y = RMSNorm(*x) * gamma * fold for an x the caller no longer needs: when x must be refreshed
 * and fits one pack, the norm runs on the bootstrapped pack (one relinearization and log2(n / b)
 * rotations for all columns, gamma in the unpacking masks) and x's columns become y's (*x is set
 * to NULL); otherwise as henn_rmsnorm. */
ensi_status henn_rmsnorm_consume(henn_eval *ev, ensi_enc_matrix **x, ensi_norm_kind kind,
                                 const float *gamma, double fold, henn_levels after,
                                 ensi_enc_matrix **y);

/* Levels henn_attention needs in its input, and the levels that spare it refreshing the scores. */
henn_levels henn_attention_input_levels(const henn_eval *ev);

/* out = the attention block before o_proj on y = RMSNorm(x) * gamma * beta_v: projections,
 * RoPE, Q K^T, sigmoid, causal mask, S V. attention.c */
ensi_status henn_attention(henn_eval *ev, const ensi_model_config *c, const ensi_layer *l,
                           const ensi_enc_matrix *y, ensi_enc_matrix **out);

/* Levels the gate projection's input would like (SiLU(g) * u without a refresh). */
henn_levels henn_swiglu_input_levels(const henn_eval *ev);

/* h = SiLU(g) * u * u_ratio on the gate and up projections (refreshed when needed; u_ratio rides
 * on the unpacking of SiLU(g)). ffn.c */
ensi_status henn_swiglu(henn_eval *ev, ensi_enc_matrix *g, ensi_enc_matrix *u, double u_ratio,
                        ensi_enc_matrix **h);

/* Ternary product of the layer's weight, charged to the PCMM component. */
ensi_status henn_pcmm(henn_eval *ev, const ensi_enc_matrix *x, const ensi_ternary *w,
                      ensi_enc_matrix **y);

#endif
