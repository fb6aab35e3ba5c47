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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/large_alloc.h"
#include "ckks/ciphertext.h"
#include "ckks/encoder.h"
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

/* shift[g] = the pack shifted back by g blocks for g = 0 and every giant step g (a multiple of B)
 * whose group has a needed shift, hoisted together (one decomposition of the pack). */
static ensi_status giant_shifts(const henn_eval *ev, ensi_ciphertext **shift, const bool *needed,
                                const ensi_ciphertext *packed, size_t baby) {
  const size_t per = ev->slots / ev->block;
  size_t *blocks = malloc(per * sizeof *blocks), count = 0;
  ensi_status s = blocks ? ensi_ciphertext_create(&shift[0], ev->ctx, ensi_ciphertext_level(packed))
                         : ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    s = ensi_ciphertext_copy(shift[0], packed);
  for (size_t g = baby; s == ENSI_OK && g < per; g += baby) {
    bool any = false;
    for (size_t j = g; j < g + baby && j < per; j++)
      any |= needed[j];
    if (any)
      blocks[count++] = g;
  }
  if (s == ENSI_OK)
    s = shifts_of(ev, shift, blocks, count, packed);
  free(blocks);
  return s;
}

/* A column's unpacking mask (the plan's, or the token mask) at the pack's level and the mask
 * scale, encoded as a plaintext or on Q_l P; each encoding is redone only when the values differ
 * from those it holds: a mask that is the same for every column is encoded once. */
typedef struct {
  size_t level;
  double scale;
  double *values, *plain_values, *extended_values; /* slots each */
  ensi_plaintext *plain;
  uint64_t *extended;
} unpack_mask;

static void mask_values(const henn_eval *ev, const henn_repack_plan *plan, size_t column,
                        double *values) {
  if (plan->mask)
    plan->mask(ev, column, values, plan->arg);
  else
    henn_token_vector(ev, values, 0, 1.0);
}

static ensi_status mask_plain(const henn_eval *ev, unpack_mask *m) {
  if (m->plain && !memcmp(m->values, m->plain_values, ev->slots * sizeof *m->values))
    return ENSI_OK;
  ensi_plaintext_free(m->plain);
  m->plain = NULL;
  memcpy(m->plain_values, m->values, ev->slots * sizeof *m->values);
  return henn_plain(ev, &m->plain, m->values, m->level, m->scale);
}

static ensi_status mask_extended(const henn_eval *ev, const ensi_extended *e, unpack_mask *m) {
  if (m->extended && !memcmp(m->values, m->extended_values, ev->slots * sizeof *m->values))
    return ENSI_OK;
  if (!m->extended && !(m->extended = ensi_large_alloc(e->words / 2, sizeof *m->extended)))
    return ENSI_ERR_NOMEM;
  memcpy(m->extended_values, m->values, ev->slots * sizeof *m->values);
  const ensi_status s = ensi_encode_extended(ev->ctx, m->extended, m->values, NULL, ev->slots,
                                             m->scale, m->level);
  if (s != ENSI_OK) { /* not a valid encoding: encode again next time */
    ensi_large_free(m->extended);
    m->extended = NULL;
  }
  return s;
}

/* columns[k] = shift g rotated back by b more blocks, times column k's mask, rescaled, for the
 * needed shifts j = g + b of giant group g. b = 0 is a plaintext product; the others are rotated
 * from one decomposition of shift g without ModDown, multiplied by the mask on Q_l P and divided
 * by P q_l at once (extended.h): no ModDown and no rescale of their own. */
static ensi_status unpack_group(const henn_eval *ev, ensi_ciphertext **columns, size_t first,
                                const ensi_ciphertext *shift, size_t g, size_t baby,
                                const size_t *column_of, const henn_repack_plan *plan,
                                unpack_mask *mask, const ensi_extended *e, uint64_t *rotated) {
  const size_t per = ev->slots / ev->block;
  uint64_t *product = rotated + e->words;
  bool decomposed = false;
  for (size_t j = g; j < g + baby && j < per; j++) {
    const size_t k = column_of[j];
    if (k == SIZE_MAX)
      continue;
    mask_values(ev, plan, first + k, mask->values);
    if (j == g) {
      ENSI_TRY(mask_plain(ev, mask));
      ENSI_TRY(ensi_mul_plain(ev->ctx, columns[k], shift, mask->plain));
      ENSI_TRY(ensi_rescale(ev->ctx, columns[k], columns[k]));
      continue;
    }
    const ensi_galois_key *gk;
    ENSI_TRY(ensi_extended_rotation_key(ev->ctx, ev->keys, -(long long)((j - g) * ev->block), &gk));
    ENSI_TRY(mask_extended(ev, e, mask));
    if (!decomposed)
      ENSI_TRY(ensi_extended_decompose(e, shift));
    decomposed = true;
    ensi_op_count(OP_COUNT_ROTATION, 1);
    ensi_op_count(OP_COUNT_MUL_PLAIN, 1);
    ensi_op_count(OP_COUNT_RESCALE, 1);
    ENSI_TRY(ensi_extended_rotate_hoisted(e, rotated, shift, gk));
    ensi_extended_mul_plain(e, product, rotated, mask->extended);
    ENSI_TRY(ensi_extended_finish_rescale(e, columns[k], product, shift->scale * mask->scale,
                                          ev->slots > shift->slots ? ev->slots : shift->slots));
  }
  return ENSI_OK;
}

