/* Lookup sums for the ternary PCMM (see lookup_sums.h). Row c + 13 of a group's table holds the
 * signed sum of code c = t0 + 3 t1 + 9 t2; a tile is one row of TILE coefficients. */
#include "henn/lookup_sums.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

enum {
  GROUP = 3,                /* inputs per group */
  ENTRIES = 27,             /* 3^GROUP signed sums per group */
  ZERO = 13,                /* the row of code 0 */
  TILE = 8,                 /* coefficients per tile */
  TABLE_ADDITIONS = 10      /* the rows of positive codes that are not an input */
};

static const uint64_t zero_row[TILE];

/* The code of output k's weights on group m (inputs past the last weigh 0). */
static int group_code(const ensi_ternary *w, size_t k, size_t m) {
  int code = 0, power = 1;
  for (size_t i = 0; i < GROUP; i++, power *= 3) {
    const size_t j = m * GROUP + i;
    code += j < (size_t)w->cols ? power * ensi_ternary_at(w, k, j) : 0;
  }
  return code;
}

ensi_status henn_lookup_plan_create(henn_lookup_plan *plan, const ensi_ternary *w) {
  memset(plan, 0, sizeof *plan);
  plan->outputs = (size_t)w->rows;
  plan->inputs = (size_t)w->cols;
  plan->groups = (plan->inputs + GROUP - 1) / GROUP;
  plan->blocks = (plan->groups + HENN_LOOKUP_BLOCK - 1) / HENN_LOOKUP_BLOCK;
  plan->codes = calloc(plan->blocks * plan->outputs * HENN_LOOKUP_BLOCK, 1);
  if (!plan->codes)
    return ENSI_ERR_NOMEM;
  plan->additions = (uint64_t)plan->groups * TABLE_ADDITIONS;
  for (size_t k = 0; k < plan->outputs; k++)
    for (size_t m = 0; m < plan->groups; m++) {
      const size_t block = m / HENN_LOOKUP_BLOCK, i = m % HENN_LOOKUP_BLOCK;
      const int code = group_code(w, k, m);
      plan->codes[(block * plan->outputs + k) * HENN_LOOKUP_BLOCK + i] = (int8_t)code;
      plan->additions += code != 0;
    }
  return ENSI_OK;
}

void henn_lookup_plan_free(henn_lookup_plan *plan) {
  free(plan->codes);
  memset(plan, 0, sizeof *plan);
}

/* A tile is taken as TILE / LANES vectors of four residues (GCC vector extensions: one AVX2
 * register, or scalar code, as the clone's target allows; 64-byte vectors would suit AVX-512 but
 * GCC lowers their comparisons to scalar code on AVX2), read and written in place (unaligned, may
 * alias the rows). Vectors never cross a function call, only these macros. */
enum { LANES = 4 };
typedef uint64_t lanes
    __attribute__((vector_size(LANES * sizeof(uint64_t)), aligned(8), may_alias));
typedef int64_t signed_lanes __attribute__((vector_size(LANES * sizeof(int64_t)), aligned(8)));

#define LOAD(v, p) ((v) = *(const lanes *)(const void *)(p))
#define STORE(p, v) (*(lanes *)(void *)(p) = (v))
/* v -= m in the lanes where v >= m (unsigned), i.e. where not m > v. The comparison is a signed
 * greater-than of the values with their top bits flipped: AVX2 compares signed 64-bit lanes by
 * greater-than only, and compilers turn other vector comparisons into scalar code there. */
#define SIGN_BIT ((lanes){0} + ((uint64_t)1 << 63))
#define SUBTRACT_WHERE_AT_LEAST(v, m)                                                          \
  ((v) -= (m) & ~(lanes)((signed_lanes)((m) ^ SIGN_BIT) > (signed_lanes)((v) ^ SIGN_BIT)))
/* v mod q for v below q times henn_lazy_terms(q): conditional subtractions of q 2^k. */
#define REDUCE(v, q, steps)                                                                  \
  for (unsigned step_ = (steps); step_-- > 0;) {                                             \
    const lanes multiple_ = (lanes){0} + ((q) << step_);                                     \
    SUBTRACT_WHERE_AT_LEAST(v, multiple_);                                                   \
  }

