/* Loading a BitNet model from GGUF: configuration from the architecture's metadata keys, tensors
 * by their llama.cpp names (dims in ggml order: dims[0] is the input axis), ternary tensors from
 * TQ2_0 / TQ1_0 / I2_S blocks or from floats. */
#include <ensi/model.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "model/gguf.h"
#include "model/ternary_blocks.h"

static ensi_status meta_int(const ensi_gguf *g, const char *arch, const char *key, int lo, int hi,
                            int fallback, int *out) {
  char full[160];
  snprintf(full, sizeof full, "%s.%s", arch, key);
  uint64_t v;
  if (ensi_gguf_get_u64(g, full, &v) != ENSI_OK) {
    if (fallback < lo)
      return ensi_fail(ENSI_ERR_FORMAT, "gguf: metadata %s missing", full);
    *out = fallback;
    return ENSI_OK;
  }
  if (v < (uint64_t)lo || v > (uint64_t)hi)
    return ensi_fail(ENSI_ERR_FORMAT, "gguf: metadata %s = %llu out of range", full, (unsigned long long)v);
  *out = (int)v;
  return ENSI_OK;
}

static ensi_status read_config(const ensi_gguf *g, ensi_model_config *c) {
  char arch[64];
  ENSI_TRY(ensi_gguf_get_string(g, "general.architecture", arch, sizeof arch));
  if (strcmp(arch, "bitnet") && strcmp(arch, "bitnet-b1.58") && strcmp(arch, "bitnet-25"))
    return ensi_fail(ENSI_ERR_UNSUPPORTED, "gguf: architecture %s is not BitNet", arch);
  memset(c, 0, sizeof *c);
  ENSI_TRY(meta_int(g, arch, "block_count", 1, 512, -1, &c->layers));
  ENSI_TRY(meta_int(g, arch, "embedding_length", 2, 65536, -1, &c->hidden));
  ENSI_TRY(meta_int(g, arch, "attention.head_count", 1, 1024, -1, &c->heads));
  ENSI_TRY(meta_int(g, arch, "feed_forward_length", 1, 1 << 20, -1, &c->intermediate));
  ENSI_TRY(meta_int(g, arch, "context_length", 1, 1 << 24, 2048, &c->max_positions));
  int kv = 0;
  ENSI_TRY(meta_int(g, arch, "attention.head_count_kv", 1, 1024, c->heads, &kv));
  const ensi_gguf_tensor *embd = ensi_gguf_find(g, "token_embd.weight");
  if (!embd || embd->n_dims != 2 || embd->dims[0] != (uint64_t)c->hidden || embd->dims[1] > (1u << 22))
    return ensi_fail(ENSI_ERR_FORMAT, "gguf: token_embd.weight missing or of the wrong shape");
  c->vocab = (int)embd->dims[1];
  char key[160];
  snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
  if (ensi_gguf_get_f64(g, key, &c->rms_eps) != ENSI_OK)
    c->rms_eps = 1e-5;
  snprintf(key, sizeof key, "%s.rope.freq_base", arch);
  if (ensi_gguf_get_f64(g, key, &c->rope_theta) != ENSI_OK)
    c->rope_theta = 10000.0;
  uint64_t id;
  c->bos_id = ensi_gguf_get_u64(g, "tokenizer.ggml.bos_token_id", &id) == ENSI_OK && id < (uint64_t)c->vocab ? (int)id : 1;
  c->eos_id = ensi_gguf_get_u64(g, "tokenizer.ggml.eos_token_id", &id) == ENSI_OK && id < (uint64_t)c->vocab ? (int)id : 2;
  c->tie_embeddings = true;
  if (kv != c->heads || c->hidden % c->heads || (c->hidden / c->heads) % 2 || !(c->rms_eps > 0 && c->rms_eps < 1))
    return ensi_fail(ENSI_ERR_FORMAT, "gguf: inconsistent attention metadata");
  c->head_dim = c->hidden / c->heads;
  if (c->bos_id >= c->vocab || c->eos_id >= c->vocab)
    return ensi_fail(ENSI_ERR_FORMAT, "gguf: special tokens beyond the vocabulary");
  return ENSI_OK;
}

