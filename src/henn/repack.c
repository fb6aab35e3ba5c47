/* Packing an encrypted matrix into dense ciphertexts and back, to bootstrap it (refresh) and to
 * run slot-wise functions once per pack instead of once per column.
 *
 * With n slots per ciphertext and columns of b slots (zeros beyond), C = n / b columns fit one
 * ciphertext: column k is shifted into slots k b .. k b + b - 1 and the shifted columns are added
 * (a tree of C - 1 rotations by -2^i b, no multiplication, no level). For bootstrapping the values
 * are divided by the bound at no cost: the working scale is the bootstrapper's input scale divided
 * by the bound, so the pack is simply read at the input scale. Unpacking: column k is the pack
 * shifted back by k b and masked to its token slots (about C rotations, hoisted in baby-step
 * giant-step groups; one plaintext multiplication, one level); the mask's scale puts the columns
 * at the scale the plan asks for, and a plan may give each column its own mask values (the
 * attention's causal masks). */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/large_alloc.h"
#include "ckks/ciphertext.h"
#include "ckks/extended.h"
#include "ckks/keys.h"
#include "ckks/op_counts.h"
#include "henn/henn_eval.h"

/* sum (extended) = P (sum of columns[j + k] shifted by -k b for k < size, j + k < used), size a
 * power of two: the halves' sums, the upper one rotated by -(size / 2) b. A pair of columns
 * needs no division by P at all; a larger upper half divides only its c1 before rotating
 * (extended.h). spare holds log2(size) extended buffers for the upper halves. */
static ensi_status pack_tree(const henn_eval *ev, const ensi_extended *e, uint64_t *sum,
                             uint64_t *spare, ensi_ciphertext **columns, size_t j, size_t size,
                             size_t used) {
  if (size == 1) {
    ensi_extended_lift(e, sum, columns[j]);
    return ENSI_OK;
  }
  const size_t half = size / 2;
  ENSI_TRY(pack_tree(ev, e, sum, spare, columns, j, half, used));
  if (j + half >= used)
    return ENSI_OK;
  const ensi_galois_key *gk;
  ENSI_TRY(ensi_extended_rotation_key(ev->ctx, ev->keys, -(long long)(half * ev->block), &gk));
  ensi_op_count(OP_COUNT_ROTATION, 1);
  if (half == 1)
    return ensi_extended_add_rotation(e, sum, columns[j + 1], gk);
  ENSI_TRY(pack_tree(ev, e, spare, spare + e->words, columns, j + half, half, used));
  return ensi_extended_add_rotation_of(e, sum, spare, gk);
}

/* sum = rot(sum, -offset b), one rotation per set bit of offset, in Q_l P; spare: one buffer. */
static ensi_status shift_down(const henn_eval *ev, const ensi_extended *e, uint64_t *sum,
                              uint64_t *spare, size_t offset) {
  for (size_t bit = 1; bit <= offset; bit *= 2) {
    if (!(offset & bit))
      continue;
    const ensi_galois_key *gk;
    ENSI_TRY(ensi_extended_rotation_key(ev->ctx, ev->keys, -(long long)(bit * ev->block), &gk));
    ensi_op_count(OP_COUNT_ROTATION, 1);
    memset(spare, 0, e->words * sizeof *spare);
    ENSI_TRY(ensi_extended_add_rotation_of(e, spare, sum, gk));
    memcpy(sum, spare, e->words * sizeof *sum);
  }
  return ENSI_OK;
}

static size_t lowest_level(ensi_ciphertext *const *columns, size_t used) {
  size_t level = ensi_ciphertext_level(columns[0]);
  for (size_t k = 1; k < used; k++)
    if (ensi_ciphertext_level(columns[k]) < level)
      level = ensi_ciphertext_level(columns[k]);
  return level;
}

/* Adds columns[1 .. used) into columns[0], column k shifted by -(k + C - used) b (destroys the
 * others). The offset C - used puts the last column in the last block, so that unpacking shifts
 * back by 1 .. used blocks (used rotations by doubling) instead of by up to C. The sums are kept
 * on the key-switching basis and divided by P once (extended.h): at the low levels where packing
 * runs, ModDown is most of a rotation's transforms. */
static ensi_status pack(const henn_eval *ev, ensi_ciphertext **columns, size_t used) {
  size_t size = 1, depth = 1;
  while (size < used) {
    size *= 2;
    depth++;
  }
  ensi_extended e;
  ENSI_TRY(ensi_extended_init(&e, ev->ctx, lowest_level(columns, used)));
  uint64_t *sum = ensi_large_alloc((depth + 1) * e.words, sizeof *sum);
  const double scale = columns[0]->scale;
  const size_t slots = columns[0]->slots;
  ensi_status s = sum ? pack_tree(ev, &e, sum, sum + e.words, columns, 0, size, used)
                      : ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    s = shift_down(ev, &e, sum, sum + e.words, ev->slots / ev->block - used);
  if (s == ENSI_OK)
    s = ensi_extended_finish(&e, columns[0], sum, scale, slots);
  ensi_large_free(sum);
  ensi_extended_free(&e);
  return s;
}

/* The shift (in blocks, downwards) that brings packed column k back to block 0. */
static size_t unpack_shift(size_t per, size_t used, size_t k) {
  return (per - k - (per - used)) % per;
}

