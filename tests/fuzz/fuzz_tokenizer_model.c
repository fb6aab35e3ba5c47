/* libFuzzer target: tokenizer.model parsing, then encoding and decoding with what was parsed. */
#include <stdint.h>
#include <stdlib.h>

#include <ensi/tokenizer.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ensi_tokenizer *tok;
  if (ensi_tokenizer_parse_model(&tok, data, size) != ENSI_OK)
    return 0;
  int32_t *ids;
  size_t n;
  if (ensi_tokenizer_encode(tok, (const char *)data, size < 64 ? size : 64, true, &ids, &n) == ENSI_OK) {
    char *text;
    if (ensi_tokenizer_decode(tok, ids, n, &text) == ENSI_OK)
      free(text);
    free(ids);
  }
  ensi_tokenizer_free(tok);
  return 0;
}
