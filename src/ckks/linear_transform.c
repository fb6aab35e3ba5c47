/* Baby-step giant-step evaluation of plaintext-matrix times ciphertext-vector products from
 * diagonals (see ensi/linear_transform.h). */
#include <ensi/linear_transform.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/large_alloc.h"
#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "ckks/encoder.h"
#include "ckks/galois.h"
#include "ckks/keys.h"
#include "ckks/keyswitch.h"
#include "ckks/op_counts.h"
#include "math/dot.h"

typedef struct {
  size_t giant;        /* giant step g: the group rotates by g * n1 at the end */
  size_t baby_count;   /* diagonals of this group */
  size_t *baby;        /* baby step b of each diagonal */
  uint64_t **pt;       /* rot(d_{g n1 + b}, -g n1), encoded on the extended basis of `level` */
} giant_group;

struct ensi_linear_transform {
  size_t slots, level;
  double scale; /* the diagonals' */
  size_t stride; /* every diagonal index is a multiple of it (a DFT stage's are) */
  size_t n1;     /* baby steps, in units of stride */
  giant_group *groups;
  size_t group_count;
};

static size_t gcd(size_t a, size_t b) {
  while (b) {
    const size_t r = a % b;
    a = b;
    b = r;
  }
  return a;
}

/* The largest power of two dividing `slots` and every index: the diagonals of a radix stage of a
 * DFT sit at multiples of a large stride, and a baby-step giant-step split in units of 1 would make
 * every diagonal a giant step of its own (one full rotation each). */
static size_t common_stride(size_t slots, const size_t *indices, size_t count) {
  size_t stride = slots;
  for (size_t d = 0; d < count; d++)
    stride = gcd(stride, indices[d]);
  return stride;
}

static size_t pick_baby_steps(size_t count) {
  size_t n1 = 1;
  while (n1 * n1 < count)
    n1 <<= 1;
  return n1;
}

/* Finds or appends the group of giant step g. */
static giant_group *group_for(ensi_linear_transform *lt, size_t g, size_t capacity) {
  for (size_t i = 0; i < lt->group_count; i++)
    if (lt->groups[i].giant == g)
      return &lt->groups[i];
  giant_group *grp = &lt->groups[lt->group_count++];
  grp->giant = g;
  grp->baby = calloc(capacity, sizeof *grp->baby);
  grp->pt = calloc(capacity, sizeof *grp->pt);
  return grp->baby && grp->pt ? grp : NULL;
}

/* Encodes rot(d, -shift) (diagonal values re/im of length slots) on the extended basis. */
static ensi_status encode_shifted(const ensi_context *ctx, uint64_t **out, const double *re,
                                  const double *im, size_t slots, size_t shift, size_t level,
                                  double scale) {
  double *r = malloc(slots * sizeof *r), *i = malloc(slots * sizeof *i);
  *out = ensi_large_alloc((level + 1 + ctx->p_count) * ctx->n, sizeof **out);
  ensi_status s = r && i && *out ? ENSI_OK : ENSI_ERR_NOMEM;
  if (s == ENSI_OK) {
    for (size_t j = 0; j < slots; j++) { /* rot(d, -shift)[j] = d[(j - shift) mod slots] */
      const size_t src = (j + slots - shift % slots) % slots;
      r[j] = re[src];
      i[j] = im ? im[src] : 0.0;
    }
    s = ensi_encode_extended(ctx, *out, r, i, slots, scale, level);
  }
  free(r);
  free(i);
  return s;
}

ensi_status ensi_linear_transform_create(ensi_linear_transform **out, const ensi_context *ctx,
                                         size_t slots, const size_t *indices,
                                         const double *const *re, const double *const *im,
                                         size_t count, size_t level, double scale,
                                         size_t baby_steps) {
  if (!out || !ctx || !indices || !re || count == 0 || slots == 0 || (slots & (slots - 1)))
    return ensi_fail(ENSI_ERR_ARG, "linear transform: bad argument");
  ensi_linear_transform *lt = calloc(1, sizeof *lt);
  if (!lt)
    return ENSI_ERR_NOMEM;
  lt->slots = slots;
  lt->level = level;
  lt->scale = scale;
  lt->stride = common_stride(slots, indices, count);
  lt->n1 = baby_steps ? baby_steps : pick_baby_steps(count);
  lt->groups = calloc(count, sizeof *lt->groups);
  ensi_status s = lt->groups ? ENSI_OK : ENSI_ERR_NOMEM;
  for (size_t d = 0; s == ENSI_OK && d < count; d++) {
    if (indices[d] >= slots) {
      s = ensi_fail(ENSI_ERR_ARG, "linear transform: diagonal %zu beyond %zu slots", indices[d], slots);
      break;
    }
    const size_t units = indices[d] / lt->stride;
    const size_t g = units / lt->n1 * lt->n1 * lt->stride, b = indices[d] - g;
    giant_group *grp = group_for(lt, g, count);
    if (!grp) {
      s = ENSI_ERR_NOMEM;
      break;
    }
    grp->baby[grp->baby_count] = b;
    s = encode_shifted(ctx, &grp->pt[grp->baby_count], re[d], im ? im[d] : NULL, slots, g, level,
                       scale);
    grp->baby_count++;
  }
  if (s != ENSI_OK) {
    ensi_linear_transform_free(lt);
    return s;
  }
  *out = lt;
  return ENSI_OK;
}

