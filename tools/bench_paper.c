/* ensi bench paper [--shape bert|large] [--seq S] [--preset P] [--columns C] [--level L]
 *                  [--layer-seq T] [--no-layer] [--plot FILE.svg] [--json]
 * The ENSI paper's claims as ratios measured side by side in one run on one machine
 * (docs/PAPER.md), each kernel against its NEXUS baseline on this engine at the same parameters:
 *   pcmm       s x d times d x d (d = 768 bert, 1536 large): the addition-only ternary PCMM
 *              (plain sums, the paper's; ensi bench pcmm measures the lookup sums against them)
 *              against one ciphertext-constant multiplication per weight, both in the column
 *              layout, on the same weights (so the same outputs); timed on C output columns and
 *              scaled to d (each output column is an independent sum);
 *   attention  the nonlinearity on s x s scores per head: sigmoid(x - ln s) as one Chebyshev
 *              polynomial (degree 15) against NEXUS's softmax, both from the level the softmax
 *              needs, time per head; at --attention-preset (default n16: 128-bit, every prime
 *              50 bits like the scale, the regime NEXUS's code is written for: it lets scales
 *              follow the primes, which n16-boot's mixed 40/45/55-bit primes do not allow);
 *   layer      the bootstrapping share of one encrypted layer of the tiny model at T tokens:
 *              of the time, and of the key switches (the operation bootstrapping is made of).
 * --plot draws the times as grouped bars with gnuplot. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ensi/ensi.h>

#include "bench_util.h"
#include "math/chebyshev.h"
#include "session.h"
#include "tempdir.h"
#include "tool_error.h"

int ensi_bench_paper(int argc, char **argv, const bench_options *opt);

typedef struct {
  const char *shape, *preset, *attention_preset, *plot;
  size_t seq, columns, level, layer_seq;
  bool layer, diagonal;
} paper_options;

typedef struct {
  char kernel[48], ensi[48], baseline[48], shape[64];
  double ensi_s, baseline_s, ensi_error, baseline_error;
} paper_row;

typedef struct {
  ensi_params *params;
  ensi_context *ctx;
  ensi_secret_key *sk;
  ensi_public_key *pk;
} paper_keys;

/* The larger of two errors, where NaN (a failed result) is the largest. */

static double uniform(uint64_t *state, double lo, double hi) {
  *state = *state * 6364136223846793005ull + 1442695040888963407ull;
  return lo + (hi - lo) * (double)(*state >> 11) * 0x1p-53;
}

static ensi_status open_keys(paper_keys *k, const char *preset) {
  memset(k, 0, sizeof *k);
  ensi_params_literal lit;
  ensi_status s = ensi_params_preset(preset, &lit);
  if (s == ENSI_OK)
    s = ensi_params_create(&k->params, &lit);
  if (s == ENSI_OK)
    s = ensi_context_create(&k->ctx, k->params);
  if (s == ENSI_OK)
    s = ensi_secret_key_generate(&k->sk, k->ctx, NULL);
  return s == ENSI_OK ? ensi_public_key_generate(&k->pk, k->ctx, k->sk, NULL) : s;
}

static void close_keys(paper_keys *k) {
  ensi_public_key_free(k->pk);
  ensi_secret_key_free(k->sk);
  ensi_context_free(k->ctx);
  ensi_params_free(k->params);
}

/* The power of two at least n (and at least 2). */
static size_t power_of_two_at_least(size_t n) {
  size_t p = 2;
  while (p < n)
    p *= 2;
  return p;
}

/* A fresh encryption of `slots` values at `level` and `scale`. */
static ensi_status encrypt_slots(const ensi_context *ctx, const ensi_public_key *pk,
                                 const double *values, size_t slots, size_t level, double scale,
                                 ensi_ciphertext **out) {
  ensi_plaintext *pt = NULL;
  ensi_status st = ensi_plaintext_create(&pt, ctx, level);
  if (st == ENSI_OK)
    st = ensi_encode_real(ctx, pt, values, slots, scale);
  if (st == ENSI_OK)
    st = ensi_ciphertext_create(out, ctx, level);
  if (st == ENSI_OK)
    st = ensi_encrypt_pk(ctx, *out, pt, pk, NULL);
  ensi_plaintext_free(pt);
  return st;
}

/* The `slots` decoded values of ct. */
static ensi_status decrypt_slots(const ensi_context *ctx, const ensi_secret_key *sk,
                                 const ensi_ciphertext *ct, size_t slots, double *out) {
  ensi_plaintext *pt = NULL;
  ensi_status st = ensi_plaintext_create(&pt, ctx, ensi_context_max_level(ctx));
  if (st == ENSI_OK)
    st = ensi_decrypt(ctx, pt, ct, sk);
  if (st == ENSI_OK)
    st = ensi_decode(ctx, out, NULL, slots, pt);
  ensi_plaintext_free(pt);
  return st;
}

/* ---- pcmm --------------------------------------------------------------------------------- */

enum { DISTINCT_COLUMNS = 32 }; /* input columns encrypted; column j is a copy of j mod 32 */

