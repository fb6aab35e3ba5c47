/* Encrypted layers of the ENSI method (src/henn): the column-encoded activation matrix, the
 * addition-only ternary matrix product, and the whole encrypted forward pass of a BitNet model
 * (RoPE, sigmoid attention, RMSNorm with embedded bootstrapping, SwiGLU FFN, residuals).
 *
 * Column encoding: an s x d activation matrix X (s tokens, d features) is d ciphertexts;
 * ciphertext j holds column j. Every ciphertext is read with the same slot count n (a power of
 * two, the bootstrapper's slot count); column j sits in slots 0 .. s-1 and every other slot is
 * zero. The zeros are what make the layout cheap: a causal shift of a column is one rotation (the
 * slots it shifts in are already zero), and n / b columns (b: s rounded up to a power of two)
 * pack into one ciphertext for bootstrapping by rotations and additions alone. Every layer keeps
 * this layout, so a nonlinear function can follow a matrix product with no repacking. */
#ifndef ENSI_HENN_H
#define ENSI_HENN_H

#include <ensi/bootstrap.h>
#include <ensi/ckks.h>
#include <ensi/model.h>
#include <ensi/polynomial.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  size_t rows, cols;        /* s tokens x d features */
  size_t block;             /* b: rows rounded up to a power of two */
  size_t slots;             /* n: slot count of every column ciphertext, a power of two >= 2 b */
  ensi_ciphertext **column; /* cols ciphertexts, all at one level and scale */
} ensi_enc_matrix;

/* Encrypts x (rows x cols, row-major) column by column at `level` and `scale`, read with `slots`
 * slots (0: 2 b). */
ensi_status ensi_enc_matrix_encrypt(ensi_enc_matrix **out, const ensi_context *ctx,
                                    const double *x, size_t rows, size_t cols, size_t slots,
                                    size_t level, double scale, const ensi_public_key *pk);
/* Decrypts into x (rows x cols, row-major). */
ensi_status ensi_enc_matrix_decrypt(const ensi_context *ctx, double *x, const ensi_enc_matrix *m,
                                    const ensi_secret_key *sk);
void ensi_enc_matrix_free(ensi_enc_matrix *m);

/* Ternary PCMM, addition-only: Y = X T^T, i.e. for every output feature k,
 *   Y[:, k] = sum over T[k][j] = +1 of X[:, j] - sum over T[k][j] = -1 of X[:, j].
 * No rotation, no multiplication, no level consumed; the scale beta of the BitLinear is NOT
 * applied (it is folded into a later multiplication). Output columns run in parallel. */
ensi_status ensi_ternary_pcmm(const ensi_context *ctx, ensi_enc_matrix **out,
                              const ensi_enc_matrix *x, const ensi_ternary *w);

/* How the ternary PCMM forms its sums; all give the same ciphertexts bit for bit. */
typedef enum {
  ENSI_PCMM_AUTO,        /* whichever of the two below needs fewer ciphertext additions */
  ENSI_PCMM_PLAIN_SUMS,  /* every nonzero weight one addition or subtraction (the paper's) */
  ENSI_PCMM_LOOKUP_SUMS  /* per group of three inputs, its 27 signed sums (13 and their
                            negations) built once per tile and one of them added per output
                            column: about 2x fewer additions */
} ensi_pcmm_sums;

/* ensi_ternary_pcmm with the sums chosen (ensi_ternary_pcmm is ENSI_PCMM_AUTO). */
ensi_status ensi_ternary_pcmm_with(const ensi_context *ctx, ensi_enc_matrix **out,
                                   const ensi_enc_matrix *x, const ensi_ternary *w,
                                   ensi_pcmm_sums how);

/* ---- the encrypted forward pass ---------------------------------------------------------- */

