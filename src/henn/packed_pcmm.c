/* The ternary product in the packed layout (ensi/packed.h; docs/PACKED_LAYOUT.md): masked
 * diagonals, baby-step giant-step rotations, the diagonals kept in their compact NTT form, and
 * output packs computed two at a time in the real and imaginary parts of the slots.
 *
 * Output pack k: Y_k = sum_m sum_{r < C} D+_{k,m,r} (.) rot(X_m, r) + D-_{k,m,r} (.) rot(X-_m, r)
 * with X-_m = rot(X_m, -C): D+ holds T[k C + c][m C + c + r] on the columns c < C - r, D- holds
 * T[k C + c][m C + c + r - C] on the others (the rotation by r - C keeps the token where r alone
 * would move it by one). With r = g B + b the sum over g is of rotations by g B of sums over
 * (m, b, +-) of rot(D, -g B) (.) rot(X_m or X-_m, b): the baby rotations are hoisted per pack.
 * A diagonal is C-periodic in the slots, so its encoding (C slots) is, per limb, 2C values each
 * repeated over a run of N / (2C) coefficients: only those are kept, and the products are
 * run-constant sums (math/run_sums.h), all giant steps' sums range by range so that the rotated
 * inputs are read from memory once.
 *
 * The inputs are real, so one complex diagonal (D_k + i D_k') / 2 gives W = (Y_k + i Y_k') / 2
 * for two output packs k, k' with the products, giant rotations and rescale of one; the packs are
 * then Y_k = W + conj(W) and Y_k' = i (conj(W) - W), one conjugation a pair. */
#include <ensi/packed.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/large_alloc.h"
#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "ckks/encoder.h"
#include "ckks/extended.h"
#include "ckks/keys.h"
#include "ckks/op_counts.h"
#include "math/run_sums.h"

typedef struct {
  size_t pack, baby; /* input pack m and baby step b */
  bool wrapped;      /* a D- term: it multiplies rot(X-_m, b) */
} diagonal_term;

/* The terms of one output ciphertext (a pair of output packs, or the last pack alone) and one
 * giant step, and their diagonals' run values: per limb, run
 * by run, the terms side by side (the order the product reads them), then the same for their
 * Shoup constants. */
typedef struct {
  diagonal_term *terms;
  size_t count;
  uint64_t *constants; /* 2 x limbs x 2C x count */
} giant_sum;

struct ensi_packed_pcmm {
  size_t rows, inputs, outputs, level, limbs;
  size_t per_pack, run;       /* C, and N / (2C) */
  size_t in_packs, out_packs;
  size_t out_cts;             /* output ciphertexts: ceil(out_packs / 2) */
  size_t baby, giant;         /* B, G = C / B */
  bool any_wrapped;           /* whether X-_m is needed */
  giant_sum *sums;            /* out_cts x giant */
  size_t sums_budget;         /* bytes of giant-step sums apply may hold at once */
};

/* The weights while the diagonals are built. */
typedef struct {
  ensi_packed_weight_fn value;
  const void *arg;
} weight_source;

static size_t power_of_two_at_least(size_t x) {
  size_t p = 1;
  while (p < x)
    p *= 2;
  return p;
}

/* D (.) rot(X, r) for r = g B + b, pre-rotated by -g B: values[c] = D[(c - g B) mod C]. Returns
 * whether any is nonzero. */
static bool diagonal_values(const ensi_packed_pcmm *p, const weight_source *w, size_t k, size_t m,
                            size_t r, size_t shift, bool wrapped, double *values) {
  const size_t C = p->per_pack;
  bool any = false;
  for (size_t c = 0; c < C; c++) {
    const size_t source = (c + C - shift) % C; /* D's column whose value lands on c */
    const size_t row = k * C + source, moved = source + r;
    double v = 0.0;
    if ((moved >= C) == wrapped) {
      const size_t col = m * C + moved - (wrapped ? C : 0);
      if (row < p->outputs && col < p->inputs)
        v = w->value(w->arg, row, col);
    }
    values[c] = v;
    any |= v != 0.0;
  }
  return any;
}