typedef struct {
  size_t s, d, c;        /* s x d input, c output columns timed */
  double *x;             /* s x d */
  int8_t *trits;         /* c x d */
  double *weights;       /* the same as reals */
  ensi_ciphertext *pool[DISTINCT_COLUMNS];
  ensi_ciphertext **columns;
} pcmm_case;

static ensi_status pcmm_setup(pcmm_case *p, const paper_keys *k, size_t level, uint64_t *rng) {
  const size_t s = p->s, d = p->d;
  p->x = malloc(s * d * sizeof *p->x);
  p->trits = malloc(p->c * d);
  p->weights = malloc(p->c * d * sizeof *p->weights);
  p->columns = malloc(d * sizeof *p->columns);
  double *column = calloc(ensi_params_slots(k->params), sizeof *column);
  ensi_plaintext *pt = NULL;
  ensi_status st = p->x && p->trits && p->weights && p->columns && column
                       ? ensi_plaintext_create(&pt, k->ctx, level) : ENSI_ERR_NOMEM;
  for (size_t j = 0; st == ENSI_OK && j < DISTINCT_COLUMNS; j++) {
    for (size_t i = 0; i < s; i++)
      column[i] = uniform(rng, -1, 1);
    for (size_t jj = j; jj < d; jj += DISTINCT_COLUMNS)
      for (size_t i = 0; i < s; i++)
        p->x[i * d + jj] = column[i];
    st = ensi_encode_real(k->ctx, pt, column, 2 * s, ensi_params_scale(k->params));
    if (st == ENSI_OK)
      st = ensi_ciphertext_create(&p->pool[j], k->ctx, level);
    if (st == ENSI_OK)
      st = ensi_encrypt_pk(k->ctx, p->pool[j], pt, k->pk, NULL);
  }
  for (size_t j = 0; st == ENSI_OK && j < d; j++)
    p->columns[j] = p->pool[j % DISTINCT_COLUMNS];
  for (size_t i = 0; st == ENSI_OK && i < p->c * d; i++) { /* a third each of -1, 0, +1 */
    p->trits[i] = (int8_t)((int)(uniform(rng, 0, 3)) - 1);
    p->weights[i] = p->trits[i];
  }
  ensi_plaintext_free(pt);
  free(column);
  return st;
}

static void pcmm_free(pcmm_case *p) {
  for (size_t j = 0; j < DISTINCT_COLUMNS; j++)
    ensi_ciphertext_free(p->pool[j]);
  free(p->x);
  free(p->trits);
  free(p->weights);
  free(p->columns);
}

/* max |Y - X W^T| / max |X W^T| over the c output columns. */
static double pcmm_error(const pcmm_case *p, const paper_keys *k, const ensi_enc_matrix *y) {
  double *got = malloc(p->s * p->c * sizeof *got), err = INFINITY, scale = 0, worst = 0;
  if (got && ensi_enc_matrix_decrypt(k->ctx, got, y, k->sk) == ENSI_OK) {
    for (size_t i = 0; i < p->s; i++)
      for (size_t o = 0; o < p->c; o++) {
        double want = 0;
        for (size_t j = 0; j < p->d; j++)
          want += p->weights[o * p->d + j] * p->x[i * p->d + j];
        worst = bench_worse(worst, fabs(got[i * p->c + o] - want));
        scale = fmax(scale, fabs(want));
      }
    err = worst / scale;
  }
  free(got);
  return err;
}

static ensi_status bench_pcmm(const paper_keys *k, const paper_options *o, size_t d,
                              paper_row *row) {
  uint64_t rng = 1;
  pcmm_case p = {.s = o->seq, .d = d, .c = o->columns < d ? o->columns : d};
  ensi_ternary w = {0};
  ensi_enc_matrix *y = NULL;
  ensi_status st = pcmm_setup(&p, k, o->level, &rng);
  if (st == ENSI_OK)
    st = ensi_ternary_from_trits(&w, p.trits, (int)p.c, (int)d, 1.0);
  const size_t block = power_of_two_at_least(p.s);
  const ensi_enc_matrix x = {.rows = p.s, .cols = d, .block = block, .slots = 2 * block,
                             .column = p.columns};
  double start = bench_now();
  if (st == ENSI_OK)
    st = ensi_ternary_pcmm_with(k->ctx, &y, &x, &w, ENSI_PCMM_PLAIN_SUMS); /* the paper's sums */
  row->ensi_s = (bench_now() - start) * (double)d / (double)p.c;
  if (st == ENSI_OK)
    row->ensi_error = pcmm_error(&p, k, y);
  ensi_enc_matrix_free(y);
  y = NULL;
  start = bench_now();
  if (st == ENSI_OK)
    st = ensi_nexus_pcmm(k->ctx, &y, &x, p.weights, p.c, d);
  row->baseline_s = (bench_now() - start) * (double)d / (double)p.c;
  if (st == ENSI_OK)
    row->baseline_error = pcmm_error(&p, k, y);
  ensi_enc_matrix_free(y);
  snprintf(row->kernel, sizeof row->kernel, "pcmm");
  snprintf(row->ensi, sizeof row->ensi, "ternary, additions only");
  snprintf(row->baseline, sizeof row->baseline, "NEXUS: a multiply per weight");
  snprintf(row->shape, sizeof row->shape, "%zux%zu * %zux%zu, level %zu", p.s, d, d, d, o->level);
  ensi_ternary_free(&w);
  pcmm_free(&p);
  return st;
}

