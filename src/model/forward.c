/* The plaintext reference forward pass of BitNet b1.58 in double precision, top to bottom as the
 * math reads (shared/research/bitnet.md section 1.3), with the switches that reproduce the
 * encrypted path exactly: sigmoid attention, its Chebyshev surrogate, activation quantization. */
#include <ensi/model.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "math/chebyshev.h"

typedef struct {
  const ensi_model_config *c;
  const ensi_forward_options *opt;
  size_t s;                  /* tokens */
  int layer;                 /* the layer running */
  double *x, *a, *q, *k, *v, *att, *o, *gate, *up, *d; /* token-major activations */
  double *scores;            /* s x s, one head at a time */
  double *quantized;         /* the 8-bit activations of a product's inputs; NULL: not quantized */
  double *sigmoid_poly;      /* Chebyshev coefficients when attention = sigmoid-poly */
  double *silu_poly;         /* surrogate of the logistic in SiLU */
  double *rsqrt_poly[ENSI_NORM_KINDS]; /* surrogates of 1/sqrt, one per norm of the layer */
} run_state;

void ensi_forward_ranges_reset(ensi_forward_ranges *r) {
  *r = (ensi_forward_ranges){INFINITY, -INFINITY, INFINITY, -INFINITY, {{0}}, {{0}}, 0};
  for (int l = 0; l < ENSI_NORM_LAYERS; l++)
    for (int k = 0; k < ENSI_NORM_KINDS; k++) {
      r->mean_sq_lo[l][k] = INFINITY;
      r->mean_sq_hi[l][k] = -INFINITY;
    }
}

static void widen(double *lo, double *hi, double v) {
  *lo = fmin(*lo, v);
  *hi = fmax(*hi, v);
}

/* Records the largest |value| of n values. */
static void record_abs(const run_state *st, const double *v, size_t n) {
  ensi_forward_ranges *r = st->opt->ranges;
  for (size_t i = 0; r && i < n; i++)
    r->max_abs = fmax(r->max_abs, fabs(v[i]));
}

void ensi_forward_options_default(ensi_forward_options *out) {
  out->attention = ENSI_ATTENTION_SOFTMAX;
  out->sigmoid_degree = 16;
  out->sigmoid_lo = -10.0;
  out->sigmoid_hi = 11.0;
  out->quantize_activations = false;
  out->silu_degree = 0;
  out->silu_lo = -20.0;
  out->silu_hi = 20.0;
  for (int k = 0; k < ENSI_NORM_KINDS; k++)
    out->rsqrt_degree[k] = 0;
  for (int k = 0; k < ENSI_NORM_KINDS; k++) {
    out->rsqrt_lo[k] = 1e-3;
    out->rsqrt_hi[k] = 100.0;
    for (int l = 0; l < ENSI_NORM_LAYERS; l++)
      out->rsqrt_center[l][k] = 1.0;
  }
  out->ranges = NULL;
}

/* RMSNorm; the surrogate 1/sqrt of this norm kind (when configured) replaces the exact one inside
 * the layers, where the encrypted path computes it; the final norm (kind ENSI_NORM_KINDS) runs on
 * the client in plaintext, exactly. */
static void rmsnorm(const run_state *st, double *out, const double *in, const float *weight, int n,
                    ensi_norm_kind kind) {
  const double eps = st->c->rms_eps;
  double ss = 0;
  for (int i = 0; i < n; i++)
    ss += in[i] * in[i];
  const ensi_forward_options *o = st->opt;
  const double v = ss / n + eps;
  const bool in_layer = kind < ENSI_NORM_KINDS;
  const int l = st->layer < ENSI_NORM_LAYERS ? st->layer : ENSI_NORM_LAYERS - 1;
  if (o->ranges && in_layer)
    widen(&o->ranges->mean_sq_lo[l][kind], &o->ranges->mean_sq_hi[l][kind], v);
  const double c = in_layer ? o->rsqrt_center[l][kind] : 1.0;
  const double inv = in_layer && st->rsqrt_poly[kind]
                         ? ensi_chebyshev_eval(st->rsqrt_poly[kind], o->rsqrt_degree[kind],
                                               o->rsqrt_lo[kind], o->rsqrt_hi[kind], v / c) / sqrt(c)
                         : 1.0 / sqrt(v);
  for (int i = 0; i < n; i++)
    out[i] = weight[i] * in[i] * inv;
  if (o->ranges && kind == ENSI_NORM_POST) /* x p(v / c), refreshed by the packed layout */
    for (int i = 0; i < n; i++)
      o->ranges->max_abs = fmax(o->ranges->max_abs, fabs(in[i] * inv * sqrt(c)));
}

