/* libFuzzer target: config.json parsing on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include <ensi/model.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ensi_model_config config;
  ensi_model_config_parse(&config, (const char *)data, size);
  return 0;
}
