/* The objects of the non-interactive protocol (docs/PROTOCOL.md, formats in docs/FORMATS.md).
 *
 *   profile   what client and server agree on, public and fixed when the keys are made: the
 *             parameter set, the longest prompt S the keys serve, the model's fingerprint and the
 *             client's public key's (so a request under other keys is refused, not evaluated);
 *   bundle    profile + the evaluation keys: what a client registers with a server, once;
 *   request   the profile's id + the encrypted embedded prompt (a column-encoded matrix);
 *   response  the profile's id + the encrypted last hidden states.
 *
 * Loaders treat their input as untrusted like every loader of ensi/io.h (ENSI_ERR_FORMAT for
 * malformed bytes); a request or response made for another profile is ENSI_ERR_MISMATCH. */
#ifndef ENSI_PROTOCOL_H
#define ENSI_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ensi/henn.h>
#include <ensi/params.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint32_t max_tokens;  /* S: prompts of 1..S tokens (the layout's token block is S rounded up
                           to a power of two) */
  uint8_t model[32];    /* ensi_model_fingerprint of the model the keys were made for */
  uint8_t keys[32];     /* BLAKE2b-256 of the saved public key of the same secret key */
} ensi_profile;

ensi_status ensi_profile_save(const ensi_params *params, const ensi_profile *profile,
                              uint8_t **out, size_t *length);
/* Refuses a parameter set below 128-bit security unless allow_insecure. */
ensi_status ensi_profile_load(ensi_params **params, ensi_profile *profile, const uint8_t *data,
                              size_t length, bool allow_insecure);
/* The profile id: BLAKE2b-256 of the saved profile (requests and responses carry it). */
void ensi_profile_id(const uint8_t *saved_profile, size_t length, uint8_t id[32]);

/* A bundle of a saved profile and saved evaluation keys (ensi_eval_keys_save). */
ensi_status ensi_bundle_save(const uint8_t *profile, size_t profile_length, const uint8_t *keys,
                             size_t keys_length, uint8_t **out, size_t *length);
/* The same bundle written straight to a file (mode 0644), without a copy of the keys in memory. */
ensi_status ensi_bundle_write_file(const char *path, const uint8_t *profile,
                                   size_t profile_length, const uint8_t *keys, size_t keys_length);
/* Checks the bundle's envelope and points at its two parts inside data (each still to be loaded
 * with its own loader). */
ensi_status ensi_bundle_split(const uint8_t *data, size_t length, const uint8_t **profile,
                              size_t *profile_length, const uint8_t **keys, size_t *keys_length);

typedef enum { ENSI_MESSAGE_REQUEST, ENSI_MESSAGE_RESPONSE } ensi_message_kind;

/* A request or response: the profile id and an encrypted matrix (every column a ciphertext
 * object; all columns at one level and scale, relinearized, read with the matrix's slots). */
ensi_status ensi_message_save(const ensi_context *ctx, ensi_message_kind kind,
                              const uint8_t profile_id[32], const ensi_enc_matrix *m,
                              uint8_t **out, size_t *length);
ensi_status ensi_message_load(const ensi_context *ctx, ensi_message_kind kind,
                              const uint8_t profile_id[32], ensi_enc_matrix **out,
                              const uint8_t *data, size_t length);

#ifdef __cplusplus
}
#endif
#endif
