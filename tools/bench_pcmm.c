/* ensi bench pcmm [--preset P] [--d D] [--outputs O] [--seq S] [--level L]: the ternary PCMM,
 * s x D inputs times a random O x D ternary weight (a third each of -1, 0, +1), in the column
 * layout with plain sums (one ciphertext addition per nonzero weight, the paper's) against lookup
 * sums (lookup_sums.h), measured side by side in one run: time (median over --reps, alternating),
 * ciphertext additions, and whether the two give the same ciphertexts bit for bit; then the same
 * product in the packed layout (ensi/packed.h: one level, rotations, masked diagonals). For each,
 * the error of a few decrypted output columns against the plaintext product. Whole products, no
 * scaling: the lookup table's cost is shared by the output columns, so timing a few of them would
 * mislead. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ensi/ensi.h>

#include "bench_pcmm_packed.h"
#include "bench_util.h"

int ensi_bench_pcmm(int argc, char **argv, const bench_options *opt);

/* Input column j is a copy of encrypted column j mod 32: every input has its own memory, as in a
 * real layer, but only 32 encryptions are paid for. */
enum { DISTINCT_COLUMNS = 32, CHECKED_OUTPUTS = 4 };

typedef struct {
  const char *preset;
  size_t d, outputs, seq, level;
  size_t baby_steps; /* of the packed product; 0: its default */
  bool packed_only;  /* skip the column layout (no speedups reported) */
} pcmm_options;

typedef struct {
  ensi_params *params;
  ensi_context *ctx;
  ensi_secret_key *sk;
  ensi_public_key *pk;
  double *x;                                /* seq x DISTINCT_COLUMNS plaintext inputs */
  ensi_enc_matrix *pool;                    /* their encryptions */
  ensi_ciphertext **columns;                /* d copies of the pool's columns */
  size_t d;
  ensi_ternary w;
} pcmm_bench;

static double uniform(uint64_t *state, double lo, double hi) {
  *state = *state * 6364136223846793005ull + 1442695040888963407ull;
  return lo + (hi - lo) * (double)(*state >> 11) * 0x1p-53;
}

static ensi_status setup(pcmm_bench *b, const pcmm_options *o) {
  uint64_t rng = 1;
  b->d = o->d;
  ensi_params_literal lit;
  ensi_status s = ensi_params_preset(o->preset, &lit);
  if (s == ENSI_OK)
    s = ensi_params_create(&b->params, &lit);
  if (s == ENSI_OK)
    s = ensi_context_create(&b->ctx, b->params);
  if (s == ENSI_OK)
    s = ensi_secret_key_generate(&b->sk, b->ctx, NULL);
  if (s == ENSI_OK)
    s = ensi_public_key_generate(&b->pk, b->ctx, b->sk, NULL);
  b->x = malloc(o->seq * DISTINCT_COLUMNS * sizeof *b->x);
  b->columns = calloc(o->d, sizeof *b->columns);
  int8_t *trits = malloc(o->outputs * o->d);
  if (s == ENSI_OK && (!b->x || !b->columns || !trits))
    s = ENSI_ERR_NOMEM;
  for (size_t i = 0; s == ENSI_OK && i < o->seq * DISTINCT_COLUMNS; i++)
    b->x[i] = uniform(&rng, -1, 1);
  if (s == ENSI_OK)
    s = ensi_enc_matrix_encrypt(&b->pool, b->ctx, b->x, o->seq, DISTINCT_COLUMNS, 0, o->level,
                                ensi_params_scale(b->params), b->pk);
  for (size_t j = 0; s == ENSI_OK && j < o->d; j++) {
    s = ensi_ciphertext_create(&b->columns[j], b->ctx, o->level);
    if (s == ENSI_OK)
      s = ensi_ciphertext_copy(b->columns[j], b->pool->column[j % DISTINCT_COLUMNS]);
  }
  for (size_t i = 0; trits && i < o->outputs * o->d; i++)
    trits[i] = (int8_t)((int)uniform(&rng, 0, 3) - 1);
  if (s == ENSI_OK)
    s = ensi_ternary_from_trits(&b->w, trits, (int)o->outputs, (int)o->d, 1.0);
  free(trits);
  return s;
}

static void teardown(pcmm_bench *b) {
  ensi_ternary_free(&b->w);
  ensi_enc_matrix_free(b->pool);
  for (size_t j = 0; b->columns && j < b->d; j++)
    ensi_ciphertext_free(b->columns[j]);
  free(b->columns);
  free(b->x);
  ensi_public_key_free(b->pk);
  ensi_secret_key_free(b->sk);
  ensi_context_free(b->ctx);
  ensi_params_free(b->params);
}