/* out[t] = W x[t] for every token; BitLinear: beta (sum over +1 inputs - sum over -1 inputs),
 * with per-token 8-bit activation quantization into `quantized` (tokens x cols) unless NULL. */
static void bitlinear(double *out, const double *in, const ensi_ternary *w, size_t tokens,
                      double *quantized) {
  const size_t cols = (size_t)w->cols;
#pragma omp parallel for schedule(static)
  for (size_t t = 0; t < tokens; t++) { /* tokens are independent: any thread count, same sums */
    const double *x = in + t * cols;
    double scale = 1.0;
    if (quantized) { /* s = 127 / max(max |x|, 1e-5); x_q = clamp(round(s x), -128, 127) */
      double m = 1e-5, *xq = quantized + t * cols;
      for (size_t i = 0; i < cols; i++)
        m = fmax(m, fabs(x[i]));
      scale = 127.0 / m;
      for (size_t i = 0; i < cols; i++)
        xq[i] = fmin(127.0, fmax(-128.0, rint(scale * x[i])));
      x = xq;
    }
    for (int r = 0; r < w->rows; r++) {
      double sum = 0;
      for (uint32_t j = w->plus_start[r]; j < w->plus_start[r + 1]; j++)
        sum += x[w->plus[j]];
      for (uint32_t j = w->minus_start[r]; j < w->minus_start[r + 1]; j++)
        sum -= x[w->minus[j]];
      out[t * (size_t)w->rows + (size_t)r] = w->beta / scale * sum;
    }
  }
}

/* Rotate-half RoPE on every head of every token: pairs (d, d + dh/2), angle pos theta^(-2d/dh). */
static void rope(double *x, const ensi_model_config *c, size_t tokens) {
  const int dh = c->head_dim, half = dh / 2;
  for (size_t t = 0; t < tokens; t++)
    for (int h = 0; h < c->heads; h++) {
      double *v = x + t * (size_t)c->hidden + (size_t)h * (size_t)dh;
      for (int d = 0; d < half; d++) {
        const double angle = (double)t * pow(c->rope_theta, -2.0 * d / dh);
        const double cs = cos(angle), sn = sin(angle), x1 = v[d], x2 = v[d + half];
        v[d] = x1 * cs - x2 * sn;
        v[d + half] = x2 * cs + x1 * sn;
      }
    }
}

static double logistic(double x) { return 1.0 / (1.0 + exp(-x)); }

static double logistic_fn(double x, void *unused) {
  (void)unused;
  return logistic(x);
}

static double rsqrt_fn(double x, void *unused) {
  (void)unused;
  return 1.0 / sqrt(x);
}

/* Attention weights of query i for one head (scores row i, length s), causal. */
static void attention_weights(run_state *st, double *row, size_t i) {
  const size_t s = st->s;
  const ensi_forward_options *o = st->opt;
  if (o->attention == ENSI_ATTENTION_SOFTMAX) {
    double m = -INFINITY, sum = 0;
    for (size_t j = 0; j <= i; j++)
      m = fmax(m, row[j]);
    for (size_t j = 0; j <= i; j++)
      sum += row[j] = exp(row[j] - m);
    for (size_t j = 0; j <= i; j++)
      row[j] /= sum;
  } else { /* sigmoid(score - ln s); the causal mask multiplies afterwards */
    for (size_t j = 0; j < s; j++) {
      const double z = row[j] - log((double)s);
      if (o->ranges && j <= i) {
        widen(&o->ranges->score_lo, &o->ranges->score_hi, z);
        o->ranges->max_abs = fmax(o->ranges->max_abs, fabs(row[j]));
      }
      row[j] = o->attention == ENSI_ATTENTION_SIGMOID
                   ? logistic(z)
                   : ensi_chebyshev_eval(st->sigmoid_poly, o->sigmoid_degree, o->sigmoid_lo,
                                         o->sigmoid_hi, z);
    }
  }
  for (size_t j = i + 1; j < s; j++)
    row[j] = 0.0;
}

