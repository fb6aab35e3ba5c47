/* The LLaMA-style SentencePiece BPE tokenizer that BitNet checkpoints ship: text -> token ids and
 * back. Loads tokenizer.model (SentencePiece protobuf) or a Hugging Face tokenizer.json (BPE
 * with byte fallback). Encoding follows SentencePiece BPE: spaces become U+2581, a dummy prefix
 * is added, characters are merged pairwise by best score (leftmost on ties; for tokenizer.json,
 * by merge rank), and pieces outside the vocabulary fall back to <0xNN> byte pieces (or <unk>).
 * Every input is untrusted: malformed files and invalid UTF-8 give errors, never crashes. */
#ifndef ENSI_TOKENIZER_H
#define ENSI_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ensi/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ensi_tokenizer ensi_tokenizer;

ensi_status ensi_tokenizer_parse_model(ensi_tokenizer **out, const uint8_t *data, size_t length);
ensi_status ensi_tokenizer_parse_json(ensi_tokenizer **out, const char *text, size_t length);
/* DIR/tokenizer.model if present, else DIR/tokenizer.json. */
ensi_status ensi_tokenizer_load_dir(ensi_tokenizer **out, const char *dir);
void ensi_tokenizer_free(ensi_tokenizer *tok);

/* *ids (free()) receives the token ids of text[0..length), with BOS first when add_bos. */
ensi_status ensi_tokenizer_encode(const ensi_tokenizer *tok, const char *text, size_t length,
                                  bool add_bos, int32_t **ids, size_t *count);
/* *text (free()) receives the NUL-terminated UTF-8 text of ids; control tokens are skipped. */
ensi_status ensi_tokenizer_decode(const ensi_tokenizer *tok, const int32_t *ids, size_t count,
                                  char **text);

size_t ensi_tokenizer_vocab_size(const ensi_tokenizer *tok);
int32_t ensi_tokenizer_bos(const ensi_tokenizer *tok);
int32_t ensi_tokenizer_eos(const ensi_tokenizer *tok);

/* A small deterministic BPE vocabulary of vocab_size pieces (<unk>, <s>, </s>, the 256 byte
 * pieces, then merges learned from a built-in English text), for synthetic models. */
ensi_status ensi_tokenizer_build_synthetic(ensi_tokenizer **out, size_t vocab_size);
/* Writes a Hugging Face tokenizer.json that ensi_tokenizer_parse_json reads back identically. */
ensi_status ensi_tokenizer_save_json(const ensi_tokenizer *tok, const char *path);

#ifdef __cplusplus
}
#endif
#endif
