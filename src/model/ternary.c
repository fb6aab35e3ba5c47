/* BitLinear ternarization (absmean) and the per-output index lists of +1 and -1 weights. */
#include <ensi/model.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

/* CSR lists of the inputs with weight `sign` for every output row. */
static ensi_status index_lists(const int8_t *t, int rows, int cols, int sign, uint32_t **start,
                               uint32_t **index) {
  size_t total = 0;
  for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++)
    total += t[i] == sign;
  *start = malloc(((size_t)rows + 1) * sizeof **start);
  *index = malloc((total ? total : 1) * sizeof **index);
  if (!*start || !*index)
    return ENSI_ERR_NOMEM;
  size_t next = 0;
  for (int r = 0; r < rows; r++) {
    (*start)[r] = (uint32_t)next;
    for (int c = 0; c < cols; c++)
      if (t[(size_t)r * (size_t)cols + (size_t)c] == sign)
        (*index)[next++] = (uint32_t)c;
  }
  (*start)[rows] = (uint32_t)next;
  return ENSI_OK;
}

/* Packs validated trits and builds the index lists. */
static ensi_status build(ensi_ternary *out, const int8_t *t, int rows, int cols, double beta) {
  const size_t count = (size_t)rows * (size_t)cols;
  out->rows = rows;
  out->cols = cols;
  out->beta = beta;
  out->packed = calloc((count + 3) / 4, 1);
  if (!out->packed)
    return ENSI_ERR_NOMEM;
  for (size_t i = 0; i < count; i++)
    out->packed[i / 4] |= (uint8_t)((t[i] + 1) << (2 * (i % 4)));
  ensi_status s = index_lists(t, rows, cols, 1, &out->plus_start, &out->plus);
  if (s == ENSI_OK)
    s = index_lists(t, rows, cols, -1, &out->minus_start, &out->minus);
  if (s != ENSI_OK)
    ensi_ternary_free(out);
  return s;
}

ensi_status ensi_ternary_from_float(ensi_ternary *out, const float *w, int rows, int cols) {
  if (!out || !w || rows <= 0 || cols <= 0)
    return ensi_fail(ENSI_ERR_ARG, "ternary: bad argument");
  memset(out, 0, sizeof *out);
  const size_t count = (size_t)rows * (size_t)cols;
  double sum = 0;
  for (size_t i = 0; i < count; i++) /* absmean, computed in double */
    sum += fabs((double)w[i]);
  const double beta = fmax(sum / (double)count, 1e-5);
  int8_t *t = malloc(count);
  if (!t)
    return ENSI_ERR_NOMEM;
  for (size_t i = 0; i < count; i++) { /* round half to even (rint), then clamp to [-1, 1] */
    const double r = rint((double)w[i] / beta);
    t[i] = (int8_t)(r > 1 ? 1 : r < -1 ? -1 : r);
  }
  ensi_status s = build(out, t, rows, cols, beta);
  free(t);
  return s;
}

ensi_status ensi_ternary_from_trits(ensi_ternary *out, const int8_t *trits, int rows, int cols,
                                    double beta) {
  if (!out || !trits || rows <= 0 || cols <= 0 || !(beta > 0))
    return ensi_fail(ENSI_ERR_ARG, "ternary: bad argument");
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++)
    if (trits[i] < -1 || trits[i] > 1)
      return ensi_fail(ENSI_ERR_FORMAT, "ternary: value %d is not a trit", trits[i]);
  return build(out, trits, rows, cols, beta);
}

void ensi_ternary_unpack(const ensi_ternary *m, int8_t *trits) {
  for (int r = 0; r < m->rows; r++)
    for (int c = 0; c < m->cols; c++)
      trits[(size_t)r * (size_t)m->cols + (size_t)c] = (int8_t)ensi_ternary_at(m, (size_t)r, (size_t)c);
}

void ensi_ternary_free(ensi_ternary *m) {
  if (!m)
    return;
  free(m->packed);
  free(m->plus_start);
  free(m->plus);
  free(m->minus_start);
  free(m->minus);
  memset(m, 0, sizeof *m);
}
