/* Cache-blocked NTT drivers, and the portable C kernel: Cooley-Tukey forward and Gentleman-Sande
 * inverse with Harvey's lazy butterflies (see ntt.h for the ordering).
 *
 * Memory traffic matters for a transform of 2^16 words (512 KiB, beyond L1 with the twiddle
 * tables), so the stages are cache-blocked: stages whose butterflies span more than BLOCK words
 * stream over the whole array, and the remaining ones run block by block while a block of BLOCK
 * words stays in L1. A kernel may also offer two stages per pass (radix-4 style: half the loads
 * and stores per butterfly); the portable one does, and BLOCK = 2^12 gives N = 2^16 an even
 * number of stages on both sides (4 streaming, 12 blocked): three passes over memory, no single
 * stage.
 *
 * The portable kernel's floor is its multiplications: Shoup's product is three 64-bit multiplies
 * (one high, two low), and x86-64 cores have one port for them, so a butterfly costs at least three
 * cycles there; everything else is arranged to stay under that (docs/BENCHMARKS.md, "NTT"). */
#include "math/ntt_internal.h"

enum { BLOCK = 4096 }; /* words per cache block (32 KiB) */

/* u - c when u >= c, else u: the borrow of u - c picks, which compilers turn into a subtraction
 * and a conditional move. */
static inline uint64_t reduce_below(uint64_t u, uint64_t c) {
  uint64_t difference;
  return __builtin_sub_overflow(u, c, &difference) ? u : difference;
}

/* The same for |u - c| < 2^63 with the borrow spread into a mask by an arithmetic shift: for the
 * final reduction, where compilers would turn a selection into a branch on the data (gcc right
 * before a store, clang in the whole loop); both keep this form branch-free, and gcc vectorizes
 * it with the baseline's SSE2. */
static inline uint64_t reduce_below_masked(uint64_t u, uint64_t c) {
  const uint64_t difference = u - c;
  return difference + (c & (uint64_t)((int64_t)difference >> 63));
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

/* The portable kernel keeps forward values in [0, 8q) (8q < 2^64 as q < 2^ENSI_MODULUS_MAX_BITS =
 * 2^61): a butterfly's unmultiplied input is reduced below 4q, its multiplied one may be any 64-bit
 * value (Shoup's product of any word is below 2q), so a pair of stages needs two reductions per four
 * butterflies instead of four; its reduce takes [0, 8q) to [0, q). The inverse keeps [0, 4q). */
static void forward_groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                           size_t first, size_t last) {
  const uint64_t q = t->q.value, two_q = 2 * q, four_q = 4 * q;
  for (size_t i = first; i < last; i++) {
    const uint64_t w = t->roots[m + i], ws = t->roots_shoup[m + i];
    uint64_t *x = a + 2 * i * gap, *y = x + gap;
#pragma GCC unroll 4
    for (size_t j = 0; j < gap; j++) { /* x, y in [0, 8q) -> [0, 6q) */
      const uint64_t u = reduce_below(x[j], four_q);
      const uint64_t v = ensi_mul_shoup_lazy(y[j], w, ws, q); /* [0, 2q) */
      x[j] = u + v;
      y[j] = u + two_q - v;
    }
  }
}

static void inverse_groups(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                           size_t first, size_t last) {
  const uint64_t q = t->q.value, four_q = 4 * q;
  for (size_t i = first; i < last; i++) {
    const uint64_t w = t->inv_roots[m + i], ws = t->inv_roots_shoup[m + i];
    uint64_t *x = a + 2 * i * gap, *y = x + gap;
#pragma GCC unroll 4
    for (size_t j = 0; j < gap; j++) { /* x, y in [0, 4q) -> [0, 4q) */
      const uint64_t u = x[j], v = y[j];
      x[j] = reduce_below(u + v, four_q);
      y[j] = ensi_mul_shoup_lazy(u + four_q - v, w, ws, q); /* [0, 2q) */
    }
  }
}

/* One radix-4 step of stages m and 2m on x0 x1 | x2 x3 (stage m pairs x0-x2 and x1-x3 with w,
 * stage 2m pairs x0-x1 with w0 and x2-x3 with w1); all values in [0, 8q) -> [0, 8q). */
typedef struct {
  uint64_t w, ws, w0, w0s, w1, w1s;
} forward_twiddles;

static inline void forward_quad(uint64_t *x0, uint64_t *x1, uint64_t *x2, uint64_t *x3,
                                const forward_twiddles *tw, uint64_t q) {
  const uint64_t two_q = 2 * q, four_q = 4 * q;
  const uint64_t u0 = reduce_below(*x0, four_q), u1 = reduce_below(*x1, four_q); /* [0, 4q) */
  const uint64_t v2 = ensi_mul_shoup_lazy(*x2, tw->w, tw->ws, q);                 /* [0, 2q) */
  const uint64_t v3 = ensi_mul_shoup_lazy(*x3, tw->w, tw->ws, q);
  const uint64_t y0 = u0 + v2, y1 = u1 + v3; /* [0, 6q) */
  const uint64_t y2 = u0 + two_q - v2, y3 = u1 + two_q - v3;
  const uint64_t z1 = ensi_mul_shoup_lazy(y1, tw->w0, tw->w0s, q);
  const uint64_t z3 = ensi_mul_shoup_lazy(y3, tw->w1, tw->w1s, q);
  *x0 = y0 + z1; /* [0, 8q) */
  *x1 = y0 + two_q - z1;
  *x2 = y2 + z3;
  *x3 = y2 + two_q - z3;
}