void ensi_linear_transform_free(ensi_linear_transform *lt) {
  if (!lt)
    return;
  for (size_t i = 0; lt->groups && i < lt->group_count; i++) {
    for (size_t b = 0; b < lt->groups[i].baby_count; b++)
      ensi_large_free(lt->groups[i].pt[b]);
    free(lt->groups[i].pt);
    free(lt->groups[i].baby);
  }
  free(lt->groups);
  free(lt);
}

/* The distinct nonzero baby steps, in increasing order. */
static size_t baby_steps_used(const ensi_linear_transform *lt, long long *steps) {
  size_t count = 0;
  for (size_t b = lt->stride; b < lt->n1 * lt->stride; b += lt->stride)
    for (size_t i = 0; i < lt->group_count; i++) {
      bool used = false;
      for (size_t k = 0; k < lt->groups[i].baby_count; k++)
        used |= lt->groups[i].baby[k] == b;
      if (used) {
        steps[count++] = (long long)b;
        break;
      }
    }
  return count;
}

void ensi_linear_transform_rotations(const ensi_linear_transform *lt, long long *steps,
                                     size_t *count) {
  size_t c = baby_steps_used(lt, steps);
  for (size_t i = 0; i < lt->group_count; i++)
    if (lt->groups[i].giant)
      steps[c++] = (long long)lt->groups[i].giant;
  *count = c;
}

/* index in steps[0..count) of step b, or count when absent (b = 0 is the input itself) */
static size_t find_step(const long long *steps, size_t count, size_t b) {
  for (size_t i = 0; i < count; i++)
    if (steps[i] == (long long)b)
      return i;
  return count;
}

/* Double hoisting (Bossuat et al., Eurocrypt 2021): the baby-step rotations share one
 * decomposition of the input and stay in the extended basis Q_l P, scaled by P, without ModDown;
 * the plaintext sums are taken there; each giant step divides only its sum's c1 by P before
 * decomposing it, and the rotated sums are added in Q_l P and divided by P once at the end. A
 * rotation of (c0, c1) in Q_l P is (sigma(c0), 0) + KS(sigma(ModDown(c1))): the part of c1 that
 * ModDown drops is below P and adds an error of the size of one ModDown's. */
typedef struct {
  const ensi_context *ctx;
  size_t level, ext, n;
  size_t words; /* of one extended ciphertext: 2 ext n */
  uint64_t *decomposition, *acc, *c1, *scratch;
} hoisting;

static const ensi_galois_key *key_for_step(const ensi_context *ctx, const ensi_eval_keys *keys,
                                           long long step) {
  return ensi_eval_keys_find(keys, ensi_galois_element_rotation(step, ctx->n));
}

/* out (extended) = P (c0, c1) of a ciphertext at the hoisting's level; P limbs zero. */
static void lift(const hoisting *h, uint64_t *out, const ensi_ciphertext *x) {
  const size_t n = h->n;
  memset(out, 0, h->words * sizeof *out);
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i <= h->level; i++) {
    const uint64_t q = h->ctx->moduli[i].value, p = h->ctx->p_mod_q[i];
    const uint64_t p_shoup = ensi_shoup_precompute(p, q);
    for (size_t k = 0; k < 2; k++) {
      const uint64_t *c = ensi_ct_limb(x, k, i);
      uint64_t *o = out + (k * h->ext + i) * n;
      for (size_t t = 0; t < n; t++)
        o[t] = ensi_mul_shoup(c[t], p, p_shoup, q);
    }
  }
}

