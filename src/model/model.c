/* Loading a BitNet checkpoint directory: config.json, then every tensor of model.safetensors by
 * its 1bitLLM name, ternarizing the BitLinear weights. */
#include <ensi/io.h>
#include <ensi/model.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "model/safetensors.h"

static ensi_status read_tensor(const ensi_safetensors *st, const char *name, float **out,
                               int64_t rows, int64_t cols) {
  const int64_t shape[2] = {rows, cols};
  *out = malloc((size_t)(rows * (cols ? cols : 1)) * sizeof **out);
  if (!*out)
    return ENSI_ERR_NOMEM;
  return ensi_safetensors_read_f32(st, name, *out, shape, cols ? 2 : 1);
}

static ensi_status read_linear(const ensi_safetensors *st, const char *name, ensi_ternary *out,
                               int rows, int cols) {
  float *w = NULL;
  ensi_status s = read_tensor(st, name, &w, rows, cols);
  if (s == ENSI_OK)
    s = ensi_ternary_from_float(out, w, rows, cols);
  free(w);
  return s;
}

static ensi_status read_layer(const ensi_safetensors *st, const ensi_model_config *c, int index,
                              ensi_layer *l) {
  char name[160];
  const int h = c->hidden, f = c->intermediate;
#define TENSOR(suffix) (snprintf(name, sizeof name, "model.layers.%d.%s", index, suffix), name)
  ENSI_TRY(read_linear(st, TENSOR("self_attn.q_proj.weight"), &l->q, h, h));
  ENSI_TRY(read_linear(st, TENSOR("self_attn.k_proj.weight"), &l->k, h, h));
  ENSI_TRY(read_linear(st, TENSOR("self_attn.v_proj.weight"), &l->v, h, h));
  ENSI_TRY(read_linear(st, TENSOR("self_attn.o_proj.weight"), &l->o, h, h));
  ENSI_TRY(read_linear(st, TENSOR("mlp.gate_proj.weight"), &l->gate, f, h));
  ENSI_TRY(read_linear(st, TENSOR("mlp.up_proj.weight"), &l->up, f, h));
  ENSI_TRY(read_linear(st, TENSOR("mlp.down_proj.weight"), &l->down, h, f));
  ENSI_TRY(read_tensor(st, TENSOR("input_layernorm.weight"), &l->input_norm, h, 0));
  ENSI_TRY(read_tensor(st, TENSOR("self_attn.inner_attn_ln.weight"), &l->inner_attn_norm, h, 0));
  ENSI_TRY(read_tensor(st, TENSOR("post_attention_layernorm.weight"), &l->post_attn_norm, h, 0));
  ENSI_TRY(read_tensor(st, TENSOR("mlp.ffn_layernorm.weight"), &l->ffn_norm, f, 0));
#undef TENSOR
  return ENSI_OK;
}

static ensi_status load(ensi_model *m, const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  if (access(path, F_OK) != 0) { /* no safetensors: the GGUF file */
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    ensi_model *g;
    ENSI_TRY(ensi_model_load_gguf(&g, path));
    *m = *g;
    free(g);
    return ENSI_OK;
  }
  snprintf(path, sizeof path, "%s/config.json", dir);
  uint8_t *text;
  size_t length;
  ENSI_TRY(ensi_file_read(path, &text, &length, 1 << 20));
  ensi_status s = ensi_model_config_parse(&m->config, (const char *)text, length);
  free(text);
  ENSI_TRY(s);
  const ensi_model_config *c = &m->config;
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  ensi_safetensors *st;
  ENSI_TRY(ensi_safetensors_open(&st, path));
  s = read_tensor(st, "model.embed_tokens.weight", &m->embeddings, c->vocab, c->hidden);
  if (s == ENSI_OK)
    s = read_tensor(st, "model.norm.weight", &m->final_norm, c->hidden, 0);
  m->layers = calloc((size_t)c->layers, sizeof *m->layers);
  if (s == ENSI_OK && !m->layers)
    s = ENSI_ERR_NOMEM;
  for (int i = 0; s == ENSI_OK && i < c->layers; i++)
    s = read_layer(st, c, i, &m->layers[i]);
  ensi_safetensors_close(st);
  return s;
}

ensi_status ensi_model_load(ensi_model **out, const char *dir) {
  if (!out || !dir)
    return ensi_fail(ENSI_ERR_ARG, "model: null argument");
  ensi_model *m = calloc(1, sizeof *m);
  if (!m)
    return ENSI_ERR_NOMEM;
  ensi_status s = load(m, dir);
  if (s != ENSI_OK) {
    ensi_model_free(m);
    return s;
  }
  *out = m;
  return ENSI_OK;
}

void ensi_model_free(ensi_model *m) {
  if (!m)
    return;
  for (int i = 0; m->layers && i < m->config.layers; i++) {
    ensi_layer *l = &m->layers[i];
    ensi_ternary *mats[] = {&l->q, &l->k, &l->v, &l->o, &l->gate, &l->up, &l->down};
    for (size_t k = 0; k < sizeof mats / sizeof mats[0]; k++)
      ensi_ternary_free(mats[k]);
    free(l->input_norm);
    free(l->inner_attn_norm);
    free(l->post_attn_norm);
    free(l->ffn_norm);
  }
  free(m->layers);
  free(m->embeddings);
  free(m->final_norm);
  free(m);
}