/* Whether output ciphertext o holds two output packs (2 o and 2 o + 1) or the last one alone. */
static bool paired(const ensi_packed_pcmm *p, size_t o) { return 2 * o + 1 < p->out_packs; }

/* The diagonal of output ciphertext o: re (and im when o is a pair: both halved) as
 * diagonal_values for its packs. Returns whether any is nonzero. */
static bool output_values(const ensi_packed_pcmm *p, const weight_source *w, size_t o, size_t m,
                          size_t r, size_t shift, bool wrapped, double *re, double *im) {
  bool any = diagonal_values(p, w, 2 * o, m, r, shift, wrapped, re);
  if (!paired(p, o))
    return any;
  any |= diagonal_values(p, w, 2 * o + 1, m, r, shift, wrapped, im);
  for (size_t c = 0; c < p->per_pack; c++) {
    re[c] /= 2;
    im[c] /= 2;
  }
  return any;
}

/* Term k's run values: the C-slot encoding of re + i im (im NULL: real) at p->level (its run
 * values only, by small transforms), and their Shoup constants, placed into sum->constants. */
static ensi_status place_encoding(const ensi_context *ctx, const ensi_packed_pcmm *p,
                                  uint64_t *runs_scratch, const double *re, const double *im,
                                  giant_sum *sum, size_t k) {
  const size_t runs = 2 * p->per_pack, stride = runs * sum->count;
  ENSI_TRY(ensi_encode_runs(ctx, re, im, p->per_pack, ensi_context_prime(ctx, p->level), p->level,
                            runs_scratch));
  for (size_t i = 0; i < p->limbs; i++)
    for (size_t u = 0; u < runs; u++) {
      const uint64_t v = runs_scratch[i * runs + u];
      sum->constants[i * stride + u * sum->count + k] = v;
      sum->constants[(p->limbs + i) * stride + u * sum->count + k] =
          ensi_shoup_precompute(v, ctx->moduli[i].value);
    }
  return ENSI_OK;
}

/* The terms of output ciphertext o, giant step g: the nonzero diagonals first, then their
 * encodings; re and im: room for C values each. */
static ensi_status build_giant_sum(const ensi_context *ctx, const ensi_packed_pcmm *p,
                                   const weight_source *w, size_t o, size_t g,
                                   uint64_t *runs_scratch, double *re, double *im,
                                   giant_sum *sum) {
  sum->terms = calloc(2 * p->in_packs * p->baby, sizeof *sum->terms);
  if (!sum->terms)
    return ENSI_ERR_NOMEM;
  for (size_t m = 0; m < p->in_packs; m++)
    for (size_t b = 0; b < p->baby; b++)
      for (int wrapped = 0; wrapped < 2; wrapped++)
        if (output_values(p, w, o, m, g * p->baby + b, g * p->baby, wrapped, re, im))
          sum->terms[sum->count++] = (diagonal_term){m, b, wrapped};
  sum->constants =
      ensi_large_alloc(2 * p->limbs * 2 * p->per_pack * sum->count, sizeof *sum->constants);
  if (!sum->constants && sum->count)
    return ENSI_ERR_NOMEM;
  for (size_t t = 0; t < sum->count; t++) {
    const diagonal_term *term = &sum->terms[t];
    output_values(p, w, o, term->pack, g * p->baby + term->baby, g * p->baby, term->wrapped, re,
                  im);
    ENSI_TRY(place_encoding(ctx, p, runs_scratch, re, paired(p, o) ? im : NULL, sum, t));
  }
  return ENSI_OK;
}

