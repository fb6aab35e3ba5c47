/* Row sums by rotations (see row_sums.h). */
#include "henn/row_sums.h"

#include "base/error.h"

size_t henn_row_sum_rotations(size_t width, long long *steps) {
  size_t count = 0;
  steps[count++] = -(long long)width;
  for (size_t t = 1; t < width && count < 64; t *= 2)
    steps[count++] = (long long)t;
  return count;
}

ensi_status henn_row_sums(const ensi_context *ctx, ensi_ciphertext *x, size_t width,
                          const ensi_eval_keys *keys) {
  ensi_ciphertext *shifted = NULL;
  ENSI_TRY(ensi_ciphertext_create(&shifted, ctx, ensi_ciphertext_level(x)));
  ensi_status st = ensi_rotate(ctx, shifted, x, -(long long)width, keys);
  if (st == ENSI_OK)
    st = ensi_add(ctx, x, x, shifted);
  for (size_t t = 1; st == ENSI_OK && t < width; t *= 2) {
    st = ensi_rotate(ctx, shifted, x, (long long)t, keys);
    if (st == ENSI_OK)
      st = ensi_add(ctx, x, x, shifted);
  }
  ensi_ciphertext_free(shifted);
  return st;
}
