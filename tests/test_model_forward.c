/* The reference forward pass against an independent straightforward implementation written only
 * for this test (dense matrices beta T, angle-by-angle RoPE, explicit causal loops), on the tiny
 * and small synthetic shapes, for softmax, sigmoid and sigmoid-polynomial attention, with and
 * without activation quantization: hidden states and logits agree to 1e-9 relative. Also checks
 * the ternarization formula on the raw latent weights. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ensi/model.h>

#include "math/chebyshev.h"
#include "model/safetensors.h"
#include "tempdir.h"
#include "testutil.h"

static double *dense(const ensi_ternary *m) { /* W = beta T as a dense row-major matrix */
  double *w = malloc((size_t)m->rows * (size_t)m->cols * sizeof *w);
  for (int r = 0; r < m->rows; r++)
    for (int c = 0; c < m->cols; c++)
      w[(size_t)r * m->cols + c] = m->beta * ensi_ternary_at(m, (size_t)r, (size_t)c);
  return w;
}

static void matvec(double *y, const double *w, const double *x, int rows, int cols, bool quant) {
  double xs[4096], scale = 1.0;
  memcpy(xs, x, (size_t)cols * sizeof *x);
  if (quant) {
    double m = 1e-5;
    for (int i = 0; i < cols; i++)
      if (fabs(xs[i]) > m)
        m = fabs(xs[i]);
    scale = 127.0 / m;
    for (int i = 0; i < cols; i++) {
      double r = nearbyint(xs[i] * scale);
      xs[i] = (r > 127 ? 127 : r < -128 ? -128 : r) / scale;
    }
  }
  for (int r = 0; r < rows; r++) {
    double acc = 0;
    for (int c = 0; c < cols; c++)
      acc += w[(size_t)r * (size_t)cols + (size_t)c] * xs[c];
    y[r] = acc;
  }
}

static void norm(double *y, const double *x, const float *g, int n) {
  double ms = 0;
  for (int i = 0; i < n; i++)
    ms += x[i] * x[i] / n;
  for (int i = 0; i < n; i++)
    y[i] = x[i] / sqrt(ms + 1e-5) * g[i];
}

static double sig(double z) { return 1 / (1 + exp(-z)); }
static double sig_fn(double z, void *u) { (void)u; return sig(z); }

