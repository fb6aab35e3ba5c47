/* The diagonal method for a plaintext matrix times packed ciphertext rows (see ensi/baselines.h):
 * the n x n block-diagonal matrix diag(W, W, ...) with blocks of pitch D has nonzero diagonals only
 * for offsets -(D - 1) .. D - 1, i.e. slots k in [0, D) and (n - D, n); the BSGS linear transform
 * of ensi/linear_transform.h evaluates them. */
#include <ensi/baselines.h>

#include <stdlib.h>

#include <ensi/linear_transform.h>

#include "base/error.h"

struct ensi_diagonal_pcmm {
  ensi_linear_transform *transform;
  size_t pitch;
};

static size_t pitch_of(size_t rows, size_t cols) {
  size_t d = 1;
  while (d < rows || d < cols)
    d *= 2;
  return d;
}

/* Diagonal k (offset o = k or k - n): d_k[a] = W[u][u + o] for a = r D + u inside the rows. */
static void fill_diagonal(double *diag, const double *w, size_t rows, size_t cols, size_t pitch,
                          size_t slots, long long offset) {
  for (size_t a = 0; a < slots; a++) {
    const long long u = (long long)(a % pitch), v = u + offset;
    diag[a] = u < (long long)rows && v >= 0 && v < (long long)cols ? w[u * cols + (size_t)v] : 0;
  }
}

ensi_status ensi_diagonal_pcmm_create(ensi_diagonal_pcmm **out, const ensi_context *ctx,
                                      const double *w, size_t rows, size_t cols, size_t slots,
                                      size_t level) {
  const size_t pitch = pitch_of(rows, cols);
  if (!out || !ctx || !w || rows == 0 || cols == 0 || slots < pitch || level == 0)
    return ensi_fail(ENSI_ERR_ARG, "diagonal pcmm: %zu x %zu weights in %zu slots at level %zu",
                     rows, cols, slots, level);
  const size_t count = 2 * pitch - 1;
  size_t *indices = malloc(count * sizeof *indices);
  double **diagonals = calloc(count, sizeof *diagonals);
  double *values = malloc(count * slots * sizeof *values);
  ensi_diagonal_pcmm *p = calloc(1, sizeof *p);
  ensi_status s = indices && diagonals && values && p ? ENSI_OK : ENSI_ERR_NOMEM;
  for (size_t i = 0; s == ENSI_OK && i < count; i++) {
    const long long offset = (long long)i - (long long)(pitch - 1);
    indices[i] = offset >= 0 ? (size_t)offset : slots - (size_t)(-offset);
    diagonals[i] = values + i * slots;
    fill_diagonal(diagonals[i], w, rows, cols, pitch, slots, offset);
  }
  if (s == ENSI_OK)
    s = ensi_linear_transform_create(&p->transform, ctx, slots, indices,
                                     (const double *const *)diagonals, NULL, count, level,
                                     ensi_context_prime(ctx, level), 0);
  free(indices);
  free(diagonals);
  free(values);
  if (s != ENSI_OK) {
    ensi_diagonal_pcmm_free(p);
    return s;
  }
  p->pitch = pitch;
  *out = p;
  return ENSI_OK;
}

void ensi_diagonal_pcmm_rotations(const ensi_diagonal_pcmm *p, long long *steps, size_t *count) {
  ensi_linear_transform_rotations(p->transform, steps, count);
}

ensi_status ensi_diagonal_pcmm_apply(const ensi_context *ctx, ensi_ciphertext *out,
                                     const ensi_diagonal_pcmm *p, const ensi_ciphertext *in,
                                     const ensi_eval_keys *keys) {
  if (!ctx || !out || !p || !in)
    return ensi_fail(ENSI_ERR_ARG, "diagonal pcmm: null argument");
  ENSI_TRY(ensi_linear_transform_apply(ctx, out, p->transform, in, keys));
  return ensi_rescale(ctx, out, out);
}

size_t ensi_diagonal_pcmm_pitch(const ensi_diagonal_pcmm *p) { return p->pitch; }

void ensi_diagonal_pcmm_free(ensi_diagonal_pcmm *p) {
  if (!p)
    return;
  ensi_linear_transform_free(p->transform);
  free(p);
}
