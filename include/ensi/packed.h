/* Packed layout (docs/PACKED_LAYOUT.md): an s x d activation matrix in ceil(d / C) full-slot
 * ciphertexts ("packs") of C = N / (2 b) columns each (b: s rounded up to a power of two),
 * interleaved: column c of pack m sits at slots c + C t for the tokens t < s (the other slots
 * are zero). Against the paper's column layout it holds C times fewer ciphertexts, and its
 * ternary product is a masked-diagonal baby-step giant-step product instead of one ciphertext
 * addition per weight. */
#ifndef ENSI_PACKED_H
#define ENSI_PACKED_H

#include <ensi/ckks.h>
#include <ensi/model.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  size_t rows, cols;      /* s tokens x d features */
  size_t per_pack;        /* C: columns per pack */
  size_t pack_count;      /* ceil(cols / C) */
  ensi_ciphertext **pack; /* all at one level and scale */
} ensi_packed_matrix;

/* Encrypts x (rows x cols, row-major) into packs at `level` and `scale`. */
ensi_status ensi_packed_matrix_encrypt(ensi_packed_matrix **out, const ensi_context *ctx,
                                       const double *x, size_t rows, size_t cols, size_t level,
                                       double scale, const ensi_public_key *pk);
/* A matrix of zero packs (not encryptions: every pack is to be overwritten) at `level`. */
ensi_status ensi_packed_matrix_create(ensi_packed_matrix **out, const ensi_context *ctx,
                                      size_t rows, size_t cols, size_t level);
/* Decrypts into x (rows x cols, row-major). */
ensi_status ensi_packed_matrix_decrypt(const ensi_context *ctx, double *x,
                                       const ensi_packed_matrix *m, const ensi_secret_key *sk);
void ensi_packed_matrix_free(ensi_packed_matrix *m);

/* A ternary weight T (outputs x inputs, Y = X T^T) prepared for packed inputs of `rows` tokens at
 * `level` (>= 1): its diagonals in the compact form of docs/PACKED_LAYOUT.md. baby_steps: B, a
 * power of two dividing C (0: the count with the fewest NTTs in its rotations). */
typedef struct ensi_packed_pcmm ensi_packed_pcmm;
ensi_status ensi_packed_pcmm_create(ensi_packed_pcmm **out, const ensi_context *ctx,
                                    const ensi_ternary *w, size_t rows, size_t level,
                                    size_t baby_steps);
/* The same for any real weights (a ternary weight with factors folded in, rows or columns
 * permuted): weight(arg, r, c) for r < outputs, c < inputs; the product's cost does not depend on
 * the values, only on which diagonals have a nonzero entry. */
typedef double (*ensi_packed_weight_fn)(const void *arg, size_t row, size_t col);
ensi_status ensi_packed_pcmm_create_from(ensi_packed_pcmm **out, const ensi_context *ctx,
                                         size_t outputs, size_t inputs,
                                         ensi_packed_weight_fn weight, const void *arg,
                                         size_t rows, size_t level, size_t baby_steps);
/* The baby steps B that create picks for this shape when asked for 0 (0: a bad shape). */
size_t ensi_packed_pcmm_default_baby_steps(const ensi_context *ctx, size_t rows, size_t inputs,
                                           size_t outputs, size_t level);
void ensi_packed_pcmm_free(ensi_packed_pcmm *p);
/* The rotation steps the product needs keys for (at most 2 sqrt(C) + 2 of them), and whether
 * it also needs the conjugation key (more than one output pack: two output packs are computed
 * as the real and imaginary parts of one ciphertext and split by a conjugation). */
size_t ensi_packed_pcmm_rotations(const ensi_packed_pcmm *p, long long *steps, size_t max);
bool ensi_packed_pcmm_conjugates(const ensi_packed_pcmm *p);
/* The giant-step sums apply holds at once, in bytes: output packs are done in chunks that fit
 * (at least one pack a chunk; a smaller budget costs more passes over the rotated inputs, not
 * more arithmetic). */
#define ENSI_PACKED_PCMM_SUMS_BUDGET ((size_t)1 << 30)
void ensi_packed_pcmm_limit_memory(ensi_packed_pcmm *p, size_t bytes);
/* Y = X T^T on packs: one rescale (the output is one level below x, at x's scale); the scale
 * beta of the BitLinear is not applied. keys: the rotations of ensi_packed_pcmm_rotations and
 * the conjugation key when ensi_packed_pcmm_conjugates (ENSI_ERR_KEY_MISSING without them). */
ensi_status ensi_packed_pcmm_apply(const ensi_context *ctx, ensi_packed_matrix **out,
                                   const ensi_packed_pcmm *p, const ensi_packed_matrix *x,
                                   const ensi_eval_keys *keys);

/* The product in two steps, for several products of one input: the rotated inputs (the baby
 * steps, most of a product's key switching) computed once at the highest level among them, and
 * each product applied to them. A product applies to rotations of its input's geometry, its B,
 * a level at or above its own (rotating, then dropping primes, is dropping, then rotating) and
 * the wrapped copies (rotated by -C first) when ensi_packed_pcmm_wraps; its output is the one
 * of ensi_packed_pcmm_apply. In the layers: q, k and v share one input, the gate and the up
 * projection another. */
typedef struct ensi_packed_rotations ensi_packed_rotations;
ensi_status ensi_packed_rotations_compute(ensi_packed_rotations **out, const ensi_context *ctx,
                                          const ensi_packed_matrix *x, size_t level,
                                          size_t baby_steps, bool wrapped,
                                          const ensi_eval_keys *keys);
void ensi_packed_rotations_free(ensi_packed_rotations *r);
bool ensi_packed_pcmm_wraps(const ensi_packed_pcmm *p);
ensi_status ensi_packed_pcmm_apply_rotations(const ensi_context *ctx, ensi_packed_matrix **out,
                                             const ensi_packed_pcmm *p,
                                             const ensi_packed_rotations *r,
                                             const ensi_eval_keys *keys);

#ifdef __cplusplus
}
#endif

#endif