/* One product with the given sums: its time and ciphertext additions. */
static ensi_status run_once(const pcmm_bench *b, const ensi_enc_matrix *x, ensi_pcmm_sums how,
                            ensi_enc_matrix **y, double *seconds, uint64_t *additions) {
  ensi_op_counts before, after;
  ensi_op_counts_get(&before);
  const double start = bench_now();
  const ensi_status s = ensi_ternary_pcmm_with(b->ctx, y, x, &b->w, how);
  *seconds = bench_now() - start;
  ensi_op_counts_get(&after);
  *additions = after.add - before.add;
  return s;
}

/* 1 when every output ciphertext of a and b serializes to the same bytes. */
static int identical(const ensi_context *ctx, const ensi_enc_matrix *a, const ensi_enc_matrix *b) {
  int same = a->cols == b->cols;
  for (size_t k = 0; same && k < a->cols; k++) {
    uint8_t *p = NULL, *q = NULL;
    size_t p_length = 0, q_length = 0;
    same = ensi_ciphertext_save(ctx, a->column[k], &p, &p_length) == ENSI_OK &&
           ensi_ciphertext_save(ctx, b->column[k], &q, &q_length) == ENSI_OK &&
           p_length == q_length && !memcmp(p, q, p_length);
    free(p);
    free(q);
  }
  return same;
}

/* max |Y - X W^T| / max |X W^T| over the first CHECKED_OUTPUTS output columns. */
static double relative_error(const pcmm_bench *b, const pcmm_options *o, const ensi_enc_matrix *y) {
  const size_t checked = o->outputs < CHECKED_OUTPUTS ? o->outputs : CHECKED_OUTPUTS;
  ensi_enc_matrix part = *y;
  part.cols = checked;
  double *got = malloc(o->seq * checked * sizeof *got), worst = 0, largest = 0;
  if (!got || ensi_enc_matrix_decrypt(b->ctx, got, &part, b->sk) != ENSI_OK) {
    free(got);
    return NAN;
  }
  for (size_t i = 0; i < o->seq; i++)
    for (size_t k = 0; k < checked; k++) {
      double want = 0;
      for (size_t j = 0; j < o->d; j++)
        want += ensi_ternary_at(&b->w, k, j) * b->x[i * DISTINCT_COLUMNS + j % DISTINCT_COLUMNS];
      worst = bench_worse(worst, fabs(got[i * checked + k] - want));
      largest = fmax(largest, fabs(want));
    }
  free(got);
  return worst / largest;
}

static void report(const bench_options *opt, const pcmm_options *o, const char *name, int reps,
                   double median, uint64_t additions, double speedup, int same, double error) {
  char bench[32], extra[256];
  snprintf(bench, sizeof bench, "pcmm/%s", name);
  snprintf(extra, sizeof extra, "\"d\":%zu,\"outputs\":%zu,\"seq\":%zu,\"level\":%zu,"
           "\"additions\":%llu,\"speedup_vs_plain\":%.3f,\"identical\":%s,\"error\":%.3g",
           o->d, o->outputs, o->seq, o->level, (unsigned long long)additions, speedup,
           same ? "true" : "false", error);
  bench_report(opt, bench, o->preset, reps, median, extra);
}

/* The packed layout on the same inputs (x repeated as the column copies are) and weights. */
static ensi_status run_packed(const bench_options *opt, const pcmm_options *o,
                              const pcmm_bench *b, int reps, double plain_median,
                              double lookup_median) {
  double *x = malloc(o->seq * o->d * sizeof *x);
  if (!x)
    return ENSI_ERR_NOMEM;
  for (size_t t = 0; t < o->seq; t++)
    for (size_t j = 0; j < o->d; j++)
      x[t * o->d + j] = b->x[t * DISTINCT_COLUMNS + j % DISTINCT_COLUMNS];
  packed_result r = {0};
  const ensi_status s = bench_pcmm_packed(b->ctx, b->sk, b->pk, &b->w, x, o->seq, o->level,
                                          o->baby_steps, reps, CHECKED_OUTPUTS, &r);
  free(x);
  if (s != ENSI_OK)
    return s;
  char extra[320], speedups[96] = "";
  if (plain_median > 0)
    snprintf(speedups, sizeof speedups, "\"speedup_vs_plain\":%.3f,\"speedup_vs_lookup\":%.3f,",
             plain_median / r.median_s, lookup_median / r.median_s);
  snprintf(extra, sizeof extra, "\"d\":%zu,\"outputs\":%zu,\"seq\":%zu,\"level\":%zu,"
           "\"rotations\":%zu,%s\"prepare_s\":%.3f,\"error\":%.3g",
           o->d, o->outputs, o->seq, o->level, r.rotations, speedups, r.prepare_s, r.error);
  bench_report(opt, "pcmm/packed", o->preset, reps, r.median_s, extra);
  return ENSI_OK;
}

