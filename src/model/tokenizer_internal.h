/* Internal representation shared by the tokenizer's loaders, encoder and writer. */
#ifndef ENSI_MODEL_TOKENIZER_INTERNAL_H
#define ENSI_MODEL_TOKENIZER_INTERNAL_H

#include <ensi/tokenizer.h>

typedef enum {
  PIECE_NORMAL = 1,
  PIECE_UNKNOWN = 2,
  PIECE_CONTROL = 3,
  PIECE_USER_DEFINED = 4,
  PIECE_UNUSED = 5,
  PIECE_BYTE = 6
} piece_type;

typedef struct {
  char *text;
  size_t length;
  float score;
  piece_type type;
} piece;

typedef struct {
  char *text; /* key: left piece text, '\0', right piece text, '\0' (length excludes the last) */
  size_t length;
  int32_t rank;
} merge;

struct ensi_tokenizer {
  piece *pieces;
  size_t count;
  int32_t *table;    /* open-addressing hash: piece text -> id (-1 = empty) */
  size_t table_size;
  merge *merges;     /* tokenizer.json: explicit merge ranks; NULL: scores of the .model */
  size_t merge_count;
  int32_t *merge_table;
  size_t merge_table_size;
  bool byte_fallback, add_dummy_prefix, remove_extra_whitespaces;
  int32_t unk, bos, eos;
  int32_t byte_id[256];
};

/* Allocates the piece array for count pieces (texts filled by the loader). */
ensi_status ensi_tokenizer_alloc(ensi_tokenizer **out, size_t count);
/* Builds the lookup tables and byte ids once pieces (and merges) are set; validates them. */
ensi_status ensi_tokenizer_finish(ensi_tokenizer *tok);
/* True when text is exactly "<0xHH>" (two hex digits); *byte receives the value. */
bool ensi_tokenizer_byte_piece(const char *text, size_t length, unsigned *byte);

/* Id of a piece text, or -1. */
int32_t ensi_tokenizer_find(const ensi_tokenizer *tok, const char *text, size_t length);

#endif