/* ---- the diagonal method on packed rows ---------------------------------------------------- */

/* Encrypts `count` rows of a random matrix of width d packed at pitch D. */
static ensi_status encrypt_rows(const paper_keys *k, double *packed, size_t slots, size_t pitch,
                                size_t d, size_t count, size_t level, uint64_t *rng,
                                ensi_ciphertext **out) {
  memset(packed, 0, slots * sizeof *packed);
  for (size_t r = 0; r < count; r++)
    for (size_t j = 0; j < d; j++)
      packed[r * pitch + j] = uniform(rng, -1, 1);
  return encrypt_slots(k->ctx, k->pk, packed, slots, level, ensi_params_scale(k->params), out);
}

/* max |got - X W^T| and max |X W^T| over the packed rows, accumulated into err[0..2). */
static ensi_status diagonal_error(const paper_keys *k, const ensi_ciphertext *ct,
                                  const double *packed, const double *w, size_t d, size_t pitch,
                                  size_t count, size_t slots, double *got, double err[2]) {
  TOOL_TRY(decrypt_slots(k->ctx, k->sk, ct, slots, got));
  for (size_t r = 0; r < count; r++)
    for (size_t o = 0; o < d; o++) {
      double want = 0;
      for (size_t j = 0; j < d; j++)
        want += w[o * d + j] * packed[r * pitch + j];
      err[0] = bench_worse(err[0], fabs(got[r * pitch + o] - want));
      err[1] = fmax(err[1], fabs(want));
    }
  return ENSI_OK;
}

/* Every row of the s x d input through the d x d product, packed slots / D rows per ciphertext. */
static ensi_status run_diagonal(const paper_keys *k, const paper_options *o, size_t d,
                                const double *w, double *packed, double *got, paper_row *row) {
  const size_t slots = ensi_params_slots(k->params);
  ensi_diagonal_pcmm *p = NULL;
  ensi_eval_keys *keys = NULL;
  ensi_ciphertext *in = NULL, *out = NULL;
  long long *steps = malloc(8 * d * sizeof *steps);
  size_t count = 0;
  double start = bench_now(), err[2] = {0, 0};
  ensi_status st = steps ? ensi_diagonal_pcmm_create(&p, k->ctx, w, d, d, slots, o->level)
                         : ENSI_ERR_NOMEM;
  const double offline = bench_now() - start;
  if (st == ENSI_OK) {
    ensi_diagonal_pcmm_rotations(p, steps, &count);
    st = ensi_eval_keys_generate(&keys, k->ctx, k->sk, false, NULL, 0, false, NULL);
  }
  if (st == ENSI_OK)
    st = ensi_eval_keys_add_rotations_up_to(keys, k->ctx, k->sk, steps, count, o->level, NULL);
  const size_t per = st == ENSI_OK ? slots / ensi_diagonal_pcmm_pitch(p) : 1;
  uint64_t rng = 3;
  row->baseline_s = 0;
  for (size_t first = 0; st == ENSI_OK && first < o->seq; first += per) {
    const size_t rows = o->seq - first < per ? o->seq - first : per;
    st = encrypt_rows(k, packed, slots, ensi_diagonal_pcmm_pitch(p), d, rows, o->level, &rng, &in);
    if (st == ENSI_OK)
      st = ensi_ciphertext_create(&out, k->ctx, o->level);
    start = bench_now();
    if (st == ENSI_OK)
      st = ensi_diagonal_pcmm_apply(k->ctx, out, p, in, keys);
    row->baseline_s += bench_now() - start;
    if (st == ENSI_OK)
      st = diagonal_error(k, out, packed, w, d, ensi_diagonal_pcmm_pitch(p), rows, slots, got, err);
    ensi_ciphertext_free(in);
    ensi_ciphertext_free(out);
    in = out = NULL;
  }
  row->baseline_error = err[0] / err[1];
  snprintf(row->baseline, sizeof row->baseline, "diagonal BSGS, rows packed");
  snprintf(row->shape, sizeof row->shape, "%zux%zu * %zux%zu, %zu rows/ct, offline %.0f s", o->seq,
           d, d, d, per, offline);
  ensi_diagonal_pcmm_free(p);
  ensi_eval_keys_free(keys);
  free(steps);
  return st;
}

/* The column layout's ternary PCMM (time and error from the pcmm row) against the standard
 * diagonal method on rows packed into full ciphertexts, on the whole product. */