static ensi_status build_all(const ensi_context *ctx, ensi_packed_pcmm *p, const weight_source *w) {
  ensi_status status = ENSI_OK;
#pragma omp parallel
  {
    double *values = malloc(2 * p->per_pack * sizeof *values);
    uint64_t *runs = malloc(p->limbs * 2 * p->per_pack * sizeof *runs);
    ensi_status s = values && runs ? ENSI_OK : ENSI_ERR_NOMEM;
#pragma omp for schedule(dynamic)
    for (size_t og = 0; og < p->out_cts * p->giant; og++)
      if (s == ENSI_OK)
        s = build_giant_sum(ctx, p, w, og / p->giant, og % p->giant, runs, values,
                            values + p->per_pack, &p->sums[og]);
    if (s != ENSI_OK) {
#pragma omp critical
      status = s;
    }
    free(runs);
    free(values);
  }
  for (size_t og = 0; status == ENSI_OK && og < p->out_cts * p->giant; og++)
    for (size_t i = 0; i < p->sums[og].count; i++)
      p->any_wrapped |= p->sums[og].terms[i].wrapped;
  return status;
}

/* The power of two B with the fewest NTTs in key switching. A baby rotation (hoisted, B - 1 for
 * each input pack and for its wrapped copy) ends with ModDown of both halves, 2 (K + l + 1)
 * transforms; a giant rotation (G - 1 per output ciphertext, summed in Q_l P: extended.h) costs
 * its decomposition, digits x (l + 1 + K) transforms. n16-boot at level 2, C = 256, 6 input
 * packs, 3 output ciphertexts: B = 8. The inner products, about a quarter of an NTT per limb, and
 * the run sums, which do not depend on B, are left out. */
static size_t default_baby_steps(const ensi_context *ctx, size_t C, size_t level,
                                 size_t in_packs, size_t out_cts) {
  const size_t ext = level + 1 + ctx->p_count;
  const size_t baby_cost = 2 * (ctx->p_count + level + 1);
  const size_t giant_cost = ensi_context_digits(ctx, level) * ext;
  size_t best = 1, best_cost = SIZE_MAX;
  for (size_t b = 1; b <= C; b *= 2) {
    const size_t cost = 2 * in_packs * (b - 1) * baby_cost + out_cts * (C / b - 1) * giant_cost;
    if (cost < best_cost) {
      best = b;
      best_cost = cost;
    }
  }
  return best;
}

size_t ensi_packed_pcmm_default_baby_steps(const ensi_context *ctx, size_t rows, size_t inputs,
                                           size_t outputs, size_t level) {
  const size_t slots = ctx ? ensi_params_slots(ensi_context_params(ctx)) : 0;
  if (!ctx || rows == 0 || power_of_two_at_least(rows) > slots)
    return 0;
  const size_t C = slots / power_of_two_at_least(rows);
  return default_baby_steps(ctx, C, level, (inputs + C - 1) / C, ((outputs + C - 1) / C + 1) / 2);
}