/* columns[k] = packed shifted back to block 0, times its mask (column first + k of the matrix),
 * at scale `target` after the rescale. Shift j = g B + b: the giant shifts g B are rotations of
 * the pack, hoisted together; the baby shifts of each are rotated from one decomposition of it. */
static ensi_status unpack(const henn_eval *ev, ensi_ciphertext **columns, size_t first, size_t used,
                          const ensi_ciphertext *packed, const henn_repack_plan *plan,
                          double target) {
  const size_t per = ev->slots / ev->block, level = ensi_ciphertext_level(packed);
  const size_t baby = henn_baby_steps(per);
  unpack_mask mask = {.level = level,
                      .scale = target * henn_prime(ev, level) / ensi_ciphertext_scale(packed)};
  ensi_extended e = {0};
  ensi_ciphertext **shift = calloc(per, sizeof *shift);
  bool *needed = calloc(per, sizeof *needed);
  size_t *column_of = malloc(per * sizeof *column_of);
  mask.values = malloc(3 * ev->slots * sizeof *mask.values);
  ensi_status s = shift && needed && column_of && mask.values ? ensi_extended_init(&e, ev->ctx, level)
                                                               : ENSI_ERR_NOMEM;
  uint64_t *rotated = s == ENSI_OK ? ensi_large_alloc(2 * e.words, sizeof *rotated) : NULL;
  if (s == ENSI_OK && !rotated)
    s = ENSI_ERR_NOMEM;
  if (s == ENSI_OK) {
    mask.plain_values = mask.values + ev->slots;
    mask.extended_values = mask.plain_values + ev->slots;
    for (size_t j = 0; j < per; j++)
      column_of[j] = SIZE_MAX;
    for (size_t k = 0; k < used; k++) {
      needed[unpack_shift(per, used, k)] = true;
      column_of[unpack_shift(per, used, k)] = k;
    }
    s = giant_shifts(ev, shift, needed, packed, baby);
  }
  for (size_t g = 0; s == ENSI_OK && g < per; g += baby)
    if (shift[g])
      s = unpack_group(ev, columns, first, shift[g], g, baby, column_of, plan, &mask, &e, rotated);
  for (size_t j = 0; shift && j < per; j++)
    ensi_ciphertext_free(shift[j]);
  ensi_plaintext_free(mask.plain);
  ensi_large_free(mask.extended);
  ensi_large_free(rotated);
  ensi_extended_free(&e);
  free(shift);
  free(needed);
  free(column_of);
  free(mask.values);
  return s;
}

/* The scale the unpacked columns should have (see henn_repack_plan.partner_level). */
static double unpack_target(const henn_eval *ev, const henn_repack_plan *plan, size_t pack_level) {
  if (plan->partner_level == SIZE_MAX)
    return ev->work_scale;
  const size_t level = pack_level - 1;
  return henn_prime(ev, level < plan->partner_level ? level : plan->partner_level);
}

/* One pack's columns: columns[0 .. used) of the matrix, column `first` onwards. */
typedef struct {
  ensi_ciphertext **columns;
  size_t first, used;
  ensi_ciphertext *packed; /* the pack, in its own ciphertext (unpacking overwrites every column) */
} repack_group;

/* One bootstrap: in[0] alone or in[0], in[1] (of one scale) as a pair, into fresh (made). */
static ensi_status bootstrap_once(henn_eval *ev, ensi_ciphertext **fresh, ensi_ciphertext *const *in,
                                  size_t count, double scale) {
  const ensi_bootstrapper *bt = ev->setup->boot;
  const double own = in[0]->scale, factor = scale / own;
  ensi_status s = ENSI_OK;
  for (size_t i = 0; s == ENSI_OK && i < count; i++)
    s = ensi_ciphertext_create(&fresh[i], ev->ctx, ensi_bootstrap_output_level(bt));
  for (size_t i = 0; i < count; i++)
    in[i]->scale = ev->boot_scale; /* the same ciphertext read as values / bound */
  henn_mark mark;
  henn_begin(ev, &mark, "bootstrapping");
  if (s == ENSI_OK)
    s = count == 2 ? ensi_bootstrap_pair(ev->ctx, fresh[0], fresh[1], in[0], in[1], factor, bt,
                                         ev->keys)
                   : ensi_bootstrap_scaled(ev->ctx, fresh[0], in[0], factor, bt, ev->keys);
  henn_end(ev, ENSI_STAGE_BOOTSTRAP, &mark);
  for (size_t i = 0; i < count; i++) {
    in[i]->scale = own;
    if (fresh[i])
      fresh[i]->scale = scale;
  }
  if (ev->stats && s == ENSI_OK) {
    ev->stats->bootstraps++;
    ev->stats->refreshed_packs += count;
  }
  return s;
}

