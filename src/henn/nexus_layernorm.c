/* NEXUS's LayerNorm (see ensi/baselines.h) as its released code computes it, an unweighted
 * RMSNorm: x (mean x^2)^(-1/2) per row, the row sum of squares by rotations, the inverse square root
 * by a linear first guess and Newton iterations y <- y (3 - m y^2) / 2. NEXUS lets scales follow
 * the primes; on parameters whose primes differ in size that drifts, so every product here has
 * one operand brought to exactly the prime it is divided by (at_scale), which keeps each scale a
 * known prime: one level more per Newton step than NEXUS spends, no other change. */
#include <ensi/baselines.h>

#include <math.h>
#include <stdlib.h>

#include "base/error.h"
#include "henn/row_sums.h"

/* out = c a at exactly `scale`, one level below a (a multiplication by the integer
 * round(c factor) and a rescale), dropped further to `level` when that is lower. */
static ensi_status at_scale(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                            double c, double scale, size_t level) {
  const size_t from = ensi_ciphertext_level(a);
  ENSI_TRY(ensi_mul_const_scaled(ctx, out, a, c,
                                 scale * ensi_context_prime(ctx, from) / ensi_ciphertext_scale(a)));
  ENSI_TRY(ensi_rescale(ctx, out, out));
  return level < from - 1 ? ensi_drop_level(ctx, out, out, level) : ENSI_OK;
}

/* out = a b, with b at the scale of the prime of the level the product happens at. */
static ensi_status product(const ensi_context *ctx, ensi_ciphertext *out, const ensi_ciphertext *a,
                           const ensi_ciphertext *b, const ensi_eval_keys *keys) {
  return ensi_mul_relin_rescale(ctx, out, a, b, keys);
}

/* b at the prime scale of `level` (for a product at that level). */
static ensi_status prime_copy(const ensi_context *ctx, ensi_ciphertext *out,
                              const ensi_ciphertext *a, double c, size_t level) {
  return at_scale(ctx, out, a, c, ensi_context_prime(ctx, level), level);
}

/* D: d rounded up to a power of two. */
static size_t pitch_of(size_t d) {
  size_t pitch = 1;
  while (pitch < d)
    pitch *= 2;
  return pitch;
}

size_t ensi_nexus_layernorm_rotations(size_t d, long long *steps) {
  return henn_row_sum_rotations(pitch_of(d), steps);
}

size_t ensi_nexus_layernorm_depth(int newton) { return 4 + 4 * (size_t)newton + 2; }

/* mean = sum of the row's squares / d in every slot of the row (sq: the squares, summed in place). */
static ensi_status row_mean(const ensi_context *ctx, ensi_ciphertext *mean, ensi_ciphertext *sq,
                            size_t d, const ensi_eval_keys *keys) {
  ENSI_TRY(henn_row_sums(ctx, sq, pitch_of(d), keys));
  ENSI_TRY(ensi_mul_const(ctx, mean, sq, 1.0 / (double)d));
  return ensi_rescale(ctx, mean, mean);
}

/* One Newton step y <- y (1.5 - 0.5 m y^2): four levels. */
static ensi_status newton_step(const ensi_context *ctx, ensi_ciphertext *y, const ensi_ciphertext *m,
                               ensi_ciphertext *t[3], const ensi_eval_keys *keys) {
  const size_t l = ensi_ciphertext_level(y);
  ENSI_TRY(prime_copy(ctx, t[0], y, 1, l - 1));        /* y at q_{l-1}, level l-1 */
  ENSI_TRY(product(ctx, t[1], t[0], t[0], keys));       /* y^2, level l-2 */
  ENSI_TRY(prime_copy(ctx, t[2], m, -0.5, l - 2));      /* -m/2 at q_{l-2} */
  ENSI_TRY(product(ctx, t[1], t[1], t[2], keys));       /* -m y^2 / 2, level l-3 */
  ENSI_TRY(ensi_add_const(ctx, t[1], t[1], 1.5));
  ENSI_TRY(prime_copy(ctx, t[0], y, 1, l - 3));         /* y at q_{l-3} */
  return product(ctx, y, t[1], t[0], keys);             /* level l-4 */
}

ensi_status ensi_nexus_layernorm(const ensi_context *ctx, ensi_ciphertext *out,
                                 const ensi_ciphertext *x, size_t d, size_t slots, double lo,
                                 double hi, int newton, const ensi_eval_keys *keys) {
  if (!ctx || !out || !x || !keys || d < 1 || slots < 2 * pitch_of(d) || !(lo > 0) || !(hi > lo) ||
      newton < 1 || newton > 8)
    return ensi_fail(ENSI_ERR_ARG, "nexus layernorm: %zu features in %zu slots, range [%g, %g], "
                     "%d Newton steps", d, slots, lo, hi, newton);
  const size_t level = ensi_ciphertext_level(x);
  if (level < ensi_nexus_layernorm_depth(newton))
    return ensi_fail(ENSI_ERR_LEVEL, "nexus layernorm: needs %zu levels, the input has %zu",
                     ensi_nexus_layernorm_depth(newton), level);
  /* first guess: the tangent of 1/sqrt at c = hi / 2.5, positive on the whole range and within
   * Newton's basin (y sqrt(m) in (0, 1]) */
  const double c = hi / 2.5, slope = -0.5 * pow(c, -1.5), intercept = 1.5 / sqrt(c);
  ensi_ciphertext *t[3] = {NULL, NULL, NULL}, *m = NULL, *y = NULL;
  ensi_status st = ENSI_OK;
  for (int i = 0; st == ENSI_OK && i < 3; i++)
    st = ensi_ciphertext_create(&t[i], ctx, level);
  if (st == ENSI_OK)
    st = ensi_ciphertext_create(&m, ctx, level);
  if (st == ENSI_OK)
    st = ensi_ciphertext_create(&y, ctx, level);
  if (st == ENSI_OK)
    st = prime_copy(ctx, t[0], x, 1, level - 1);
  if (st == ENSI_OK)
    st = product(ctx, t[1], x, t[0], keys); /* x^2 at x's scale, level - 2 */
  if (st == ENSI_OK)
    st = row_mean(ctx, m, t[1], d, keys); /* level - 3 */
  if (st == ENSI_OK)
    st = at_scale(ctx, y, m, slope, ensi_ciphertext_scale(x), ensi_ciphertext_level(m) - 1);
  if (st == ENSI_OK)
    st = ensi_add_const(ctx, y, y, intercept); /* level - 4 */
  for (int i = 0; st == ENSI_OK && i < newton; i++)
    st = newton_step(ctx, y, m, t, keys);
  if (st == ENSI_OK)
    st = prime_copy(ctx, t[0], y, 1, ensi_ciphertext_level(y) - 1);
  if (st == ENSI_OK)
    st = product(ctx, out, x, t[0], keys); /* x / rms at x's scale */
  for (int i = 0; i < 3; i++)
    ensi_ciphertext_free(t[i]);
  ensi_ciphertext_free(m);
  ensi_ciphertext_free(y);
  return st;
}
