/* The tokenizer's own properties: the synthetic tokenizer survives tokenizer.json save/load with
 * identical pieces and identical encodings; decode(encode(text)) = text for ASCII and multi-byte
 * UTF-8; malformed tokenizer.json and tokenizer.model inputs are refused with errors. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ensi/tokenizer.h>

#include "tempdir.h"
#include "testutil.h"

static const char *texts[] = {"the client encrypts its prompt", "naïve café — 日本語 🙂",
                              " two  spaces ", "", "\x01\x02 control bytes"};

static void check_round_trip(const ensi_tokenizer *a, const ensi_tokenizer *b) {
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    int32_t *ia, *ib;
    size_t na, nb;
    CHECK(ensi_tokenizer_encode(a, texts[i], strlen(texts[i]), true, &ia, &na) == ENSI_OK);
    CHECK(ensi_tokenizer_encode(b, texts[i], strlen(texts[i]), true, &ib, &nb) == ENSI_OK);
    CHECK_MSG(na == nb && !memcmp(ia, ib, na * sizeof *ia), "encodings differ on '%s'", texts[i]);
    char *back;
    CHECK(ensi_tokenizer_decode(b, ib, nb, &back) == ENSI_OK);
    CHECK_MSG(!strcmp(back, texts[i]), "decode(encode('%s')) = '%s'", texts[i], back);
    free(back);
    free(ia);
    free(ib);
  }
}

int main(void) {
  ensi_tokenizer *synth, *loaded;
  CHECK(ensi_tokenizer_build_synthetic(&synth, 512) == ENSI_OK);
  CHECK(ensi_tokenizer_vocab_size(synth) == 512 && ensi_tokenizer_bos(synth) == 1);
  char dir[4096], path[4200];
  CHECK(tool_temp_dir(dir, sizeof dir, "tokenizer") == 0);
  snprintf(path, sizeof path, "%s/tokenizer.json", dir);
  CHECK(ensi_tokenizer_save_json(synth, path) == ENSI_OK);
  CHECK(ensi_tokenizer_load_dir(&loaded, dir) == ENSI_OK);
  CHECK(ensi_tokenizer_vocab_size(loaded) == 512);
  check_round_trip(synth, loaded);
  int32_t *ids;
  size_t n;
  CHECK(ensi_tokenizer_encode(synth, "the the the", 11, false, &ids, &n) == ENSI_OK);
  CHECK_MSG(n == 3, "'the the the' takes %zu tokens (merges not applied)", n);
  free(ids);
  const int32_t bad_ids[] = {5, 99999};
  char *text;
  CHECK(ensi_tokenizer_decode(synth, bad_ids, 2, &text) == ENSI_ERR_ARG);
  const char *bad_json[] = {
      "",
      "{}",
      "{\"model\":{\"type\":\"WordPiece\"}}",
      "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}}",
      "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":5},\"merges\":[]}}",
      "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"<unk>\":0,\"a\":1},\"merges\":[\"nospace\"],\"unk_token\":\"<unk>\"}}",
      "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"<unk>\":0,\"a\":1},\"merges\":[],\"unk_token\":\"<unk>\",\"byte_fallback\":true}}",
      "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}",
  };
  for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
    ensi_tokenizer *t = NULL;
    CHECK_MSG(ensi_tokenizer_parse_json(&t, bad_json[i], strlen(bad_json[i])) != ENSI_OK,
              "bad tokenizer.json %zu accepted", i);
    ensi_tokenizer_free(t);
  }
  const uint8_t bad_proto[][8] = {{0x0a, 0x05, 0x0a, 0x01}, {0xff, 0xff, 0xff, 0xff}, {0x0a, 0x00}};
  for (size_t i = 0; i < 3; i++) {
    ensi_tokenizer *t = NULL;
    CHECK(ensi_tokenizer_parse_model(&t, bad_proto[i], sizeof bad_proto[i]) != ENSI_OK);
    ensi_tokenizer_free(t);
  }
  ensi_tokenizer_free(synth);
  ensi_tokenizer_free(loaded);
  tool_remove_dir(dir);
  return test_finish("test_tokenizer");
}
