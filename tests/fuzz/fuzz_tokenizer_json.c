/* libFuzzer target: tokenizer.json parsing; and the synthetic tokenizer's encoder and decoder on
 * arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include <ensi/tokenizer.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ensi_tokenizer *synthetic;
  if (!synthetic && ensi_tokenizer_build_synthetic(&synthetic, 512) != ENSI_OK)
    abort();
  ensi_tokenizer *tok;
  if (ensi_tokenizer_parse_json(&tok, (const char *)data, size) == ENSI_OK)
    ensi_tokenizer_free(tok);
  int32_t *ids;
  size_t n;
  if (ensi_tokenizer_encode(synthetic, (const char *)data, size, true, &ids, &n) == ENSI_OK) {
    char *text;
    if (ensi_tokenizer_decode(synthetic, ids, n, &text) == ENSI_OK)
      free(text);
    free(ids);
  }
  return 0;
}
