/* Factored homomorphic DFTs for bootstrapping (see dft.h). Matrices are kept as maps from
 * diagonal offsets to vectors: (A B)_(a+b) += d^A_a * rot_a(d^B_b), rot_a(v)[k] = v[k + a]. */
#include "boot/dft.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "ckks/fft.h"

typedef struct {
  size_t n;
  double complex **diag; /* diag[offset], NULL when zero */
} diag_matrix;

static ensi_status matrix_init(diag_matrix *m, size_t n) {
  m->n = n;
  m->diag = calloc(n, sizeof *m->diag);
  return m->diag ? ENSI_OK : ENSI_ERR_NOMEM;
}

static void matrix_free(diag_matrix *m) {
  for (size_t i = 0; m->diag && i < m->n; i++)
    free(m->diag[i]);
  free(m->diag);
  m->diag = NULL;
}

static double complex *diagonal(diag_matrix *m, size_t offset) {
  if (!m->diag[offset])
    m->diag[offset] = calloc(m->n, sizeof **m->diag);
  return m->diag[offset];
}

/* One butterfly stage of block length len, decoding (FFT) or encoding (inverse FFT). */
static ensi_status stage(diag_matrix *m, size_t n, size_t len, ensi_dft_direction direction) {
  ENSI_TRY(matrix_init(m, n));
  const size_t h = len / 2;
  double complex *d0 = diagonal(m, 0), *up = diagonal(m, h), *down = diagonal(m, (n - h) % n);
  if (!d0 || !up || !down)
    return ENSI_ERR_NOMEM;
  for (size_t block = 0; block < n; block += len)
    for (size_t j = 0; j < h; j++) {
      const double complex w = ensi_special_fft_twiddle(j, len);
      const size_t top = block + j, bottom = block + j + h;
      if (direction == ENSI_DFT_SLOTS_TO_COEFFS) { /* x' = x + w y, y' = x - w y */
        d0[top] += 1.0;
        up[top] += w;
        down[bottom] += 1.0;
        d0[bottom] += -w;
      } else { /* x' = (x + y) / 2, y' = (x - y) conj(w) / 2 */
        d0[top] += 0.5;
        up[top] += 0.5;
        down[bottom] += 0.5 * conj(w);
        d0[bottom] += -0.5 * conj(w);
      }
    }
  return ENSI_OK;
}

/* out = a b (apply b first). */
static ensi_status multiply(diag_matrix *out, const diag_matrix *a, const diag_matrix *b) {
  const size_t n = a->n;
  ENSI_TRY(matrix_init(out, n));
  for (size_t da = 0; da < n; da++) {
    if (!a->diag[da])
      continue;
    for (size_t db = 0; db < n; db++) {
      if (!b->diag[db])
        continue;
      double complex *o = diagonal(out, (da + db) % n);
      if (!o)
        return ENSI_ERR_NOMEM;
      for (size_t k = 0; k < n; k++)
        o[k] += a->diag[da][k] * b->diag[db][(k + da) % n];
    }
  }
  return ENSI_OK;
}

/* Stage lengths in application order. */
static size_t stage_length(ensi_dft_direction direction, size_t log_n, size_t index) {
  return direction == ENSI_DFT_SLOTS_TO_COEFFS ? (size_t)2 << index
                                               : (size_t)1 << (log_n - index);
}

/* Encodes a diagonal matrix as a linear transform at `level` with diagonals at scale q_level. */
static ensi_status to_transform(ensi_linear_transform **out, const ensi_context *ctx,
                                const diag_matrix *m, size_t level, double complex factor) {
  const size_t n = m->n;
  size_t count = 0;
  for (size_t d = 0; d < n; d++)
    count += m->diag[d] != NULL;
  size_t *indices = malloc(count * sizeof *indices);
  double **re = calloc(count, sizeof *re), **im = calloc(count, sizeof *im);
  ensi_status s = indices && re && im ? ENSI_OK : ENSI_ERR_NOMEM;
  size_t c = 0;
  for (size_t d = 0; s == ENSI_OK && d < n; d++) {
    if (!m->diag[d])
      continue;
    indices[c] = d;
    re[c] = malloc(n * sizeof **re);
    im[c] = malloc(n * sizeof **im);
    if (!re[c] || !im[c]) {
      s = ENSI_ERR_NOMEM;
      c++;
      break;
    }
    for (size_t k = 0; k < n; k++) {
      re[c][k] = creal(factor * m->diag[d][k]);
      im[c][k] = cimag(factor * m->diag[d][k]);
    }
    c++;
  }
  if (s == ENSI_OK)
    s = ensi_linear_transform_create(out, ctx, n, indices, (const double *const *)re,
                                     (const double *const *)im, count, level,
                                     ensi_context_prime(ctx, level), 0);
  for (size_t i = 0; i < c; i++) {
    free(re[i]);
    free(im[i]);
  }
  free(re);
  free(im);
  free(indices);
  return s;
}

