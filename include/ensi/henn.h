/* Encrypted layers of the ENSI method (src/henn). This first part holds the column-encoded
 * activation matrix and the addition-only ternary matrix product; attention, RMSNorm with embedded
 * bootstrapping and the model driver follow (issue 6).
 *
 * Column encoding: an s x d activation matrix X (s tokens, d features) is d ciphertexts;
 * ciphertext j holds column j, X[0..s, j], in s slots (sparse packing; s is rounded up to a power
 * of two and the padding rows are zero). Every layer keeps this layout, so a nonlinear function can
 * follow a matrix product with no repacking. */
#ifndef ENSI_HENN_H
#define ENSI_HENN_H

#include <ensi/ckks.h>
#include <ensi/model.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  size_t rows, cols;        /* s tokens x d features */
  size_t slots;             /* power of two >= rows */
  ensi_ciphertext **column; /* cols ciphertexts */
} ensi_enc_matrix;

/* Encrypts x (rows x cols, row-major) column by column at `level` and `scale`. */
ensi_status ensi_enc_matrix_encrypt(ensi_enc_matrix **out, const ensi_context *ctx,
                                    const double *x, size_t rows, size_t cols, size_t level,
                                    double scale, const ensi_public_key *pk);
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

#ifdef __cplusplus
}
#endif
#endif