ensi_status henn_bootstrap(henn_eval *ev, ensi_ciphertext **fresh, ensi_ciphertext *const *in,
                           size_t count, double scale) {
  fresh[0] = NULL;
  if (count == 2)
    fresh[1] = NULL;
  const bool apart = count == 2 && in[0]->scale != in[1]->scale; /* a pair shares one factor */
  ensi_status s = bootstrap_once(ev, fresh, in, apart ? 1 : count, scale);
  if (s == ENSI_OK && apart)
    s = bootstrap_once(ev, fresh + 1, in + 1, 1, scale);
  if (s != ENSI_OK)
    for (size_t i = 0; i < count; i++) {
      ensi_ciphertext_free(fresh[i]);
      fresh[i] = NULL;
    }
  return s;
}

/* The groups' packs (built in their columns[0]) refreshed into their own ciphertexts, at the
 * working scale. */
static ensi_status refresh_packs(henn_eval *ev, repack_group *g, size_t count) {
  ensi_ciphertext *in[2] = {g[0].columns[0], count == 2 ? g[1].columns[0] : NULL};
  ensi_ciphertext *fresh[2] = {NULL, NULL};
  ENSI_TRY(henn_bootstrap(ev, fresh, in, count, ev->work_scale));
  for (size_t i = 0; i < count; i++)
    g[i].packed = fresh[i];
  return ENSI_OK;
}

/* Drops the group's pack to the levels the plan needs, applies the plan's function, unpacks. */
static ensi_status finish_group(henn_eval *ev, repack_group *g, const henn_repack_plan *plan) {
  const size_t wanted = plan->keep + 1 + plan->depth;
  if (ensi_ciphertext_level(g->packed) > wanted)
    ENSI_TRY(ensi_drop_level(ev->ctx, g->packed, g->packed, wanted));
  henn_mark mark;
  if (plan->fn) {
    henn_begin(ev, &mark, NULL);
    const ensi_status s = plan->fn(ev, g->packed, plan->arg);
    henn_end(ev, plan->who, &mark);
    ENSI_TRY(s);
  }
  henn_begin(ev, &mark, NULL);
  const ensi_status s = unpack(ev, g->columns, g->first, g->used, g->packed, plan,
                               unpack_target(ev, plan, ensi_ciphertext_level(g->packed)));
  henn_end(ev, ENSI_STAGE_PACKING, &mark);
  return s;
}

/* Packs `count` (1 or 2) groups, refreshes the packs if the plan says so (else copies them), and
 * finishes each group. */
static ensi_status repack_groups(henn_eval *ev, repack_group *g, size_t count,
                                 const henn_repack_plan *plan) {
  henn_mark mark;
  ensi_status s = ENSI_OK;
  for (size_t i = 0; s == ENSI_OK && i < count; i++) {
    henn_begin(ev, &mark, NULL);
    s = pack(ev, g[i].columns, g[i].used);
    henn_end(ev, ENSI_STAGE_PACKING, &mark);
  }
  if (s == ENSI_OK && plan->bootstrap)
    s = refresh_packs(ev, g, count);
  for (size_t i = 0; s == ENSI_OK && !plan->bootstrap && i < count; i++) {
    s = ensi_ciphertext_create(&g[i].packed, ev->ctx, ensi_ciphertext_level(g[i].columns[0]));
    if (s == ENSI_OK)
      s = ensi_ciphertext_copy(g[i].packed, g[i].columns[0]);
  }
  for (size_t i = 0; s == ENSI_OK && i < count; i++)
    s = finish_group(ev, &g[i], plan);
  for (size_t i = 0; i < count; i++) {
    ensi_ciphertext_free(g[i].packed);
    g[i].packed = NULL;
  }
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
  for (size_t first = 0; first < m->cols;) { /* two groups at a time: one bootstrap */
    repack_group g[2];
    size_t count = 0;
    for (; count < 2 && first < m->cols; count++, first += per) {
      const size_t used = m->cols - first < per ? m->cols - first : per;
      g[count] = (repack_group){m->column + first, first, used, NULL};
    }
    ENSI_TRY(repack_groups(ev, g, count, plan));
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
