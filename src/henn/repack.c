/* Packing an encrypted matrix into dense ciphertexts and back, to bootstrap it (refresh) and to
 * run slot-wise functions once per pack instead of once per column.
 *
 * With n slots per ciphertext and columns of b slots (zeros beyond), C = n / b columns fit one
 * ciphertext: column k is shifted into slots k b .. k b + b - 1 and the shifted columns are added
 * (a tree of C - 1 rotations by -2^i b, no multiplication, no level). For bootstrapping the values
 * are divided by the bound at no cost: the working scale is the bootstrapper's input scale divided
 * by the bound, so the pack is simply read at the input scale. Unpacking: column k is the pack
 * shifted back by k b and masked to its token slots (C - 1 rotations by doubling, one plaintext
 * multiplication, one level); the mask's scale puts the columns at the scale the plan asks for. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/error.h"
#include "ckks/ciphertext.h"
#include "henn/henn_eval.h"

/* Adds columns[1 .. used) into columns[0], column k shifted by -(k + C - used) b (destroys the
 * others). The offset C - used puts the last column in the last block, so that unpacking shifts
 * back by 1 .. used blocks (used rotations by doubling) instead of by up to C. */
static ensi_status pack(const henn_eval *ev, ensi_ciphertext **columns, size_t used) {
  for (size_t step = 1; step < used; step *= 2)
    for (size_t j = 0; j + step < used; j += 2 * step) {
      ENSI_TRY(ensi_rotate(ev->ctx, columns[j + step], columns[j + step],
                           -(long long)(step * ev->block), ev->keys));
      ENSI_TRY(ensi_add(ev->ctx, columns[j], columns[j], columns[j + step]));
    }
  const size_t offset = ev->slots / ev->block - used;
  for (size_t bit = 1; bit <= offset; bit *= 2)
    if (offset & bit)
      ENSI_TRY(ensi_rotate(ev->ctx, columns[0], columns[0], -(long long)(bit * ev->block), ev->keys));
  return ENSI_OK;
}

/* The shift (in blocks, downwards) that brings packed column k back to block 0. */
static size_t unpack_shift(size_t per, size_t used, size_t k) {
  return (per - k - (per - used)) % per;
}

static size_t highest_bit(size_t v) {
  size_t b = 1;
  while (2 * b <= v)
    b *= 2;
  return b;
}

/* columns[k] = packed shifted back to block 0, masked to the token slots, at scale `target` after
 * the rescale. */
static ensi_status unpack(const henn_eval *ev, ensi_ciphertext **columns, size_t used,
                          const ensi_ciphertext *packed, double target) {
  const size_t per = ev->slots / ev->block, level = ensi_ciphertext_level(packed);
  ensi_ciphertext **shift = calloc(per, sizeof *shift);
  bool *needed = calloc(per, sizeof *needed);
  double *mask_values = malloc(ev->slots * sizeof *mask_values);
  ensi_plaintext *mask = NULL;
  ensi_status s = shift && needed && mask_values ? ENSI_OK : ENSI_ERR_NOMEM;
  for (size_t k = 0; s == ENSI_OK && k < used; k++)
    needed[unpack_shift(per, used, k)] = true;
  for (size_t j = per - 1; s == ENSI_OK && j > 0; j--) /* each shift is built from a smaller one */
    if (needed[j])
      needed[j - highest_bit(j)] = true;
  if (s == ENSI_OK) {
    henn_token_vector(ev, mask_values, 0, 1.0);
    s = henn_plain(ev, &mask, mask_values, level,
                   target * henn_prime(ev, level) / ensi_ciphertext_scale(packed));
  }
  for (size_t j = 0; s == ENSI_OK && j < per; j++) {
    if (!needed[j])
      continue;
    s = ensi_ciphertext_create(&shift[j], ev->ctx, level);
    if (s == ENSI_OK && j == 0)
      s = ensi_ciphertext_copy(shift[0], packed);
    else if (s == ENSI_OK)
      s = ensi_rotate(ev->ctx, shift[j], shift[j - highest_bit(j)],
                      -(long long)(highest_bit(j) * ev->block), ev->keys);
  }
  for (size_t k = 0; s == ENSI_OK && k < used; k++) {
    s = ensi_mul_plain(ev->ctx, columns[k], shift[unpack_shift(per, used, k)], mask);
    if (s == ENSI_OK)
      s = ensi_rescale(ev->ctx, columns[k], columns[k]);
  }
  for (size_t j = 0; shift && j < per; j++)
    ensi_ciphertext_free(shift[j]);
  ensi_plaintext_free(mask);
  free(shift);
  free(needed);
  free(mask_values);
  return s;
}

