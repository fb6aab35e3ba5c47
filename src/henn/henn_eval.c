/* The small tools of the encrypted layers (see henn_eval.h): timing, plaintext vectors, hoisted
 * rotations, new matrices and accumulated dot products. */
#include "henn/henn_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "henn/matrix_internal.h"
#include "math/chebyshev.h"

static double logistic(double x, void *unused) {
  (void)unused;
  return 1.0 / (1.0 + exp(-x));
}

static double rsqrt(double x, void *unused) {
  (void)unused;
  return 1.0 / sqrt(x);
}

static ensi_status fit(double **out, int degree, double lo, double hi,
                       double (*f)(double, void *)) {
  if (degree < 1 || !(lo < hi))
    return ensi_fail(ENSI_ERR_ARG, "encrypted forward: polynomial of degree %d on [%g, %g]",
                     degree, lo, hi);
  if (!(*out = calloc((size_t)degree + 1, sizeof **out)))
    return ENSI_ERR_NOMEM;
  return ensi_chebyshev_fit(*out, degree, lo, hi, f, NULL);
}

ensi_status henn_eval_prepare(henn_eval *ev, const ensi_henn_setup *st, const ensi_model *model,
                              size_t rows, size_t block, size_t slots, ensi_henn_stats *stats) {
  memset(ev, 0, sizeof *ev);
  const ensi_forward_options *o = &st->approx;
  if (!st->ctx || !(st->bound > 0) || o->attention != ENSI_ATTENTION_SIGMOID_POLY)
    return ensi_fail(ENSI_ERR_ARG, "encrypted forward: the setup needs a context, a bound and the "
                     "sigmoid-poly attention");
  ev->setup = st;
  ev->ctx = st->ctx;
  ev->keys = st->keys;
  ev->rows = rows;
  ev->block = block;
  ev->slots = slots;
  ev->work_scale = ensi_henn_input_scale(st);
  ev->boot_scale = ev->work_scale * st->bound;
  ev->eps = model->config.rms_eps;
  ev->stats = stats;
  ENSI_TRY(fit(&ev->sigmoid, o->sigmoid_degree, o->sigmoid_lo, o->sigmoid_hi, logistic));
  ENSI_TRY(fit(&ev->silu, o->silu_degree, o->silu_lo, o->silu_hi, logistic));
  for (int k = 0; k < ENSI_NORM_KINDS; k++)
    ENSI_TRY(fit(&ev->rsqrt[k], o->rsqrt_degree[k], o->rsqrt_lo[k], o->rsqrt_hi[k], rsqrt));
  return ENSI_OK;
}

ensi_status henn_check_keys(const ensi_henn_setup *st) {
  return st->keys ? ENSI_OK
                  : ensi_fail(ENSI_ERR_ARG, "encrypted forward: the setup has no evaluation keys");
}

void henn_eval_release(henn_eval *ev) {
  free(ev->sigmoid);
  free(ev->silu);
  for (int k = 0; k < ENSI_NORM_KINDS; k++)
    free(ev->rsqrt[k]);
  memset(ev, 0, sizeof *ev);
}

int henn_layer_count(const ensi_henn_setup *st, const ensi_model *model) {
  return st->layers > 0 && st->layers < model->config.layers ? st->layers : model->config.layers;
}

ensi_status henn_keep_going(const henn_eval *ev) {
  const ensi_henn_setup *st = ev->setup;
  if (st->stop && st->stop(st->progress_user))
    return ensi_fail(ENSI_ERR_LIMIT, "encrypted forward: stopped by the caller in layer %d",
                     ev->layer + 1);
  return ENSI_OK;
}

