/* Cache-blocked NTT drivers, and the portable C kernel: Cooley-Tukey forward and Gentleman-Sande
 * inverse with Harvey's lazy butterflies (see ntt.h for the ordering and value ranges).
 *
 * Memory traffic dominates a transform of 2^16 words (512 KiB, beyond L1/L2 with the twiddle
 * tables), so the stages are cache-blocked: stages whose butterflies span more than BLOCK words
 * stream over the whole array, and the remaining ones run block by block while a block of BLOCK
 * words stays in L1. That turns 16 passes over memory into about 6 at N = 2^16. A kernel may also
 * offer two stages per pass (radix-4 style: half the loads and stores per butterfly); the portable
 * one does. */
#include "math/ntt_internal.h"

enum { BLOCK = 2048 }; /* words per cache block (16 KiB) */

/* u - c when u >= c, else u; for u, c below 2^63 the sign of u - c decides, which compilers turn
 * into a subtraction and a conditional move without a separate comparison. */
static inline uint64_t subtract_if_at_least(uint64_t u, uint64_t c) {
  const uint64_t t = u - c;
  return (int64_t)t < 0 ? u : t;
}

/* Forward stages m, 2m, ... below m_end over groups [first, last) of stage m (stage 2m has groups
 * [2 first, 2 last)), two stages a pass where the kernel offers it. */
static void forward_stages(const ensi_ntt_kernel *k, const ensi_ntt_table *t, uint64_t *a,
                           size_t m, size_t m_end, size_t first, size_t last) {
  size_t stages = 0;
  for (size_t s = m; s < m_end; s <<= 1)
    stages++;
  bool single_first = stages % 2 == 1; /* an odd stage runs first, while its gap is long */
  while (m < m_end) {
    const size_t gap = t->n / (2 * m);
    if (k->forward_pairs && 2 * m < m_end && !single_first) {
      k->forward_pairs(t, a, m, gap, first, last);
      m <<= 2, first <<= 2, last <<= 2;
    } else {
      k->forward_groups(t, a, m, gap, first, last);
      m <<= 1, first <<= 1, last <<= 1;
      single_first = false;
    }
  }
}

/* Inverse stages m, m/2, ... down to m_last over groups [first, last) of stage m (stage m/2 has
 * groups [first/2, last/2)), two stages a pass where the kernel offers it. */
static void inverse_stages(const ensi_ntt_kernel *k, const ensi_ntt_table *t, uint64_t *a,
                           size_t m, size_t m_last, size_t first, size_t last) {
  while (m >= m_last) {
    const size_t gap = t->n / (2 * m);
    if (k->inverse_pairs && m / 2 >= m_last) {
      k->inverse_pairs(t, a, m, gap, first, last);
      m >>= 2, first >>= 2, last >>= 2;
    } else {
      k->inverse_groups(t, a, m, gap, first, last);
      m >>= 1, first >>= 1, last >>= 1;
    }
  }
}

/* Stage m = n / block is the first whose groups each fill one cache block: stages before it
 * stream over the whole array, the rest run block by block. */
void ensi_ntt_forward_blocked(const ensi_ntt_kernel *k, const ensi_ntt_table *t, uint64_t *a) {
  const size_t n = t->n, block = n < BLOCK ? n : BLOCK, m_blocked = n / block;
  forward_stages(k, t, a, 1, m_blocked, 0, 1);
  for (size_t b = 0; b < m_blocked; b++) {
    forward_stages(k, t, a, m_blocked, n, b, b + 1);
    k->reduce(t, a + b * block, block); /* while the block is in cache */
  }
}

void ensi_ntt_inverse_blocked(const ensi_ntt_kernel *k, const ensi_ntt_table *t, uint64_t *a) {
  const size_t n = t->n, block = n < BLOCK ? n : BLOCK, m_blocked = n / block;
  const size_t groups_per_block = n / 2 / m_blocked; /* of stage n/2 */
  for (size_t b = 0; b < m_blocked; b++)
    inverse_stages(k, t, a, n / 2, m_blocked, b * groups_per_block, (b + 1) * groups_per_block);
  if (m_blocked > 1)
    inverse_stages(k, t, a, m_blocked / 2, 1, 0, m_blocked / 2);
  k->scale(t, a, n);
}

static void forward_groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                           size_t first, size_t last) {
  const uint64_t q = t->q.value, two_q = 2 * q;
  for (size_t i = first; i < last; i++) {
    const uint64_t w = t->roots[m + i], ws = t->roots_shoup[m + i];
    uint64_t *x = a + 2 * i * gap, *y = x + gap;
#pragma GCC unroll 4
    for (size_t j = 0; j < gap; j++) { /* x, y in [0, 4q) -> [0, 4q) */
      uint64_t u = x[j];
      u -= u >= two_q ? two_q : 0;
      const uint64_t v = ensi_mul_shoup_lazy(y[j], w, ws, q); /* [0, 2q) */
      x[j] = u + v;
      y[j] = u + two_q - v;
    }
  }
}

static void inverse_groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                           size_t first, size_t last) {
  const uint64_t q = t->q.value, two_q = 2 * q;
  for (size_t i = first; i < last; i++) {
    const uint64_t w = t->inv_roots[m + i], ws = t->inv_roots_shoup[m + i];
    uint64_t *x = a + 2 * i * gap, *y = x + gap;
#pragma GCC unroll 4
    for (size_t j = 0; j < gap; j++) { /* x, y in [0, 2q) -> [0, 2q) */
      const uint64_t u = x[j], v = y[j];
      uint64_t s = u + v;
      s -= s >= two_q ? two_q : 0;
      x[j] = s;
      y[j] = ensi_mul_shoup_lazy(u + two_q - v, w, ws, q);
    }
  }
}