/* One group's table: row ZERO + c for every code c. The codes 3^i are the inputs; 3^i + c and
 * 3^i - c (0 < c < 3^i / 2) are input i plus and minus the row of c; negative codes negate. Every
 * row's residues stay below q (a difference a - b is taken as a + q - b, in (0, 2q)). */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void build_group(uint64_t *table, const uint64_t *const in[GROUP], uint64_t modulus) {
  const lanes zero = {0}, q = zero + modulus;
  for (size_t h = 0; h < TILE; h += LANES) {
    lanes row[ENTRIES]; /* row[ZERO + c] */
    row[ZERO] = zero;
    for (int i = 0, power = 1; i < GROUP; i++, power *= 3) {
      lanes x;
      LOAD(x, in[i] + h);
      row[ZERO + power] = x;
      for (int c = 1; 2 * c < power; c++) {
        lanes sum = x + row[ZERO + c], difference = x + q - row[ZERO + c];
        SUBTRACT_WHERE_AT_LEAST(sum, q);
        SUBTRACT_WHERE_AT_LEAST(difference, q);
        row[ZERO + power + c] = sum;
        row[ZERO + power - c] = difference;
      }
    }
    for (int c = 1; c <= ZERO; c++) {
      lanes negative = q - row[ZERO + c];
      SUBTRACT_WHERE_AT_LEAST(negative, q); /* q - 0 is 0 */
      row[ZERO - c] = negative;
    }
    for (int c = 0; c < ENTRIES; c++)
      STORE(table + (size_t)c * TILE + h, row[c]);
  }
}

/* acc[k] (+)= the rows of output k's codes in one block, for every output: `first` starts from
 * zero, later blocks add to what the earlier ones left, reduced first when reduce_steps > 0. One
 * call runs all outputs, so that the out-of-order core overlaps their dependency chains. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void add_block(uint64_t *acc, const uint64_t *table, const int8_t *codes, size_t outputs,
                      bool first, unsigned reduce_steps, uint64_t q) {
  for (size_t k = 0; k < outputs; k++, acc += TILE, codes += HENN_LOOKUP_BLOCK)
    for (size_t h = 0; h < TILE; h += LANES) {
      lanes sum = {0};
      if (!first) {
        LOAD(sum, acc + h);
        REDUCE(sum, q, reduce_steps);
      }
      for (size_t i = 0; i < HENN_LOOKUP_BLOCK; i++) {
        lanes row;
        LOAD(row, table + (i * ENTRIES + (size_t)(ZERO + codes[i])) * TILE + h);
        sum += row;
      }
      STORE(acc + h, sum);
    }
}

/* Each output's tile, acc[k] mod q, written to the output ciphertexts. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void write_outputs(const henn_tile *tile, ensi_enc_matrix *y, const uint64_t *acc,
                          unsigned steps, uint64_t q) {
  for (size_t k = 0; k < y->cols; k++) {
    uint64_t *out = henn_tile_output(tile, y, k);
    for (size_t h = 0; h < TILE; h += LANES) {
      lanes v;
      LOAD(v, acc + k * TILE + h);
      REDUCE(v, q, steps);
      STORE(out + h, v);
    }
  }
}

/* Block by block: build the block's tables, then add each output column's rows of them into its
 * accumulator, reducing only when the next block could overflow 64 bits. The accumulators are
 * contiguous scratch, written to the output ciphertexts at the end: the outputs' tiles lie a
 * multiple of 4 KiB apart and would share a few cache sets. */
static void lookup_tile(const void *arg, const henn_tile *tile, ensi_enc_matrix *y) {
  const henn_lookup_plan *plan = arg;
  const uint64_t q = tile->q->value, budget = henn_lazy_terms(q);
  const unsigned steps = henn_reduce_steps(q);
  uint64_t *table = tile->scratch, *acc = table + HENN_LOOKUP_BLOCK * ENTRIES * TILE;
  uint64_t terms = 1; /* in each accumulator, which starts reduced */
  for (size_t j = 0; j < plan->inputs; j++) /* each input is a stream of its own: fetch ahead */
    __builtin_prefetch(tile->x[j] + tile->offset + 2 * TILE); /* (never faults, even past the end) */
  for (size_t block = 0; block < plan->blocks; block++) {
    for (size_t i = 0; i < HENN_LOOKUP_BLOCK; i++) {
      const uint64_t *in[GROUP];
      for (size_t g = 0; g < GROUP; g++) {
        const size_t j = (block * HENN_LOOKUP_BLOCK + i) * GROUP + g;
        in[g] = j < plan->inputs ? tile->x[j] + tile->offset : zero_row;
      }
      build_group(table + i * ENTRIES * TILE, in, q);
    }
    const bool full = terms + HENN_LOOKUP_BLOCK > budget;
    add_block(acc, table, plan->codes + block * plan->outputs * HENN_LOOKUP_BLOCK, plan->outputs,
              block == 0, full ? steps : 0, q);
    terms = (full ? 1 : terms) + HENN_LOOKUP_BLOCK;
  }
  write_outputs(tile, y, acc, steps, q);
}

henn_tile_kernel henn_lookup_kernel(const henn_lookup_plan *plan) {
  return (henn_tile_kernel){.fn = lookup_tile, .arg = plan, .tile = TILE,
                            .scratch_rows = HENN_LOOKUP_BLOCK * ENTRIES + plan->outputs};
}
