/* Serialization of parameters, keys, ciphertexts and plaintexts, and file helpers.
 *
 * Every object is an envelope (magic "ENSI", format version, object type, payload length,
 * BLAKE2b-256 checksum; docs/FORMATS.md) around a little-endian payload that starts, for everything
 * but parameters, with the 32-byte fingerprint of the parameter set it belongs to. Loaders treat
 * their input as untrusted: every size, level, residue and key element is checked against the
 * context before use, and a malformed, truncated, oversized or tampered input returns
 * ENSI_ERR_FORMAT (ENSI_ERR_MISMATCH for objects of other parameters) with a detail message.
 * The uniform parts `a` of keys are stored as 32-byte seeds. Save functions allocate *out (free it
 * with free()). */
#ifndef ENSI_IO_H
#define ENSI_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ensi/ckks.h>
#include <ensi/params.h>

#ifdef __cplusplus
extern "C" {
#endif

ensi_status ensi_params_save(const ensi_params *params, uint8_t **out, size_t *length);
/* Refuses a set below 128-bit security unless allow_insecure. */
ensi_status ensi_params_load(ensi_params **out, const uint8_t *data, size_t length,
                             bool allow_insecure);
/* BLAKE2b-256 of the serialized parameter set. */
ensi_status ensi_params_fingerprint(const ensi_params *params, uint8_t out[32]);

ensi_status ensi_secret_key_save(const ensi_context *ctx, const ensi_secret_key *sk, uint8_t **out,
                                 size_t *length);
ensi_status ensi_secret_key_load(const ensi_context *ctx, ensi_secret_key **out,
                                 const uint8_t *data, size_t length);
ensi_status ensi_public_key_save(const ensi_context *ctx, const ensi_public_key *pk, uint8_t **out,
                                 size_t *length);
ensi_status ensi_public_key_load(const ensi_context *ctx, ensi_public_key **out,
                                 const uint8_t *data, size_t length);
ensi_status ensi_eval_keys_save(const ensi_context *ctx, const ensi_eval_keys *keys, uint8_t **out,
                                size_t *length);
ensi_status ensi_eval_keys_load(const ensi_context *ctx, ensi_eval_keys **out,
                                const uint8_t *data, size_t length);
ensi_status ensi_ciphertext_save(const ensi_context *ctx, const ensi_ciphertext *ct, uint8_t **out,
                                 size_t *length);
ensi_status ensi_ciphertext_load(const ensi_context *ctx, ensi_ciphertext **out,
                                 const uint8_t *data, size_t length);
ensi_status ensi_plaintext_save(const ensi_context *ctx, const ensi_plaintext *pt, uint8_t **out,
                                size_t *length);
ensi_status ensi_plaintext_load(const ensi_context *ctx, ensi_plaintext **out,
                                const uint8_t *data, size_t length);

/* Writes a whole file atomically (temporary file + rename) with the given mode (0600 for secret
 * keys). */
ensi_status ensi_file_write(const char *path, const uint8_t *data, size_t length, unsigned mode);
/* Reads a whole file of at most max_length bytes into a new allocation. */
ensi_status ensi_file_read(const char *path, uint8_t **out, size_t *length, size_t max_length);

#ifdef __cplusplus
}
#endif
#endif