static ensi_status bench_diagonal(const paper_keys *k, const paper_options *o, size_t d,
                                  const paper_row *column, paper_row *row) {
  const size_t slots = ensi_params_slots(k->params);
  double *w = malloc(d * d * sizeof *w), *packed = malloc(slots * sizeof *packed),
         *got = malloc(slots * sizeof *got);
  uint64_t rng = 5;
  for (size_t i = 0; w && i < d * d; i++)
    w[i] = (double)((int)uniform(&rng, 0, 3) - 1);
  ensi_status st = w && packed && got ? run_diagonal(k, o, d, w, packed, got, row) : ENSI_ERR_NOMEM;
  snprintf(row->kernel, sizeof row->kernel, "pcmm, layouts");
  snprintf(row->ensi, sizeof row->ensi, "%s", column->ensi);
  row->ensi_s = column->ensi_s;
  row->ensi_error = column->ensi_error;
  free(w);
  free(packed);
  free(got);
  return st;
}

/* ---- attention nonlinearity --------------------------------------------------------------- */

enum { SIGMOID_DEGREE = 15, SOFTMAX_FACTORS = 4 };

static double bias_ln_s; /* the sigmoid's -ln s, for the plain function below */

static double biased_logistic(double x, void *unused) {
  (void)unused;
  return 1 / (1 + exp(-(x - bias_ln_s)));
}

/* Scores in [-10, 0] (NEXUS's benchmark input), row i in slots [2 s i, 2 s i + s). */
static ensi_status encrypt_scores(const paper_keys *k, size_t s, size_t slots, size_t level,
                                  double *scores, ensi_ciphertext **out) {
  uint64_t rng = 7;
  for (size_t i = 0; i < slots; i++)
    scores[i] = i % (2 * s) < s ? uniform(&rng, -10, 0) : 0;
  return encrypt_slots(k->ctx, k->pk, scores, slots, level, ensi_context_prime(k->ctx, level),
                       out);
}

/* Relative errors of the softmax and sigmoid outputs on the score slots. */
static void attention_errors(const double *scores, const double *softmax, const double *sigmoid,
                             size_t s, size_t slots, paper_row *row) {
  double soft_err = 0, soft_max = 0, sig_err = 0, sig_max = 0;
  for (size_t base = 0; base < slots; base += 2 * s) {
    double sum = 0;
    for (size_t j = 0; j < s; j++)
      sum += exp(scores[base + j]);
    for (size_t j = 0; j < s; j++) {
      const double want = exp(scores[base + j]) / sum, sig = biased_logistic(scores[base + j], NULL);
      soft_err = bench_worse(soft_err, fabs(softmax[base + j] - want));
      soft_max = fmax(soft_max, want);
      sig_err = bench_worse(sig_err, fabs(sigmoid[base + j] - sig));
      sig_max = fmax(sig_max, sig);
    }
  }
  row->baseline_error = soft_err / soft_max;
  row->ensi_error = sig_err / sig_max;
}

/* The Goldschmidt scale NEXUS's method needs: 2 / (smallest + largest row sum), from the data. */
static double softmax_sum_scale(const double *scores, size_t s, size_t slots) {
  double lo = INFINITY, hi = 0;
  for (size_t base = 0; base < slots; base += 2 * s) {
    double sum = 0;
    for (size_t j = 0; j < s; j++)
      sum += exp(scores[base + j]);
    lo = fmin(lo, sum);
    hi = fmax(hi, sum);
  }
  return 2 / (lo + hi);
}

static ensi_status run_attention(const paper_keys *k, size_t s, size_t slots, double *scores,
                                 double *softmax, double *sigmoid, paper_row *row) {
  const size_t level = ensi_nexus_softmax_depth(SOFTMAX_FACTORS);
  long long steps[64];
  const size_t count = ensi_nexus_softmax_rotations(s, steps);
  ensi_eval_keys *keys = NULL;
  ensi_ciphertext *in = NULL, *out = NULL;
  double coefficients[SIGMOID_DEGREE + 1];
  bias_ln_s = log((double)s);
  const double lo = -10 - bias_ln_s - 0.5, hi = 0 - bias_ln_s + 0.5;
  ensi_status st = ensi_eval_keys_generate(&keys, k->ctx, k->sk, true, NULL, 0, false, NULL);
  if (st == ENSI_OK)
    st = ensi_eval_keys_add_rotations_up_to(keys, k->ctx, k->sk, steps, count, level, NULL);
  if (st == ENSI_OK)
    st = encrypt_scores(k, s, slots, level, scores, &in);
  if (st == ENSI_OK)
    st = ensi_ciphertext_create(&out, k->ctx, level);
  if (st == ENSI_OK)
    st = ensi_chebyshev_fit(coefficients, SIGMOID_DEGREE, lo + bias_ln_s, hi + bias_ln_s,
                            biased_logistic, NULL);
  double start = bench_now();
  if (st == ENSI_OK)
    st = ensi_nexus_softmax(k->ctx, out, in, s, slots, softmax_sum_scale(scores, s, slots),
                            SOFTMAX_FACTORS, keys);
  row->baseline_s = bench_now() - start;
  if (st == ENSI_OK)
    st = decrypt_slots(k->ctx, k->sk, out, slots, softmax);
  start = bench_now();
  if (st == ENSI_OK)
    st = ensi_eval_chebyshev(k->ctx, out, in, coefficients, SIGMOID_DEGREE, lo + bias_ln_s,
                             hi + bias_ln_s, 0, keys);
  row->ensi_s = bench_now() - start;
  if (st == ENSI_OK)
    st = decrypt_slots(k->ctx, k->sk, out, slots, sigmoid);
  ensi_ciphertext_free(in);
  ensi_ciphertext_free(out);
  ensi_eval_keys_free(keys);
  return st;
}

