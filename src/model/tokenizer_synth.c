/* A deterministic synthetic BPE tokenizer (learned greedily from a built-in English text) and the
 * Hugging Face tokenizer.json writer. */
#include "model/tokenizer_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static const char TRAINING_TEXT[] =
    "the client encrypts its prompt and the server evaluates every layer of the model on the "
    "ciphertexts without learning anything about the text then it sends the result back and only "
    "the client can decrypt it this is secure inference for a ternary language model where the "
    "weights are minus one zero or one and the matrix products need only additions the attention "
    "uses a sigmoid instead of a softmax and the normalization refreshes the ciphertexts with "
    "bootstrapping so that every layer starts with a fresh budget of levels there is no "
    "interaction between the two parties during the computation which is why it is called "
    "non interactive and the answer is the next token of the text";

typedef struct {
  char **sym; /* symbols of one word, each a NUL-terminated piece text */
  size_t count;
} word;

static ensi_status add_piece(ensi_tokenizer *t, size_t *n, const char *text, piece_type type, float score) {
  const size_t len = strlen(text);
  t->pieces[*n] = (piece){malloc(len + 1), len, score, type};
  if (!t->pieces[*n].text)
    return ENSI_ERR_NOMEM;
  memcpy(t->pieces[*n].text, text, len + 1);
  (*n)++;
  return ENSI_OK;
}

static bool has_piece(const ensi_tokenizer *t, size_t n, const char *text) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(t->pieces[i].text, text))
      return true;
  return false;
}

/* Splits the training text into words "▁word" of single-character symbols. */
static ensi_status split_words(word **out, size_t *count) {
  word *w = calloc(sizeof TRAINING_TEXT, sizeof *w);
  if (!w)
    return ENSI_ERR_NOMEM;
  size_t n = 0;
  for (const char *p = TRAINING_TEXT; *p;) {
    while (*p == ' ')
      p++;
    const char *end = p;
    while (*end && *end != ' ')
      end++;
    if (end == p)
      break;
    w[n].sym = calloc((size_t)(end - p) + 1, sizeof *w[n].sym);
    if (!w[n].sym)
      return ENSI_ERR_NOMEM;
    w[n].sym[w[n].count++] = strdup("\xe2\x96\x81");
    for (const char *c = p; c < end; c++) {
      char one[2] = {*c, 0};
      w[n].sym[w[n].count++] = strdup(one);
    }
    n++;
    p = end;
  }
  *out = w;
  *count = n;
  return ENSI_OK;
}

/* The most frequent adjacent pair (ties: the smallest concatenation), or false. */
static bool best_pair(word *w, size_t words, char *left, char *right) {
  size_t best = 1;
  bool found = false;
  for (size_t a = 0; a < words; a++)
    for (size_t i = 0; i + 1 < w[a].count; i++) {
      size_t freq = 0;
      for (size_t b = 0; b < words; b++)
        for (size_t k = 0; k + 1 < w[b].count; k++)
          freq += !strcmp(w[b].sym[k], w[a].sym[i]) && !strcmp(w[b].sym[k + 1], w[a].sym[i + 1]);
      if (freq > best || (freq == best && found &&
                          (strcmp(w[a].sym[i], left) < 0 ||
                           (!strcmp(w[a].sym[i], left) && strcmp(w[a].sym[i + 1], right) < 0)))) {
        best = freq;
        found = true;
        strcpy(left, w[a].sym[i]);
        strcpy(right, w[a].sym[i + 1]);
      }
    }
  return found;
}

static void apply_merge(word *w, size_t words, const char *left, const char *right) {
  for (size_t a = 0; a < words; a++)
    for (size_t i = 0; i + 1 < w[a].count; i++)
      if (!strcmp(w[a].sym[i], left) && !strcmp(w[a].sym[i + 1], right)) {
        char *joined = malloc(strlen(left) + strlen(right) + 1);
        strcpy(joined, left);
        strcat(joined, right);
        free(w[a].sym[i]);
        free(w[a].sym[i + 1]);
        w[a].sym[i] = joined;
        memmove(&w[a].sym[i + 1], &w[a].sym[i + 2], (w[a].count - i - 2) * sizeof *w[a].sym);
        w[a].count--;
      }
}