ensi_status ensi_packed_pcmm_create_from(ensi_packed_pcmm **out, const ensi_context *ctx,
                                         size_t outputs, size_t inputs,
                                         ensi_packed_weight_fn weight, const void *arg,
                                         size_t rows, size_t level, size_t baby_steps) {
  const size_t slots = ctx ? ensi_params_slots(ensi_context_params(ctx)) : 0;
  if (!out || !ctx || !weight || outputs == 0 || inputs == 0 || rows == 0 ||
      power_of_two_at_least(rows) > slots || level == 0 || level > ensi_context_max_level(ctx))
    return ensi_fail(ENSI_ERR_ARG, "packed pcmm: bad weights, %zu rows or level %zu", rows, level);
  const size_t C = slots / power_of_two_at_least(rows);
  if (baby_steps && (baby_steps > C || C % baby_steps || (baby_steps & (baby_steps - 1))))
    return ensi_fail(ENSI_ERR_ARG, "packed pcmm: %zu baby steps do not divide %zu columns",
                     baby_steps, C);
  ensi_packed_pcmm *p = calloc(1, sizeof *p);
  if (!p)
    return ENSI_ERR_NOMEM;
  p->rows = rows;
  p->inputs = inputs;
  p->outputs = outputs;
  p->level = level;
  p->limbs = level + 1;
  p->per_pack = C;
  p->run = ctx->n / (2 * C);
  p->in_packs = (p->inputs + C - 1) / C;
  p->out_packs = (p->outputs + C - 1) / C;
  p->out_cts = (p->out_packs + 1) / 2;
  p->baby = baby_steps ? baby_steps
                       : default_baby_steps(ctx, C, level, p->in_packs, p->out_cts);
  p->giant = C / p->baby;
  p->sums_budget = ENSI_PACKED_PCMM_SUMS_BUDGET;
  p->sums = calloc(p->out_cts * p->giant, sizeof *p->sums);
  const weight_source source = {weight, arg};
  const ensi_status s = p->sums ? build_all(ctx, p, &source) : ENSI_ERR_NOMEM;
  if (s != ENSI_OK) {
    ensi_packed_pcmm_free(p);
    return s;
  }
  *out = p;
  return ENSI_OK;
}

static double ternary_value(const void *arg, size_t row, size_t col) {
  return ensi_ternary_at(arg, row, col);
}

ensi_status ensi_packed_pcmm_create(ensi_packed_pcmm **out, const ensi_context *ctx,
                                    const ensi_ternary *w, size_t rows, size_t level,
                                    size_t baby_steps) {
  if (!w || w->rows <= 0 || w->cols <= 0)
    return ensi_fail(ENSI_ERR_ARG, "packed pcmm: bad weights");
  return ensi_packed_pcmm_create_from(out, ctx, (size_t)w->rows, (size_t)w->cols, ternary_value,
                                      w, rows, level, baby_steps);
}

void ensi_packed_pcmm_free(ensi_packed_pcmm *p) {
  if (!p)
    return;
  for (size_t og = 0; p->sums && og < p->out_cts * p->giant; og++) {
    free(p->sums[og].terms);
    ensi_large_free(p->sums[og].constants);
  }
  free(p->sums);
  free(p);
}

size_t ensi_packed_pcmm_rotations(const ensi_packed_pcmm *p, long long *steps, size_t max) {
  size_t count = 0;
  for (size_t b = 1; b < p->baby && count < max; b++)
    steps[count++] = (long long)b;
  for (size_t g = 1; g < p->giant && count < max; g++)
    steps[count++] = (long long)(g * p->baby);
  if (p->any_wrapped && count < max)
    steps[count++] = -(long long)p->per_pack;
  return count;
}

bool ensi_packed_pcmm_conjugates(const ensi_packed_pcmm *p) { return p->out_packs > 1; }

struct ensi_packed_rotations {
  size_t level, baby, per_pack, rows, cols, in_packs;
  bool wrapped;
  double scale;
  ensi_ciphertext **babies; /* [(2 m + wrapped) B + b]: 2 in_packs B entries, NULL where unused */
};

/* babies[(2 m + wrapped) B + b] = rot(X_m, b) or rot(X-_m, b), X-_m = rot(X_m, -C), at r->level;
 * the baby rotations of each are hoisted (one decomposition). */
