/* Malformed checkpoints get errors, never crashes: truncated safetensors files, oversized or
 * garbage headers, bad JSON, wrong shapes, offsets out of range, unsupported dtypes, and
 * config.json files with missing, absurd or unsupported fields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ensi/io.h>
#include <ensi/model.h>

#include "model/safetensors.h"
#include "tempdir.h"
#include "testutil.h"

static void write_file(const char *path, const void *data, size_t length) {
  FILE *f = fopen(path, "wb");
  fwrite(data, 1, length, f);
  fclose(f);
}

/* A safetensors image with one header text and `data_bytes` zero bytes of data. */
static size_t image(uint8_t *out, const char *header, size_t data_bytes) {
  const size_t h = strlen(header);
  for (int i = 0; i < 8; i++)
    out[i] = (uint8_t)((uint64_t)h >> (8 * i));
  memcpy(out + 8, header, h);
  memset(out + 8 + h, 0, data_bytes);
  return 8 + h + data_bytes;
}

static void check_safetensors(void) {
  static uint8_t buf[1 << 16];
  const int64_t shape[2] = {2, 3};
  float out[6];
  const char *bad_headers[] = {
      "not json",
      "[1,2,3]",
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,999]}}",   /* beyond data */
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,4]}}",     /* reversed */
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}}",    /* wrong shape */
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}",    /* size mismatch */
      "{\"w\":{\"dtype\":\"I64\",\"shape\":[2,3],\"data_offsets\":[0,48]}}",    /* dtype */
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[-8,16]}}",   /* negative */
      "{\"w\":{\"dtype\":\"F32\",\"shape\":\"x\",\"data_offsets\":[0,24]}}",    /* shape type */
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3]}}",                            /* no offsets */
      "{\"v\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}",    /* missing name */
  };
  int accepted = 0;
  for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
    size_t n = image(buf, bad_headers[i], 48);
    ensi_safetensors *st;
    if (ensi_safetensors_parse(&st, buf, n) == ENSI_OK) {
      accepted += ensi_safetensors_read_f32(st, "w", out, shape, 2) == ENSI_OK;
      ensi_safetensors_close(st);
    }
  }
  CHECK_MSG(accepted == 0, "%d malformed safetensors accepted", accepted);
  size_t n = image(buf, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 24);
  ensi_safetensors *st;
  CHECK(ensi_safetensors_parse(&st, buf, n) == ENSI_OK);
  CHECK(ensi_safetensors_read_f32(st, "w", out, shape, 2) == ENSI_OK);
  ensi_safetensors_close(st);
  int truncated_ok = 0;
  for (size_t cut = 0; cut < n; cut++) {
    if (ensi_safetensors_parse(&st, buf, cut) == ENSI_OK) {
      truncated_ok += ensi_safetensors_read_f32(st, "w", out, shape, 2) == ENSI_OK;
      ensi_safetensors_close(st);
    }
  }
  CHECK_MSG(truncated_ok == 0, "%d truncated files accepted", truncated_ok);
  buf[0] = 0xff; /* header length far beyond the file */
  buf[7] = 0x7f;
  CHECK(ensi_safetensors_parse(&st, buf, n) == ENSI_ERR_FORMAT);
}

static void check_configs(void) {
  const char *bad[] = {
      "{",
      "{}",
      "{\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":5,\"intermediate_size\":8,\"vocab_size\":10}",
      "{\"num_hidden_layers\":-2,\"hidden_size\":64,\"num_attention_heads\":4,\"intermediate_size\":8,\"vocab_size\":10}",
      "{\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,\"intermediate_size\":8,\"vocab_size\":10,\"hidden_act\":\"gelu\"}",
      "{\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,\"intermediate_size\":8,\"vocab_size\":10,\"num_key_value_heads\":2}",
      "{\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,\"intermediate_size\":8,\"vocab_size\":10,\"rms_norm_eps\":\"x\"}",
      "{\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,\"intermediate_size\":8,\"vocab_size\":1}",
      "{\"num_hidden_layers\":99999999,\"hidden_size\":64,\"num_attention_heads\":4,\"intermediate_size\":8,\"vocab_size\":10}",
  };
  ensi_model_config c;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK_MSG(ensi_model_config_parse(&c, bad[i], strlen(bad[i])) != ENSI_OK, "config %zu accepted", i);
  const char *good = "{\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,"
                     "\"intermediate_size\":8,\"vocab_size\":10}";
  CHECK(ensi_model_config_parse(&c, good, strlen(good)) == ENSI_OK && c.head_dim == 16);
}

/* A synthesized model cut short, or with a config that disagrees with its weights. */
static void check_directories(void) {
  char dir[4096], path[4200];
  CHECK(tool_temp_dir(dir, sizeof dir, "loader") == 0);
  CHECK(ensi_model_synthesize(dir, "tiny", 1, 3) == ENSI_OK);
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  uint8_t *data;
  size_t length;
  CHECK(ensi_file_read(path, &data, &length, 1 << 24) == ENSI_OK);
  ensi_model *m;
  CHECK(ensi_model_load(&m, dir) == ENSI_OK);
  ensi_model_free(m);
  const size_t cuts[] = {0, 7, 100, length / 2, length - 1};
  for (size_t i = 0; i < 5; i++) {
    write_file(path, data, cuts[i]);
    CHECK_MSG(ensi_model_load(&m, dir) != ENSI_OK, "truncated at %zu accepted", cuts[i]);
  }
  write_file(path, data, length);
  snprintf(path, sizeof path, "%s/config.json", dir);
  const char *wrong = "{\"num_hidden_layers\":1,\"hidden_size\":128,\"num_attention_heads\":4,"
                      "\"intermediate_size\":128,\"vocab_size\":512}";
  write_file(path, wrong, strlen(wrong));
  CHECK(ensi_model_load(&m, dir) == ENSI_ERR_FORMAT); /* shapes disagree */
  free(data);
  tool_remove_dir(dir);
}

int main(void) {
  check_safetensors();
  check_configs();
  check_directories();
  return test_finish("test_model_loader");
}