static void attention(run_state *st) {
  const ensi_model_config *c = st->c;
  const size_t s = st->s, hid = (size_t)c->hidden, dh = (size_t)c->head_dim;
  const double norm = 1.0 / sqrt((double)dh);
  for (int h = 0; h < c->heads; h++) {
    const size_t off = (size_t)h * dh;
    for (size_t i = 0; i < s; i++) {
      double *row = st->scores + i * s;
      for (size_t j = 0; j < s; j++) {
        double dot = 0;
        for (size_t d = 0; d < dh; d++)
          dot += st->q[i * hid + off + d] * st->k[j * hid + off + d];
        row[j] = dot * norm;
      }
      attention_weights(st, row, i);
      /* the encrypted path divides query i's output by its i + 1 attended keys over s (free in
       * its causal mask; RMSNorm follows, so only the polynomial's input range changes) */
      const double attended = st->opt->attention == ENSI_ATTENTION_SIGMOID_POLY
                                  ? (double)s / (double)(i + 1) : 1.0;
      for (size_t d = 0; d < dh; d++) {
        double acc = 0;
        for (size_t j = 0; j < s; j++)
          acc += row[j] * st->v[j * hid + off + d];
        st->att[i * hid + off + d] = acc * attended;
      }
    }
  }
}

static void layer(run_state *st, const ensi_layer *l) {
  const ensi_model_config *c = st->c;
  const size_t s = st->s, hid = (size_t)c->hidden, ffn = (size_t)c->intermediate;
  double *quant = st->quantized; /* NULL: activations are not quantized */
  for (size_t t = 0; t < s; t++)
    rmsnorm(st, st->a + t * hid, st->x + t * hid, l->input_norm, c->hidden, ENSI_NORM_INPUT);
  bitlinear(st->q, st->a, &l->q, s, quant);
  bitlinear(st->k, st->a, &l->k, s, quant);
  bitlinear(st->v, st->a, &l->v, s, quant);
  rope(st->q, c, s);
  rope(st->k, c, s);
  attention(st);
  record_abs(st, st->x, s * hid);
  record_abs(st, st->att, s * hid);
  for (size_t t = 0; t < s; t++)
    rmsnorm(st, st->a + t * hid, st->att + t * hid, l->inner_attn_norm, c->hidden, ENSI_NORM_INNER);
  bitlinear(st->o, st->a, &l->o, s, quant);
  for (size_t i = 0; i < s * hid; i++)
    st->x[i] += st->o[i];
  for (size_t t = 0; t < s; t++)
    rmsnorm(st, st->a + t * hid, st->x + t * hid, l->post_attn_norm, c->hidden, ENSI_NORM_POST);
  bitlinear(st->gate, st->a, &l->gate, s, quant);
  bitlinear(st->up, st->a, &l->up, s, quant);
  const ensi_forward_options *o = st->opt;
  record_abs(st, st->x, s * hid);
  record_abs(st, st->gate, s * ffn);
  record_abs(st, st->up, s * ffn);
  for (size_t i = 0; i < s * ffn; i++) { /* SiLU(gate) * up */
    const double g = st->gate[i];
    if (o->ranges)
      widen(&o->ranges->gate_lo, &o->ranges->gate_hi, g);
    const double sig = st->silu_poly ? ensi_chebyshev_eval(st->silu_poly, o->silu_degree, o->silu_lo,
                                                           o->silu_hi, g)
                                     : logistic(g);
    st->gate[i] = g * sig * st->up[i];
  }
  record_abs(st, st->gate, s * ffn);
  for (size_t t = 0; t < s; t++)
    rmsnorm(st, st->up + t * ffn, st->gate + t * ffn, l->ffn_norm, c->intermediate, ENSI_NORM_FFN);
  bitlinear(st->d, st->up, &l->down, s, quant);
  for (size_t i = 0; i < s * hid; i++)
    st->x[i] += st->d[i];
}

static void free_state(run_state *st) {
  double *all[] = {st->x, st->a, st->q, st->k, st->v, st->att, st->o, st->gate, st->up, st->d,
                   st->scores, st->quantized, st->sigmoid_poly, st->silu_poly};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    free(all[i]);
  for (int k = 0; k < ENSI_NORM_KINDS; k++)
    free(st->rsqrt_poly[k]);
}

