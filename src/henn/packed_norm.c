/* The inverse RMS of an RMSNorm in the packed layout: one ciphertext for all tokens, each token's
 * value at each of its C slots.
 *
 * The squares of all packs are summed (tensor products accumulated, one relinearization); a
 * token's C columns are consecutive slots, so log2 C rotations by doubling leave its sum of
 * squares in its first slot (the other slots mix two tokens). A mask keeps the first slots, and
 * carries the map to the polynomial's interval [-1, 1] at the same time (so the polynomial skips
 * its own map: the mask costs no level of its own); log2 C rotations by doubling the other way
 * spread the value over the token's slots. Padding tokens get the middle of the interval.
 * Levels: square 1, mask 1, polynomial depth - 1. Gamma and the BitLinear's beta are folded into
 * the weights of the product that follows, and the inverse RMS multiplies that product's output
 * (a factor per token commutes with it).
 *
 * An input with too few levels for all that (but two: the square and the mask) need not be
 * bootstrapped pack by pack: the mapped sum, one ciphertext with values in [-1, 1], is
 * bootstrapped instead (at the bootstrapper's full input scale: the interval is its whole range)
 * and the polynomial runs from the fresh levels. */
#include <stdlib.h>

#include "base/error.h"
#include "henn/packed_eval.h"

static size_t rsqrt_depth(const packed_eval *pe, ensi_norm_kind kind) {
  const ensi_forward_options *o = &pe->ev.setup->approx;
  return ensi_chebyshev_depth(o->rsqrt_degree[kind], o->rsqrt_lo[kind], o->rsqrt_hi[kind]);
}

size_t packed_norm_depth(const packed_eval *pe, ensi_norm_kind kind) {
  return rsqrt_depth(pe, kind) + 1;
}

/* sum = the sum over packs of their squares, and over each token's C slots (valid in its first). */
static ensi_status sum_of_squares(const packed_eval *pe, const ensi_packed_matrix *x,
                                  ensi_ciphertext *sum) {
  const henn_eval *ev = &pe->ev;
  ENSI_TRY(henn_dot(ev, sum, x->pack, x->pack, x->pack_count));
  ensi_ciphertext *rotated = NULL;
  ensi_status s = ensi_ciphertext_create(&rotated, ev->ctx, ensi_ciphertext_level(sum));
  for (size_t step = 1; s == ENSI_OK && step < pe->per_pack; step *= 2) {
    s = ensi_rotate(ev->ctx, rotated, sum, (long long)step, ev->keys);
    if (s == ENSI_OK)
      s = ensi_add(ev->ctx, sum, sum, rotated);
  }
  ensi_ciphertext_free(rotated);
  return s;
}

/* t1 = (2 sum - a - b) / (b - a) on every slot of the tokens (0 on padding tokens), one level
 * below sum, at scale `target`. */
static ensi_status map_and_spread(const packed_eval *pe, const ensi_ciphertext *sum, double a,
                                  double b, double target, ensi_ciphertext *t1) {
  const henn_eval *ev = &pe->ev;
  const size_t level = ensi_ciphertext_level(sum), C = pe->per_pack;
  double *values = calloc(ev->slots, sizeof *values);
  if (!values)
    return ENSI_ERR_NOMEM;
  for (size_t t = 0; t < ev->rows; t++)
    values[t * C] = 2.0 / (b - a);
  ensi_plaintext *pt = NULL;
  ensi_ciphertext *rotated = NULL;
  ensi_status s = packed_plain(pe, &pt, values, level,
                               target * henn_prime(ev, level) / ensi_ciphertext_scale(sum));
  if (s == ENSI_OK)
    s = ensi_mul_plain(ev->ctx, t1, sum, pt);
  if (s == ENSI_OK)
    s = ensi_rescale(ev->ctx, t1, t1);
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&rotated, ev->ctx, level - 1);
  for (size_t step = 1; s == ENSI_OK && step < C; step *= 2) {
    s = ensi_rotate(ev->ctx, rotated, t1, -(long long)step, ev->keys);
    if (s == ENSI_OK)
      s = ensi_add(ev->ctx, t1, t1, rotated);
  }
  for (size_t j = 0; j < ev->slots; j++)
    values[j] = j / C < ev->rows ? -(a + b) / (b - a) : 0.0;
  ensi_plaintext_free(pt);
  pt = NULL;
  if (s == ENSI_OK)
    s = packed_plain(pe, &pt, values, level - 1, ensi_ciphertext_scale(t1));
  if (s == ENSI_OK)
    s = ensi_add_plain(ev->ctx, t1, t1, pt);
  ensi_plaintext_free(pt);
  ensi_ciphertext_free(rotated);
  free(values);
  return s;
}

