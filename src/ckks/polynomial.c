/* Encrypted Chebyshev-basis polynomial evaluation with baby-step giant-step and exact scale
 * management (see ensi/polynomial.h). */
#include <ensi/polynomial.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

typedef struct {
  const ensi_context *ctx;
  const ensi_eval_keys *keys;
  ensi_ciphertext **T; /* T[k], k = 1 .. max_power, NULL where not needed */
  size_t max_power;
  size_t baby;         /* m: baby powers T_1 .. T_{m-1}; giant powers m 2^i */
} power_basis;

static size_t ceil_log2(size_t x) {
  size_t r = 0;
  while (((size_t)1 << r) < x)
    r++;
  return r;
}

static size_t baby_for(int degree) { /* m = 2^ceil(log2(degree + 1) / 2) */
  return (size_t)1 << ((ceil_log2((size_t)degree + 1) + 1) / 2);
}

/* Largest giant power m 2^i <= degree. */
static size_t giant_for(size_t m, int degree) {
  size_t n = m;
  while (2 * n <= (size_t)degree)
    n *= 2;
  return n;
}

/* Depth (levels below T_1) of evaluating degree d with baby m. */
static size_t depth_of(size_t m, int d) {
  if (d <= 0)
    return 0;
  if ((size_t)d < m)
    return ceil_log2((size_t)d) + 1;
  const size_t n = giant_for(m, d);
  size_t q = depth_of(m, d - (int)n), r = depth_of(m, (int)n - 1), t = ceil_log2(n);
  size_t worst = q > t ? q : t;
  return 1 + (worst > r ? worst : r);
}

size_t ensi_chebyshev_depth(int degree, double a, double b) {
  (void)a;
  (void)b;
  return depth_of(baby_for(degree), degree) + 1; /* + the map to [-1, 1] */
}

static ensi_status new_like(const power_basis *pb, ensi_ciphertext **out, size_t level) {
  return ensi_ciphertext_create(out, pb->ctx, level);
}

/* T_k from T_a, T_b (a >= b, a + b = k): 2 T_a T_b - T_{a-b}. */
static ensi_status power_product(power_basis *pb, size_t k, size_t a, size_t b) {
  const ensi_context *ctx = pb->ctx;
  ensi_ciphertext *x = pb->T[a], *y = pb->T[b], *t = NULL, *diff = NULL;
  const size_t level = ensi_ciphertext_level(x) < ensi_ciphertext_level(y)
                           ? ensi_ciphertext_level(x) : ensi_ciphertext_level(y);
  ENSI_TRY(new_like(pb, &t, level));
  ensi_status s = ensi_mul_relin_rescale(ctx, t, x, y, pb->keys); /* at the lower level */
  if (s == ENSI_OK)
    s = ensi_mul_integer(ctx, t, t, 2);
  if (s == ENSI_OK && a == b) {
    s = ensi_add_const(ctx, t, t, -1.0);
  } else if (s == ENSI_OK) { /* bring T_{a-b} to t's scale and level, then subtract */
    s = new_like(pb, &diff, ensi_ciphertext_level(pb->T[a - b]));
    if (s == ENSI_OK)
      s = ensi_set_scale(ctx, diff, pb->T[a - b], ensi_ciphertext_scale(t));
    if (s == ENSI_OK)
      s = ensi_drop_level(ctx, diff, diff, ensi_ciphertext_level(t));
    if (s == ENSI_OK)
      s = ensi_sub(ctx, t, t, diff);
    ensi_ciphertext_free(diff);
  }
  if (s != ENSI_OK) {
    ensi_ciphertext_free(t);
    return s;
  }
  pb->T[k] = t;
  return ENSI_OK;
}

static ensi_status power_get(power_basis *pb, size_t k) {
  if (pb->T[k])
    return ENSI_OK;
  size_t a = (size_t)1 << (ceil_log2(k) - 1); /* largest power of two below k */
  if (2 * a == k) {
    ENSI_TRY(power_get(pb, a));
    return power_product(pb, k, a, a);
  }
  const size_t b = k - a;
  ENSI_TRY(power_get(pb, a));
  ENSI_TRY(power_get(pb, b));
  ENSI_TRY(power_get(pb, a - b));
  return power_product(pb, k, a, b);
}

static ensi_status eval_node(power_basis *pb, ensi_ciphertext *out, const double *c, int d,
                             double scale, size_t level);