static ensi_status init_state(run_state *st, const ensi_model *m, size_t s,
                              const ensi_forward_options *o) {
  memset(st, 0, sizeof *st);
  st->c = &m->config;
  st->opt = o;
  st->s = s;
  const size_t hid = s * (size_t)m->config.hidden, ffn = s * (size_t)m->config.intermediate;
  double **bufs[] = {&st->x, &st->a, &st->q, &st->k, &st->v, &st->att, &st->o, &st->d};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    if (!(*bufs[i] = calloc(hid, sizeof(double))))
      return ENSI_ERR_NOMEM;
  st->gate = calloc(ffn, sizeof(double));
  st->up = calloc(ffn, sizeof(double));
  st->scores = calloc(s * s, sizeof(double));
  if (!st->gate || !st->up || !st->scores)
    return ENSI_ERR_NOMEM;
  if (o->quantize_activations &&
      !(st->quantized = malloc((hid > ffn ? hid : ffn) * sizeof(double))))
    return ENSI_ERR_NOMEM;
  if (o->attention == ENSI_ATTENTION_SIGMOID_POLY) {
    st->sigmoid_poly = calloc((size_t)o->sigmoid_degree + 1, sizeof(double));
    if (!st->sigmoid_poly)
      return ENSI_ERR_NOMEM;
    ENSI_TRY(ensi_chebyshev_fit(st->sigmoid_poly, o->sigmoid_degree, o->sigmoid_lo, o->sigmoid_hi,
                                logistic_fn, NULL));
  }
  if (o->silu_degree > 0) {
    if (!(st->silu_poly = calloc((size_t)o->silu_degree + 1, sizeof(double))))
      return ENSI_ERR_NOMEM;
    ENSI_TRY(ensi_chebyshev_fit(st->silu_poly, o->silu_degree, o->silu_lo, o->silu_hi, logistic_fn, NULL));
  }
  for (int k = 0; k < ENSI_NORM_KINDS; k++) {
    if (o->rsqrt_degree[k] <= 0)
      continue;
    if (!(st->rsqrt_poly[k] = calloc((size_t)o->rsqrt_degree[k] + 1, sizeof(double))))
      return ENSI_ERR_NOMEM;
    ENSI_TRY(ensi_chebyshev_fit(st->rsqrt_poly[k], o->rsqrt_degree[k], o->rsqrt_lo[k], o->rsqrt_hi[k],
                                rsqrt_fn, NULL));
  }
  return ENSI_OK;
}

ensi_status ensi_forward(const ensi_model *model, const int32_t *tokens, size_t count,
                         const ensi_forward_options *options, double *hidden, double *logits) {
  if (!model || !tokens || count == 0 || count > (size_t)model->config.max_positions)
    return ensi_fail(ENSI_ERR_ARG, "forward: bad argument (%zu tokens)", count);
  ensi_forward_options defaults;
  ensi_forward_options_default(&defaults);
  const ensi_forward_options *o = options ? options : &defaults;
  const ensi_model_config *c = &model->config;
  for (size_t t = 0; t < count; t++)
    if (tokens[t] < 0 || tokens[t] >= c->vocab)
      return ensi_fail(ENSI_ERR_ARG, "forward: token %d outside the vocabulary", tokens[t]);
  run_state st;
  ensi_status s = init_state(&st, model, count, o);
  const size_t hid = (size_t)c->hidden;
  for (size_t t = 0; s == ENSI_OK && t < count; t++)
    for (size_t i = 0; i < hid; i++)
      st.x[t * hid + i] = model->embeddings[(size_t)tokens[t] * hid + i];
  for (int l = 0; s == ENSI_OK && l < c->layers; l++) {
    st.layer = l;
    layer(&st, &model->layers[l]);
  }
  if (s == ENSI_OK && hidden)
    memcpy(hidden, st.x, count * hid * sizeof *hidden);
  if (s == ENSI_OK && logits)
    s = ensi_lm_head(model, st.x, count, logits);
  free_state(&st);
  return s;
}

ensi_status ensi_lm_head(const ensi_model *model, const double *hidden, size_t count,
                         double *logits) {
  if (!model || !hidden || !logits)
    return ensi_fail(ENSI_ERR_ARG, "lm head: null argument");
  const ensi_model_config *c = &model->config;
  const size_t hid = (size_t)c->hidden;
  double *normed = malloc(hid * sizeof *normed);
  if (!normed)
    return ENSI_ERR_NOMEM;
  ensi_forward_options exact;
  ensi_forward_options_default(&exact);
  const run_state st = {.c = c, .opt = &exact};
  for (size_t t = 0; t < count; t++) { /* final norm (exact), tied LM head */
    rmsnorm(&st, normed, hidden + t * hid, model->final_norm, c->hidden, ENSI_NORM_KINDS);
    for (int v = 0; v < c->vocab; v++) {
      double dot = 0;
      for (size_t i = 0; i < hid; i++)
        dot += normed[i] * model->embeddings[(size_t)v * hid + i];
      logits[t * (size_t)c->vocab + (size_t)v] = dot;
    }
  }
  free(normed);
  return ENSI_OK;
}