static inline forward_twiddles forward_twiddles_of(const ensi_ntt_table *t, size_t m, size_t i) {
  return (forward_twiddles){t->roots[m + i],          t->roots_shoup[m + i],
                            t->roots[2 * m + 2 * i],     t->roots_shoup[2 * m + 2 * i],
                            t->roots[2 * m + 2 * i + 1], t->roots_shoup[2 * m + 2 * i + 1]};
}

/* Stages m and 2m over groups [first, last) of stage m: each group is four quarters of gap / 2
 * words. The last two stages of a transform (gap 2: a group is four adjacent words) have a loop of
 * their own, without the inner loop's overhead for one step. The loops are not unrolled: a body of
 * about 60 instructions is long enough, and unrolled ones ran 5-10% slower or faster depending on
 * where they fell in the code (the front end, not the arithmetic, then sets the pace). */
static void forward_pairs(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap, size_t first,
                          size_t last) {
  const uint64_t q = t->q.value;
  if (gap == 2) {
#pragma GCC unroll 1
    for (size_t i = first; i < last; i++) {
      const forward_twiddles tw = forward_twiddles_of(t, m, i);
      uint64_t *x = a + 4 * i;
      forward_quad(x, x + 1, x + 2, x + 3, &tw, q);
    }
    return;
  }
  const size_t h = gap / 2;
  for (size_t i = first; i < last; i++) {
    const forward_twiddles tw = forward_twiddles_of(t, m, i);
    uint64_t *x = a + 2 * i * gap;
#pragma GCC unroll 1
    for (size_t j = 0; j < h; j++)
      forward_quad(x + j, x + j + h, x + j + gap, x + j + gap + h, &tw, q);
  }
}

/* One radix-4 step of stages m and m/2 on the four quarters x0 x1 | x2 x3 of a stage-m/2 group:
 * stage m pairs x0-x1 with w0 and x2-x3 with w1, stage m/2 pairs x0-x2 and x1-x3 with w. The
 * inverse keeps values in [0, 4q): sums are reduced below 4q, differences plus 4q (below 8q) go
 * into Shoup's product, and the sum of two products (below 4q) needs no reduction. */
typedef struct {
  uint64_t w0, w0s, w1, w1s, w, ws;
} inverse_twiddles;

static inline inverse_twiddles inverse_twiddles_of(const ensi_ntt_table *t, size_t m, size_t i) {
  return (inverse_twiddles){t->inv_roots[m + 2 * i],     t->inv_roots_shoup[m + 2 * i],
                            t->inv_roots[m + 2 * i + 1], t->inv_roots_shoup[m + 2 * i + 1],
                            t->inv_roots[m / 2 + i],     t->inv_roots_shoup[m / 2 + i]};
}

static inline void inverse_quad(uint64_t *x0, uint64_t *x1, uint64_t *x2, uint64_t *x3,
                                const inverse_twiddles *tw, uint64_t q) {
  const uint64_t four_q = 4 * q;
  const uint64_t u0 = *x0, u1 = *x1, u2 = *x2, u3 = *x3;
  const uint64_t s0 = reduce_below(u0 + u1, four_q), s2 = reduce_below(u2 + u3, four_q);
  const uint64_t d1 = ensi_mul_shoup_lazy(u0 + four_q - u1, tw->w0, tw->w0s, q); /* [0, 2q) */
  const uint64_t d3 = ensi_mul_shoup_lazy(u2 + four_q - u3, tw->w1, tw->w1s, q);
  *x0 = reduce_below(s0 + s2, four_q);
  *x1 = d1 + d3;
  *x2 = ensi_mul_shoup_lazy(s0 + four_q - s2, tw->w, tw->ws, q);
  *x3 = ensi_mul_shoup_lazy(d1 + four_q - d3, tw->w, tw->ws, q);
}

/* Stages m and m/2 over groups [first, last) of stage m; the first two stages of a transform
 * (gap 1: four adjacent words) have a loop of their own, as in the forward transform. */
static void inverse_pairs(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap, size_t first,
                          size_t last) {
  const uint64_t q = t->q.value;
  if (gap == 1) {
#pragma GCC unroll 1
    for (size_t i = first / 2; i < last / 2; i++) {
      const inverse_twiddles tw = inverse_twiddles_of(t, m, i);
      uint64_t *x = a + 4 * i;
      inverse_quad(x, x + 1, x + 2, x + 3, &tw, q);
    }
    return;
  }
  for (size_t i = first / 2; i < last / 2; i++) {
    const inverse_twiddles tw = inverse_twiddles_of(t, m, i);
    uint64_t *x = a + 4 * i * gap;
#pragma GCC unroll 1
    for (size_t j = 0; j < gap; j++)
      inverse_quad(x + j, x + j + gap, x + j + 2 * gap, x + j + 3 * gap, &tw, q);
  }
}

static void reduce(const ensi_ntt_table *t, uint64_t *a, size_t count) {
  const uint64_t q = t->q.value;
  for (size_t j = 0; j < count; j++)
    a[j] = reduce_below_masked(reduce_below_masked(reduce_below_masked(a[j], 4 * q), 2 * q), q);
}

static void scale(const ensi_ntt_table *t, uint64_t *a, size_t count) {
  for (size_t j = 0; j < count; j++)
    a[j] = ensi_mul_shoup(a[j], t->n_inv, t->n_inv_shoup, t->q.value);
}

static bool always(void) { return true; }

const ensi_ntt_kernel ensi_ntt_kernel_portable = {
    "portable", always, forward_groups, inverse_groups, scale, reduce,
    forward_pairs, inverse_pairs};