/* Per head: the softmax's layout holds n / (2 s^2) heads per ciphertext, the sigmoid's (no
 * padding: it needs no rotation) n / s^2. */
static ensi_status bench_attention(const paper_keys *k, const paper_options *o, paper_row *row) {
  const size_t s = o->seq, slots = ensi_params_slots(k->params);
  if (2 * s * s > slots)
    return tool_fail(ENSI_ERR_ARG, "attention: %zu x %zu scores need %zu slots for the softmax layout; "
                          "the preset has %zu", s, s, 2 * s * s, slots);
  double *scores = malloc(slots * sizeof *scores), *softmax = malloc(slots * sizeof *softmax),
         *sigmoid = malloc(slots * sizeof *sigmoid);
  ensi_status st = scores && softmax && sigmoid
                       ? run_attention(k, s, slots, scores, softmax, sigmoid, row)
                       : ENSI_ERR_NOMEM;
  if (st == ENSI_OK)
    attention_errors(scores, softmax, sigmoid, s, slots, row);
  row->baseline_s /= (double)(slots / (2 * s * s));
  row->ensi_s /= (double)(slots / (s * s));
  snprintf(row->kernel, sizeof row->kernel, "attention nonlinearity");
  snprintf(row->ensi, sizeof row->ensi, "sigmoid, degree %d", SIGMOID_DEGREE);
  snprintf(row->baseline, sizeof row->baseline, "NEXUS softmax");
  snprintf(row->shape, sizeof row->shape, "%zux%zu scores per head", s, s);
  free(scores);
  free(softmax);
  free(sigmoid);
  return st;
}

typedef struct {
  double seconds, bootstrap_s;
  uint64_t keyswitches, bootstrap_keyswitches;
  size_t bootstraps, tokens;
} layer_share;

/* ---- the norm: ENSI's RMSNorm with embedded bootstrapping against NEXUS's LayerNorm and a
 * separate bootstrap, on the embedded tokens of the tiny model ------------------------------ */

enum { NEXUS_NEWTON = 5 };

/* x (rows x d, row-major): the exact RMSNorm (times gamma when given) of each row. */
static double norm_error(const double *got, const double *x, size_t rows, size_t d, size_t pitch,
                         const float *gamma, double eps) {
  double err = 0, largest = 0;
  for (size_t r = 0; r < rows; r++) {
    double sum = 0;
    for (size_t j = 0; j < d; j++)
      sum += x[r * d + j] * x[r * d + j];
    const double inv = 1 / sqrt(sum / (double)d + eps);
    for (size_t j = 0; j < d; j++) {
      const double want = x[r * d + j] * inv * (gamma ? gamma[j] : 1);
      err = bench_worse(err, fabs(got[r * pitch + j] - want));
      largest = fmax(largest, fabs(want));
    }
  }
  return err / largest;
}

/* ENSI: the input norm of layer 0 on x dropped to level 1 (so the norm must refresh it). */
static ensi_status ensi_norm(session *ses, const ensi_model *m, const int32_t *ids, size_t tokens,
                             const double *x, paper_row *row) {
  const size_t d = (size_t)m->config.hidden;
  ensi_enc_matrix *in = NULL, *y = NULL;
  double *got = malloc(tokens * d * sizeof *got);
  ensi_status st = got ? ensi_henn_encrypt_tokens(&in, &ses->setup, m, ids, tokens, ses->pk)
                       : ENSI_ERR_NOMEM;
  for (size_t j = 0; st == ENSI_OK && j < d; j++)
    st = ensi_drop_level(ses->ctx, in->column[j], in->column[j], 1);
  const double start = bench_now();
  if (st == ENSI_OK)
    st = ensi_henn_rmsnorm(&ses->setup, m, in, ENSI_NORM_INPUT, 0, m->layers[0].input_norm, 2, &y,
                           NULL);
  row->ensi_s = bench_now() - start;
  if (st == ENSI_OK)
    st = ensi_enc_matrix_decrypt(ses->ctx, got, y, ses->sk);
  if (st == ENSI_OK) {
    row->ensi_error = norm_error(got, x, tokens, d, d, m->layers[0].input_norm, m->config.rms_eps);
    snprintf(row->ensi, sizeof row->ensi, "RMSNorm, bootstrap inside, %zu left",
             ensi_ciphertext_level(y->column[0]));
  }
  ensi_enc_matrix_free(in);
  ensi_enc_matrix_free(y);
  free(got);
  return st;
}

/* NEXUS: the rows at pitch 2 D in one ciphertext from the top level, LayerNorm, then the
 * ciphertext brought to the bootstrapper's input scale (values / bound) and bootstrapped. */
