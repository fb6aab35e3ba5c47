/* Shared set-up of the loader fuzz targets: a test context built once, and the two ways an input
 * is fed to a loader: as raw bytes (odd first byte), or as a payload sealed with a valid
 * envelope and checksum (even first byte), so that the fuzzer reaches the payload parser and not
 * only the checksum. */
#ifndef ENSI_FUZZ_COMMON_H
#define ENSI_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>

#include <ensi/ensi.h>
#include <ensi/io.h>

#include "io/container.h"

static const ensi_context *fuzz_context(void) {
  static ensi_context *ctx;
  if (!ctx) {
    ensi_params_literal lit;
    ensi_params *params;
    if (ensi_params_preset("test-n10", &lit) || ensi_params_create(&params, &lit) ||
        ensi_context_create(&ctx, params))
      abort();
    ensi_params_free(params);
  }
  return ctx;
}

/* Calls load on data as given or sealed as a payload of the given type. */
#define FUZZ_LOADER(type, object, load, release)                                    \
  int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                     \
  int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {                    \
    const ensi_context *ctx = fuzz_context();                                        \
    object *out = NULL;                                                              \
    if (size > 0 && (data[0] & 1) == 0) {                                            \
      ensi_writer w;                                                                 \
      ensi_writer_init(&w);                                                          \
      uint8_t fingerprint[32];                                                       \
      ensi_params_fingerprint(ensi_context_params(ctx), fingerprint);                \
      if (data[0] & 2)                                                               \
        ensi_write_bytes(&w, fingerprint, sizeof fingerprint);                       \
      ensi_write_bytes(&w, data + 1, size - 1);                                      \
      uint8_t *sealed;                                                               \
      size_t length;                                                                 \
      if (ensi_container_seal(&sealed, &length, type, &w) == ENSI_OK) {              \
        if (load(ctx, &out, sealed, length) == ENSI_OK)                              \
          release(out);                                                              \
        free(sealed);                                                                \
      }                                                                              \
      ensi_writer_free(&w);                                                          \
    } else if (load(ctx, &out, data, size) == ENSI_OK) {                             \
      release(out);                                                                  \
    }                                                                                \
    return 0;                                                                        \
  }

#endif
