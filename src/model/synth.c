/* Deterministic synthetic BitNet checkpoints with the real 1bitLLM tensor names: config.json,
 * model.safetensors (F32 latent weights) and a tokenizer.json of the model's vocabulary size. Latent linear weights are Gaussian with standard
 * deviation 1/sqrt(inputs), so that about a third of the ternary weights are zero and BitLinear
 * outputs stay of order one; norms are 1 + 0.1 N(0, 1); embeddings 0.1 N(0, 1) (so that the
 * layers, not the token's own embedding, decide the next token). The same seed always
 * gives the same bytes. */
#include <ensi/model.h>
#include <ensi/tokenizer.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

typedef struct {
  char name[128];
  int64_t rows, cols; /* cols = 0 for vectors */
  double stddev, mean;
} tensor_spec;

static uint64_t splitmix(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static double gaussian(uint64_t *state) { /* Box-Muller */
  const double u1 = ((double)(splitmix(state) >> 11) + 0.5) * 0x1p-53;
  const double u2 = (double)(splitmix(state) >> 11) * 0x1p-53;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static ensi_status shape_config(ensi_model_config *c, const char *shape, int layers) {
  memset(c, 0, sizeof *c);
  if (!strcmp(shape, "tiny"))
    *c = (ensi_model_config){2, 64, 4, 16, 128, 512, 256, 1e-5, 10000.0, true, 1, 2};
  else if (!strcmp(shape, "small"))
    *c = (ensi_model_config){4, 256, 4, 64, 512, 1024, 512, 1e-5, 10000.0, true, 1, 2};
  else if (!strcmp(shape, "large")) /* bitnet_b1_58-large */
    *c = (ensi_model_config){24, 1536, 16, 96, 4096, 32002, 2048, 1e-5, 10000.0, true, 1, 2};
  else
    return ensi_fail(ENSI_ERR_ARG, "synth: unknown shape '%s' (tiny, small, large)", shape);
  if (layers > 0)
    c->layers = layers;
  return ENSI_OK;
}

static size_t tensor_specs(const ensi_model_config *c, tensor_spec *t) {
  size_t n = 0;
  const int64_t h = c->hidden, f = c->intermediate;
  t[n++] = (tensor_spec){"model.embed_tokens.weight", c->vocab, h, 0.1, 0.0};
  for (int l = 0; l < c->layers; l++) {
    const struct { const char *suffix; int64_t rows, cols; } parts[] = {
        {"self_attn.q_proj.weight", h, h}, {"self_attn.k_proj.weight", h, h},
        {"self_attn.v_proj.weight", h, h}, {"self_attn.o_proj.weight", h, h},
        {"mlp.gate_proj.weight", f, h},    {"mlp.up_proj.weight", f, h},
        {"mlp.down_proj.weight", h, f},    {"input_layernorm.weight", h, 0},
        {"self_attn.inner_attn_ln.weight", h, 0}, {"post_attention_layernorm.weight", h, 0},
        {"mlp.ffn_layernorm.weight", f, 0}};
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
      tensor_spec *s = &t[n++];
      snprintf(s->name, sizeof s->name, "model.layers.%d.%s", l, parts[p].suffix);
      s->rows = parts[p].rows;
      s->cols = parts[p].cols;
      s->stddev = s->cols ? 1.0 / sqrt((double)s->cols) : 0.1;
      s->mean = s->cols ? 0.0 : 1.0;
    }
  }
  t[n++] = (tensor_spec){"model.norm.weight", h, 0, 0.1, 1.0};
  return n;
}

static int64_t elements(const tensor_spec *t) { return t->rows * (t->cols ? t->cols : 1); }

static ensi_status write_config(const char *dir, const ensi_model_config *c) {
  char path[4096];
  snprintf(path, sizeof path, "%s/config.json", dir);
  FILE *f = fopen(path, "w");
  if (!f)
    return ensi_fail(ENSI_ERR_IO, "%s: cannot create", path);
  fprintf(f, "{\n  \"architectures\": [\"BitnetForCausalLM\"],\n  \"model_type\": \"llama\",\n"
             "  \"hidden_size\": %d,\n  \"num_hidden_layers\": %d,\n  \"num_attention_heads\": %d,\n"
             "  \"num_key_value_heads\": %d,\n  \"intermediate_size\": %d,\n  \"vocab_size\": %d,\n"
             "  \"max_position_embeddings\": %d,\n  \"rms_norm_eps\": 1e-05,\n"
             "  \"rope_theta\": 10000.0,\n  \"hidden_act\": \"silu\",\n"
             "  \"tie_word_embeddings\": true,\n  \"bos_token_id\": %d,\n  \"eos_token_id\": %d,\n"
             "  \"weight_bits\": 1,\n  \"input_bits\": 8\n}\n",
          c->hidden, c->layers, c->heads, c->heads, c->intermediate, c->vocab, c->max_positions,
          c->bos_id, c->eos_id);
  return fclose(f) == 0 ? ENSI_OK : ensi_fail(ENSI_ERR_IO, "%s: write failed", path);
}

static ensi_status write_weights(const char *dir, const tensor_spec *t, size_t count, uint64_t seed) {
  char path[4096];
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  size_t header_cap = 256 * (count + 2), used = 0;
  char *header = malloc(header_cap);
  if (!header)
    return ENSI_ERR_NOMEM;
  used += (size_t)snprintf(header + used, header_cap - used, "{\"__metadata__\":{\"format\":\"pt\"}");
  int64_t offset = 0;
  for (size_t i = 0; i < count; i++) {
    const int64_t bytes = 4 * elements(&t[i]);
    used += (size_t)(t[i].cols
                         ? snprintf(header + used, header_cap - used,
                                    ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld,%lld],\"data_offsets\":[%lld,%lld]}",
                                    t[i].name, (long long)t[i].rows, (long long)t[i].cols,
                                    (long long)offset, (long long)(offset + bytes))
                         : snprintf(header + used, header_cap - used,
                                    ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld],\"data_offsets\":[%lld,%lld]}",
                                    t[i].name, (long long)t[i].rows, (long long)offset,
                                    (long long)(offset + bytes)));
    offset += bytes;
  }
  used += (size_t)snprintf(header + used, header_cap - used, "}");
  while (used % 8) /* pad the header to 8 bytes, as the format recommends */
    header[used++] = ' ';
  FILE *f = fopen(path, "wb");
  ensi_status s = f ? ENSI_OK : ensi_fail(ENSI_ERR_IO, "%s: cannot create", path);
  uint8_t length[8];
  for (int i = 0; i < 8; i++)
    length[i] = (uint8_t)((uint64_t)used >> (8 * i));
  if (s == ENSI_OK && (fwrite(length, 1, 8, f) != 8 || fwrite(header, 1, used, f) != used))
    s = ensi_fail(ENSI_ERR_IO, "%s: write failed", path);
  uint64_t state = seed;
  for (size_t i = 0; s == ENSI_OK && i < count; i++) {
    const int64_t n = elements(&t[i]);
    for (int64_t k = 0; s == ENSI_OK && k < n; k++) {
      const float v = (float)(t[i].mean + t[i].stddev * gaussian(&state));
      uint32_t bits;
      memcpy(&bits, &v, 4);
      const uint8_t le[4] = {(uint8_t)bits, (uint8_t)(bits >> 8), (uint8_t)(bits >> 16),
                             (uint8_t)(bits >> 24)};
      if (fwrite(le, 1, 4, f) != 4)
        s = ensi_fail(ENSI_ERR_IO, "%s: write failed", path);
    }
  }
  if (f && fclose(f) != 0 && s == ENSI_OK)
    s = ensi_fail(ENSI_ERR_IO, "%s: write failed", path);
  free(header);
  return s;
}

ensi_status ensi_model_synthesize(const char *dir, const char *shape, int layers, uint64_t seed) {
  if (!dir || !shape)
    return ensi_fail(ENSI_ERR_ARG, "synth: null argument");
  ensi_model_config c;
  ENSI_TRY(shape_config(&c, shape, layers));
  tensor_spec *t = malloc(((size_t)c.layers * 11 + 2) * sizeof *t);
  if (!t)
    return ENSI_ERR_NOMEM;
  const size_t count = tensor_specs(&c, t);
  ensi_status s = write_config(dir, &c);
  if (s == ENSI_OK)
    s = write_weights(dir, t, count, seed);
  free(t);
  ensi_tokenizer *tok = NULL;
  if (s == ENSI_OK)
    s = ensi_tokenizer_build_synthetic(&tok, (size_t)c.vocab);
  if (s == ENSI_OK) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    s = ensi_tokenizer_save_json(tok, path);
  }
  ensi_tokenizer_free(tok);
  return s;
}
