/* BitNet b1.58 models in plaintext: configuration, weights (ternarized BitLinear matrices, norms,
 * embeddings), loading from a Hugging Face directory (config.json + model.safetensors), a
 * deterministic synthetic model generator, and the double-precision reference forward pass that
 * every encrypted result is checked against. Formulas: shared/research/bitnet.md. */
#ifndef ENSI_MODEL_H
#define ENSI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ensi/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int layers, hidden, heads, head_dim, intermediate, vocab, max_positions;
  double rms_eps, rope_theta;
  bool tie_embeddings;
  int bos_id, eos_id;
} ensi_model_config;

/* A BitLinear weight: W ~ beta T with T in {-1, 0, 1}^(rows x cols) (rows = outputs,
 * cols = inputs, the Hugging Face layout), beta = max(mean |W|, 1e-5) and
 * T = clamp(round-half-even(W / beta), -1, 1). T is stored packed, 2 bits per weight (code
 * T + 1, four per byte, row-major; ensi_ternary_at). For each output k, the inputs with T = +1
 * are plus[plus_start[k] .. plus_start[k + 1]) and those with T = -1 likewise in minus: the
 * encrypted addition-only product walks exactly these lists. */
typedef struct {
  int rows, cols;
  double beta;
  uint8_t *packed;           /* ceil(rows x cols / 4) bytes */
  uint32_t *plus_start, *plus;
  uint32_t *minus_start, *minus;
} ensi_ternary;

/* T[r][c] in {-1, 0, 1}. */
static inline int ensi_ternary_at(const ensi_ternary *m, size_t r, size_t c) {
  const size_t i = r * (size_t)m->cols + c;
  return ((m->packed[i / 4] >> (2 * (i % 4))) & 3) - 1;
}

typedef struct {
  ensi_ternary q, k, v, o, gate, up, down;
  float *input_norm, *inner_attn_norm, *post_attn_norm, *ffn_norm;
} ensi_layer;

typedef struct {
  ensi_model_config config;
  float *embeddings; /* vocab x hidden */
  float *final_norm; /* hidden */
  ensi_layer *layers;
} ensi_model;

/* Parses a Hugging Face config.json of the 1bitLLM BitNet family; validates every field. */
ensi_status ensi_model_config_parse(ensi_model_config *out, const char *json, size_t length);

/* Loads DIR/config.json and DIR/model.safetensors (F32, F16 or BF16 latent weights), or
 * DIR/model.gguf when there is no safetensors file. */
ensi_status ensi_model_load(ensi_model **out, const char *dir);
void ensi_model_free(ensi_model *model);

/* BLAKE2b-256 over the configuration and every value the forward pass reads: equal for equal
 * models, whichever file they were loaded from. Client and server compare it. */
ensi_status ensi_model_fingerprint(const ensi_model *model, uint8_t out[32]);

/* Loads a GGUF file (v2/v3; F32, F16, BF16, TQ1_0, TQ2_0, I2_S tensors) with the llama.cpp
 * BitNet tensor names (token_embd, blk.N.attn_q, ...). */
ensi_status ensi_model_load_gguf(ensi_model **out, const char *path);

/* All of T into trits[rows x cols] (row-major). */
void ensi_ternary_unpack(const ensi_ternary *m, int8_t *trits);

/* A ternary matrix from its trits (rows x cols, row-major) and scale. */
ensi_status ensi_ternary_from_trits(ensi_ternary *out, const int8_t *trits, int rows, int cols,
                                    double beta);

/* Ternarizes a latent float matrix (rows x cols). */
ensi_status ensi_ternary_from_float(ensi_ternary *out, const float *w, int rows, int cols);
void ensi_ternary_free(ensi_ternary *m);

/* Writes a deterministic synthetic checkpoint (config.json, model.safetensors with the real
 * tensor names) into dir: shape "tiny", "small" or "large"; layers > 0 overrides the count. */
ensi_status ensi_model_synthesize(const char *dir, const char *shape, int layers, uint64_t seed);

