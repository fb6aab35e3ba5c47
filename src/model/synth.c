/* Deterministic synthetic BitNet checkpoints with the real 1bitLLM tensor names: config.json,
 * model.safetensors (F32 latent weights), model.gguf (the same weights ternarized, as TQ2_0 where
 * rows are multiples of 256 and as I2_S elsewhere) and a tokenizer.json of the vocabulary size. Latent linear weights are Gaussian with standard
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
#include "model/gguf.h"
#include "model/ternary_blocks.h"

typedef struct {
  char name[128];
  char gguf[96];      /* the llama.cpp GGUF name */
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
  t[n++] = (tensor_spec){"model.embed_tokens.weight", "token_embd.weight", c->vocab, h, 0.1, 0.0};
  for (int l = 0; l < c->layers; l++) {
    const struct { const char *suffix, *gguf; int64_t rows, cols; } parts[] = {
        {"self_attn.q_proj.weight", "attn_q", h, h}, {"self_attn.k_proj.weight", "attn_k", h, h},
        {"self_attn.v_proj.weight", "attn_v", h, h}, {"self_attn.o_proj.weight", "attn_output", h, h},
        {"mlp.gate_proj.weight", "ffn_gate", f, h},  {"mlp.up_proj.weight", "ffn_up", f, h},
        {"mlp.down_proj.weight", "ffn_down", h, f},  {"input_layernorm.weight", "attn_norm", h, 0},
        {"self_attn.inner_attn_ln.weight", "attn_sub_norm", h, 0},
        {"post_attention_layernorm.weight", "ffn_norm", h, 0},
        {"mlp.ffn_layernorm.weight", "ffn_sub_norm", f, 0}};
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
      tensor_spec *s = &t[n++];
      snprintf(s->name, sizeof s->name, "model.layers.%d.%s", l, parts[p].suffix);
      snprintf(s->gguf, sizeof s->gguf, "blk.%d.%s.weight", l, parts[p].gguf);
      s->rows = parts[p].rows;
      s->cols = parts[p].cols;
      s->stddev = s->cols ? 1.0 / sqrt((double)s->cols) : 0.1;
      s->mean = s->cols ? 0.0 : 1.0;
    }
  }
  t[n++] = (tensor_spec){"model.norm.weight", "output_norm.weight", h, 0, 0.1, 1.0};
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

/* ---- GGUF (llama.cpp names; linear weights TQ2_0 when rows are multiples of 256, else I2_S) */

typedef struct {
  uint8_t *data;
  size_t length, capacity;
  bool failed;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
  if (b->failed)
    return;
  if (b->length + n > b->capacity) {
    size_t cap = b->capacity ? b->capacity : 4096;
    while (cap < b->length + n)
      cap *= 2;
    uint8_t *grown = realloc(b->data, cap);
    if (!grown) {
      b->failed = true;
      return;
    }
    b->data = grown;
    b->capacity = cap;
  }
  memcpy(b->data + b->length, p, n);
  b->length += n;
}

static void put_u32(bytes *b, uint32_t v) { put(b, &v, 4); } /* the build is little-endian x86 */
static void put_u64(bytes *b, uint64_t v) { put(b, &v, 8); }
static void put_str(bytes *b, const char *s) {
  put_u64(b, strlen(s));
  put(b, s, strlen(s));
}
static void kv_u32(bytes *b, const char *key, uint32_t v) {
  put_str(b, key);
  put_u32(b, 4);
  put_u32(b, v);
}
static void kv_f32(bytes *b, const char *key, float v) {
  put_str(b, key);
  put_u32(b, 6);
  put(b, &v, 4);
}

static uint32_t gguf_type(const tensor_spec *t) {
  return !t->cols || !strcmp(t->gguf, "token_embd.weight") ? ENSI_GGML_F32
         : t->cols % ENSI_TQ_BLOCK == 0                    ? ENSI_GGML_TQ2_0
                                                           : ENSI_GGML_I2_S;
}

static uint64_t gguf_bytes(const tensor_spec *t) {
  const uint64_t n = (uint64_t)elements(t);
  switch (gguf_type(t)) {
  case ENSI_GGML_TQ2_0: return n / ENSI_TQ_BLOCK * ENSI_TQ2_BYTES;
  case ENSI_GGML_I2_S: return n / 4 + 32;
  default: return 4 * n;
  }
}

static uint64_t align32(uint64_t x) { return (x + 31) / 32 * 32; }

