/* SentencePiece-style BPE encoding and decoding over a loaded vocabulary (see
 * ensi/tokenizer.h and tokenizer_internal.h). */
#include "model/tokenizer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static const char SPACE_MARK[] = "\xe2\x96\x81"; /* U+2581, the SentencePiece space */

static int hex_digit(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
         : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool ensi_tokenizer_byte_piece(const char *text, size_t length, unsigned *byte) {
  if (length != 6 || memcmp(text, "<0x", 3) || text[5] != '>')
    return false;
  const int hi = hex_digit(text[3]), lo = hex_digit(text[4]);
  if (hi < 0 || lo < 0)
    return false;
  *byte = (unsigned)(hi * 16 + lo);
  return true;
}

static uint64_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
  return h;
}

ensi_status ensi_tokenizer_alloc(ensi_tokenizer **out, size_t count) {
  if (count == 0 || count > (1u << 22))
    return ensi_fail(ENSI_ERR_FORMAT, "tokenizer: %zu pieces", count);
  ensi_tokenizer *t = calloc(1, sizeof *t);
  if (!t || !(t->pieces = calloc(count, sizeof *t->pieces))) {
    free(t);
    return ENSI_ERR_NOMEM;
  }
  t->count = count;
  t->unk = t->bos = t->eos = -1;
  *out = t;
  return ENSI_OK;
}

int32_t ensi_tokenizer_find(const ensi_tokenizer *tok, const char *text, size_t length) {
  for (size_t i = hash_bytes(text, length) & (tok->table_size - 1);; i = (i + 1) & (tok->table_size - 1)) {
    const int32_t id = tok->table[i];
    if (id < 0)
      return -1;
    const piece *p = &tok->pieces[id];
    if (p->length == length && !memcmp(p->text, text, length))
      return id;
  }
}

/* Rank of merging pieces a and b (tokenizer.json), or -1. */
static int32_t find_merge(const ensi_tokenizer *tok, const char *a, size_t la, const char *b, size_t lb) {
  char key[512];
  if (la + lb + 1 > sizeof key)
    return -1;
  memcpy(key, a, la);
  key[la] = '\0';
  memcpy(key + la + 1, b, lb);
  const size_t n = la + lb + 1;
  for (size_t i = hash_bytes(key, n) & (tok->merge_table_size - 1);; i = (i + 1) & (tok->merge_table_size - 1)) {
    const int32_t m = tok->merge_table[i];
    if (m < 0)
      return -1;
    if (tok->merges[m].length == n && !memcmp(tok->merges[m].text, key, n))
      return tok->merges[m].rank;
  }
}

static size_t table_size_for(size_t count) {
  size_t size = 16;
  while (size < 2 * count)
    size *= 2;
  return size;
}

ensi_status ensi_tokenizer_finish(ensi_tokenizer *tok) {
  tok->table_size = table_size_for(tok->count);
  tok->table = malloc(tok->table_size * sizeof *tok->table);
  if (!tok->table)
    return ENSI_ERR_NOMEM;
  memset(tok->table, 0xff, tok->table_size * sizeof *tok->table);
  for (int i = 0; i < 256; i++)
    tok->byte_id[i] = -1;
  for (size_t id = 0; id < tok->count; id++) {
    const piece *p = &tok->pieces[id];
    if (!p->text || p->length == 0 || p->length > 256)
      return ensi_fail(ENSI_ERR_FORMAT, "tokenizer: piece %zu is empty or too long", id);
    if (ensi_tokenizer_find(tok, p->text, p->length) >= 0)
      return ensi_fail(ENSI_ERR_FORMAT, "tokenizer: piece %zu is a duplicate", id);
    size_t i = hash_bytes(p->text, p->length) & (tok->table_size - 1);
    while (tok->table[i] >= 0)
      i = (i + 1) & (tok->table_size - 1);
    tok->table[i] = (int32_t)id;
    unsigned byte;
    if (p->type == PIECE_BYTE && ensi_tokenizer_byte_piece(p->text, p->length, &byte))
      tok->byte_id[byte] = (int32_t)id;
    if (p->type == PIECE_UNKNOWN && tok->unk < 0)
      tok->unk = (int32_t)id;
  }
  if (tok->merges) {
    tok->merge_table_size = table_size_for(tok->merge_count);
    tok->merge_table = malloc(tok->merge_table_size * sizeof *tok->merge_table);
    if (!tok->merge_table)
      return ENSI_ERR_NOMEM;
    memset(tok->merge_table, 0xff, tok->merge_table_size * sizeof *tok->merge_table);
    for (size_t m = 0; m < tok->merge_count; m++) {
      size_t i = hash_bytes(tok->merges[m].text, tok->merges[m].length) & (tok->merge_table_size - 1);
      while (tok->merge_table[i] >= 0)
        i = (i + 1) & (tok->merge_table_size - 1);
      tok->merge_table[i] = (int32_t)m;
    }
  }
  if (tok->unk < 0)
    return ensi_fail(ENSI_ERR_FORMAT, "tokenizer: no <unk> piece");
  if (tok->byte_fallback)
    for (int b = 0; b < 256; b++)
      if (tok->byte_id[b] < 0)
        return ensi_fail(ENSI_ERR_FORMAT, "tokenizer: byte fallback without piece <0x%02X>", b);
  return ENSI_OK;
}