/* The n-slot matrix m as a 2n-slot one for the two-halves layout (see dft.h). CoeffsToSlots,
 * last group: the input is n-periodic, so diagonal d still reads slot k + d; rows k >= n are
 * dropped, which leaves the output in the lower half. SlotsToCoeffs, first group: the input is
 * w = [re | im] and the matrix acts on u = re + i im (n-periodic): u[j] = A[j] w[j] + B[j] w[j + n]
 * with A = [1 | i] and B = [i | 1], so diagonal d of m becomes diagonals d and d + n. */
static ensi_status widen(diag_matrix *out, const diag_matrix *m, ensi_dft_direction direction) {
  const size_t n = m->n, wide = 2 * n;
  ENSI_TRY(matrix_init(out, wide));
  for (size_t d = 0; d < n; d++) {
    if (!m->diag[d])
      continue;
    double complex *lower = diagonal(out, d);
    double complex *upper = direction == ENSI_DFT_SLOTS_TO_COEFFS ? diagonal(out, d + n) : lower;
    if (!lower || !upper)
      return ENSI_ERR_NOMEM;
    for (size_t k = 0; k < wide; k++) {
      const double complex v = m->diag[d][k % n];
      if (direction == ENSI_DFT_COEFFS_TO_SLOTS) {
        lower[k] = k < n ? v : 0.0;
        continue;
      }
      const bool low_half = (k + d) % wide < n;
      lower[k] += v * (low_half ? 1.0 : I);
      upper[k] += v * (low_half ? I : 1.0);
    }
  }
  return ENSI_OK;
}

ensi_status ensi_dft_create(ensi_linear_transform **transforms, const ensi_context *ctx,
                            ensi_dft_direction direction, size_t n, size_t groups,
                            size_t top_level, double complex factor, bool two_halves) {
  size_t log_n = 0;
  while (((size_t)1 << log_n) < n)
    log_n++;
  if (n < 2 || ((size_t)1 << log_n) != n || groups == 0 || groups > log_n || top_level < groups)
    return ensi_fail(ENSI_ERR_ARG, "DFT: %zu slots in %zu groups from level %zu", n, groups,
                     top_level);
  ensi_status s = ENSI_OK;
  size_t next_stage = 0;
  for (size_t g = 0; s == ENSI_OK && g < groups; g++) {
    const size_t stages = (log_n - next_stage) / (groups - g); /* spread evenly, rest last */
    diag_matrix acc = {0}, st = {0}, prod = {0};
    s = stage(&acc, n, stage_length(direction, log_n, next_stage++), direction);
    for (size_t k = 1; s == ENSI_OK && k < stages; k++) {
      s = stage(&st, n, stage_length(direction, log_n, next_stage++), direction);
      if (s == ENSI_OK)
        s = multiply(&prod, &st, &acc); /* the later stage applies after acc */
      matrix_free(&st);
      matrix_free(&acc);
      acc = prod;
      prod.diag = NULL;
    }
    const size_t widened = direction == ENSI_DFT_COEFFS_TO_SLOTS ? groups - 1 : 0;
    if (s == ENSI_OK && two_halves && g == widened) {
      s = widen(&prod, &acc, direction);
      matrix_free(&acc);
      acc = prod;
      prod.diag = NULL;
    }
    if (s == ENSI_OK)
      s = to_transform(&transforms[g], ctx, &acc, top_level - g, g == 0 ? factor : 1.0);
    matrix_free(&acc);
    matrix_free(&prod);
  }
  return s;
}