/* Encodes one tensor's latent values in its GGUF type. */
static ensi_status encode_tensor(bytes *b, const tensor_spec *t, const float *w) {
  const uint32_t type = gguf_type(t);
  if (type == ENSI_GGML_F32) {
    put(b, w, 4 * (size_t)elements(t));
    return ENSI_OK;
  }
  ensi_ternary m;
  ENSI_TRY(ensi_ternary_from_float(&m, w, (int)t->rows, (int)t->cols));
  const size_t n = (size_t)elements(t);
  int8_t *trits = malloc(n);
  if (!trits) {
    ensi_ternary_free(&m);
    return ENSI_ERR_NOMEM;
  }
  ensi_ternary_unpack(&m, trits);
  if (type == ENSI_GGML_TQ2_0) {
    uint8_t block[ENSI_TQ2_BYTES];
    for (size_t k = 0; k < n / ENSI_TQ_BLOCK; k++) {
      bool any = false;
      for (size_t i = 0; i < ENSI_TQ_BLOCK; i++)
        any |= trits[k * ENSI_TQ_BLOCK + i] != 0;
      ensi_tq2_encode(block, trits + k * ENSI_TQ_BLOCK, any ? (float)m.beta : 0.0f);
      put(b, block, sizeof block);
    }
  } else {
    uint8_t *codes = calloc(n / 4 + 32, 1);
    if (codes) {
      ensi_i2s_encode(codes, trits, n);
      const float scale = (float)m.beta;
      memcpy(codes + n / 4, &scale, 4);
      put(b, codes, n / 4 + 32);
    }
    free(codes);
    b->failed |= codes == NULL;
  }
  free(trits);
  ensi_ternary_free(&m);
  return ENSI_OK;
}

static ensi_status write_gguf(const char *dir, const ensi_model_config *c, const tensor_spec *t,
                              size_t count, uint64_t seed) {
  bytes b = {0};
  put(&b, "GGUF", 4);
  put_u32(&b, 3);
  put_u64(&b, count);
  put_u64(&b, 12);
  put_str(&b, "general.architecture");
  put_u32(&b, 8);
  put_str(&b, "bitnet");
  kv_u32(&b, "general.alignment", 32);
  kv_u32(&b, "bitnet.block_count", (uint32_t)c->layers);
  kv_u32(&b, "bitnet.embedding_length", (uint32_t)c->hidden);
  kv_u32(&b, "bitnet.attention.head_count", (uint32_t)c->heads);
  kv_u32(&b, "bitnet.attention.head_count_kv", (uint32_t)c->heads);
  kv_u32(&b, "bitnet.feed_forward_length", (uint32_t)c->intermediate);
  kv_u32(&b, "bitnet.context_length", (uint32_t)c->max_positions);
  kv_f32(&b, "bitnet.attention.layer_norm_rms_epsilon", (float)c->rms_eps);
  kv_f32(&b, "bitnet.rope.freq_base", (float)c->rope_theta);
  kv_u32(&b, "tokenizer.ggml.bos_token_id", (uint32_t)c->bos_id);
  kv_u32(&b, "tokenizer.ggml.eos_token_id", (uint32_t)c->eos_id);
  uint64_t offset = 0;
  for (size_t i = 0; i < count; i++) {
    put_str(&b, t[i].gguf);
    put_u32(&b, t[i].cols ? 2 : 1);
    put_u64(&b, (uint64_t)(t[i].cols ? t[i].cols : t[i].rows)); /* ggml order: inputs first */
    if (t[i].cols)
      put_u64(&b, (uint64_t)t[i].rows);
    put_u32(&b, gguf_type(&t[i]));
    put_u64(&b, offset);
    offset = align32(offset + gguf_bytes(&t[i]));
  }
  const uint8_t zeros[32] = {0};
  put(&b, zeros, align32(b.length) - b.length);
  uint64_t state = seed; /* the same stream as the safetensors file: the same latent weights */
  ensi_status s = ENSI_OK;
  for (size_t i = 0; s == ENSI_OK && i < count && !b.failed; i++) {
    const size_t n = (size_t)elements(&t[i]);
    float *w = malloc(n * sizeof *w);
    if (!w) {
      s = ENSI_ERR_NOMEM;
      break;
    }
    for (size_t k = 0; k < n; k++)
      w[k] = (float)(t[i].mean + t[i].stddev * gaussian(&state));
    s = encode_tensor(&b, &t[i], w);
    free(w);
    put(&b, zeros, align32(b.length) - b.length);
  }
  if (s == ENSI_OK && b.failed)
    s = ENSI_ERR_NOMEM;
  if (s == ENSI_OK) {
    char path[4096];
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    FILE *f = fopen(path, "wb");
    s = f && fwrite(b.data, 1, b.length, f) == b.length ? ENSI_OK
                                                        : ensi_fail(ENSI_ERR_IO, "%s: write failed", path);
    if (f && fclose(f) != 0)
      s = ensi_fail(ENSI_ERR_IO, "%s: write failed", path);
  }
  free(b.data);
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
  if (s == ENSI_OK)
    s = write_gguf(dir, &c, t, count, seed);
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
