/* libFuzzer target: ensi_message_load (requests) on arbitrary bytes and on sealed payloads that
 * start with the right parameter fingerprint and profile id (all zeros here), so the fuzzer
 * reaches the matrix header and the nested ciphertexts. */
#include <ensi/protocol.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const ensi_context *ctx = fuzz_context();
  static const uint8_t profile_id[32];
  ensi_enc_matrix *m = NULL;
  if (size > 0 && (data[0] & 1) == 0) {
    ensi_writer w;
    ensi_writer_init(&w);
    uint8_t fingerprint[32];
    ensi_params_fingerprint(ensi_context_params(ctx), fingerprint);
    ensi_write_bytes(&w, fingerprint, sizeof fingerprint);
    ensi_write_bytes(&w, profile_id, sizeof profile_id);
    ensi_write_bytes(&w, data + 1, size - 1);
    uint8_t *sealed;
    size_t length;
    if (ensi_container_seal(&sealed, &length, ENSI_OBJECT_REQUEST, &w) == ENSI_OK) {
      if (ensi_message_load(ctx, ENSI_MESSAGE_REQUEST, profile_id, &m, sealed, length) == ENSI_OK)
        ensi_enc_matrix_free(m);
      free(sealed);
    }
    ensi_writer_free(&w);
  } else if (ensi_message_load(ctx, ENSI_MESSAGE_REQUEST, profile_id, &m, data, size) == ENSI_OK) {
    ensi_enc_matrix_free(m);
  }
  return 0;
}