/* One full forward pass, token by token in the outer loops. */
static void naive_forward(const ensi_model *m, const int32_t *tok, int s, ensi_attention kind,
                          bool quant, double *hidden, double *logits) {
  const ensi_model_config *c = &m->config;
  const int H = c->hidden, F = c->intermediate, dh = c->head_dim;
  double *x = calloc((size_t)s * H, sizeof *x), *q = calloc((size_t)s * H, 8), *k = calloc((size_t)s * H, 8),
         *v = calloc((size_t)s * H, 8), *att = calloc((size_t)s * H, 8), a[4096], b[4096], g[8192], u[8192];
  double poly[17];
  ensi_chebyshev_fit(poly, 16, -10, 11, sig_fn, NULL);
  for (int t = 0; t < s; t++)
    for (int i = 0; i < H; i++)
      x[t * H + i] = m->embeddings[(size_t)tok[t] * H + i];
  for (int l = 0; l < c->layers; l++) {
    const ensi_layer *L = &m->layers[l];
    double *wq = dense(&L->q), *wk = dense(&L->k), *wv = dense(&L->v), *wo = dense(&L->o),
           *wg = dense(&L->gate), *wu = dense(&L->up), *wd = dense(&L->down);
    for (int t = 0; t < s; t++) {
      norm(a, x + t * H, L->input_norm, H);
      matvec(q + t * H, wq, a, H, H, quant);
      matvec(k + t * H, wk, a, H, H, quant);
      matvec(v + t * H, wv, a, H, H, quant);
      for (int h = 0; h < c->heads; h++) /* RoPE, pair (d, d + dh/2) */
        for (int d = 0; d < dh / 2; d++) {
          double th = t / pow(10000.0, 2.0 * d / dh);
          double *pq = q + t * H + h * dh, *pk = k + t * H + h * dh;
          double q1 = pq[d], q2 = pq[d + dh / 2], k1 = pk[d], k2 = pk[d + dh / 2];
          pq[d] = q1 * cos(th) - q2 * sin(th);
          pq[d + dh / 2] = q1 * sin(th) + q2 * cos(th);
          pk[d] = k1 * cos(th) - k2 * sin(th);
          pk[d + dh / 2] = k1 * sin(th) + k2 * cos(th);
        }
    }
    for (int h = 0; h < c->heads; h++)
      for (int i = 0; i < s; i++) {
        double w[4096], total = 0, top = -1e300;
        for (int j = 0; j <= i; j++) {
          double dot = 0;
          for (int d = 0; d < dh; d++)
            dot += q[i * H + h * dh + d] * k[j * H + h * dh + d];
          w[j] = dot / sqrt((double)dh);
          top = w[j] > top ? w[j] : top;
        }
        for (int j = 0; j <= i; j++) {
          if (kind == ENSI_ATTENTION_SOFTMAX)
            total += w[j] = exp(w[j] - top);
          else if (kind == ENSI_ATTENTION_SIGMOID)
            w[j] = sig(w[j] - log(s));
          else
            w[j] = ensi_chebyshev_eval(poly, 16, -10, 11, w[j] - log(s));
        }
        for (int d = 0; d < dh; d++) {
          double acc = 0;
          for (int j = 0; j <= i; j++)
            acc += (kind == ENSI_ATTENTION_SOFTMAX ? w[j] / total : w[j]) * v[j * H + h * dh + d];
          /* the polynomial path divides by the i + 1 attended keys over s (see forward.c) */
          att[i * H + h * dh + d] = kind == ENSI_ATTENTION_SIGMOID_POLY ? acc * s / (i + 1) : acc;
        }
      }
    for (int t = 0; t < s; t++) {
      norm(a, att + t * H, L->inner_attn_norm, H);
      matvec(b, wo, a, H, H, quant);
      for (int i = 0; i < H; i++)
        x[t * H + i] += b[i];
      norm(a, x + t * H, L->post_attn_norm, H);
      matvec(g, wg, a, F, H, quant);
      matvec(u, wu, a, F, H, quant);
      for (int i = 0; i < F; i++)
        g[i] = g[i] * sig(g[i]) * u[i];
      norm(u, g, L->ffn_norm, F);
      matvec(b, wd, u, H, F, quant);
      for (int i = 0; i < H; i++)
        x[t * H + i] += b[i];
    }
    free(wq); free(wk); free(wv); free(wo); free(wg); free(wu); free(wd);
  }
  memcpy(hidden, x, (size_t)s * H * sizeof *x);
  for (int t = 0; t < s; t++) {
    norm(a, x + t * H, m->final_norm, H);
    for (int vv = 0; vv < c->vocab; vv++) {
      double dot = 0;
      for (int i = 0; i < H; i++)
        dot += a[i] * m->embeddings[(size_t)vv * H + i];
      logits[(size_t)t * c->vocab + vv] = dot;
    }
  }
  free(x); free(q); free(k); free(v); free(att);
}

static double relative_error(const double *a, const double *b, size_t n) {
  double worst = 0, scale = 0;
  for (size_t i = 0; i < n; i++) {
    worst = test_worse(worst, fabs(a[i] - b[i]));
    scale = fmax(scale, fabs(b[i]));
  }
  return worst / scale;
}