static ensi_status rotate_inputs(const ensi_context *ctx, ensi_packed_rotations *r,
                                 const ensi_packed_matrix *x, const ensi_eval_keys *keys) {
  long long *steps = malloc(r->baby * sizeof *steps);
  if (!steps)
    return ENSI_ERR_NOMEM;
  for (size_t b = 1; b < r->baby; b++)
    steps[b - 1] = (long long)b;
  ensi_status s = ENSI_OK;
  for (size_t m = 0; s == ENSI_OK && m < r->in_packs; m++)
    for (int wrapped = 0; s == ENSI_OK && wrapped < 1 + r->wrapped; wrapped++) {
      ensi_ciphertext **row = r->babies + (2 * m + (size_t)wrapped) * r->baby;
      for (size_t b = 0; s == ENSI_OK && b < r->baby; b++)
        s = ensi_ciphertext_create(&row[b], ctx, r->level);
      if (s == ENSI_OK)
        s = ensi_drop_level(ctx, row[0], x->pack[m], r->level);
      if (s == ENSI_OK && wrapped)
        s = ensi_rotate(ctx, row[0], row[0], -(long long)r->per_pack, keys);
      if (s == ENSI_OK && r->baby > 1)
        s = ensi_rotate_hoisted(ctx, row + 1, row[0], steps, r->baby - 1, keys);
    }
  free(steps);
  return s;
}

void ensi_packed_rotations_free(ensi_packed_rotations *r) {
  if (!r)
    return;
  for (size_t i = 0; r->babies && i < 2 * r->in_packs * r->baby; i++)
    ensi_ciphertext_free(r->babies[i]);
  free(r->babies);
  free(r);
}

ensi_status ensi_packed_rotations_compute(ensi_packed_rotations **out, const ensi_context *ctx,
                                          const ensi_packed_matrix *x, size_t level,
                                          size_t baby_steps, bool wrapped,
                                          const ensi_eval_keys *keys) {
  if (!out || !ctx || !x || !keys || x->pack_count == 0)
    return ensi_fail(ENSI_ERR_ARG, "packed rotations: null argument or empty input");
  if (baby_steps == 0 || x->per_pack % baby_steps != 0 || (baby_steps & (baby_steps - 1)))
    return ensi_fail(ENSI_ERR_ARG, "packed rotations: %zu baby steps do not divide C = %zu",
                     baby_steps, x->per_pack);
  for (size_t m = 0; m < x->pack_count; m++)
    if (ensi_ciphertext_level(x->pack[m]) < level)
      return ensi_fail(ENSI_ERR_LEVEL, "packed rotations: input at level %zu, asked for %zu",
                       ensi_ciphertext_level(x->pack[m]), level);
  ensi_packed_rotations *r = calloc(1, sizeof *r);
  if (!r)
    return ENSI_ERR_NOMEM;
  *r = (ensi_packed_rotations){level, baby_steps, x->per_pack, x->rows, x->cols, x->pack_count,
                               wrapped, x->pack[0]->scale, NULL};
  r->babies = calloc(2 * r->in_packs * r->baby, sizeof *r->babies);
  ensi_status s = r->babies ? rotate_inputs(ctx, r, x, keys) : ENSI_ERR_NOMEM;
  if (s != ENSI_OK) {
    ensi_packed_rotations_free(r);
    return s;
  }
  *out = r;
  return ENSI_OK;
}

bool ensi_packed_pcmm_wraps(const ensi_packed_pcmm *p) { return p->any_wrapped; }

/* Coefficients per range: the staged copy of the rotated inputs' range (every term reads it) stays
 * in a 512 KiB level-2 cache while all giant steps' sums take it. */
static size_t range_length(const ensi_packed_pcmm *p, size_t n) {
  const size_t inputs = 2 * p->in_packs * p->baby, budget = (size_t)384 << 10;
  size_t length = p->run;
  while (2 * length <= n && 2 * length * inputs * 2 * sizeof(uint64_t) <= budget)
    length *= 2;
  return length;
}

/* Copies the range [first, first + length) of limb i of every rotated input, both polynomials,
 * side by side into stage (input j's polynomial u at (2 j + u) length): the inputs are buffers of
 * their own, aligned alike, whose ranges would share a few cache sets. */