ensi_status ensi_tokenizer_build_synthetic(ensi_tokenizer **out, size_t vocab_size) {
  if (!out || vocab_size < 300 || vocab_size > 65536)
    return ensi_fail(ENSI_ERR_ARG, "synthetic tokenizer: vocabulary of 300..65536 pieces");
  ensi_tokenizer *t;
  ENSI_TRY(ensi_tokenizer_alloc(&t, vocab_size));
  t->merges = calloc(vocab_size, sizeof *t->merges);
  word *w = NULL;
  size_t words = 0, n = 0;
  ensi_status s = t->merges ? split_words(&w, &words) : ENSI_ERR_NOMEM;
  if (s == ENSI_OK)
    s = add_piece(t, &n, "<unk>", PIECE_UNKNOWN, 0);
  if (s == ENSI_OK)
    s = add_piece(t, &n, "<s>", PIECE_CONTROL, 0);
  if (s == ENSI_OK)
    s = add_piece(t, &n, "</s>", PIECE_CONTROL, 0);
  for (int b = 0; s == ENSI_OK && b < 256; b++) {
    char name[8];
    snprintf(name, sizeof name, "<0x%02X>", b);
    s = add_piece(t, &n, name, PIECE_BYTE, 0);
  }
  for (size_t a = 0; s == ENSI_OK && a < words; a++) /* every character of the text */
    for (size_t i = 0; s == ENSI_OK && i < w[a].count; i++)
      if (!has_piece(t, n, w[a].sym[i]) && n < vocab_size)
        s = add_piece(t, &n, w[a].sym[i], PIECE_NORMAL, 0);
  char left[256], right[256];
  while (s == ENSI_OK && n < vocab_size && best_pair(w, words, left, right)) {
    char joined[512];
    snprintf(joined, sizeof joined, "%s%s", left, right);
    const size_t ll = strlen(left), lr = strlen(right);
    char *key = malloc(ll + lr + 2); /* "left\0right\0" */
    if (!key) {
      s = ENSI_ERR_NOMEM;
      break;
    }
    memcpy(key, left, ll + 1);
    memcpy(key + ll + 1, right, lr + 1);
    t->merges[t->merge_count] = (merge){key, ll + lr + 1, (int32_t)t->merge_count};
    t->merge_count++;
    if (!has_piece(t, n, joined))
      s = add_piece(t, &n, joined, PIECE_NORMAL, -(float)t->merge_count);
    apply_merge(w, words, left, right);
  }
  for (size_t k = 0; s == ENSI_OK && n < vocab_size; k++) { /* fill with never-produced pieces */
    char name[32];
    snprintf(name, sizeof name, "<extra_%zu>", k);
    s = add_piece(t, &n, name, PIECE_NORMAL, -1e9f);
  }
  for (size_t a = 0; w && a < words; a++) {
    for (size_t i = 0; i < w[a].count; i++)
      free(w[a].sym[i]);
    free(w[a].sym);
  }
  free(w);
  t->byte_fallback = true;
  t->add_dummy_prefix = true;
  t->bos = 1;
  t->eos = 2;
  if (s == ENSI_OK)
    s = ensi_tokenizer_finish(t);
  if (s != ENSI_OK) {
    ensi_tokenizer_free(t);
    return s;
  }
  *out = t;
  return ENSI_OK;
}

ensi_status ensi_tokenizer_save_json(const ensi_tokenizer *tok, const char *path) {
  if (!tok || !path || !tok->merges)
    return ensi_fail(ENSI_ERR_ARG, "tokenizer.json: only BPE tokenizers with merges can be saved");
  json_t *root = json_object(), *vocab = json_object(), *merges = json_array(), *added = json_array();
  for (size_t i = 0; i < tok->count; i++) {
    json_object_set_new(vocab, tok->pieces[i].text, json_integer((json_int_t)i));
    if (tok->pieces[i].type == PIECE_CONTROL || tok->pieces[i].type == PIECE_UNKNOWN)
      json_array_append_new(added, json_pack("{s:I,s:s,s:b}", "id", (json_int_t)i, "content",
                                             tok->pieces[i].text, "special", 1));
  }
  for (size_t m = 0; m < tok->merge_count; m++) {
    const char *left = tok->merges[m].text, *right = left + strlen(left) + 1;
    char *pair = malloc(strlen(left) + strlen(right) + 2);
    sprintf(pair, "%s %s", left, right);
    json_array_append_new(merges, json_string(pair));
    free(pair);
  }
  json_t *model = json_pack("{s:s,s:s,s:b,s:o,s:o}", "type", "BPE", "unk_token",
                            tok->pieces[tok->unk].text, "byte_fallback", tok->byte_fallback,
                            "vocab", vocab, "merges", merges);
  json_t *normalizer = json_pack(
      "{s:s,s:[{s:s,s:s},{s:s,s:{s:s},s:s}]}", "type", "Sequence", "normalizers", "type", "Prepend",
      "prepend", "\xe2\x96\x81", "type", "Replace", "pattern", "String", " ", "content", "\xe2\x96\x81");
  json_object_set_new(root, "version", json_string("1.0"));
  json_object_set_new(root, "added_tokens", added);
  json_object_set_new(root, "normalizer", normalizer);
  json_object_set_new(root, "model", model);
  const int failed = json_dump_file(root, path, JSON_INDENT(1));
  json_decref(root);
  return failed ? ensi_fail(ENSI_ERR_IO, "%s: cannot write", path) : ENSI_OK;
}
