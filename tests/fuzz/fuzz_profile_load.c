/* libFuzzer target: ensi_profile_load and ensi_bundle_split on arbitrary bytes and on sealed
 * payloads (first byte even: a profile payload; first byte 2 mod 4: a bundle payload whose
 * parts are then loaded as a profile and as evaluation keys). */
#include <ensi/protocol.h>

#include "fuzz_common.h"

static void load_profile(const uint8_t *data, size_t size) {
  ensi_params *params = NULL;
  ensi_profile profile;
  if (ensi_profile_load(&params, &profile, data, size, true) == ENSI_OK)
    ensi_params_free(params);
}

static void load_bundle(const uint8_t *data, size_t size) {
  const uint8_t *profile, *keys;
  size_t profile_length, keys_length;
  if (ensi_bundle_split(data, size, &profile, &profile_length, &keys, &keys_length) != ENSI_OK)
    return;
  load_profile(profile, profile_length);
  ensi_eval_keys *evk = NULL;
  if (ensi_eval_keys_load(fuzz_context(), &evk, keys, keys_length) == ENSI_OK)
    ensi_eval_keys_free(evk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0 || (data[0] & 1)) {
    load_profile(data, size);
    load_bundle(data, size);
    return 0;
  }
  const bool bundle = data[0] & 2;
  ensi_writer w;
  ensi_writer_init(&w);
  ensi_write_bytes(&w, data + 1, size - 1);
  uint8_t *sealed;
  size_t length;
  if (ensi_container_seal(&sealed, &length, bundle ? ENSI_OBJECT_BUNDLE : ENSI_OBJECT_PROFILE,
                          &w) == ENSI_OK) {
    if (bundle)
      load_bundle(sealed, length);
    else
      load_profile(sealed, length);
    free(sealed);
  }
  ensi_writer_free(&w);
  return 0;
}
