/* libFuzzer target: the safetensors parser and tensor reader on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "model/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ensi_safetensors *st;
  if (ensi_safetensors_parse(&st, data, size) != ENSI_OK)
    return 0;
  const int64_t shapes[][2] = {{2, 3}, {4, 0}, {1, 1}};
  float out[8];
  ensi_safetensors_read_f32(st, "w", out, shapes[0], 2);
  ensi_safetensors_read_f32(st, "v", out, shapes[1], 1);
  ensi_safetensors_read_f32(st, "a", out, shapes[2], 2);
  ensi_safetensors_close(st);
  return 0;
}