static void check_ternarization(const char *dir, const ensi_model *m) {
  char path[4200];
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  ensi_safetensors *st;
  CHECK(ensi_safetensors_open(&st, path) == ENSI_OK);
  const ensi_ternary *q = &m->layers[0].q;
  float *w = malloc((size_t)q->rows * q->cols * sizeof *w);
  const int64_t shape[2] = {q->rows, q->cols};
  CHECK(ensi_safetensors_read_f32(st, "model.layers.0.self_attn.q_proj.weight", w, shape, 2) == ENSI_OK);
  double mean = 0;
  size_t zeros = 0, n = (size_t)q->rows * q->cols;
  for (size_t i = 0; i < n; i++)
    mean += fabs(w[i]) / n;
  CHECK(fabs(q->beta - fmax(mean, 1e-5)) < 1e-12 * mean);
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    double r = nearbyint(w[i] / q->beta);
    const int t = ensi_ternary_at(q, i / (size_t)q->cols, i % (size_t)q->cols);
    bad += t != (r > 1 ? 1 : r < -1 ? -1 : r);
    zeros += t == 0;
  }
  CHECK(bad == 0);
  CHECK_MSG(zeros > n / 5 && zeros < n / 2, "zero fraction %.3f", (double)zeros / n);
  free(w);
  ensi_safetensors_close(st);
}

static void check_shape(const char *shape, int tokens) {
  char dir[4096];
  CHECK(tool_temp_dir(dir, sizeof dir, "model") == 0);
  CHECK(ensi_model_synthesize(dir, shape, 0, 7) == ENSI_OK);
  ensi_model *m;
  ensi_status s = ensi_model_load(&m, dir);
  CHECK_MSG(s == ENSI_OK, "%s: %s", shape, ensi_error_detail());
  if (s != ENSI_OK)
    return;
  check_ternarization(dir, m);
  const size_t H = (size_t)m->config.hidden, V = (size_t)m->config.vocab;
  int32_t tok[64];
  for (int t = 0; t < tokens; t++)
    tok[t] = (t * 7919 + 13) % m->config.vocab;
  double *h1 = malloc(tokens * H * 8), *h2 = malloc(tokens * H * 8), *l1 = malloc(tokens * V * 8),
         *l2 = malloc(tokens * V * 8);
  const ensi_attention kinds[] = {ENSI_ATTENTION_SOFTMAX, ENSI_ATTENTION_SIGMOID,
                                  ENSI_ATTENTION_SIGMOID_POLY};
  for (int kq = 0; kq < 6; kq++) {
    ensi_forward_options o;
    ensi_forward_options_default(&o);
    o.attention = kinds[kq % 3];
    o.quantize_activations = kq >= 3;
    CHECK(ensi_forward(m, tok, (size_t)tokens, &o, h1, l1) == ENSI_OK);
    naive_forward(m, tok, tokens, o.attention, o.quantize_activations, h2, l2);
    double eh = relative_error(h1, h2, tokens * H), el = relative_error(l1, l2, tokens * V);
    CHECK_MSG(eh < 1e-9 && el < 1e-9, "%s, attention %d, quantized %d: hidden %.2g, logits %.2g",
              shape, (int)o.attention, (int)o.quantize_activations, eh, el);
  }
  /* polynomial SiLU and inverse square root: with high degrees the surrogates reproduce the exact
   * pass closely, with low degrees they visibly do not (so the switches are really in effect) */
  ensi_forward_options o;
  ensi_forward_options_default(&o);
  CHECK(ensi_forward(m, tok, (size_t)tokens, &o, h1, l1) == ENSI_OK);
  for (int degree = 6; degree <= 200; degree += 194) {
    o.silu_degree = degree;
    for (int k = 0; k < ENSI_NORM_KINDS; k++)
      o.rsqrt_degree[k] = degree;
    for (int k = 0; k < ENSI_NORM_KINDS; k++) {
      o.rsqrt_lo[k] = 0.005;
      o.rsqrt_hi[k] = 5.0;
    }
    CHECK(ensi_forward(m, tok, (size_t)tokens, &o, h2, l2) == ENSI_OK);
    const double e = relative_error(l2, l1, tokens * V);
    if (degree > 60)
      CHECK_MSG(e < 1e-3, "%s: degree %d surrogates move the logits by %.2g", shape, degree, e);
    else
      CHECK_MSG(e > 1e-6, "%s: degree %d surrogates change nothing", shape, degree);
  }
  free(h1); free(h2); free(l1); free(l2);
  ensi_model_free(m);
  tool_remove_dir(dir);
}

int main(void) {
  check_shape("tiny", 12);
  check_shape("small", 8);
  return test_finish("test_model_forward");
}
