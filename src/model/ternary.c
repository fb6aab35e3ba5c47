/* BitLinear ternarization (absmean) and the per-output index lists of +1 and -1 weights. */
#include <ensi/model.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

/* CSR lists of the inputs with weight `sign` for every output row. */
static ensi_status index_lists(const ensi_ternary *m, int sign, uint32_t **start, uint32_t **index) {
  size_t total = 0;
  for (size_t i = 0; i < (size_t)m->rows * (size_t)m->cols; i++)
    total += m->t[i] == sign;
  *start = malloc(((size_t)m->rows + 1) * sizeof **start);
  *index = malloc((total ? total : 1) * sizeof **index);
  if (!*start || !*index)
    return ENSI_ERR_NOMEM;
  size_t next = 0;
  for (int r = 0; r < m->rows; r++) {
    (*start)[r] = (uint32_t)next;
    for (int c = 0; c < m->cols; c++)
      if (m->t[(size_t)r * (size_t)m->cols + (size_t)c] == sign)
        (*index)[next++] = (uint32_t)c;
  }
  (*start)[m->rows] = (uint32_t)next;
  return ENSI_OK;
}

ensi_status ensi_ternary_from_float(ensi_ternary *out, const float *w, int rows, int cols) {
  if (!out || !w || rows <= 0 || cols <= 0)
    return ensi_fail(ENSI_ERR_ARG, "ternary: bad argument");
  memset(out, 0, sizeof *out);
  const size_t count = (size_t)rows * (size_t)cols;
  double sum = 0;
  for (size_t i = 0; i < count; i++) /* absmean, computed in double */
    sum += fabs((double)w[i]);
  out->rows = rows;
  out->cols = cols;
  out->beta = fmax(sum / (double)count, 1e-5);
  out->t = malloc(count);
  if (!out->t)
    return ENSI_ERR_NOMEM;
  for (size_t i = 0; i < count; i++) { /* round half to even (rint), then clamp to [-1, 1] */
    const double r = rint((double)w[i] / out->beta);
    out->t[i] = (int8_t)(r > 1 ? 1 : r < -1 ? -1 : r);
  }
  ensi_status s = index_lists(out, 1, &out->plus_start, &out->plus);
  if (s == ENSI_OK)
    s = index_lists(out, -1, &out->minus_start, &out->minus);
  if (s != ENSI_OK)
    ensi_ternary_free(out);
  return s;
}

ensi_status ensi_ternary_from_trits(ensi_ternary *out, const int8_t *trits, int rows, int cols,
                                    double beta) {
  if (!out || !trits || rows <= 0 || cols <= 0 || !(beta > 0))
    return ensi_fail(ENSI_ERR_ARG, "ternary: bad argument");
  memset(out, 0, sizeof *out);
  const size_t count = (size_t)rows * (size_t)cols;
  out->rows = rows;
  out->cols = cols;
  out->beta = beta;
  if (!(out->t = malloc(count)))
    return ENSI_ERR_NOMEM;
  for (size_t i = 0; i < count; i++) {
    if (trits[i] < -1 || trits[i] > 1) {
      ensi_ternary_free(out);
      return ensi_fail(ENSI_ERR_FORMAT, "ternary: value %d is not a trit", trits[i]);
    }
    out->t[i] = trits[i];
  }
  ensi_status s = index_lists(out, 1, &out->plus_start, &out->plus);
  if (s == ENSI_OK)
    s = index_lists(out, -1, &out->minus_start, &out->minus);
  if (s != ENSI_OK)
    ensi_ternary_free(out);
  return s;
}

void ensi_ternary_free(ensi_ternary *m) {
  if (!m)
    return;
  free(m->t);
  free(m->plus_start);
  free(m->plus);
  free(m->minus_start);
  free(m->minus);
  memset(m, 0, sizeof *m);
}