static ensi_status nexus_norm_run(session *ses, const double *x, size_t tokens, size_t d,
                                  double *packed, ensi_eval_keys *keys, double *seconds) {
  const ensi_bootstrap_config *bc = ensi_bootstrapper_config(ses->boot);
  const size_t slots = bc->slots, top = ensi_context_max_level(ses->ctx);
  const size_t pitch = power_of_two_at_least(d);
  double lo = INFINITY, hi = 0;
  memset(packed, 0, slots * sizeof *packed);
  for (size_t r = 0; r < tokens; r++) {
    double sum = 0;
    for (size_t j = 0; j < d; j++)
      sum += x[r * d + j] * x[r * d + j], packed[2 * pitch * r + j] = x[r * d + j];
    lo = fmin(lo, sum / (double)d);
    hi = fmax(hi, sum / (double)d);
  }
  ensi_ciphertext *ct = NULL, *out = NULL;
  ensi_status st = encrypt_slots(ses->ctx, ses->pk, packed, slots, top,
                                 ensi_params_scale(ses->params), &ct);
  if (st == ENSI_OK)
    st = ensi_ciphertext_create(&out, ses->ctx, top);
  const double start = bench_now();
  if (st == ENSI_OK)
    st = ensi_nexus_layernorm(ses->ctx, out, ct, d, slots, lo / 2, hi * 2, NEXUS_NEWTON, keys);
  const double factor = st == ENSI_OK ? bc->input_scale *
      ensi_context_prime(ses->ctx, ensi_ciphertext_level(out)) / ensi_ciphertext_scale(out) : 0;
  if (st == ENSI_OK) /* normalized rows stay below 2^3: the bootstrapper reads values / 8 */
    st = ensi_mul_const_scaled(ses->ctx, out, out, 1.0 / 8, factor);
  if (st == ENSI_OK)
    st = ensi_rescale(ses->ctx, out, out);
  if (st == ENSI_OK)
    st = ensi_bootstrap(ses->ctx, ct, out, ses->boot, ses->keys);
  *seconds = bench_now() - start;
  if (st == ENSI_OK)
    st = decrypt_slots(ses->ctx, ses->sk, ct, slots, packed);
  for (size_t i = 0; st == ENSI_OK && i < slots; i++)
    packed[i] *= 8;
  ensi_ciphertext_free(ct);
  ensi_ciphertext_free(out);
  return st;
}

static ensi_status nexus_norm(session *ses, const ensi_model *m, size_t tokens, const double *x,
                              paper_row *row) {
  const size_t d = (size_t)m->config.hidden, slots = ensi_bootstrapper_config(ses->boot)->slots;
  const size_t pitch = power_of_two_at_least(d);
  if (2 * pitch * tokens > slots)
    return tool_fail(ENSI_ERR_ARG, "norm: %zu rows of pitch %zu exceed %zu slots", tokens,
                     2 * pitch, slots);
  long long steps[64];
  const size_t count = ensi_nexus_layernorm_rotations(d, steps);
  ensi_eval_keys *keys = NULL;
  double *packed = malloc(slots * sizeof *packed);
  ensi_status st = packed ? ensi_eval_keys_generate(&keys, ses->ctx, ses->sk, true, steps, count,
                                                    false, NULL)
                          : ENSI_ERR_NOMEM;
  if (st == ENSI_OK)
    st = nexus_norm_run(ses, x, tokens, d, packed, keys, &row->baseline_s);
  if (st == ENSI_OK)
    row->baseline_error = norm_error(packed, x, tokens, d, 2 * pitch, NULL, 0);
  snprintf(row->baseline, sizeof row->baseline, "NEXUS LN (%d Newton) + bootstrap", NEXUS_NEWTON);
  ensi_eval_keys_free(keys);
  free(packed);
  return st;
}

static ensi_status bench_norm(session *ses, const ensi_model *m, const int32_t *ids, size_t tokens,
                              paper_row *row) {
  const size_t d = (size_t)m->config.hidden;
  double *x = malloc(tokens * d * sizeof *x);
  if (!x)
    return ENSI_ERR_NOMEM;
  for (size_t t = 0; t < tokens; t++)
    for (size_t j = 0; j < d; j++)
      x[t * d + j] = m->embeddings[(size_t)ids[t] * d + j];
  ensi_status st = ensi_norm(ses, m, ids, tokens, x, row);
  if (st == ENSI_OK)
    st = nexus_norm(ses, m, tokens, x, row);
  snprintf(row->kernel, sizeof row->kernel, "norm + bootstrap");
  snprintf(row->shape, sizeof row->shape, "%zux%zu, tiny model", tokens, d);
  free(x);
  return st;
}

/* ---- bootstrapping share of a layer, and the norm, on the tiny model ---------------------- */