/* One radix-4 step of stages m and 2m on x0 x1 | x2 x3 (stage m pairs x0-x2 and x1-x3 with w,
 * stage 2m pairs x0-x1 with w0 and x2-x3 with w1); all values in [0, 4q) -> [0, 4q). */
typedef struct {
  uint64_t w, ws, w0, w0s, w1, w1s;
} forward_twiddles;

static inline void forward_quad(uint64_t *x0, uint64_t *x1, uint64_t *x2, uint64_t *x3,
                                const forward_twiddles *tw, uint64_t q) {
  const uint64_t two_q = 2 * q;
  const uint64_t u0 = subtract_if_at_least(*x0, two_q), u1 = subtract_if_at_least(*x1, two_q);
  const uint64_t v2 = ensi_mul_shoup_lazy(*x2, tw->w, tw->ws, q);
  const uint64_t v3 = ensi_mul_shoup_lazy(*x3, tw->w, tw->ws, q);
  const uint64_t y0 = subtract_if_at_least(u0 + v2, two_q), y1 = u1 + v3;
  const uint64_t y2 = subtract_if_at_least(u0 + two_q - v2, two_q), y3 = u1 + two_q - v3;
  const uint64_t z1 = ensi_mul_shoup_lazy(y1, tw->w0, tw->w0s, q);
  const uint64_t z3 = ensi_mul_shoup_lazy(y3, tw->w1, tw->w1s, q);
  *x0 = y0 + z1;
  *x1 = y0 + two_q - z1;
  *x2 = y2 + z3;
  *x3 = y2 + two_q - z3;
}

/* Stages m and 2m over groups [first, last) of stage m: each group is four quarters of gap / 2
 * words. */
static void forward_pairs(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap, size_t first,
                          size_t last) {
  const uint64_t q = t->q.value;
  const size_t h = gap / 2;
  for (size_t i = first; i < last; i++) {
    const forward_twiddles tw = {t->roots[m + i],          t->roots_shoup[m + i],
                                 t->roots[2 * m + 2 * i],     t->roots_shoup[2 * m + 2 * i],
                                 t->roots[2 * m + 2 * i + 1], t->roots_shoup[2 * m + 2 * i + 1]};
    uint64_t *x = a + 2 * i * gap;
#pragma GCC unroll 2
    for (size_t j = 0; j < h; j++)
      forward_quad(x + j, x + j + h, x + j + gap, x + j + gap + h, &tw, q);
  }
}

/* Stages m and m/2: the four quarters of a stage-m/2 group (x0 x1 | x2 x3), stage m pairs x0-x1
 * and x2-x3, stage m/2 pairs x0-x2 and x1-x3. */
static void inverse_pairs(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap, size_t first,
                          size_t last) {
  const uint64_t q = t->q.value, two_q = 2 * q;
  const size_t half = m / 2;
  for (size_t i = first / 2; i < last / 2; i++) {
    const uint64_t w0 = t->inv_roots[m + 2 * i], w0s = t->inv_roots_shoup[m + 2 * i];
    const uint64_t w1 = t->inv_roots[m + 2 * i + 1], w1s = t->inv_roots_shoup[m + 2 * i + 1];
    const uint64_t w = t->inv_roots[half + i], ws = t->inv_roots_shoup[half + i];
    uint64_t *x = a + 4 * i * gap;
#pragma GCC unroll 2
    for (size_t j = 0; j < gap; j++) { /* all values in [0, 2q) -> [0, 2q) */
      const uint64_t u0 = x[j], u1 = x[j + gap], u2 = x[j + 2 * gap], u3 = x[j + 3 * gap];
      uint64_t s0 = u0 + u1, s2 = u2 + u3;
      s0 -= s0 >= two_q ? two_q : 0;
      s2 -= s2 >= two_q ? two_q : 0;
      const uint64_t d1 = ensi_mul_shoup_lazy(u0 + two_q - u1, w0, w0s, q);
      const uint64_t d3 = ensi_mul_shoup_lazy(u2 + two_q - u3, w1, w1s, q);
      uint64_t r0 = s0 + s2, r1 = d1 + d3;
      r0 -= r0 >= two_q ? two_q : 0;
      r1 -= r1 >= two_q ? two_q : 0;
      x[j] = r0;
      x[j + gap] = r1;
      x[j + 2 * gap] = ensi_mul_shoup_lazy(s0 + two_q - s2, w, ws, q);
      x[j + 3 * gap] = ensi_mul_shoup_lazy(d1 + two_q - d3, w, ws, q);
    }
  }
}

void ensi_ntt_reduce_portable(const ensi_ntt_table *t, uint64_t *a, size_t count) {
  const uint64_t q = t->q.value, two_q = 2 * q;
  for (size_t j = 0; j < count; j++) { /* compilers keep these two branch-free */
    uint64_t u = a[j];
    u -= u >= two_q ? two_q : 0;
    a[j] = u - (u >= q ? q : 0);
  }
}

static void scale(const ensi_ntt_table *t, uint64_t *a, size_t count) {
  for (size_t j = 0; j < count; j++)
    a[j] = ensi_mul_shoup(a[j], t->n_inv, t->n_inv_shoup, t->q.value);
}

static bool always(void) { return true; }

const ensi_ntt_kernel ensi_ntt_kernel_portable = {
    "portable", always, forward_groups, inverse_groups, scale, ensi_ntt_reduce_portable,
    forward_pairs, inverse_pairs};