/* Rotates `in` by -steps[i] blocks into outs[i] (created at in's level), hoisted: one key-switching
 * decomposition of `in` for all of them. */
static ensi_status shifts_of(const henn_eval *ev, ensi_ciphertext **outs, const size_t *blocks,
                             size_t count, const ensi_ciphertext *in) {
  if (count == 0)
    return ENSI_OK;
  long long *steps = malloc(count * sizeof *steps);
  ensi_ciphertext **targets = malloc(count * sizeof *targets);
  ensi_status s = steps && targets ? ENSI_OK : ENSI_ERR_NOMEM;
  for (size_t i = 0; s == ENSI_OK && i < count; i++) {
    steps[i] = -(long long)(blocks[i] * ev->block);
    s = ensi_ciphertext_create(&outs[blocks[i]], ev->ctx, ensi_ciphertext_level(in));
    targets[i] = outs[blocks[i]];
  }
  if (s == ENSI_OK)
    s = ensi_rotate_hoisted(ev->ctx, targets, in, steps, count, ev->keys);
  free(steps);
  free(targets);
  return s;
}

/* shift[j] = the pack shifted back by j blocks, for every needed j. With j = g B + b: the giant
 * shifts g B are rotations of the pack, hoisted together, and the baby shifts b of each giant are
 * rotations of it, hoisted together: one decomposition per giant instead of one per rotation. */
static ensi_status build_shifts(const henn_eval *ev, ensi_ciphertext **shift, const bool *needed,
                                const ensi_ciphertext *packed) {
  const size_t per = ev->slots / ev->block, baby = henn_baby_steps(per);
  size_t *blocks = malloc(per * sizeof *blocks), count = 0;
  ensi_status s = blocks ? ensi_ciphertext_create(&shift[0], ev->ctx, ensi_ciphertext_level(packed))
                         : ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    s = ensi_ciphertext_copy(shift[0], packed);
  for (size_t g = baby; s == ENSI_OK && g < per; g += baby) { /* giants with a needed shift */
    bool any = false;
    for (size_t j = g; j < g + baby && j < per; j++)
      any |= needed[j];
    if (any)
      blocks[count++] = g;
  }
  if (s == ENSI_OK)
    s = shifts_of(ev, shift, blocks, count, packed);
  for (size_t g = 0; s == ENSI_OK && g < per; g += baby) {
    if (!shift[g])
      continue;
    count = 0;
    for (size_t j = g + 1; j < g + baby && j < per; j++)
      if (needed[j])
        blocks[count++] = j - g;
    s = shifts_of(ev, shift + g, blocks, count, shift[g]);
  }
  free(blocks);
  return s;
}

/* *mask = the unpacking mask of column `column` (the plan's, or the token mask) at `level` and
 * `scale`, encoded again only when its values differ from those of the mask it holds (kept in
 * `encoded`): a mask that is the same for every column is encoded once. */
static ensi_status update_mask(const henn_eval *ev, const henn_repack_plan *plan, size_t column,
                               size_t level, double scale, double *values, double *encoded,
                               ensi_plaintext **mask) {
  if (plan->mask)
    plan->mask(ev, column, values, plan->arg);
  else
    henn_token_vector(ev, values, 0, 1.0);
  if (*mask && !memcmp(values, encoded, ev->slots * sizeof *values))
    return ENSI_OK;
  ensi_plaintext_free(*mask);
  *mask = NULL;
  memcpy(encoded, values, ev->slots * sizeof *values);
  return henn_plain(ev, mask, values, level, scale);
}

/* columns[k] = packed shifted back to block 0, times its mask (column first + k of the matrix),
 * at scale `target` after the rescale. */
static ensi_status unpack(const henn_eval *ev, ensi_ciphertext **columns, size_t first, size_t used,
                          const ensi_ciphertext *packed, const henn_repack_plan *plan,
                          double target) {
  const size_t per = ev->slots / ev->block, level = ensi_ciphertext_level(packed);
  const double mask_scale = target * henn_prime(ev, level) / ensi_ciphertext_scale(packed);
  ensi_ciphertext **shift = calloc(per, sizeof *shift);
  bool *needed = calloc(per, sizeof *needed);
  double *mask_values = malloc(2 * ev->slots * sizeof *mask_values);
  ensi_plaintext *mask = NULL;
  ensi_status s = shift && needed && mask_values ? ENSI_OK : ENSI_ERR_NOMEM;
  for (size_t k = 0; s == ENSI_OK && k < used; k++)
    needed[unpack_shift(per, used, k)] = true;
  if (s == ENSI_OK)
    s = build_shifts(ev, shift, needed, packed);
  for (size_t k = 0; s == ENSI_OK && k < used; k++) {
    s = update_mask(ev, plan, first + k, level, mask_scale, mask_values, mask_values + ev->slots,
                    &mask);
    if (s == ENSI_OK)
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
static ensi_status repack_group(henn_eval *ev, ensi_ciphertext **columns, size_t first,
                                size_t used, const henn_repack_plan *plan) {
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
    s = unpack(ev, columns, first, used, packed, plan,
               unpack_target(ev, plan, ensi_ciphertext_level(packed)));
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
    ENSI_TRY(repack_group(ev, m->column + first, first, used, plan));
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