/* Components of the breakdown. */
typedef enum {
  ENSI_STAGE_PCMM,      /* ternary products */
  ENSI_STAGE_ROPE,
  ENSI_STAGE_CCMM,      /* Q K^T and S V */
  ENSI_STAGE_SIGMOID,   /* the attention's logistic polynomial */
  ENSI_STAGE_RMSNORM,   /* mean square, inverse square root, scaling */
  ENSI_STAGE_FFN_ACT,   /* SiLU(gate) * up */
  ENSI_STAGE_PACKING,   /* packing columns for bootstrapping and unpacking them */
  ENSI_STAGE_BOOTSTRAP,
  ENSI_STAGE_RESIDUAL,
  ENSI_STAGE_COUNT
} ensi_henn_stage;

const char *ensi_henn_stage_name(ensi_henn_stage stage);

typedef struct {
  double seconds[ENSI_STAGE_COUNT];
  ensi_op_counts ops[ENSI_STAGE_COUNT]; /* CKKS operations run inside each component */
  size_t bootstraps;                    /* bootstraps run (each refreshes one or two packs) */
  size_t refreshed_packs;               /* packs refreshed (two share a bootstrap) */
  size_t refreshes[ENSI_STAGE_COUNT];   /* refreshed matrices, by the component that needed them */
} ensi_henn_stats;

typedef struct {
  const ensi_context *ctx;
  const ensi_eval_keys *keys;        /* relinearization, ensi_henn_rotation_steps, bootstrapping */
  const ensi_bootstrapper *boot;     /* NULL: no refresh (fails when levels run out) */
  const ensi_bootstrap_config *boot_config; /* when boot is NULL: the configuration of the
                                        server's bootstrapper, all a client needs to encrypt
                                        (slot count and input scale) without building one */
  ensi_forward_options approx;       /* the polynomials: attention ENSI_ATTENTION_SIGMOID_POLY,
                                        silu_degree > 0, rsqrt_degree[] > 0 (their intervals) */
  double bound;                      /* a power of two >= every |value| that may be refreshed
                                        (ensi_forward_ranges.max_abs, with a margin) */
  int layers;                        /* layers to run (0: all) */
  size_t block;                      /* token block of the layout (0: the prompt's token count
                                        rounded up to a power of two); keys made for S tokens
                                        (ensi_henn_keys_generate) serve every prompt of at most S
                                        tokens when block is that of S */
  void (*progress)(void *user, int layer, int layers, const char *what);
  bool (*stop)(void *user);          /* polled before each attention and FFN block (with
                                        progress_user): true ends the pass with ENSI_ERR_LIMIT */
  void *progress_user;
} ensi_henn_setup;

/* The polynomial degrees of the encrypted path, chosen for 10 levels after bootstrapping (9 after
 * unpacking; a norm takes 2 besides its polynomial): the logistic function of the attention and
 * of SiLU at degree 15 (6 levels); 1/sqrt at degree 7 in the input norm (5 levels, which leaves
 * RoPE and Q K^T their 2), 15 in the post-attention norm (6: the up projection keeps the 1 level
 * of its product) and 31 in the inner and FFN norms (7). Sets the attention to
 * ENSI_ATTENTION_SIGMOID_POLY; the intervals stay as they are. */
void ensi_henn_default_degrees(ensi_forward_options *approx);

/* Calibration, done once per model and sequence length by whoever runs the server (no client
 * data): runs the plaintext reference with the polynomial surrogates on `prompts` random token
 * sequences of `count` tokens, and sets the intervals of approx (sigmoid: the measured scores
 * with a margin, never narrower than the paper's [-10, 11]; SiLU's logistic: the measured gate
 * values widened by a quarter of their width; inverse square root: the measured mean squares
 * halved and doubled) and *bound (the next power of two above 1.25 times the largest |value|
 * that may be refreshed). The degrees are taken from approx as given. A prompt that leaves these
 * ranges drives a polynomial outside its interval, where it grows without bound: the client sees
 * values far outside the model's range (ensi run reports it); more prompts give safer ranges. */