static ensi_status run(const bench_options *opt, const pcmm_options *o, pcmm_bench *b) {
  const int reps = opt->reps ? opt->reps : 1;
  if (o->packed_only)
    return run_packed(opt, o, b, reps, 0, 0);
  const ensi_enc_matrix x = {.rows = o->seq, .cols = o->d, .block = b->pool->block,
                             .slots = b->pool->slots, .column = b->columns};
  double *plain_s = malloc((size_t)reps * sizeof *plain_s), *lookup_s = malloc((size_t)reps * sizeof *lookup_s);
  uint64_t plain_adds = 0, lookup_adds = 0;
  ensi_enc_matrix *plain = NULL, *lookup = NULL;
  ensi_status s = plain_s && lookup_s ? ENSI_OK : ENSI_ERR_NOMEM;
  for (int r = 0; s == ENSI_OK && r < reps; r++) {
    ensi_enc_matrix_free(plain);
    ensi_enc_matrix_free(lookup);
    plain = lookup = NULL;
    s = run_once(b, &x, ENSI_PCMM_PLAIN_SUMS, &plain, &plain_s[r], &plain_adds);
    if (s == ENSI_OK)
      s = run_once(b, &x, ENSI_PCMM_LOOKUP_SUMS, &lookup, &lookup_s[r], &lookup_adds);
  }
  if (s == ENSI_OK) {
    const int same = identical(b->ctx, plain, lookup);
    const double plain_median = bench_median(plain_s, (size_t)reps);
    const double lookup_median = bench_median(lookup_s, (size_t)reps);
    report(opt, o, "plain", reps, plain_median, plain_adds, 1.0, same, relative_error(b, o, plain));
    report(opt, o, "lookup", reps, lookup_median, lookup_adds, plain_median / lookup_median, same,
           relative_error(b, o, lookup));
    s = run_packed(opt, o, b, reps, plain_median, lookup_median);
  }
  ensi_enc_matrix_free(plain);
  ensi_enc_matrix_free(lookup);
  free(plain_s);
  free(lookup_s);
  return s;
}

static int parse(int argc, char **argv, pcmm_options *o) {
  *o = (pcmm_options){.preset = "n16-boot", .d = 1536, .outputs = 0, .seq = 128, .level = 2};
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--preset") && v)
      o->preset = argv[++i];
    else if (!strcmp(argv[i], "--d") && v)
      o->d = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--outputs") && v)
      o->outputs = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--seq") && v)
      o->seq = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--level") && v)
      o->level = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--baby-steps") && v)
      o->baby_steps = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--packed-only"))
      o->packed_only = true;
    else {
      fprintf(stderr, "usage: ensi bench pcmm [--preset P] [--d D] [--outputs O] [--seq S] "
                      "[--level L] [--baby-steps B] [--packed-only] [--json] [--threads T] "
                      "[--reps R]\n");
      return 2;
    }
  }
  if (!o->outputs)
    o->outputs = o->d;
  if (o->d < 1 || o->d > 1 << 16 || o->outputs > 1 << 16 || o->seq < 1 ||
      o->seq > ENSI_HENN_MAX_BLOCK) {
    fprintf(stderr, "ensi bench pcmm: --d and --outputs in 1 .. 65536, --seq in 1 .. %d\n",
            ENSI_HENN_MAX_BLOCK);
    return 2;
  }
  return 0;
}

int ensi_bench_pcmm(int argc, char **argv, const bench_options *opt) {
  pcmm_options o;
  const int bad = parse(argc, argv, &o);
  if (bad)
    return bad;
  pcmm_bench b = {0};
  ensi_status s = setup(&b, &o);
  if (s == ENSI_OK)
    s = run(opt, &o, &b);
  if (s != ENSI_OK)
    fprintf(stderr, "ensi bench pcmm: %s %s\n", ensi_strerror(s), ensi_error_detail());
  teardown(&b);
  return s != ENSI_OK;
}
