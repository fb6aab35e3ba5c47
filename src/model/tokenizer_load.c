/* Tokenizer loaders: SentencePiece tokenizer.model (protobuf) and Hugging Face tokenizer.json. */
#include "model/tokenizer_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ensi/io.h>

#include "base/error.h"
#include "sentencepiece_model.pb-c.h"

static char *copy_text(const char *s, size_t n) {
  char *c = malloc(n + 1);
  if (c) {
    memcpy(c, s, n);
    c[n] = '\0';
  }
  return c;
}

static bool valid_utf8(const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    const unsigned char c = (unsigned char)s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || i + len > n)
      return false;
    for (size_t k = 1; k < len; k++)
      if (((unsigned char)s[i + k] & 0xc0) != 0x80)
        return false;
    i += len;
  }
  return true;
}

static ensi_status from_proto(ensi_tokenizer **out, const EnsiSpm__ModelProto *proto) {
  if (proto->trainer_spec && proto->trainer_spec->has_model_type &&
      proto->trainer_spec->model_type != ENSI_SPM__TRAINER_SPEC__MODEL_TYPE__BPE)
    return ensi_fail(ENSI_ERR_UNSUPPORTED, "tokenizer.model: only BPE models are supported");
  ensi_tokenizer *t;
  ENSI_TRY(ensi_tokenizer_alloc(&t, proto->n_pieces));
  ensi_status s = ENSI_OK;
  for (size_t i = 0; s == ENSI_OK && i < proto->n_pieces; i++) {
    const EnsiSpm__ModelProto__SentencePiece *p = proto->pieces[i];
    const size_t n = p->piece ? strlen(p->piece) : 0;
    if (!p->piece || !valid_utf8(p->piece, n) || p->type < 1 || p->type > 6) {
      s = ensi_fail(ENSI_ERR_FORMAT, "tokenizer.model: piece %zu is malformed", i);
      break;
    }
    t->pieces[i] = (piece){copy_text(p->piece, n), n, p->score, (piece_type)p->type};
    if (!t->pieces[i].text)
      s = ENSI_ERR_NOMEM;
  }
  const EnsiSpm__TrainerSpec *ts = proto->trainer_spec;
  const EnsiSpm__NormalizerSpec *ns = proto->normalizer_spec;
  t->byte_fallback = ts && ts->byte_fallback;
  t->add_dummy_prefix = !ns || !ns->has_add_dummy_prefix || ns->add_dummy_prefix;
  t->remove_extra_whitespaces = !ns || !ns->has_remove_extra_whitespaces || ns->remove_extra_whitespaces;
  const int32_t bos = ts && ts->has_bos_id ? ts->bos_id : 1, eos = ts && ts->has_eos_id ? ts->eos_id : 2;
  t->bos = bos >= 0 && (size_t)bos < t->count ? bos : -1;
  t->eos = eos >= 0 && (size_t)eos < t->count ? eos : -1;
  if (s == ENSI_OK)
    s = ensi_tokenizer_finish(t);
  if (s != ENSI_OK) {
    ensi_tokenizer_free(t);
    return s;
  }
  *out = t;
  return ENSI_OK;
}

ensi_status ensi_tokenizer_parse_model(ensi_tokenizer **out, const uint8_t *data, size_t length) {
  if (!out || (!data && length))
    return ensi_fail(ENSI_ERR_ARG, "tokenizer: null argument");
  EnsiSpm__ModelProto *proto = ensi_spm__model_proto__unpack(NULL, length, data);
  if (!proto)
    return ensi_fail(ENSI_ERR_FORMAT, "tokenizer.model: not a SentencePiece model protobuf");
  ensi_status s = from_proto(out, proto);
  ensi_spm__model_proto__free_unpacked(proto, NULL);
  return s;
}

/* tokenizer.json: model.vocab {piece: id} (ids 0..V-1, each once), model.merges ["a b"] or
 * [["a", "b"]], model.byte_fallback, added_tokens [{id, content, special}]. */
static ensi_status json_pieces(ensi_tokenizer **out, json_t *model, json_t *added) {
  json_t *vocab = json_object_get(model, "vocab");
  if (!json_is_object(vocab))
    return ensi_fail(ENSI_ERR_FORMAT, "tokenizer.json: model.vocab missing");
  const size_t count = json_object_size(vocab);
  ensi_tokenizer *t;
  ENSI_TRY(ensi_tokenizer_alloc(&t, count));
  const char *key;
  json_t *value;
  ensi_status s = ENSI_OK;
  json_object_foreach(vocab, key, value) {
    const json_int_t id = json_is_integer(value) ? json_integer_value(value) : -1;
    const size_t n = strlen(key);
    if (id < 0 || (size_t)id >= count || t->pieces[id].text || !valid_utf8(key, n)) {
      s = ensi_fail(ENSI_ERR_FORMAT, "tokenizer.json: bad or repeated id for piece");
      break;
    }
    unsigned byte;
    const bool is_byte = ensi_tokenizer_byte_piece(key, n, &byte);
    t->pieces[id] = (piece){copy_text(key, n), n, 0.0f, is_byte ? PIECE_BYTE : PIECE_NORMAL};
    if (!t->pieces[id].text)
      s = ENSI_ERR_NOMEM;
  }
  size_t index;
  json_array_foreach(added, index, value) {
    json_t *id = json_object_get(value, "id"), *special = json_object_get(value, "special");
    if (s == ENSI_OK && json_is_integer(id) && json_integer_value(id) >= 0 &&
        (size_t)json_integer_value(id) < count && json_is_true(special))
      t->pieces[json_integer_value(id)].type = PIECE_CONTROL;
  }
  if (s != ENSI_OK) {
    ensi_tokenizer_free(t);
    return s;
  }
  *out = t;
  return ENSI_OK;
}

