/* Internal constructor of encrypted matrices shared by the encrypted layers. */
#ifndef ENSI_HENN_MATRIX_INTERNAL_H
#define ENSI_HENN_MATRIX_INTERNAL_H

#include <ensi/henn.h>

/* The token block b of `rows` tokens: the power of two at least rows (and at least 2). */
size_t ensi_henn_block(size_t rows);

/* rows x cols of fresh zero ciphertexts at `level`, with token block `block` (0: b of rows; else a
 * power of two >= that) read with `slots` slots (0: 2 block). */
ensi_status ensi_enc_matrix_create(ensi_enc_matrix **out, const ensi_context *ctx, size_t rows,
                                   size_t cols, size_t block, size_t slots, size_t level);

/* ensi_enc_matrix_encrypt with the token block given (0: b of rows). */
ensi_status ensi_enc_matrix_encrypt_block(ensi_enc_matrix **out, const ensi_context *ctx,
                                          const double *x, size_t rows, size_t cols, size_t block,
                                          size_t slots, size_t level, double scale,
                                          const ensi_public_key *pk);

#endif
