/* Row sums by rotations, NEXUS's QuickSum, shared by its softmax and LayerNorm baselines: rows of
 * `width` values (a power of two) at pitch 2 width, the other half of each pitch zero. A copy of
 * each row beside it and window sums by doubling leave the row's sum in every slot of its row. */
#ifndef ENSI_HENN_ROW_SUMS_H
#define ENSI_HENN_ROW_SUMS_H

#include <ensi/ckks.h>

/* The rotation steps henn_row_sums uses: -width and 1, 2, .., width/2 (steps has room for 64);
 * returns their count. */
size_t henn_row_sum_rotations(size_t width, long long *steps);

/* x <- the row sums of x, in place. */
ensi_status henn_row_sums(const ensi_context *ctx, ensi_ciphertext *x, size_t width,
                          const ensi_eval_keys *keys);

#endif