/* inv from x at `level` (dropped there): the polynomial's input t1 is bootstrapped first when
 * `refresh`; inv at the scale `scale`. */
static ensi_status inverse_rms(packed_eval *pe, const ensi_packed_matrix *x, size_t features,
                               ensi_norm_kind kind, bool refresh, double scale,
                               ensi_ciphertext **inv) {
  henn_eval *ev = &pe->ev;
  const ensi_forward_options *o = &ev->setup->approx;
  const size_t level = packed_level(x), depth = rsqrt_depth(pe, kind);
  /* the reference evaluates p(v / c), v = sum / n + eps, p on [lo, hi]: in terms of the sum the
   * interval is [n (c lo - eps), n (c hi - eps)] with the same coefficients */
  const double n = (double)features, c = henn_norm_center(ev, kind);
  const double a = n * (c * o->rsqrt_lo[kind] - ev->eps), b = n * (c * o->rsqrt_hi[kind] - ev->eps);
  henn_mark mark;
  henn_begin(ev, &mark, "RMSNorm");
  ensi_ciphertext *sum = NULL, *t1 = NULL;
  ensi_status s = ensi_ciphertext_create(&sum, ev->ctx, level);
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(&t1, ev->ctx, level - 1);
  if (s == ENSI_OK)
    s = sum_of_squares(pe, x, sum);
  if (s == ENSI_OK)
    s = map_and_spread(pe, sum, a, b, refresh ? ev->boot_scale : henn_prime(ev, level - 2), t1);
  henn_end(ev, ENSI_STAGE_RMSNORM, &mark);
  if (s == ENSI_OK && refresh)
    s = packed_refresh(pe, &t1, 1, SIZE_MAX, ENSI_STAGE_RMSNORM);
  henn_begin(ev, &mark, NULL);
  /* a refreshed t1 sits at the bootstrapper's scale, not at its prime: the polynomial's own map
   * (of [-1, 1] onto itself) brings it there, with a level to spare after bootstrapping */
  if (s == ENSI_OK)
    s = ensi_ciphertext_create(inv, ev->ctx, ensi_ciphertext_level(t1) - depth + (refresh ? 0 : 1));
  if (s == ENSI_OK && refresh)
    s = ensi_eval_chebyshev(ev->ctx, *inv, t1, ev->rsqrt[kind], o->rsqrt_degree[kind], -1.0, 1.0,
                            scale, ev->keys);
  else if (s == ENSI_OK)
    s = ensi_eval_chebyshev_unit(ev->ctx, *inv, t1, ev->rsqrt[kind], o->rsqrt_degree[kind], scale,
                                 ev->keys);
  ensi_ciphertext_free(sum);
  ensi_ciphertext_free(t1);
  henn_end(ev, ENSI_STAGE_RMSNORM, &mark);
  if (s != ENSI_OK) {
    ensi_ciphertext_free(*inv);
    *inv = NULL;
  }
  return s;
}

ensi_status packed_inverse_rms(packed_eval *pe, const ensi_packed_matrix *x, size_t features,
                               ensi_norm_kind kind, ensi_ciphertext **inv) {
  const size_t level = packed_level(x), depth = packed_norm_depth(pe, kind);
  *inv = NULL;
  if (level < depth)
    return ensi_fail(ENSI_ERR_LEVEL, "packed norm: input at level %zu, the norm needs %zu", level,
                     depth);
  return inverse_rms(pe, x, features, kind, false, henn_prime(&pe->ev, level - depth), inv);
}

ensi_status packed_inverse_rms_refreshed(packed_eval *pe, const ensi_packed_matrix *x,
                                         size_t features, ensi_norm_kind kind, size_t at,
                                         ensi_ciphertext **inv) {
  const size_t level = packed_level(x);
  const size_t top = pe->ev.setup->boot ? ensi_bootstrap_output_level(pe->ev.setup->boot) : 0;
  *inv = NULL;
  if (level < PACKED_NORM_REFRESHED_LEVEL || top < at + rsqrt_depth(pe, kind))
    return ensi_fail(ENSI_ERR_LEVEL, "packed norm: input at level %zu, %zu after bootstrapping; "
                     "the bootstrapped norm needs %d and %zu", level, top,
                     PACKED_NORM_REFRESHED_LEVEL, at + rsqrt_depth(pe, kind));
  return inverse_rms(pe, x, features, kind, true, henn_prime(&pe->ev, at), inv);
}