static void stage_range(const ensi_packed_pcmm *p, ensi_ciphertext *const *babies, size_t i,
                        size_t first, size_t length, uint64_t *stage) {
  for (size_t j = 0; j < 2 * p->in_packs * p->baby; j++)
    for (size_t u = 0; babies[j] && u < 2; u++)
      memcpy(stage + (2 * j + u) * length, ensi_ct_limb(babies[j], u, i) + first,
             length * sizeof *stage);
}

/* Giant step og's run-constant sum on limb i over the staged range; y0, y1: room for its terms. */
static void range_sum(const ensi_context *ctx, const ensi_packed_pcmm *p, size_t og, size_t i,
                      size_t first, size_t length, const uint64_t *stage, const uint64_t **y0,
                      const uint64_t **y1, ensi_ciphertext *out) {
  const giant_sum *sum = &p->sums[og];
  for (size_t k = 0; k < sum->count; k++) {
    const diagonal_term *t = &sum->terms[k];
    const size_t j = (2 * t->pack + t->wrapped) * p->baby + t->baby;
    y0[k] = stage + 2 * j * length;
    y1[k] = stage + (2 * j + 1) * length;
  }
  const size_t stride = 2 * p->per_pack * sum->count, skipped = first / p->run * sum->count;
  ensi_run_sums2(ensi_ct_limb(out, 0, i) + first, ensi_ct_limb(out, 1, i) + first,
                 sum->constants + i * stride + skipped,
                 sum->constants + (p->limbs + i) * stride + skipped, y0, y1, sum->count, p->run,
                 length, &ctx->moduli[i]);
}

/* sums[og] = the run-constant sum of giant step og's terms for og in [first, end) (output
 * ciphertext o, giant step g at og = o G + g; level p->level, scale x's times the diagonals'
 * prime), range by range over every limb. */
static ensi_status giant_step_sums(const ensi_context *ctx, const ensi_packed_pcmm *p,
                                   ensi_ciphertext *const *babies, double scale, size_t first,
                                   size_t end, ensi_ciphertext **sums) {
  const size_t n = ctx->n;
  const size_t inputs = 2 * p->in_packs * p->baby; /* also the most terms a sum can have */
  for (size_t og = first; og < end; og++) {
    ENSI_TRY(ensi_ciphertext_create(&sums[og], ctx, p->level));
    sums[og]->scale = scale;
    sums[og]->slots = n / 2;
  }
  const size_t length = range_length(p, n), ranges = n / length;
  ensi_status status = ENSI_OK;
#pragma omp parallel
  {
    uint64_t *stage = malloc(2 * inputs * length * sizeof *stage);
    const uint64_t **y = malloc(2 * inputs * sizeof *y);
    if (!stage || !y) {
#pragma omp critical
      status = ENSI_ERR_NOMEM;
    }
#pragma omp for schedule(dynamic)
    for (size_t task = 0; task < p->limbs * ranges; task++) {
      const size_t i = task / ranges, start = task % ranges * length;
      if (!stage || !y)
        continue;
      stage_range(p, babies, i, start, length, stage);
      for (size_t og = first; og < end; og++)
        range_sum(ctx, p, og, i, start, length, stage, y, y + inputs, sums[og]);
    }
    free(stage);
    free((void *)y);
  }
  return status;
}

/* Output ciphertext o before its rescale: the giant steps' sums rotated into place and added in
 * Q_l P (extended.h: one ModDown per ciphertext instead of two per rotation), into out. */