static ensi_status run_layer(const ensi_model *m, const char *preset, size_t tokens,
                             layer_share *out, paper_row *norm) {
  ensi_forward_options degrees;
  ensi_forward_options_default(&degrees);
  ensi_henn_default_degrees(&degrees);
  session ses;
  TOOL_TRY(session_open(&ses, preset, m, tokens, 1, &degrees, false));
  int32_t *ids = malloc(tokens * sizeof *ids);
  for (size_t t = 0; ids && t < tokens; t++)
    ids[t] = (int32_t)((t * 7919 + 13) % (size_t)m->config.vocab);
  ensi_enc_matrix *x = NULL;
  ensi_henn_stats stats = {0};
  ensi_status st = ids ? ensi_henn_encrypt_tokens(&x, &ses.setup, m, ids, tokens, ses.pk)
                       : ENSI_ERR_NOMEM;
  const double start = bench_now();
  if (st == ENSI_OK)
    st = ensi_henn_forward(&ses.setup, m, x, &stats);
  out->seconds = bench_now() - start;
  out->bootstrap_s = stats.seconds[ENSI_STAGE_BOOTSTRAP];
  out->bootstrap_keyswitches = stats.ops[ENSI_STAGE_BOOTSTRAP].keyswitch;
  for (int i = 0; i < ENSI_STAGE_COUNT; i++)
    out->keyswitches += stats.ops[i].keyswitch;
  out->bootstraps = stats.bootstraps;
  out->tokens = tokens;
  if (st == ENSI_OK)
    st = bench_norm(&ses, m, ids, tokens, norm);
  ensi_enc_matrix_free(x);
  free(ids);
  session_close(&ses);
  return st;
}

static ensi_status bench_layer_share(const paper_options *o, layer_share *share, paper_row *norm) {
  char dir[4096];
  ensi_model *m = NULL;
  if (tool_temp_dir(dir, sizeof dir, "bench-paper") != 0)
    return tool_fail(ENSI_ERR_IO, "no temporary directory");
  ensi_status st = ensi_model_synthesize(dir, "tiny", 1, 1);
  if (st == ENSI_OK)
    st = ensi_model_load(&m, dir);
  tool_remove_dir(dir);
  if (st == ENSI_OK)
    st = run_layer(m, o->preset, o->layer_seq, share, norm);
  ensi_model_free(m);
  return st;
}

/* ---- output ------------------------------------------------------------------------------- */

static void print_row(const bench_options *opt, const char *preset, const paper_row *r) {
  const double ratio = r->baseline_s / r->ensi_s;
  if (opt->json) {
    char extra[768];
    snprintf(extra, sizeof extra, "\"kernel\":\"%s\",\"shape\":\"%s\",\"ensi\":\"%s\","
             "\"baseline\":\"%s\",\"baseline_s\":%.6g,\"ratio\":%.3f,\"ensi_rel_error\":%.3g,"
             "\"baseline_rel_error\":%.3g", r->kernel, r->shape, r->ensi, r->baseline,
             r->baseline_s, ratio, r->ensi_error, r->baseline_error);
    bench_report(opt, "paper", preset, 1, r->ensi_s, extra);
    return;
  }
  printf("%-24s %-34s %10.3f s  %-30s %10.3f s  %6.2fx  errors %.1e / %.1e\n", r->kernel,
         r->shape, r->ensi_s, r->baseline, r->baseline_s, ratio, r->ensi_error,
         r->baseline_error);
  fflush(stdout);
}

static void print_share(const bench_options *opt, const char *preset, const layer_share *l) {
  const double time_share = l->bootstrap_s / l->seconds;
  const double op_share = (double)l->bootstrap_keyswitches / (double)l->keyswitches;
  if (opt->json) {
    char extra[512];
    snprintf(extra, sizeof extra, "\"kernel\":\"layer\",\"shape\":\"tiny, %zu tokens, 1 layer\","
             "\"bootstraps\":%zu,\"bootstrap_s\":%.3f,\"bootstrap_time_share\":%.4f,"
             "\"keyswitches\":%llu,\"bootstrap_keyswitches\":%llu,\"bootstrap_op_share\":%.4f",
             l->tokens, l->bootstraps, l->bootstrap_s, time_share,
             (unsigned long long)l->keyswitches, (unsigned long long)l->bootstrap_keyswitches,
             op_share);
    bench_report(opt, "paper", preset, 1, l->seconds, extra);
    return;
  }
  printf("%-24s tiny model, %zu tokens: %.1f s, %zu bootstraps taking %.1f s = %.1f%% of the "
         "time; %llu of %llu key switches = %.1f%% of the operations\n", "bootstrapping share",
         l->tokens, l->seconds, l->bootstraps, l->bootstrap_s, 100 * time_share,
         (unsigned long long)l->bootstrap_keyswitches, (unsigned long long)l->keyswitches,
         100 * op_share);
}

/* Grouped bars of the kernels' times (log scale) with gnuplot (the script goes to its standard
 * input: no shell sees the path). */
