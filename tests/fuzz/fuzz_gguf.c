/* libFuzzer target: the GGUF reader on arbitrary bytes, then every metadata and tensor lookup. */
#include <stdint.h>
#include <stdlib.h>

#include "model/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ensi_gguf *g;
  if (ensi_gguf_parse(&g, data, size) != ENSI_OK)
    return 0;
  uint64_t u;
  double f;
  char s[64];
  ensi_gguf_get_u64(g, "bitnet.block_count", &u);
  ensi_gguf_get_f64(g, "bitnet.rope.freq_base", &f);
  ensi_gguf_get_string(g, "general.architecture", s, sizeof s);
  const ensi_gguf_tensor *t = ensi_gguf_find(g, "token_embd.weight");
  if (t) {
    volatile uint8_t sink = 0;
    const uint8_t *p = ensi_gguf_data(g, t);
    for (uint64_t i = 0; i < t->bytes; i += 64)
      sink ^= p[i];
    (void)sink;
  }
  ensi_gguf_close(g);
  return 0;
}