ensi_status ensi_henn_calibrate(const ensi_model *model, size_t count, size_t prompts,
                                uint64_t seed, ensi_forward_options *approx, double *bound);

/* A slot count for bootstrapping this model's matrices: the widest matrix (hidden or FFN
 * columns) of `rows` tokens in one ciphertext where N allows (at most N/2, at least twice the
 * token block). */
size_t ensi_henn_default_slots(const ensi_context *ctx, const ensi_model_config *c, size_t rows);

/* The client's evaluation keys for the server: relinearization, the layers' rotations, the
 * bootstrapper's rotations and conjugation, and the encapsulation keys when the bootstrapper
 * uses them (boot may be NULL: no bootstrapping; slots is then the layout's slot count). */
ensi_status ensi_henn_keys_generate(ensi_eval_keys **out, const ensi_context *ctx,
                                    const ensi_secret_key *sk, const ensi_bootstrapper *boot,
                                    size_t slots, size_t rows);

/* The slot count of the column ciphertexts under this setup (the bootstrapper's; without one,
 * twice the token block of `rows` tokens). */
size_t ensi_henn_slots(const ensi_henn_setup *setup, size_t rows);

/* The scale the client encrypts at: the bootstrapper's input scale divided by the bound, so that
 * refreshing a matrix is a change of bookkeeping and no multiplication. */
double ensi_henn_input_scale(const ensi_henn_setup *setup);

/* Longest token block (sequence length rounded up to a power of two) of the encrypted path. */
#define ENSI_HENN_MAX_BLOCK 1024

/* Room for the rotation steps of ensi_henn_rotation_steps. */
#define ENSI_HENN_MAX_ROTATIONS (ENSI_HENN_MAX_BLOCK + 512)

/* The rotation steps the layers use for `slots`-slot ciphertexts and `rows` tokens
 * (bootstrapping's not included), for a token block of b slots and C = slots / b columns per
 * pack: the attention's shifts t = g B' + j in baby steps -j (0 < j < B', B' about sqrt(b)) and
 * giant steps -g B' and +g B', -2^k b for packing (2^k < C), and unpacking's baby steps -j b
 * (0 < j < B, B about sqrt(C)) and giant steps -g B b. steps has room
 * for ENSI_HENN_MAX_ROTATIONS entries; returns the count. */
size_t ensi_henn_rotation_steps(size_t slots, size_t rows, long long *steps);

/* The client's side: embeds tokens and encrypts the s x hidden matrix, at the level the first
 * layer can use (the top level when it can use them all). */
ensi_status ensi_henn_encrypt_tokens(ensi_enc_matrix **out, const ensi_henn_setup *setup,
                                     const ensi_model *model, const int32_t *tokens, size_t count,
                                     const ensi_public_key *pk);

/* The server's side: runs the layers on x in place; x ends as the encrypted last hidden states
 * (before the final norm, which the client applies with the LM head: ensi_lm_head). x must be
 * what ensi_henn_encrypt_tokens makes under the same setup (its slots, block, level and scale;
 * ENSI_ERR_MISMATCH for another level or scale). stats (may be NULL) receives the breakdown. */
ensi_status ensi_henn_forward(const ensi_henn_setup *setup, const ensi_model *model,
                              ensi_enc_matrix *x, ensi_henn_stats *stats);

/* One RMSNorm of the encrypted layers on its own: y = RMSNorm(x) * gamma with the polynomial of
 * `kind` and `layer` as setup calibrated it, bootstrapping x first (pack, refresh, unpack: the
 * embedded bootstrapping) when it has too few levels for the norm and the levels_after that must
 * remain. x (model hidden columns) may be refreshed in place. For benchmarks and tests of the norm. */
ensi_status ensi_henn_rmsnorm(const ensi_henn_setup *setup, const ensi_model *model,
                              ensi_enc_matrix *x, ensi_norm_kind kind, int layer,
                              const float *gamma, size_t levels_after, ensi_enc_matrix **y,
                              ensi_henn_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