/* The scale the unpacked columns should have (see henn_repack_plan.partner_level). */
static double unpack_target(const henn_eval *ev, const henn_repack_plan *plan, size_t pack_level) {
  if (plan->partner_level == SIZE_MAX)
    return ev->work_scale;
  const size_t level = pack_level - 1;
  return henn_prime(ev, level < plan->partner_level ? level : plan->partner_level);
}

/* Packs columns[0 .. used), bootstraps, applies the plan's function, unpacks. The pack is built in
 * columns[0] and continues in its own ciphertext (the bootstrap's output, or a copy), because
 * unpacking overwrites every column. */
static ensi_status repack_group(henn_eval *ev, ensi_ciphertext **columns, size_t used,
                                const henn_repack_plan *plan) {
  const ensi_bootstrapper *bt = ev->setup->boot;
  henn_mark mark;
  henn_begin(ev, &mark, NULL);
  ensi_status s = pack(ev, columns, used);
  henn_end(ev, ENSI_STAGE_PACKING, &mark);
  ensi_ciphertext *packed = NULL;
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&packed, ev->ctx, plan->bootstrap ? ensi_bootstrap_output_level(bt)
                                                                 : ensi_ciphertext_level(columns[0]));
  if (s == ENSI_OK && plan->bootstrap) {
    henn_begin(ev, &mark, "bootstrapping");
    columns[0]->scale = ev->boot_scale; /* the same ciphertext read as values / bound */
    s = ensi_bootstrap(ev->ctx, packed, columns[0], bt, ev->keys);
    packed->scale = ev->work_scale;
    henn_end(ev, ENSI_STAGE_BOOTSTRAP, &mark);
    if (ev->stats)
      ev->stats->bootstraps++;
  } else if (s == ENSI_OK) {
    s = ensi_ciphertext_copy(packed, columns[0]);
  }
  const size_t wanted = plan->keep + 1 + plan->depth;
  if (s == ENSI_OK && ensi_ciphertext_level(packed) > wanted)
    s = ensi_drop_level(ev->ctx, packed, packed, wanted);
  if (s == ENSI_OK && plan->fn) {
    henn_begin(ev, &mark, NULL);
    s = plan->fn(ev, packed, plan->arg);
    henn_end(ev, plan->who, &mark);
  }
  if (s == ENSI_OK) {
    henn_begin(ev, &mark, NULL);
    s = unpack(ev, columns, used, packed, unpack_target(ev, plan, ensi_ciphertext_level(packed)));
    henn_end(ev, ENSI_STAGE_PACKING, &mark);
  }
  ensi_ciphertext_free(packed);
  return s;
}

ensi_status henn_repack(henn_eval *ev, ensi_enc_matrix *m, const henn_repack_plan *plan) {
  const size_t wanted = plan->keep + 1 + plan->depth;
  const ensi_bootstrapper *bt = ev->setup->boot;
  if (plan->bootstrap && !bt)
    return ensi_fail(ENSI_ERR_LEVEL, "layer %d: %s needs %zu levels, the input has %zu and there "
                     "is no bootstrapper", ev->layer, ensi_henn_stage_name(plan->who), wanted,
                     henn_level(m));
  const size_t available = plan->bootstrap ? ensi_bootstrap_output_level(bt) : henn_level(m);
  if (available < wanted)
    return ensi_fail(ENSI_ERR_LEVEL, "layer %d: %s needs %zu levels%s, there are %zu", ev->layer,
                     ensi_henn_stage_name(plan->who), wanted,
                     plan->bootstrap ? " after bootstrapping" : "", available);
  const double scale = ensi_ciphertext_scale(m->column[0]);
  if (scale / ev->work_scale > 1 + 0x1p-30 || scale / ev->work_scale < 1 - 0x1p-30)
    return ensi_fail(ENSI_ERR_LEVEL, "repack: matrix at scale 2^%.4f, not the working scale",
                     log2(scale));
  const size_t per = ev->slots / ev->block;
  for (size_t first = 0; first < m->cols; first += per) {
    const size_t used = m->cols - first < per ? m->cols - first : per;
    ENSI_TRY(repack_group(ev, m->column + first, used, plan));
  }
  if (ev->stats && plan->bootstrap)
    ev->stats->refreshes[plan->who]++;
  return ENSI_OK;
}

ensi_status henn_ensure_levels(henn_eval *ev, ensi_enc_matrix *m, henn_levels levels,
                               ensi_henn_stage who) {
  if (henn_level(m) >= levels.need)
    return ENSI_OK;
  const ensi_bootstrapper *bt = ev->setup->boot;
  const size_t most = bt && ensi_bootstrap_output_level(bt) > 0 ? ensi_bootstrap_output_level(bt) - 1 : 0;
  const size_t keep = levels.ideal < most ? levels.ideal : most;
  const henn_repack_plan plan = {.bootstrap = true, .keep = keep > levels.need ? keep : levels.need,
                                 .partner_level = SIZE_MAX, .who = who};
  return henn_repack(ev, m, &plan);
}