ensi_status henn_embed_tokens(const ensi_model *model, const int32_t *tokens, size_t count,
                              double **out) {
  const ensi_model_config *c = &model->config;
  const size_t hid = (size_t)c->hidden;
  double *x = malloc(count * hid * sizeof *x);
  if (!x)
    return ENSI_ERR_NOMEM;
  for (size_t t = 0; t < count; t++) {
    if (tokens[t] < 0 || tokens[t] >= c->vocab) {
      free(x);
      return ensi_fail(ENSI_ERR_ARG, "encrypt tokens: token %d outside the vocabulary", tokens[t]);
    }
    for (size_t i = 0; i < hid; i++)
      x[t * hid + i] = model->embeddings[(size_t)tokens[t] * hid + i];
  }
  *out = x;
  return ENSI_OK;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void henn_progress(const henn_eval *ev, const char *what) {
  const ensi_henn_setup *st = ev->setup;
  if (st->progress && what)
    st->progress(st->progress_user, ev->layer, ev->layers, what);
}

void henn_begin(const henn_eval *ev, henn_mark *mark, const char *what) {
  henn_progress(ev, what);
  ensi_op_counts_get(&mark->ops);
  mark->start = now_seconds();
}

void henn_end(henn_eval *ev, ensi_henn_stage stage, const henn_mark *mark) {
  if (!ev->stats)
    return;
  ensi_op_counts now;
  ensi_op_counts_get(&now);
  ev->stats->seconds[stage] += now_seconds() - mark->start;
  ensi_op_counts *o = &ev->stats->ops[stage];
  o->add += now.add - mark->ops.add;
  o->mul_plain += now.mul_plain - mark->ops.mul_plain;
  o->mul += now.mul - mark->ops.mul;
  o->keyswitch += now.keyswitch - mark->ops.keyswitch;
  o->rotation += now.rotation - mark->ops.rotation;
  o->rescale += now.rescale - mark->ops.rescale;
}

size_t henn_level(const ensi_enc_matrix *m) { return ensi_ciphertext_level(m->column[0]); }

ensi_status henn_drop_to(const henn_eval *ev, ensi_enc_matrix *m, size_t level) {
  if (henn_level(m) <= level)
    return ENSI_OK;
  for (size_t j = 0; j < m->cols; j++)
    ENSI_TRY(ensi_drop_level(ev->ctx, m->column[j], m->column[j], level));
  return ENSI_OK;
}

double henn_prime(const henn_eval *ev, size_t level) { return ensi_context_prime(ev->ctx, level); }

ensi_status henn_plain(const henn_eval *ev, ensi_plaintext **out, const double *values,
                       size_t level, double scale) {
  ENSI_TRY(ensi_plaintext_create(out, ev->ctx, level));
  const ensi_status s = ensi_encode_real(ev->ctx, *out, values, ev->slots, scale);
  if (s != ENSI_OK) {
    ensi_plaintext_free(*out);
    *out = NULL;
  }
  return s;
}

void henn_ciphertexts_free(ensi_ciphertext **cts, size_t n) {
  for (size_t i = 0; cts && i < n; i++)
    ensi_ciphertext_free(cts[i]);
  free(cts);
}

ensi_status henn_ciphertexts_new(const ensi_context *ctx, ensi_ciphertext ***out, size_t n,
                                 size_t level) {
  ensi_ciphertext **cts = calloc(n ? n : 1, sizeof *cts);
  ensi_status s = cts ? ENSI_OK : ENSI_ERR_NOMEM;
  for (size_t i = 0; s == ENSI_OK && i < n; i++)
    s = ensi_ciphertext_create(&cts[i], ctx, level);
  if (s != ENSI_OK) {
    henn_ciphertexts_free(cts, n);
    return s;
  }
  *out = cts;
  return ENSI_OK;
}

void henn_token_vector(const henn_eval *ev, double *values, size_t first, double value) {
  for (size_t i = 0; i < ev->slots; i++)
    values[i] = i >= first && i < ev->rows ? value : 0.0;
}

ensi_status henn_rotations(const henn_eval *ev, ensi_ciphertext **outs, const ensi_ciphertext *in,
                           size_t count, long long step) {
  if (count == 0)
    return ENSI_OK;
  if (count > ENSI_HENN_MAX_BLOCK)
    return ensi_fail(ENSI_ERR_ARG, "henn rotations: %zu rotations", count);
  ENSI_TRY(ensi_ciphertext_copy(outs[0], in));
  long long steps[ENSI_HENN_MAX_BLOCK];
  for (size_t j = 1; j < count; j++)
    steps[j - 1] = (long long)j * step;
  return count > 1 ? ensi_rotate_hoisted(ev->ctx, outs + 1, in, steps, count - 1, ev->keys) : ENSI_OK;
}

size_t henn_baby_steps(size_t count) {
  size_t baby = 1;
  while (baby * baby < count)
    baby *= 2;
  return baby;
}

ensi_status henn_matrix_new(const henn_eval *ev, ensi_enc_matrix **out, size_t cols, size_t level) {
  return ensi_enc_matrix_create(out, ev->ctx, ev->rows, cols, ev->block, ev->slots, level);
}

ensi_status henn_dot(const henn_eval *ev, ensi_ciphertext *out, ensi_ciphertext *const *a,
                     ensi_ciphertext *const *b, size_t count) {
  ensi_ciphertext *term = NULL;
  ensi_status s = ensi_mul(ev->ctx, out, a[0], b[0]);
  if (s == ENSI_OK && count > 1)
    s = ensi_ciphertext_create(&term, ev->ctx, ensi_ciphertext_level(out));
  for (size_t i = 1; s == ENSI_OK && i < count; i++) {
    s = ensi_mul(ev->ctx, term, a[i], b[i]);
    if (s == ENSI_OK)
      s = ensi_add(ev->ctx, out, out, term);
  }
  ensi_ciphertext_free(term);
  return s == ENSI_OK ? ensi_relinearize_rescale(ev->ctx, out, out, ev->keys) : s;
}

ensi_status henn_pcmm(henn_eval *ev, const ensi_enc_matrix *x, const ensi_ternary *w,
                      ensi_enc_matrix **y) {
  henn_mark mark;
  henn_begin(ev, &mark, "ternary product");
  const ensi_status s = ensi_ternary_pcmm(ev->ctx, y, x, w);
  henn_end(ev, ENSI_STAGE_PCMM, &mark);
  return s;
}
