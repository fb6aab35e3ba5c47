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
#include "ckks/extended.h"
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

/* out (extended) = sum_k pt_k * terms_k, limb by limb over Q_l P. */
static ensi_status plain_sum(const ensi_extended *e, uint64_t *out, const uint64_t *const *terms,
                             uint64_t *const *pt, size_t count) {
  const size_t n = e->n, ext = e->ext;
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
                  &e->ctx->moduli[ensi_ks_ext_modulus(e->ctx, e->level, i)]);
  }
  free(rows);
  return ENSI_OK;
}

/* The keys of the baby steps and giant steps (NULL for a step of 0). */
static ensi_status find_keys(const ensi_context *ctx, const ensi_linear_transform *lt,
                             const ensi_eval_keys *keys, const long long *steps, size_t baby_count,
                             const ensi_galois_key **baby_keys, const ensi_galois_key **giant_keys) {
  for (size_t i = 0; i < baby_count + lt->group_count; i++) {
    const long long step = i < baby_count ? steps[i] : (long long)lt->groups[i - baby_count].giant;
    const ensi_galois_key **gk = i < baby_count ? &baby_keys[i] : &giant_keys[i - baby_count];
    *gk = NULL;
    if (step)
      ENSI_TRY(ensi_extended_rotation_key(ctx, keys, step, gk));
  }
  return ENSI_OK;
}

/* Double hoisting (extended.h): the baby-step rotations share one decomposition of the input and
 * stay in Q_l P, the products with the diagonals are summed there, each giant step divides only
 * its sum's c1 by P, and the total is divided by P once. */
ensi_status ensi_linear_transform_apply(const ensi_context *ctx, ensi_ciphertext *out,
                                        const ensi_linear_transform *lt, const ensi_ciphertext *in,
                                        const ensi_eval_keys *keys) {
  if (!ctx || !out || !lt || !in || out == in)
    return ensi_fail(ENSI_ERR_ARG, "linear transform: bad argument (out must not alias in)");
  if (ensi_ciphertext_level(in) < lt->level)
    return ensi_fail(ENSI_ERR_LEVEL, "linear transform: input level %zu below %zu",
                     ensi_ciphertext_level(in), lt->level);
  if (in->degree != 1)
    return ensi_fail(ENSI_ERR_ARG, "linear transform: relinearize the input first");
  ensi_extended e;
  ENSI_TRY(ensi_extended_init(&e, ctx, lt->level));
  long long *steps = malloc(lt->n1 * sizeof *steps);
  const ensi_galois_key **baby_keys = malloc(lt->n1 * sizeof *baby_keys);
  const ensi_galois_key **giant_keys = malloc(lt->group_count * sizeof *giant_keys);
  const uint64_t **terms = malloc(lt->n1 * sizeof *terms);
  size_t baby_count = steps ? baby_steps_used(lt, steps) : 0;
  /* extended ciphertexts: the baby-step rotations, the lifted input, a group's sum, the total */
  uint64_t *rotated = ensi_large_alloc((baby_count + 3) * e.words, sizeof *rotated);
  ensi_ciphertext *x = NULL;
  ensi_status s = steps && baby_keys && giant_keys && terms && rotated ? ENSI_OK : ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    s = find_keys(ctx, lt, keys, steps, baby_count, baby_keys, giant_keys);
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&x, ctx, lt->level);
  if (s == ENSI_OK)
    s = ensi_drop_level(ctx, x, in, lt->level);
  uint64_t *lifted = NULL, *inner = NULL, *total = NULL;
  if (s == ENSI_OK) {
    lifted = rotated + baby_count * e.words;
    inner = lifted + e.words;
    total = inner + e.words;
    ensi_op_count(OP_COUNT_ROTATION, baby_count);
    ensi_extended_lift(&e, lifted, x);
    memset(total, 0, e.words * sizeof *total);
    s = baby_count ? ensi_extended_decompose(&e, x) : ENSI_OK;
  }
  for (size_t i = 0; s == ENSI_OK && i < baby_count; i++)
    s = ensi_extended_rotate_hoisted(&e, rotated + i * e.words, x, baby_keys[i]);
  for (size_t gi = 0; s == ENSI_OK && gi < lt->group_count; gi++) {
    const giant_group *grp = &lt->groups[gi];
    for (size_t k = 0; k < grp->baby_count; k++)
      terms[k] = grp->baby[k] == 0
                     ? lifted
                     : rotated + find_step(steps, baby_count, grp->baby[k]) * e.words;
    ensi_op_count(OP_COUNT_MUL_PLAIN, grp->baby_count);
    s = plain_sum(&e, inner, terms, grp->pt, grp->baby_count);
    if (s == ENSI_OK && grp->giant) {
      ensi_op_count(OP_COUNT_ROTATION, 1);
      s = ensi_extended_add_rotation_of(&e, total, inner, giant_keys[gi]);
    } else if (s == ENSI_OK) {
      ensi_extended_add(&e, total, inner);
    }
  }
  if (s == ENSI_OK)
    s = ensi_extended_finish(&e, out, total, x->scale * lt->scale,
                             x->slots > lt->slots ? x->slots : lt->slots);
  ensi_ciphertext_free(x);
  ensi_large_free(rotated);
  ensi_extended_free(&e);
  free(steps);
  free(baby_keys);
  free(giant_keys);
  free(terms);
  return s;
}