void ensi_tokenizer_free(ensi_tokenizer *tok) {
  if (!tok)
    return;
  for (size_t i = 0; tok->pieces && i < tok->count; i++)
    free(tok->pieces[i].text);
  for (size_t i = 0; tok->merges && i < tok->merge_count; i++)
    free(tok->merges[i].text);
  free(tok->pieces);
  free(tok->merges);
  free(tok->table);
  free(tok->merge_table);
  free(tok);
}

size_t ensi_tokenizer_vocab_size(const ensi_tokenizer *tok) { return tok->count; }
int32_t ensi_tokenizer_bos(const ensi_tokenizer *tok) { return tok->bos; }
int32_t ensi_tokenizer_eos(const ensi_tokenizer *tok) { return tok->eos; }

/* Length of the UTF-8 character at s (1 for an invalid byte, which then stands alone). */
static size_t utf8_length(const unsigned char *s, size_t left) {
  size_t n = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 : (s[0] >> 4) == 14 ? 3 : (s[0] >> 3) == 30 ? 4 : 1;
  if (n > left)
    return 1;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80)
      return 1;
  return n;
}

/* Normalization: optional whitespace cleanup, dummy prefix, spaces -> U+2581. */
static char *normalize(const ensi_tokenizer *tok, const char *text, size_t length, size_t *out_length) {
  char *out = malloc(3 * length + 4);
  if (!out)
    return NULL;
  size_t n = 0, begin = 0, end = length;
  if (tok->remove_extra_whitespaces) {
    while (begin < end && text[begin] == ' ')
      begin++;
    while (end > begin && text[end - 1] == ' ')
      end--;
  }
  if (tok->add_dummy_prefix && end > begin) {
    memcpy(out, SPACE_MARK, 3);
    n = 3;
  }
  for (size_t i = begin; i < end; i++) {
    if (text[i] == ' ') {
      if (tok->remove_extra_whitespaces && i > begin && text[i - 1] == ' ')
        continue;
      memcpy(out + n, SPACE_MARK, 3);
      n += 3;
    } else {
      out[n++] = text[i];
    }
  }
  *out_length = n;
  return out;
}

typedef struct {
  size_t start, length; /* byte span in the normalized text */
} symbol;

/* Score of merging symbols a and b; returns false when they cannot merge. */
static bool merge_score(const ensi_tokenizer *tok, const char *s, const symbol *a, const symbol *b,
                        double *score) {
  if (tok->merges) {
    const int32_t rank = find_merge(tok, s + a->start, a->length, s + b->start, b->length);
    *score = -(double)rank;
    return rank >= 0;
  }
  const int32_t id = ensi_tokenizer_find(tok, s + a->start, a->length + b->length);
  if (id < 0 || tok->pieces[id].type == PIECE_UNUSED || tok->pieces[id].type == PIECE_CONTROL)
    return false;
  *score = tok->pieces[id].score;
  return true;
}

static ensi_status push(int32_t **ids, size_t *count, size_t *capacity, int32_t id) {
  if (*count == *capacity) {
    *capacity = *capacity ? 2 * *capacity : 64;
    int32_t *grown = realloc(*ids, *capacity * sizeof *grown);
    if (!grown)
      return ENSI_ERR_NOMEM;
    *ids = grown;
  }
  (*ids)[(*count)++] = id;
  return ENSI_OK;
}