static ensi_status giant_total(const ensi_context *ctx, const ensi_packed_pcmm *p, size_t o,
                               ensi_ciphertext *const *sums, const ensi_eval_keys *keys,
                               ensi_ciphertext *out) {
  ensi_extended e;
  ENSI_TRY(ensi_extended_init(&e, ctx, p->level));
  uint64_t *total = ensi_large_alloc(e.words, sizeof *total);
  ensi_status s = total ? ENSI_OK : ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    ensi_extended_lift(&e, total, sums[o * p->giant]);
  for (size_t g = 1; s == ENSI_OK && g < p->giant; g++) {
    if (p->sums[o * p->giant + g].count == 0)
      continue;
    const ensi_galois_key *gk;
    s = ensi_extended_rotation_key(ctx, keys, (long long)(g * p->baby), &gk);
    ensi_op_count(OP_COUNT_ROTATION, 1);
    if (s == ENSI_OK)
      s = ensi_extended_add_rotation(&e, total, sums[o * p->giant + g], gk);
  }
  if (s == ENSI_OK)
    s = ensi_extended_finish(&e, out, total, sums[o * p->giant]->scale, ctx->n / 2);
  ensi_large_free(total);
  ensi_extended_free(&e);
  return s;
}

/* y's packs of output ciphertext o, rescaled to p->level - 1: its total W, split first when it
 * is a pair (W = (Y + i Y') / 2: Y = W + conj(W), Y' = i (conj(W) - W)), so that each pack gets
 * the rounding of one rescale, as an unpaired one (splitting after it would double it). */
static ensi_status output_packs(const ensi_context *ctx, const ensi_packed_pcmm *p, size_t o,
                                ensi_ciphertext *const *sums, const ensi_eval_keys *keys,
                                ensi_packed_matrix *y) {
  ensi_ciphertext *w = NULL, *conj = NULL;
  ensi_status s = ensi_ciphertext_create(&w, ctx, p->level);
  if (s == ENSI_OK)
    s = giant_total(ctx, p, o, sums, keys, w);
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&y->pack[2 * o], ctx, p->level - 1);
  if (s == ENSI_OK && paired(p, o)) {
    s = ensi_ciphertext_create(&y->pack[2 * o + 1], ctx, p->level - 1);
    if (s == ENSI_OK)
      s = ensi_ciphertext_create(&conj, ctx, p->level);
    if (s == ENSI_OK)
      s = ensi_conjugate(ctx, conj, w, keys);
    if (s == ENSI_OK)
      s = ensi_sub(ctx, conj, conj, w); /* conj(W) - W */
    if (s == ENSI_OK)
      s = ensi_add(ctx, w, w, w);
    if (s == ENSI_OK)
      s = ensi_add(ctx, w, w, conj); /* 2 W + conj(W) - W = W + conj(W) */
    if (s == ENSI_OK)
      s = ensi_mul_by_i(ctx, conj, conj);
    if (s == ENSI_OK)
      s = ensi_rescale(ctx, y->pack[2 * o + 1], conj);
  }
  if (s == ENSI_OK)
    s = ensi_rescale(ctx, y->pack[2 * o], w);
  ensi_ciphertext_free(conj);
  ensi_ciphertext_free(w);
  return s;
}

/* Output ciphertexts whose giant-step sums are held at once: all of them where they fit in the
 * budget, else as many as fit, at least one (each chunk reads the rotated inputs again, range by
 * range: a copy, against the gigabytes the sums of a wide product would take: 1.5 GiB for the 8
 * output ciphertexts of bitnet_b1_58-large's up projection at level 5). */
static size_t output_chunk(const ensi_context *ctx, const ensi_packed_pcmm *p) {
  const size_t per_output = p->giant * 2 * (p->level + 1) * ctx->n * sizeof(uint64_t);
  const size_t fit = p->sums_budget / per_output;
  return fit < 1 ? 1 : fit;
}

void ensi_packed_pcmm_limit_memory(ensi_packed_pcmm *p, size_t bytes) {
  if (p)
    p->sums_budget = bytes;
}

/* The input's shape against the one p was prepared for. */
static ensi_status check_geometry(const ensi_packed_pcmm *p, size_t rows, size_t cols,
                                  size_t per_pack) {
  if (rows != p->rows || cols != p->inputs || per_pack != p->per_pack)
    return ensi_fail(ENSI_ERR_ARG, "packed pcmm: input %zu x %zu (%zu per pack), prepared for "
                     "%zu x %zu (%zu per pack)", rows, cols, per_pack, p->rows, p->inputs,
                     p->per_pack);
  return ENSI_OK;
}

