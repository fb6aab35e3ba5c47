/* GGUF: the ternary block codings decode hand-made known patterns (TQ2_0, TQ1_0 by the format's
 * base-3 rule, I2_S); synthetic models load from safetensors and from GGUF with identical ternary
 * weights and scales (fp16 / f32 rounding of the stored scale); malformed GGUF files get errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ensi/io.h>
#include <ensi/model.h>

#include "model/gguf.h"
#include "model/ternary_blocks.h"
#include "tempdir.h"
#include "testutil.h"

static void check_patterns(void) {
  int8_t want[256], got[256];
  for (int i = 0; i < 256; i++)
    want[i] = (int8_t)((i * 7 + i / 5) % 3 - 1);
  /* TQ2_0: byte 32k + m holds element 128k + 32n + m at bits 2n */
  uint8_t tq2[ENSI_TQ2_BYTES] = {0};
  for (int e = 0; e < 256; e++) {
    const int k = e / 128, n = (e % 128) / 32, m = e % 32;
    tq2[32 * k + m] |= (uint8_t)((want[e] + 1) << (2 * n));
  }
  tq2[64] = 0x00; /* d = 1.0 in fp16: 0x3c00 */
  tq2[65] = 0x3c;
  float d;
  CHECK(ensi_tq2_decode(tq2, got, &d) == 0 && d == 1.0f && !memcmp(got, want, 256));
  /* TQ1_0: bytes are ceil(v 256 / 243) of 5 base-3 trits, most significant first */
  uint8_t tq1[ENSI_TQ1_BYTES] = {0};
  for (int m = 0; m < 48; m++) {
    const int first = m < 32 ? m : 160 + (m - 32), step = m < 32 ? 32 : 16;
    int v = 0;
    for (int n = 0; n < 5; n++)
      v = v * 3 + (want[first + step * n] + 1);
    tq1[m] = (uint8_t)((v * 256 + 242) / 243);
  }
  for (int j = 0; j < 4; j++) {
    int v = 0;
    for (int n = 0; n < 4; n++)
      v = v * 3 + (want[240 + j + 4 * n] + 1);
    v *= 3; /* the empty fifth trit */
    tq1[48 + j] = (uint8_t)((v * 256 + 242) / 243);
  }
  tq1[52] = 0x00;
  tq1[53] = 0xc0; /* d = -2.0 */
  CHECK(ensi_tq1_decode(tq1, got, &d) == 0 && d == -2.0f);
  CHECK_MSG(!memcmp(got, want, 256), "TQ1_0 pattern");
  /* I2_S: byte b of a 128-block holds elements b, b+32, b+64, b+96 in bits 7-6, 5-4, 3-2, 1-0 */
  uint8_t i2s[64] = {0};
  for (int e = 0; e < 256; e++)
    i2s[(e / 128) * 32 + e % 32] |= (uint8_t)((want[e] + 1) << (6 - 2 * ((e % 128) / 32)));
  CHECK(ensi_i2s_decode(i2s, 256, got) == 0 && !memcmp(got, want, 256));
  i2s[5] |= 0xc0; /* code 3 is invalid */
  CHECK(ensi_i2s_decode(i2s, 256, got) == -1);
}

static void compare_models(const char *shape) {
  char dir[4096], path[4200];
  CHECK(tool_temp_dir(dir, sizeof dir, "gguf") == 0);
  CHECK(ensi_model_synthesize(dir, shape, 0, 9) == ENSI_OK);
  ensi_model *st, *gg;
  CHECK(ensi_model_load(&st, dir) == ENSI_OK);
  snprintf(path, sizeof path, "%s/model.gguf", dir);
  ensi_status s = ensi_model_load_gguf(&gg, path);
  CHECK_MSG(s == ENSI_OK, "%s: %s", shape, ensi_error_detail());
  if (s != ENSI_OK)
    return;
  int bad = 0;
  double worst_beta = 0;
  for (int l = 0; l < st->config.layers; l++) {
    const ensi_ternary *a[] = {&st->layers[l].q, &st->layers[l].k, &st->layers[l].v, &st->layers[l].o,
                               &st->layers[l].gate, &st->layers[l].up, &st->layers[l].down};
    const ensi_ternary *b[] = {&gg->layers[l].q, &gg->layers[l].k, &gg->layers[l].v, &gg->layers[l].o,
                               &gg->layers[l].gate, &gg->layers[l].up, &gg->layers[l].down};
    for (int k = 0; k < 7; k++) {
      bad += a[k]->rows != b[k]->rows || a[k]->cols != b[k]->cols ||
             memcmp(a[k]->packed, b[k]->packed, ((size_t)a[k]->rows * a[k]->cols + 3) / 4);
      worst_beta = test_worse(worst_beta, fabs(a[k]->beta - b[k]->beta) / a[k]->beta);
    }
    bad += memcmp(st->layers[l].ffn_norm, gg->layers[l].ffn_norm, (size_t)st->config.intermediate * 4) != 0;
  }
  CHECK_MSG(bad == 0, "%s: ternary weights differ between safetensors and GGUF", shape);
  CHECK_MSG(worst_beta < 1e-3, "%s: scales differ by %.2g (beyond fp16 rounding)", shape, worst_beta);
  CHECK(!memcmp(st->embeddings, gg->embeddings, (size_t)st->config.vocab * st->config.hidden * 4));
  ensi_model_free(st);
  ensi_model_free(gg);
  /* malformed variants of the file */
  uint8_t *data;
  size_t length;
  CHECK(ensi_file_read(path, &data, &length, 1 << 26) == ENSI_OK);
  int accepted = 0;
  const size_t cuts[] = {0, 3, 8, 24, 100, length / 3, length - 1};
  for (size_t i = 0; i < 7; i++) {
    ensi_gguf *g;
    if (ensi_gguf_parse(&g, data, cuts[i]) == ENSI_OK) {
      accepted++;
      ensi_gguf_close(g);
    }
  }
  data[4] = 1; /* version 1 */
  ensi_gguf *g;
  accepted += ensi_gguf_parse(&g, data, length) == ENSI_OK;
  data[4] = 3;
  memset(data + 8, 0xff, 8); /* absurd tensor count */
  accepted += ensi_gguf_parse(&g, data, length) == ENSI_OK;
  CHECK_MSG(accepted == 0, "%s: %d malformed GGUF files accepted", shape, accepted);
  free(data);
  tool_remove_dir(dir);
}

int main(void) {
  check_patterns();
  compare_models("tiny");  /* I2_S (rows of 64) */
  compare_models("small"); /* TQ2_0 (rows of 256 and 512) */
  return test_finish("test_model_gguf");
}