static int plot(const char *path, const paper_row *rows, size_t count) {
  char data[4096];
  if (tool_temp_dir(data, sizeof data - 16, "plot") != 0)
    return 1;
  char file[4200];
  snprintf(file, sizeof file, "%s/paper.dat", data);
  FILE *f = fopen(file, "w");
  for (size_t i = 0; f && i < count; i++)
    fprintf(f, "\"%s\\n%s\" %.6g %.6g\n", rows[i].kernel, rows[i].shape, rows[i].ensi_s,
            rows[i].baseline_s);
  int status = f ? fclose(f) : 1;
  FILE *g = status == 0 ? popen("gnuplot", "w") : NULL;
  if (g) {
    fprintf(g, "set terminal svg size 1000,560 font 'sans,12'\nset output '%s'\nset bmargin 5\n"
               "set title 'ENSI kernels against their baselines (same engine, same parameters)'\n"
               "set style data histograms\nset style histogram clustered gap 1\n"
               "set style fill solid 0.8 border -1\nset logscale y\nset ylabel 'seconds'\n"
               "set grid ytics\nset key top right\n"
               "plot '%s' using 2:xtic(1) title 'ENSI', '' using 3 title 'baseline'\n",
            path, file);
    status = pclose(g);
  }
  tool_remove_dir(data);
  if (!g || status != 0)
    fprintf(stderr, "ensi bench paper: gnuplot failed (is it installed? make deps)\n");
  return !g || status != 0;
}

static int parse(int argc, char **argv, paper_options *o) {
  *o = (paper_options){.shape = "large", .preset = "n16-boot", .attention_preset = "n16",
                       .seq = 128, .columns = 16,
                       .level = 2, .layer_seq = 8, .layer = true, .diagonal = true};
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--shape") && v)
      o->shape = argv[++i];
    else if (!strcmp(argv[i], "--seq") && v)
      o->seq = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--preset") && v)
      o->preset = argv[++i];
    else if (!strcmp(argv[i], "--attention-preset") && v)
      o->attention_preset = argv[++i];
    else if (!strcmp(argv[i], "--columns") && v)
      o->columns = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--level") && v)
      o->level = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--layer-seq") && v)
      o->layer_seq = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--plot") && v)
      o->plot = argv[++i];
    else if (!strcmp(argv[i], "--no-layer"))
      o->layer = false;
    else if (!strcmp(argv[i], "--no-diagonal"))
      o->diagonal = false;
    else {
      fprintf(stderr, "usage: ensi bench paper [--shape bert|large] [--seq S] [--preset P] "
              "[--attention-preset P] [--columns C] [--level L] [--layer-seq T] [--no-layer]\n"
              "                        [--no-diagonal]\n"
              "                        [--plot FILE.svg] [--json]\n");
      return 2;
    }
  }
  if (strcmp(o->shape, "bert") && strcmp(o->shape, "large")) {
    fprintf(stderr, "ensi bench paper: --shape bert (d = 768) or large (d = 1536)\n");
    return 2;
  }
  if (o->seq < 2 || o->seq > ENSI_HENN_MAX_BLOCK || (o->seq & (o->seq - 1)) || o->columns < 1 ||
      o->level < 1 || o->layer_seq < 1) {
    fprintf(stderr, "ensi bench paper: --seq must be a power of two, --columns and --level >= 1\n");
    return 2;
  }
  return 0;
}

static int fail(const char *what, ensi_status s) {
  fprintf(stderr, "ensi bench paper: %s: %s: %s\n", what, ensi_strerror(s), tool_error_detail());
  return 1;
}

int ensi_bench_paper(int argc, char **argv, const bench_options *opt) {
  paper_options o;
  const int bad = parse(argc, argv, &o);
  if (bad)
    return bad;
  const size_t d = !strcmp(o.shape, "bert") ? 768 : 1536;
  paper_keys k;
  paper_row rows[4];
  size_t count = 0;
  memset(rows, 0, sizeof rows);
  tool_error_clear();
  ensi_status st = open_keys(&k, o.preset);
  if (!opt->json && st == ENSI_OK)
    printf("%-24s %-34s %12s  %-30s %12s  %7s\n", "kernel", "shape", "ENSI", "baseline", "",
           "ratio");
  if (st == ENSI_OK && (st = bench_pcmm(&k, &o, d, &rows[count])) == ENSI_OK)
    print_row(opt, o.preset, &rows[count++]);
  if (st == ENSI_OK && o.diagonal &&
      (st = bench_diagonal(&k, &o, d, &rows[0], &rows[count])) == ENSI_OK)
    print_row(opt, o.preset, &rows[count++]);
  close_keys(&k);
  if (st == ENSI_OK)
    st = open_keys(&k, o.attention_preset);
  if (st == ENSI_OK && (st = bench_attention(&k, &o, &rows[count])) == ENSI_OK)
    print_row(opt, o.attention_preset, &rows[count++]);
  close_keys(&k);
  if (st != ENSI_OK)
    return fail("kernels", st);
  layer_share share = {0};
  if (o.layer && (st = bench_layer_share(&o, &share, &rows[count])) != ENSI_OK)
    return fail("layer", st);
  if (o.layer) {
    print_row(opt, o.preset, &rows[count++]);
    print_share(opt, o.preset, &share);
  }
  return o.plot ? plot(o.plot, rows, count) : 0;
}