static ensi_status check_rotations(const ensi_packed_pcmm *p, const ensi_packed_rotations *r) {
  ENSI_TRY(check_geometry(p, r->rows, r->cols, r->per_pack));
  if (r->baby != p->baby)
    return ensi_fail(ENSI_ERR_ARG, "packed pcmm: rotations for B = %zu, prepared for B = %zu",
                     r->baby, p->baby);
  if (r->level < p->level)
    return ensi_fail(ENSI_ERR_LEVEL, "packed pcmm: input at level %zu, prepared for %zu",
                     r->level, p->level);
  if (p->any_wrapped && !r->wrapped)
    return ensi_fail(ENSI_ERR_ARG, "packed pcmm: the rotations lack the wrapped copies");
  return ENSI_OK;
}

ensi_status ensi_packed_pcmm_apply_rotations(const ensi_context *ctx, ensi_packed_matrix **out,
                                             const ensi_packed_pcmm *p,
                                             const ensi_packed_rotations *r,
                                             const ensi_eval_keys *keys) {
  if (!ctx || !out || !p || !r || !keys)
    return ensi_fail(ENSI_ERR_ARG, "packed pcmm: null argument");
  ENSI_TRY(check_rotations(p, r));
  const size_t sum_count = p->out_cts * p->giant;
  ensi_ciphertext **sums = calloc(sum_count, sizeof *sums);
  ensi_packed_matrix *y = calloc(1, sizeof *y);
  ensi_status s = sums && y ? ENSI_OK : ENSI_ERR_NOMEM;
  if (s == ENSI_OK) {
    *y = (ensi_packed_matrix){r->rows, p->outputs, p->per_pack, p->out_packs, NULL};
    y->pack = calloc(p->out_packs, sizeof *y->pack);
    s = y->pack ? ENSI_OK : ENSI_ERR_NOMEM;
  }
  const double scale = r->scale * ensi_context_prime(ctx, p->level);
  const size_t chunk = output_chunk(ctx, p);
  for (size_t first = 0; s == ENSI_OK && first < p->out_cts; first += chunk) {
    const size_t end = first + chunk < p->out_cts ? first + chunk : p->out_cts;
    s = giant_step_sums(ctx, p, r->babies, scale, first * p->giant, end * p->giant, sums);
    for (size_t o = first; s == ENSI_OK && o < end; o++)
      s = output_packs(ctx, p, o, sums, keys, y);
    for (size_t og = first * p->giant; og < end * p->giant; og++) {
      ensi_ciphertext_free(sums[og]);
      sums[og] = NULL;
    }
  }
  for (size_t i = 0; sums && i < sum_count; i++)
    ensi_ciphertext_free(sums[i]);
  free(sums);
  if (s != ENSI_OK) {
    ensi_packed_matrix_free(y);
    return s;
  }
  *out = y;
  return ENSI_OK;
}

ensi_status ensi_packed_pcmm_apply(const ensi_context *ctx, ensi_packed_matrix **out,
                                   const ensi_packed_pcmm *p, const ensi_packed_matrix *x,
                                   const ensi_eval_keys *keys) {
  if (!ctx || !out || !p || !x || !keys)
    return ensi_fail(ENSI_ERR_ARG, "packed pcmm: null argument");
  ENSI_TRY(check_geometry(p, x->rows, x->cols, x->per_pack)); /* before the rotations' cost */
  ensi_packed_rotations *r = NULL;
  ensi_status s =
      ensi_packed_rotations_compute(&r, ctx, x, p->level, p->baby, p->any_wrapped, keys);
  if (s == ENSI_OK)
    s = ensi_packed_pcmm_apply_rotations(ctx, out, p, r, keys);
  ensi_packed_rotations_free(r);
  return s;
}