/* out (scale, level) = sum_{j <= d} c_j T_j with d < m: terms at level + 1, then one rescale. */
static ensi_status eval_leaf(power_basis *pb, ensi_ciphertext *out, const double *c, int d,
                             double scale, size_t level) {
  const ensi_context *ctx = pb->ctx;
  const double q = ensi_context_prime(ctx, level + 1), target = scale * q;
  ensi_ciphertext *term = NULL;
  ensi_status s = new_like(pb, &term, level + 1);
  bool have = false;
  for (int j = 1; s == ENSI_OK && j <= d; j++) {
    if (c[j] == 0.0)
      continue;
    ensi_ciphertext *tj = pb->T[j];
    s = ensi_drop_level(ctx, term, tj, level + 1);
    if (s == ENSI_OK)
      s = ensi_mul_const_scaled(ctx, term, term, c[j], target / ensi_ciphertext_scale(tj));
    if (s == ENSI_OK)
      s = have ? ensi_add(ctx, out, out, term) : ensi_ciphertext_copy(out, term);
    have = true;
  }
  if (s == ENSI_OK && !have) { /* all-zero higher coefficients: start from 0 * T_1 */
    s = ensi_drop_level(ctx, term, pb->T[1], level + 1);
    if (s == ENSI_OK)
      s = ensi_mul_const_scaled(ctx, out, term, 0.0, target / ensi_ciphertext_scale(pb->T[1]));
  }
  if (s == ENSI_OK)
    s = ensi_add_const(ctx, out, out, c[0]);
  if (s == ENSI_OK)
    s = ensi_rescale(ctx, out, out);
  ensi_ciphertext_free(term);
  return s;
}

/* p = q T_n + r by Chebyshev division (n <= d < 2n). */
static void chebyshev_divide(const double *c, int d, size_t n, double *q, double *r) {
  q[0] = c[n];
  for (int j = 1; j <= d - (int)n; j++)
    q[j] = 2.0 * c[n + (size_t)j];
  for (size_t j = 0; j < n; j++)
    r[j] = c[j] - (j >= 1 && 2 * n - j <= (size_t)d ? c[2 * n - j] : 0.0);
}

/* tn = T_n at `level` for a product rescaled by q. The quotient multiplying it is planned at scale
 * (target q / scale(tn)); where the primes change size along the chain, T_n's scale can be far
 * from q and that plan would leave the quotient's constants a few bits (or none). When T_n has a
 * level to spare, it is brought to scale q exactly (one constant multiplication) instead. */
static ensi_status giant_at(power_basis *pb, ensi_ciphertext *tn, size_t n, size_t level, double q) {
  const ensi_ciphertext *t = pb->T[n];
  const size_t from = ensi_ciphertext_level(t);
  if (from < level + 1 || fabs(log2(ensi_ciphertext_scale(t) / q)) < 8)
    return ensi_drop_level(pb->ctx, tn, t, level);
  ENSI_TRY(ensi_mul_const_scaled(pb->ctx, tn, t, 1.0,
                                 q * ensi_context_prime(pb->ctx, from) / ensi_ciphertext_scale(t)));
  ENSI_TRY(ensi_rescale(pb->ctx, tn, tn));
  return ensi_drop_level(pb->ctx, tn, tn, level);
}

static ensi_status eval_node(power_basis *pb, ensi_ciphertext *out, const double *c, int d,
                             double scale, size_t level) {
  if ((size_t)d < pb->baby)
    return eval_leaf(pb, out, c, d, scale, level);
  const ensi_context *ctx = pb->ctx;
  const size_t n = giant_for(pb->baby, d);
  const double q_next = ensi_context_prime(ctx, level + 1);
  double *qc = malloc((size_t)(d - (int)n + 1) * sizeof *qc), *rc = malloc(n * sizeof *rc);
  ensi_ciphertext *tn = NULL, *part = NULL;
  ensi_status s = qc && rc ? ENSI_OK : ENSI_ERR_NOMEM;
  if (s == ENSI_OK) {
    chebyshev_divide(c, d, n, qc, rc);
    s = new_like(pb, &tn, level + 1);
  }
  if (s == ENSI_OK)
    s = giant_at(pb, tn, n, level + 1, q_next);
  const double sn = tn ? ensi_ciphertext_scale(tn) : 1.0, product_scale = scale * q_next;
  if (s == ENSI_OK && d == (int)n) { /* q is a constant */
    s = ensi_mul_const_scaled(ctx, out, tn, qc[0], product_scale / sn);
  } else if (s == ENSI_OK) {
    s = new_like(pb, &part, level + 1);
    if (s == ENSI_OK)
      s = eval_node(pb, part, qc, d - (int)n, product_scale / sn, level + 1);
    if (s == ENSI_OK)
      s = ensi_mul_relin(ctx, out, part, tn, pb->keys);
  }
  int r_degree = (int)n - 1;
  while (r_degree > 0 && rc && rc[r_degree] == 0.0)
    r_degree--;
  if (s == ENSI_OK && r_degree == 0) {
    s = ensi_add_const(ctx, out, out, rc[0]);
  } else if (s == ENSI_OK) {
    if (!part)
      s = new_like(pb, &part, level + 1);
    if (s == ENSI_OK)
      s = eval_node(pb, part, rc, r_degree, product_scale, level + 1);
    if (s == ENSI_OK)
      s = ensi_add(ctx, out, out, part);
  }
  if (s == ENSI_OK)
    s = ensi_rescale(ctx, out, out);
  ensi_ciphertext_free(tn);
  ensi_ciphertext_free(part);
  free(qc);
  free(rc);
  return s;
}