static ensi_status json_merges(ensi_tokenizer *t, json_t *merges) {
  if (!json_is_array(merges))
    return ensi_fail(ENSI_ERR_FORMAT, "tokenizer.json: model.merges missing");
  t->merge_count = json_array_size(merges);
  t->merges = calloc(t->merge_count ? t->merge_count : 1, sizeof *t->merges);
  if (!t->merges)
    return ENSI_ERR_NOMEM;
  for (size_t i = 0; i < t->merge_count; i++) {
    json_t *m = json_array_get(merges, i);
    const char *a = NULL, *b = NULL, *space = NULL;
    size_t la = 0, lb = 0;
    if (json_is_string(m) && (space = strchr(json_string_value(m), ' '))) {
      a = json_string_value(m);
      la = (size_t)(space - a);
      b = space + 1;
      lb = strlen(b);
    } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
               json_is_string(json_array_get(m, 1))) {
      a = json_string_value(json_array_get(m, 0));
      b = json_string_value(json_array_get(m, 1));
      la = strlen(a);
      lb = strlen(b);
    }
    if (!a || !la || !lb || la + lb > 256)
      return ensi_fail(ENSI_ERR_FORMAT, "tokenizer.json: merge %zu is malformed", i);
    char *key = malloc(la + lb + 2); /* "left\0right\0" */
    if (!key)
      return ENSI_ERR_NOMEM;
    memcpy(key, a, la);
    key[la] = '\0';
    memcpy(key + la + 1, b, lb);
    key[la + lb + 1] = '\0';
    t->merges[i] = (merge){key, la + lb + 1, (int32_t)i};
  }
  return ENSI_OK;
}

static int32_t special_id(const ensi_tokenizer *t, const char *text) {
  return ensi_tokenizer_find(t, text, strlen(text));
}

ensi_status ensi_tokenizer_parse_json(ensi_tokenizer **out, const char *text, size_t length) {
  if (!out || (!text && length))
    return ensi_fail(ENSI_ERR_ARG, "tokenizer: null argument");
  json_error_t error;
  json_t *root = json_loadb(text, length, JSON_REJECT_DUPLICATES, &error);
  if (!root)
    return ensi_fail(ENSI_ERR_FORMAT, "tokenizer.json: line %d: %s", error.line, error.text);
  json_t *model = json_object_get(root, "model");
  json_t *type = json_object_get(model, "type");
  ensi_tokenizer *t = NULL;
  ensi_status s = json_is_object(model) && json_is_string(type) && !strcmp(json_string_value(type), "BPE")
                      ? json_pieces(&t, model, json_object_get(root, "added_tokens"))
                      : ensi_fail(ENSI_ERR_UNSUPPORTED, "tokenizer.json: model.type must be BPE");
  if (s == ENSI_OK)
    s = json_merges(t, json_object_get(model, "merges"));
  if (s == ENSI_OK) {
    t->byte_fallback = json_is_true(json_object_get(model, "byte_fallback"));
    t->add_dummy_prefix = true;
    t->remove_extra_whitespaces = false;
    json_t *unk = json_object_get(model, "unk_token");
    for (size_t i = 0; s == ENSI_OK && i < t->count; i++) {
      if (!t->pieces[i].text)
        s = ensi_fail(ENSI_ERR_FORMAT, "tokenizer.json: ids are not contiguous");
      else if (json_is_string(unk) && !strcmp(t->pieces[i].text, json_string_value(unk)))
        t->pieces[i].type = PIECE_UNKNOWN;
    }
    if (s == ENSI_OK)
      s = ensi_tokenizer_finish(t);
    if (s == ENSI_OK) {
      t->bos = special_id(t, "<s>");
      t->eos = special_id(t, "</s>");
    }
  }
  json_decref(root);
  if (s != ENSI_OK) {
    ensi_tokenizer_free(t);
    return s;
  }
  *out = t;
  return ENSI_OK;
}

ensi_status ensi_tokenizer_load_dir(ensi_tokenizer **out, const char *dir) {
  char path[4096];
  uint8_t *data;
  size_t length;
  snprintf(path, sizeof path, "%s/tokenizer.model", dir);
  if (ensi_file_read(path, &data, &length, 64 << 20) == ENSI_OK) {
    ensi_status s = ensi_tokenizer_parse_model(out, data, length);
    free(data);
    return s;
  }
  snprintf(path, sizeof path, "%s/tokenizer.json", dir);
  ENSI_TRY(ensi_file_read(path, &data, &length, 256 << 20));
  ensi_status s = ensi_tokenizer_parse_json(out, (const char *)data, length);
  free(data);
  return s;
}
