/* Hugging Face config.json of the BitNet family -> ensi_model_config, every field validated. */
#include <ensi/model.h>

#include <jansson.h>
#include <math.h>
#include <string.h>

#include "base/error.h"

static ensi_status get_int(json_t *root, const char *key, int lo, int hi, int fallback, int *out) {
  json_t *v = json_object_get(root, key);
  if (!v) {
    if (fallback < lo)
      return ensi_fail(ENSI_ERR_FORMAT, "config.json: missing \"%s\"", key);
    *out = fallback;
    return ENSI_OK;
  }
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
    return ensi_fail(ENSI_ERR_FORMAT, "config.json: \"%s\" must be an integer in %d..%d", key, lo, hi);
  *out = (int)json_integer_value(v);
  return ENSI_OK;
}

static ensi_status get_real(json_t *root, const char *key, double lo, double hi, double fallback,
                            double *out) {
  json_t *v = json_object_get(root, key);
  if (!v) {
    *out = fallback;
    return ENSI_OK;
  }
  if (!json_is_number(v) || !(json_number_value(v) >= lo && json_number_value(v) <= hi))
    return ensi_fail(ENSI_ERR_FORMAT, "config.json: \"%s\" must be a number in [%g, %g]", key, lo, hi);
  *out = json_number_value(v);
  return ENSI_OK;
}

static ensi_status parse(json_t *root, ensi_model_config *c) {
  if (!json_is_object(root))
    return ensi_fail(ENSI_ERR_FORMAT, "config.json: not a JSON object");
  ENSI_TRY(get_int(root, "num_hidden_layers", 1, 512, -1, &c->layers));
  ENSI_TRY(get_int(root, "hidden_size", 2, 65536, -1, &c->hidden));
  ENSI_TRY(get_int(root, "num_attention_heads", 1, 1024, -1, &c->heads));
  ENSI_TRY(get_int(root, "intermediate_size", 1, 1 << 20, -1, &c->intermediate));
  ENSI_TRY(get_int(root, "vocab_size", 1, 1 << 22, -1, &c->vocab));
  ENSI_TRY(get_int(root, "max_position_embeddings", 1, 1 << 24, 2048, &c->max_positions));
  ENSI_TRY(get_int(root, "bos_token_id", 0, 1 << 22, 1, &c->bos_id));
  ENSI_TRY(get_int(root, "eos_token_id", 0, 1 << 22, 2, &c->eos_id));
  int kv_heads = 0;
  ENSI_TRY(get_int(root, "num_key_value_heads", 1, 1024, c->heads, &kv_heads));
  ENSI_TRY(get_real(root, "rms_norm_eps", 0, 1, 1e-5, &c->rms_eps));
  ENSI_TRY(get_real(root, "rope_theta", 1, 1e9, 10000.0, &c->rope_theta));
  json_t *tie = json_object_get(root, "tie_word_embeddings");
  c->tie_embeddings = !tie || json_is_true(tie);
  if (tie && !json_is_boolean(tie))
    return ensi_fail(ENSI_ERR_FORMAT, "config.json: \"tie_word_embeddings\" must be a boolean");
  if (c->hidden % c->heads || (c->hidden / c->heads) % 2)
    return ensi_fail(ENSI_ERR_FORMAT, "config.json: hidden %d not divisible into %d heads of even "
                     "size", c->hidden, c->heads);
  if (kv_heads != c->heads)
    return ensi_fail(ENSI_ERR_UNSUPPORTED, "config.json: grouped-query attention (%d key/value "
                     "heads) is not supported", kv_heads);
  if (!c->tie_embeddings)
    return ensi_fail(ENSI_ERR_UNSUPPORTED, "config.json: untied LM head is not supported");
  json_t *act = json_object_get(root, "hidden_act");
  if (act && (!json_is_string(act) || strcmp(json_string_value(act), "silu")))
    return ensi_fail(ENSI_ERR_UNSUPPORTED, "config.json: activation must be silu");
  if (c->bos_id >= c->vocab || c->eos_id >= c->vocab)
    return ensi_fail(ENSI_ERR_FORMAT, "config.json: special token ids beyond the vocabulary");
  c->head_dim = c->hidden / c->heads;
  return ENSI_OK;
}

ensi_status ensi_model_config_parse(ensi_model_config *out, const char *text, size_t length) {
  if (!out || !text)
    return ensi_fail(ENSI_ERR_ARG, "config: null argument");
  memset(out, 0, sizeof *out);
  json_error_t error;
  json_t *root = json_loadb(text, length, JSON_REJECT_DUPLICATES, &error);
  if (!root)
    return ensi_fail(ENSI_ERR_FORMAT, "config.json: line %d: %s", error.line, error.text);
  ensi_status s = parse(root, out);
  json_decref(root);
  return s;
}
