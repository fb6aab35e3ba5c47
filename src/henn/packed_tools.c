/* The small tools of the packed layers (see packed_eval.h): the geometry of the head order,
 * refreshing and dropping packs, plaintext vectors, and folded weights. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/error.h"
#include "ckks/ciphertext.h"
#include "henn/packed_eval.h"

/* The largest divisor of n that is at most limit. */
static size_t largest_divisor_at_most(size_t n, size_t limit) {
  for (size_t d = limit < n ? limit : n; d > 1; d--)
    if (n % d == 0)
      return d;
  return 1;
}

ensi_status packed_geometry(packed_eval *pe, const ensi_context *ctx, const ensi_model_config *c,
                            size_t rows) {
  const size_t slots = ensi_params_slots(ensi_context_params(ctx));
  size_t block = 1; /* the packed matrices' token block (ensi/packed.h) */
  while (block < rows)
    block *= 2;
  if (rows == 0 || block > slots || block > ENSI_HENN_MAX_BLOCK)
    return ensi_fail(ENSI_ERR_ARG, "packed layers: %zu tokens do not fit %zu slots", rows, slots);
  const size_t C = slots / block, H = (size_t)c->heads, dh = (size_t)c->head_dim;
  if (H == 0 || dh < 2 || dh % 2 || C < H)
    return ensi_fail(ENSI_ERR_ARG, "packed layers: %zu heads of %zu dims do not fit packs of %zu "
                     "columns (%zu tokens in %zu slots)", H, dh, C, rows, slots);
  pe->per_pack = C;
  pe->heads = H;
  pe->head_dim = dh;
  pe->per_head = largest_divisor_at_most(dh / 2, C / H);
  pe->attention_packs = dh / pe->per_head;
  pe->shift_groups = (rows + pe->per_head - 1) / pe->per_head;
  return ENSI_OK;
}

size_t packed_head_feature(const packed_eval *pe, size_t r) {
  const size_t m = r / pe->per_pack, c = r % pe->per_pack;
  const size_t h = c % pe->heads, i = c / pe->heads;
  if (i >= pe->per_head || m >= pe->attention_packs)
    return SIZE_MAX;
  return h * pe->head_dim + m * pe->per_head + i;
}

size_t packed_level(const ensi_packed_matrix *m) { return ensi_ciphertext_level(m->pack[0]); }

ensi_status packed_drop_to(const packed_eval *pe, ensi_packed_matrix *m, size_t level) {
  for (size_t k = 0; k < m->pack_count; k++)
    if (ensi_ciphertext_level(m->pack[k]) > level)
      ENSI_TRY(ensi_drop_level(pe->ev.ctx, m->pack[k], m->pack[k], level));
  return ENSI_OK;
}

ensi_status packed_refresh(packed_eval *pe, ensi_ciphertext **packs, size_t count,
                           size_t prime_level, ensi_henn_stage who) {
  henn_eval *ev = &pe->ev;
  if (!ev->setup->boot)
    return ensi_fail(ENSI_ERR_LEVEL, "packed layers: layer %d, %s needs a refresh and there is no "
                     "bootstrapper", ev->layer + 1, ensi_henn_stage_name(who));
  for (size_t k = 0; k < count;) { /* two packs a bootstrap */
    const size_t n = k + 1 < count ? 2 : 1;
    ensi_ciphertext *fresh[2] = {NULL, NULL};
    const double scale = prime_level != SIZE_MAX ? henn_prime(ev, prime_level) : packs[k]->scale;
    ENSI_TRY(henn_bootstrap(ev, fresh, packs + k, n, scale));
    for (size_t i = 0; i < n; i++, k++) {
      ensi_ciphertext_free(packs[k]);
      packs[k] = fresh[i];
    }
  }
  if (ev->stats)
    ev->stats->refreshes[who]++;
  return ENSI_OK;
}

double packed_unit_shrink(const packed_eval *pe) {
  const double bound = pe->ev.boot_scale / pe->ev.work_scale;
  return bound < 1 ? bound : 1.0;
}