static const ensi_gguf_tensor *tensor(const ensi_gguf *g, const char *name, uint64_t cols,
                                      uint64_t rows) {
  const ensi_gguf_tensor *t = ensi_gguf_find(g, name);
  if (!t || t->dims[0] != cols || (rows ? t->n_dims != 2 || t->dims[1] != rows : t->n_dims != 1)) {
    ensi_fail(ENSI_ERR_FORMAT, "gguf: tensor %s missing or of the wrong shape", name);
    return NULL;
  }
  return t;
}

static ensi_status floats(const ensi_gguf *g, const ensi_gguf_tensor *t, float *out, size_t n) {
  const uint8_t *p = ensi_gguf_data(g, t);
  for (size_t i = 0; i < n; i++) {
    if (t->type == ENSI_GGML_F32) {
      uint32_t bits = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
                      (uint32_t)p[4 * i + 3] << 24;
      memcpy(&out[i], &bits, 4);
    } else if (t->type == ENSI_GGML_F16) {
      out[i] = ensi_half_to_float((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
    } else if (t->type == ENSI_GGML_BF16) {
      const uint32_t bits = (uint32_t)(p[2 * i] | p[2 * i + 1] << 8) << 16;
      memcpy(&out[i], &bits, 4);
    } else {
      return ensi_fail(ENSI_ERR_FORMAT, "gguf: tensor %s must be F32, F16 or BF16", t->name);
    }
    if (!isfinite(out[i]))
      return ensi_fail(ENSI_ERR_FORMAT, "gguf: tensor %s holds a non-finite value", t->name);
  }
  return ENSI_OK;
}

static ensi_status vector(const ensi_gguf *g, const char *name, int n, float **out) {
  const ensi_gguf_tensor *t = tensor(g, name, (uint64_t)n, 0);
  if (!t)
    return ENSI_ERR_FORMAT;
  if (!(*out = malloc((size_t)n * sizeof **out)))
    return ENSI_ERR_NOMEM;
  return floats(g, t, *out, (size_t)n);
}

/* Trits and the scale of a block-quantized tensor; every nonzero block scale must agree. */
static ensi_status blocks(const ensi_gguf *g, const ensi_gguf_tensor *t, int8_t *trits, size_t n,
                          double *beta) {
  const uint8_t *p = ensi_gguf_data(g, t);
  *beta = 0;
  if (t->type == ENSI_GGML_I2_S) {
    if (ensi_i2s_decode(p, n, trits))
      return ensi_fail(ENSI_ERR_FORMAT, "gguf: tensor %s holds an invalid I2_S code", t->name);
    float scale;
    memcpy(&scale, p + n / 4, 4);
    *beta = scale;
  } else {
    const size_t size = t->type == ENSI_GGML_TQ2_0 ? ENSI_TQ2_BYTES : ENSI_TQ1_BYTES;
    for (size_t b = 0; b < n / ENSI_TQ_BLOCK; b++) {
      float d;
      const int bad = t->type == ENSI_GGML_TQ2_0 ? ensi_tq2_decode(p + b * size, trits + b * ENSI_TQ_BLOCK, &d)
                                                 : ensi_tq1_decode(p + b * size, trits + b * ENSI_TQ_BLOCK, &d);
      if (bad || !isfinite(d))
        return ensi_fail(ENSI_ERR_FORMAT, "gguf: tensor %s has an invalid block", t->name);
      if (d != 0 && *beta == 0)
        *beta = d;
      else if (d != 0 && fabs(d - *beta) > 1e-3 * *beta)
        return ensi_fail(ENSI_ERR_UNSUPPORTED, "gguf: tensor %s has per-block scales, not one "
                         "BitLinear scale", t->name);
    }
  }
  if (!(*beta > 0) || !isfinite(*beta))
    return ensi_fail(ENSI_ERR_FORMAT, "gguf: tensor %s has no positive scale", t->name);
  return ENSI_OK;
}

static ensi_status linear(const ensi_gguf *g, const char *name, int rows, int cols, ensi_ternary *out) {
  const ensi_gguf_tensor *t = tensor(g, name, (uint64_t)cols, (uint64_t)rows);
  if (!t)
    return ENSI_ERR_FORMAT;
  const size_t n = (size_t)rows * (size_t)cols;
  if (t->type == ENSI_GGML_F32 || t->type == ENSI_GGML_F16 || t->type == ENSI_GGML_BF16) {
    float *w = malloc(n * sizeof *w);
    ensi_status s = w ? floats(g, t, w, n) : ENSI_ERR_NOMEM;
    if (s == ENSI_OK)
      s = ensi_ternary_from_float(out, w, rows, cols);
    free(w);
    return s;
  }
  int8_t *trits = malloc(n);
  double beta;
  ensi_status s = trits ? blocks(g, t, trits, n, &beta) : ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    s = ensi_ternary_from_trits(out, trits, rows, cols, beta);
  free(trits);
  return s;
}

static ensi_status layer(const ensi_gguf *g, const ensi_model_config *c, int i, ensi_layer *l) {
  char name[96];
  const int h = c->hidden, f = c->intermediate;
#define NAME(suffix) (snprintf(name, sizeof name, "blk.%d.%s.weight", i, suffix), name)
  ENSI_TRY(linear(g, NAME("attn_q"), h, h, &l->q));
  ENSI_TRY(linear(g, NAME("attn_k"), h, h, &l->k));
  ENSI_TRY(linear(g, NAME("attn_v"), h, h, &l->v));
  ENSI_TRY(linear(g, NAME("attn_output"), h, h, &l->o));
  ENSI_TRY(linear(g, NAME("ffn_gate"), f, h, &l->gate));
  ENSI_TRY(linear(g, NAME("ffn_up"), f, h, &l->up));
  ENSI_TRY(linear(g, NAME("ffn_down"), h, f, &l->down));
  ENSI_TRY(vector(g, NAME("attn_norm"), h, &l->input_norm));
  ENSI_TRY(vector(g, NAME("attn_sub_norm"), h, &l->inner_attn_norm));
  ENSI_TRY(vector(g, NAME("ffn_norm"), h, &l->post_attn_norm));
  ENSI_TRY(vector(g, NAME("ffn_sub_norm"), f, &l->ffn_norm));
#undef NAME
  return ENSI_OK;
}

ensi_status ensi_model_load_gguf(ensi_model **out, const char *path) {
  if (!out || !path)
    return ensi_fail(ENSI_ERR_ARG, "gguf: null argument");
  ensi_gguf *g;
  ENSI_TRY(ensi_gguf_open(&g, path));
  ensi_model *m = calloc(1, sizeof *m);
  ensi_status s = m ? read_config(g, &m->config) : ENSI_ERR_NOMEM;
  const ensi_model_config *c = m ? &m->config : NULL;
  if (s == ENSI_OK) {
    const ensi_gguf_tensor *t = tensor(g, "token_embd.weight", (uint64_t)c->hidden, (uint64_t)c->vocab);
    m->embeddings = malloc((size_t)c->vocab * (size_t)c->hidden * sizeof *m->embeddings);
    s = !t ? ENSI_ERR_FORMAT : !m->embeddings ? ENSI_ERR_NOMEM
                                              : floats(g, t, m->embeddings, (size_t)c->vocab * (size_t)c->hidden);
  }
  if (s == ENSI_OK)
    s = vector(g, "output_norm.weight", c->hidden, &m->final_norm);
  if (s == ENSI_OK && !(m->layers = calloc((size_t)c->layers, sizeof *m->layers)))
    s = ENSI_ERR_NOMEM;
  for (int i = 0; s == ENSI_OK && i < c->layers; i++)
    s = layer(g, c, i, &m->layers[i]);
  ensi_gguf_close(g);
  if (s != ENSI_OK) {
    ensi_model_free(m);
    return s;
  }
  *out = m;
  return ENSI_OK;
}