ensi_status ensi_tokenizer_encode(const ensi_tokenizer *tok, const char *text, size_t length,
                                  bool add_bos, int32_t **ids, size_t *count) {
  if (!tok || (!text && length) || !ids || !count)
    return ensi_fail(ENSI_ERR_ARG, "encode: bad argument");
  size_t n = 0;
  char *s = normalize(tok, text ? text : "", length, &n);
  symbol *sym = malloc((n + 1) * sizeof *sym);
  ensi_status st = s && sym ? ENSI_OK : ENSI_ERR_NOMEM;
  size_t m = 0;
  for (size_t i = 0; st == ENSI_OK && i < n;) { /* one symbol per character */
    const size_t len = utf8_length((const unsigned char *)s + i, n - i);
    sym[m++] = (symbol){i, len};
    i += len;
  }
  while (st == ENSI_OK && m > 1) { /* merge the best adjacent pair until none is left */
    double best = -1e300, score;
    size_t at = m;
    for (size_t i = 0; i + 1 < m; i++)
      if (merge_score(tok, s, &sym[i], &sym[i + 1], &score) && score > best) {
        best = score;
        at = i;
      }
    if (at == m)
      break;
    sym[at].length += sym[at + 1].length;
    memmove(&sym[at + 1], &sym[at + 2], (m - at - 2) * sizeof *sym);
    m--;
  }
  *ids = NULL;
  *count = 0;
  size_t capacity = 0;
  if (st == ENSI_OK && add_bos && tok->bos >= 0)
    st = push(ids, count, &capacity, tok->bos);
  for (size_t i = 0; st == ENSI_OK && i < m; i++) {
    const int32_t id = ensi_tokenizer_find(tok, s + sym[i].start, sym[i].length);
    if (id >= 0 && tok->pieces[id].type != PIECE_UNUSED) {
      st = push(ids, count, &capacity, id);
    } else if (tok->byte_fallback) {
      for (size_t b = 0; st == ENSI_OK && b < sym[i].length; b++)
        st = push(ids, count, &capacity, tok->byte_id[(unsigned char)s[sym[i].start + b]]);
    } else if (*count == 0 || (*ids)[*count - 1] != tok->unk) { /* runs of unknowns -> one <unk> */
      st = push(ids, count, &capacity, tok->unk);
    }
  }
  free(s);
  free(sym);
  if (st != ENSI_OK) {
    free(*ids);
    *ids = NULL;
    *count = 0;
  }
  return st;
}

ensi_status ensi_tokenizer_decode(const ensi_tokenizer *tok, const int32_t *ids, size_t count,
                                  char **text) {
  if (!tok || (!ids && count) || !text)
    return ensi_fail(ENSI_ERR_ARG, "decode: bad argument");
  size_t capacity = 16;
  for (size_t i = 0; i < count; i++) {
    if (ids[i] < 0 || (size_t)ids[i] >= tok->count)
      return ensi_fail(ENSI_ERR_ARG, "decode: id %d outside the vocabulary", ids[i]);
    capacity += tok->pieces[ids[i]].length + 5; /* <unk> prints as 5 bytes */
  }
  char *out = malloc(capacity);
  if (!out)
    return ENSI_ERR_NOMEM;
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    const piece *p = &tok->pieces[ids[i]];
    unsigned byte;
    if (p->type == PIECE_CONTROL)
      continue;
    if (p->type == PIECE_BYTE && ensi_tokenizer_byte_piece(p->text, p->length, &byte)) {
      out[n++] = (char)byte;
    } else if (p->type == PIECE_UNKNOWN) {
      memcpy(out + n, " \xe2\x81\x87 ", 5); /* SentencePiece shows <unk> as " ⁇ " */
      n += 5;
    } else {
      for (size_t k = 0; k < p->length;) {
        if (k + 3 <= p->length && !memcmp(p->text + k, SPACE_MARK, 3)) {
          out[n++] = ' ';
          k += 3;
        } else {
          out[n++] = p->text[k++];
        }
      }
    }
  }
  size_t skip = tok->add_dummy_prefix && n > 0 && out[0] == ' ' ? 1 : 0;
  memmove(out, out + skip, n - skip);
  out[n - skip] = '\0';
  *text = out;
  return ENSI_OK;
}