/* out (extended) = P rot(x, step) before ModDown, from the decomposition of x's c1. */
static ensi_status rotate_extended(const hoisting *h, uint64_t *out, const ensi_ciphertext *x,
                                   const ensi_galois_key *gk) {
  const size_t n = h->n;
  ENSI_TRY(ensi_ks_inner_product(h->ctx, out, out + h->ext * n, h->decomposition, h->level,
                                 gk->key, gk->permutation));
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i <= h->level; i++) {
    const uint64_t q = h->ctx->moduli[i].value, p = h->ctx->p_mod_q[i];
    const uint64_t p_shoup = ensi_shoup_precompute(p, q);
    const uint64_t *c0 = ensi_ct_limb(x, 0, i);
    uint64_t *o = out + i * n;
    for (size_t t = 0; t < n; t++)
      o[t] = ensi_add_mod(o[t], ensi_mul_shoup(c0[gk->permutation[t]], p, p_shoup, q), q);
  }
  return ENSI_OK;
}

/* out (extended) = sum_k pt_k * terms_k, limb by limb over Q_l P. */
static ensi_status plain_sum(const hoisting *h, uint64_t *out, const uint64_t *const *terms,
                             uint64_t *const *pt, size_t count) {
  const size_t n = h->n, ext = h->ext;
  const uint64_t **rows = malloc(3 * count * ext * sizeof *rows);
  if (!rows)
    return ENSI_ERR_NOMEM;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < ext; i++) {
    const uint64_t **w = rows + 3 * count * i, **c0 = w + count, **c1 = c0 + count;
    for (size_t k = 0; k < count; k++) {
      w[k] = pt[k] + i * n;
      c0[k] = terms[k] + i * n;
      c1[k] = terms[k] + (ext + i) * n;
    }
    ensi_dot2_mod(out + i * n, out + (ext + i) * n, w, c0, c1, count, NULL, n,
                  &h->ctx->moduli[ensi_ks_ext_modulus(h->ctx, h->level, i)]);
  }
  free(rows);
  return ENSI_OK;
}

/* sum (extended) += rot(inner, step) for an extended inner, whose c1's P limbs are overwritten. */
static ensi_status add_rotated(const hoisting *h, uint64_t *sum, uint64_t *inner,
                               const ensi_galois_key *gk) {
  const size_t n = h->n, ext = h->ext;
  ensi_ks_mod_down(h->ctx, h->c1, inner + ext * n, h->level, h->scratch);
  ENSI_TRY(ensi_ks_decompose(h->ctx, h->decomposition, h->c1, h->level));
  ENSI_TRY(ensi_ks_inner_product(h->ctx, h->acc, h->acc + ext * n, h->decomposition, h->level,
                                 gk->key, gk->permutation));
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < ext; i++) {
    const uint64_t q = h->ctx->moduli[ensi_ks_ext_modulus(h->ctx, h->level, i)].value;
    uint64_t *s0 = sum + i * n, *s1 = sum + (ext + i) * n;
    const uint64_t *c0 = inner + i * n, *a0 = h->acc + i * n, *a1 = h->acc + (ext + i) * n;
    for (size_t t = 0; t < n; t++) {
      s0[t] = ensi_add_mod(s0[t], ensi_add_mod(c0[gk->permutation[t]], a0[t], q), q);
      s1[t] = ensi_add_mod(s1[t], a1[t], q);
    }
  }
  return ENSI_OK;
}

static void add_extended(const hoisting *h, uint64_t *sum, const uint64_t *x) {
  const size_t n = h->n, ext = h->ext;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < ext; i++) {
    const uint64_t q = h->ctx->moduli[ensi_ks_ext_modulus(h->ctx, h->level, i)].value;
    for (size_t k = 0; k < 2; k++)
      for (size_t t = 0; t < n; t++)
        sum[(k * ext + i) * n + t] = ensi_add_mod(sum[(k * ext + i) * n + t], x[(k * ext + i) * n + t], q);
  }
}

/* The keys of the baby steps and giant steps, or a clear error naming the missing one. */
static ensi_status find_keys(const ensi_context *ctx, const ensi_linear_transform *lt,
                             const ensi_eval_keys *keys, const long long *steps, size_t baby_count,
                             const ensi_galois_key **baby_keys, const ensi_galois_key **giant_keys) {
  for (size_t i = 0; i < baby_count + lt->group_count; i++) {
    const long long step = i < baby_count ? steps[i] : (long long)lt->groups[i - baby_count].giant;
    const ensi_galois_key *gk = step ? key_for_step(ctx, keys, step) : NULL;
    if (step && !gk)
      return ensi_fail(ENSI_ERR_KEY_MISSING, "linear transform: no key for rotation %lld", step);
    if (i < baby_count)
      baby_keys[i] = gk;
    else
      giant_keys[i - baby_count] = gk;
  }
  return ENSI_OK;
}