ensi_status packed_ensure(packed_eval *pe, ensi_packed_matrix *m, size_t need, ensi_henn_stage who) {
  if (packed_level(m) < need)
    ENSI_TRY(packed_refresh(pe, m->pack, m->pack_count, SIZE_MAX, who));
  if (packed_level(m) < need)
    return ensi_fail(ENSI_ERR_LEVEL, "packed layers: layer %d, %s needs %zu levels and has %zu",
                     pe->ev.layer + 1, ensi_henn_stage_name(who), need, packed_level(m));
  return packed_drop_to(pe, m, need);
}

ensi_status packed_new(const packed_eval *pe, ensi_packed_matrix **out, size_t cols, size_t level) {
  return ensi_packed_matrix_create(out, pe->ev.ctx, pe->ev.rows, cols, level);
}

ensi_status packed_times(const packed_eval *pe, ensi_packed_matrix *m, const ensi_ciphertext *b) {
  ensi_status status = ENSI_OK;
#pragma omp parallel for schedule(dynamic)
  for (size_t k = 0; k < m->pack_count; k++) {
    const ensi_status s = ensi_mul_relin_rescale(pe->ev.ctx, m->pack[k], m->pack[k], b, pe->ev.keys);
    if (s != ENSI_OK) {
#pragma omp critical
      status = s;
    }
  }
  return status;
}

static ensi_status plain_of(const packed_eval *pe, ensi_plaintext **out, const double *values,
                            size_t count, size_t level, double scale) {
  ENSI_TRY(ensi_plaintext_create(out, pe->ev.ctx, level));
  const ensi_status s = ensi_encode_real(pe->ev.ctx, *out, values, count, scale);
  if (s != ENSI_OK) {
    ensi_plaintext_free(*out);
    *out = NULL;
  }
  return s;
}

ensi_status packed_plain_periodic(const packed_eval *pe, ensi_plaintext **out, const double *values,
                                  size_t level, double scale) {
  return plain_of(pe, out, values, pe->per_pack, level, scale);
}

ensi_status packed_plain(const packed_eval *pe, ensi_plaintext **out, const double *values,
                         size_t level, double scale) {
  return plain_of(pe, out, values, pe->ev.slots, level, scale);
}

static double folded_value(const void *arg, size_t row, size_t col) {
  const packed_weight *w = arg;
  const size_t r = w->head_rows ? packed_head_feature(w->pe, row) : row;
  const size_t c = w->head_cols ? packed_head_feature(w->pe, col) : col;
  if (r >= (size_t)w->w->rows || c >= (size_t)w->w->cols)
    return 0.0;
  return ensi_ternary_at(w->w, r, c) * (double)w->gamma[c] * w->factor;
}

/* The packed extent of a side of the weight: the head order spans P packs. */
static size_t extent(const packed_weight *w, bool head_order, int model_count) {
  return head_order ? w->pe->attention_packs * w->pe->per_pack : (size_t)model_count;
}

size_t packed_weight_inputs(const packed_weight *w) {
  return extent(w, w->head_cols, w->w->cols);
}

size_t packed_weight_outputs(const packed_weight *w) {
  return extent(w, w->head_rows, w->w->rows);
}

size_t packed_baby_steps(const packed_eval *pe) {
  const size_t hidden = (size_t)pe->config->hidden;
  return ensi_packed_pcmm_default_baby_steps(pe->ev.ctx, pe->ev.rows, hidden, hidden,
                                             PACKED_PRODUCT_COST_LEVEL);
}

ensi_status packed_apply_shared(const packed_eval *pe, ensi_packed_matrix **y,
                                const ensi_packed_pcmm *p, const ensi_packed_matrix *x,
                                packed_shared_input *shared) {
  if (!shared->rotations)
    ENSI_TRY(ensi_packed_rotations_compute(&shared->rotations, pe->ev.ctx, x, shared->level,
                                           packed_baby_steps(pe), true, pe->ev.keys));
  return ensi_packed_pcmm_apply_rotations(pe->ev.ctx, y, p, shared->rotations, pe->ev.keys);
}

ensi_status packed_weight_prepare(const packed_eval *pe, const packed_weight *weight, size_t level,
                                  ensi_packed_pcmm **out) {
  const size_t outputs = packed_weight_outputs(weight), inputs = packed_weight_inputs(weight);
  return ensi_packed_pcmm_create_from(out, pe->ev.ctx, outputs, inputs, folded_value, weight,
                                      pe->ev.rows, level,
                                      packed_baby_steps(pe));
}