typedef enum {
  ENSI_ATTENTION_SOFTMAX,      /* the checkpoint's own attention */
  ENSI_ATTENTION_SIGMOID,      /* sigmoid(QK^T / sqrt(dh) - ln s), causal mask after it */
  ENSI_ATTENTION_SIGMOID_POLY  /* the same with the Chebyshev polynomial of the encrypted path */
} ensi_attention;

/* The four RMSNorms of a layer, which see very different ranges (each gets its own interval). */
typedef enum { ENSI_NORM_INPUT, ENSI_NORM_INNER, ENSI_NORM_POST, ENSI_NORM_FFN, ENSI_NORM_KINDS } ensi_norm_kind;

/* Layers with their own RMSNorm calibration (later layers share the last one's). */
#define ENSI_NORM_LAYERS 64

/* Ranges met inside the layers during a forward pass (calibration for the encrypted path: the
 * polynomial intervals and the bound that brings values into the bootstrapping range). Values
 * accumulate over calls; start from ensi_forward_ranges_reset. */
typedef struct {
  double score_lo, score_hi;   /* sigmoid arguments QK^T / sqrt(dh) - ln s, causal entries */
  double gate_lo, gate_hi;     /* gate projections (the SiLU input) */
  double mean_sq_lo[ENSI_NORM_LAYERS][ENSI_NORM_KINDS]; /* mean square + eps, per layer and */
  double mean_sq_hi[ENSI_NORM_LAYERS][ENSI_NORM_KINDS]; /* norm */
  double max_abs;              /* largest |value| of the residual stream, attention output, raw
                                  scores, gate, up, SiLU(gate) * up and the post-attention norm's
                                  input times its polynomial p(v / c) (without gamma and
                                  1 / sqrt(c)) */
} ensi_forward_ranges;

void ensi_forward_ranges_reset(ensi_forward_ranges *r);

typedef struct {
  ensi_attention attention;
  int sigmoid_degree;          /* polynomial surrogate of the logistic function ... */
  double sigmoid_lo, sigmoid_hi; /* ... on this interval (ENSI: degree 16 on [-10, 11]) */
  bool quantize_activations;   /* BitNet's per-token 8-bit activation quantization */
  int silu_degree;             /* > 0: SiLU as x times the Chebyshev interpolant of the logistic */
  double silu_lo, silu_hi;     /*      function of this degree on this interval */
  int rsqrt_degree[ENSI_NORM_KINDS]; /* > 0: RMSNorm's 1/sqrt(v), v = mean square + eps, as
                                  1/sqrt(v / c) / sqrt(c) with 1/sqrt on [lo, hi] replaced by its
                                  Chebyshev interpolant of this degree (one per kind of norm, whose
                                  level budgets differ); c centers the range of one
                                  norm of one layer (calibration: ensi_henn_calibrate), [lo, hi] is
                                  shared by the layers for each kind of norm */
  double rsqrt_lo[ENSI_NORM_KINDS], rsqrt_hi[ENSI_NORM_KINDS];
  double rsqrt_center[ENSI_NORM_LAYERS][ENSI_NORM_KINDS]; /* c (1 by default) */
  ensi_forward_ranges *ranges; /* non-NULL: record the ranges met */
} ensi_forward_options;

void ensi_forward_options_default(ensi_forward_options *out);

/* Runs the model on tokens[0..count): hidden (count x hidden, may be NULL) receives the last
 * layer's output before the final norm (what the encrypted path returns); logits (count x vocab,
 * may be NULL) the tied LM head after the final norm. */
ensi_status ensi_forward(const ensi_model *model, const int32_t *tokens, size_t count,
                         const ensi_forward_options *options, double *hidden, double *logits);

/* The client's last step: the final RMSNorm and the tied LM head on hidden (count x hidden),
 * logits (count x vocab). */
ensi_status ensi_lm_head(const ensi_model *model, const double *hidden, size_t count,
                         double *logits);

#ifdef __cplusplus
}
#endif
#endif