ensi_status ensi_linear_transform_apply(const ensi_context *ctx, ensi_ciphertext *out,
                                        const ensi_linear_transform *lt, const ensi_ciphertext *in,
                                        const ensi_eval_keys *keys) {
  if (!ctx || !out || !lt || !in || !keys || out == in)
    return ensi_fail(ENSI_ERR_ARG, "linear transform: bad argument (out must not alias in)");
  if (ensi_ciphertext_level(in) < lt->level)
    return ensi_fail(ENSI_ERR_LEVEL, "linear transform: input level %zu below %zu",
                     ensi_ciphertext_level(in), lt->level);
  if (in->degree != 1)
    return ensi_fail(ENSI_ERR_ARG, "linear transform: relinearize the input first");
  const size_t n = ctx->n, level = lt->level, ext = level + 1 + ctx->p_count;
  hoisting h = {.ctx = ctx, .level = level, .ext = ext, .n = n, .words = 2 * ext * n};
  long long *steps = malloc(lt->n1 * sizeof *steps);
  const ensi_galois_key **baby_keys = malloc(lt->n1 * sizeof *baby_keys);
  const ensi_galois_key **giant_keys = malloc(lt->group_count * sizeof *giant_keys);
  const uint64_t **terms = malloc(lt->n1 * sizeof *terms);
  size_t baby_count = steps ? baby_steps_used(lt, steps) : 0;
  /* extended ciphertexts: the lifted input, the baby-step rotations, a group's sum, the total */
  uint64_t *rotated = ensi_large_alloc((baby_count + 3) * h.words, sizeof *rotated);
  h.decomposition = ensi_large_alloc(ensi_ks_decomposition_words(ctx, level), sizeof(uint64_t));
  h.acc = ensi_large_alloc(h.words + 2 * (level + 1) * n, sizeof(uint64_t));
  ensi_ciphertext *x = NULL;
  ensi_status s = steps && baby_keys && giant_keys && terms && rotated && h.decomposition && h.acc
                      ? ENSI_OK
                      : ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    s = find_keys(ctx, lt, keys, steps, baby_count, baby_keys, giant_keys);
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&x, ctx, level);
  if (s == ENSI_OK)
    s = ensi_drop_level(ctx, x, in, level);
  uint64_t *lifted = rotated + baby_count * h.words, *inner = lifted + h.words,
           *total = inner + h.words;
  h.c1 = h.acc + h.words;
  h.scratch = h.c1 + (level + 1) * n;
  if (s == ENSI_OK) {
    ensi_op_count(OP_COUNT_ROTATION, baby_count);
    lift(&h, lifted, x);
    memset(total, 0, h.words * sizeof *total);
    s = baby_count ? ensi_ks_decompose(ctx, h.decomposition, ensi_ct_poly(x, 1), level) : ENSI_OK;
  }
  for (size_t i = 0; s == ENSI_OK && i < baby_count; i++)
    s = rotate_extended(&h, rotated + i * h.words, x, baby_keys[i]);
  for (size_t gi = 0; s == ENSI_OK && gi < lt->group_count; gi++) {
    const giant_group *grp = &lt->groups[gi];
    for (size_t k = 0; k < grp->baby_count; k++)
      terms[k] = grp->baby[k] == 0
                     ? lifted
                     : rotated + find_step(steps, baby_count, grp->baby[k]) * h.words;
    ensi_op_count(OP_COUNT_MUL_PLAIN, grp->baby_count);
    s = plain_sum(&h, inner, terms, grp->pt, grp->baby_count);
    if (s == ENSI_OK && grp->giant) {
      ensi_op_count(OP_COUNT_ROTATION, 1);
      s = add_rotated(&h, total, inner, giant_keys[gi]);
    } else if (s == ENSI_OK) {
      add_extended(&h, total, inner);
    }
  }
  if (s == ENSI_OK)
    s = ensi_ciphertext_reserve(out, level, 1);
  if (s == ENSI_OK) {
    out->degree = 1;
    out->scale = x->scale * lt->scale;
    out->slots = x->slots > lt->slots ? x->slots : lt->slots;
    ensi_ks_mod_down(ctx, ensi_ct_poly(out, 0), total, level, h.scratch);
    ensi_ks_mod_down(ctx, ensi_ct_poly(out, 1), total + ext * n, level, h.scratch);
  }
  ensi_ciphertext_free(x);
  ensi_large_free(rotated);
  ensi_large_free(h.decomposition);
  ensi_large_free(h.acc);
  free(steps);
  free(baby_keys);
  free(giant_keys);
  free(terms);
  return s;
}