/* T_1 = (2x - a - b) / (b - a), one level down, at a scale equal to the prime of its level:
 * then each squaring of the power basis divides by a prime of about that size and the scales
 * of all T_k stay near the primes instead of drifting away geometrically. */
static ensi_status map_to_unit(const ensi_context *ctx, ensi_ciphertext *t1,
                               const ensi_ciphertext *in, double a, double b) {
  const size_t level = ensi_ciphertext_level(in);
  if (level == 0)
    return ensi_fail(ENSI_ERR_LEVEL, "chebyshev: no level left for the interval map");
  const double target = ensi_context_prime(ctx, level - 1), q = ensi_context_prime(ctx, level);
  ENSI_TRY(ensi_mul_const_scaled(ctx, t1, in, 2.0 / (b - a),
                                 target * q / ensi_ciphertext_scale(in)));
  ENSI_TRY(ensi_add_const(ctx, t1, t1, -(a + b) / (b - a)));
  return ensi_rescale(ctx, t1, t1);
}

/* The power basis from T_1 (in pb->T[1]) and the polynomial's value at out_level. */
static ensi_status eval_from_unit(power_basis *pb, ensi_ciphertext *out, const double *coefficients,
                                  int degree, double scale, size_t out_level) {
  const size_t top = (size_t)degree < pb->baby - 1 ? (size_t)degree : pb->baby - 1;
  ensi_status s = ENSI_OK;
  for (size_t k = 2; s == ENSI_OK && k <= top; k++)
    s = power_get(pb, k);
  for (size_t n = pb->baby; s == ENSI_OK && n <= (size_t)degree; n *= 2)
    s = power_get(pb, n);
  return s == ENSI_OK ? eval_node(pb, out, coefficients, degree, scale, out_level) : s;
}

/* Evaluates with T_1 = in (when a == b: in is already on [-1, 1]) or with T_1 = the map of in. */
static ensi_status eval_chebyshev(const ensi_context *ctx, ensi_ciphertext *out,
                                  const ensi_ciphertext *in, const double *coefficients,
                                  int degree, const double *interval, double scale,
                                  const ensi_eval_keys *keys) {
  const size_t map = interval ? 1 : 0;
  const size_t depth = ensi_chebyshev_depth(degree, 0, 1) - 1 + map;
  if (ensi_ciphertext_level(in) < depth)
    return ensi_fail(ENSI_ERR_LEVEL, "chebyshev: degree %d needs %zu levels, input has %zu",
                     degree, depth, ensi_ciphertext_level(in));
  const size_t out_level = ensi_ciphertext_level(in) - depth;
  if (scale <= 0)
    scale = ensi_ciphertext_scale(in);
  power_basis pb = {ctx, keys, NULL, 0, baby_for(degree)};
  pb.max_power = giant_for(pb.baby, degree) > pb.baby ? giant_for(pb.baby, degree) : pb.baby;
  pb.T = calloc(pb.max_power + 1, sizeof *pb.T);
  if (!pb.T)
    return ENSI_ERR_NOMEM;
  ensi_status s = ensi_ciphertext_create(&pb.T[1], ctx, ensi_ciphertext_level(in));
  if (s == ENSI_OK)
    s = map ? map_to_unit(ctx, pb.T[1], in, interval[0], interval[1])
            : ensi_ciphertext_copy(pb.T[1], in);
  if (s == ENSI_OK)
    s = eval_from_unit(&pb, out, coefficients, degree, scale, out_level);
  for (size_t k = 0; k <= pb.max_power; k++)
    ensi_ciphertext_free(pb.T[k]);
  free(pb.T);
  return s;
}

ensi_status ensi_eval_chebyshev(const ensi_context *ctx, ensi_ciphertext *out,
                                const ensi_ciphertext *in, const double *coefficients, int degree,
                                double a, double b, double scale, const ensi_eval_keys *keys) {
  if (!ctx || !out || !in || !coefficients || degree < 1 || !(b > a))
    return ensi_fail(ENSI_ERR_ARG, "chebyshev: bad argument");
  const double interval[2] = {a, b};
  return eval_chebyshev(ctx, out, in, coefficients, degree, interval, scale, keys);
}

ensi_status ensi_eval_chebyshev_unit(const ensi_context *ctx, ensi_ciphertext *out,
                                     const ensi_ciphertext *in, const double *coefficients,
                                     int degree, double scale, const ensi_eval_keys *keys) {
  if (!ctx || !out || !in || !coefficients || degree < 1)
    return ensi_fail(ENSI_ERR_ARG, "chebyshev: bad argument");
  return eval_chebyshev(ctx, out, in, coefficients, degree, NULL, scale, keys);
}
