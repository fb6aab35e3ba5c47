/* Baby-step giant-step evaluation of plaintext-matrix times ciphertext-vector products from
 * diagonals (see ensi/linear_transform.h). */
#include <ensi/linear_transform.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

typedef struct {
  size_t giant;        /* giant step g: the group rotates by g * n1 at the end */
  size_t baby_count;   /* diagonals of this group */
  size_t *baby;        /* baby step b of each diagonal */
  ensi_plaintext **pt; /* rot(d_{g n1 + b}, -g n1), encoded */
} giant_group;

struct ensi_linear_transform {
  size_t slots, level;
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

/* Encodes rot(d, -shift) (diagonal values re/im of length slots). */
static ensi_status encode_shifted(const ensi_context *ctx, ensi_plaintext **out, const double *re,
                                  const double *im, size_t slots, size_t shift, size_t level,
                                  double scale) {
  double *r = malloc(slots * sizeof *r), *i = malloc(slots * sizeof *i);
  ensi_status s = r && i ? ensi_plaintext_create(out, ctx, level) : ENSI_ERR_NOMEM;
  if (s == ENSI_OK) {
    for (size_t j = 0; j < slots; j++) { /* rot(d, -shift)[j] = d[(j - shift) mod slots] */
      const size_t src = (j + slots - shift % slots) % slots;
      r[j] = re[src];
      i[j] = im ? im[src] : 0.0;
    }
    s = ensi_encode_complex(ctx, *out, r, i, slots, scale);
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
      ensi_plaintext_free(lt->groups[i].pt[b]);
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

ensi_status ensi_linear_transform_apply(const ensi_context *ctx, ensi_ciphertext *out,
                                        const ensi_linear_transform *lt, const ensi_ciphertext *in,
                                        const ensi_eval_keys *keys) {
  if (!ctx || !out || !lt || !in || out == in)
    return ensi_fail(ENSI_ERR_ARG, "linear transform: bad argument (out must not alias in)");
  if (ensi_ciphertext_level(in) < lt->level)
    return ensi_fail(ENSI_ERR_LEVEL, "linear transform: input level %zu below %zu",
                     ensi_ciphertext_level(in), lt->level);
  long long *steps = malloc(lt->n1 * sizeof *steps);
  ensi_ciphertext **rotated = calloc(lt->n1, sizeof *rotated);
  const ensi_ciphertext **terms = malloc(lt->n1 * sizeof *terms);
  ensi_ciphertext *x = NULL, *inner = NULL;
  ensi_status s = steps && rotated && terms ? ENSI_OK : ENSI_ERR_NOMEM;
  size_t baby_count = s == ENSI_OK ? baby_steps_used(lt, steps) : 0;
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&x, ctx, lt->level);
  if (s == ENSI_OK)
    s = ensi_drop_level(ctx, x, in, lt->level);
  for (size_t i = 0; s == ENSI_OK && i < baby_count; i++)
    s = ensi_ciphertext_create(&rotated[i], ctx, lt->level);
  if (s == ENSI_OK && baby_count)
    s = ensi_rotate_hoisted(ctx, rotated, x, steps, baby_count, keys);
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&inner, ctx, lt->level);
  bool have_out = false;
  for (size_t gi = 0; s == ENSI_OK && gi < lt->group_count; gi++) {
    const giant_group *grp = &lt->groups[gi];
    for (size_t k = 0; k < grp->baby_count; k++)
      terms[k] = grp->baby[k] == 0 ? x : rotated[find_step(steps, baby_count, grp->baby[k])];
    s = ensi_mul_plain_sum(ctx, inner, terms, (const ensi_plaintext *const *)grp->pt,
                           grp->baby_count);
    if (s == ENSI_OK && grp->giant)
      s = ensi_rotate(ctx, inner, inner, (long long)grp->giant, keys);
    if (s == ENSI_OK)
      s = have_out ? ensi_add(ctx, out, out, inner) : ensi_ciphertext_copy(out, inner);
    have_out = true;
  }
  for (size_t i = 0; rotated && i < baby_count; i++)
    ensi_ciphertext_free(rotated[i]);
  free(rotated);
  free(terms);
  free(steps);
  ensi_ciphertext_free(x);
  ensi_ciphertext_free(inner);
  return s;
}
