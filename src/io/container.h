/* The envelope of every serialized object:
 *   magic "ENSI" | u16 format version | u16 object type | u64 payload length | payload |
 *   32-byte BLAKE2b-256 checksum of everything before it.
 * All integers little-endian. Opening checks magic, version, type, exact length and checksum
 * before a single payload byte is parsed. */
#ifndef ENSI_IO_CONTAINER_H
#define ENSI_IO_CONTAINER_H

#include "io/buffer.h"

enum { ENSI_FORMAT_VERSION = 1, ENSI_CHECKSUM_BYTES = 32, ENSI_HEADER_BYTES = 16 };

typedef enum {
  ENSI_OBJECT_PARAMS = 1,
  ENSI_OBJECT_SECRET_KEY = 2,
  ENSI_OBJECT_PUBLIC_KEY = 3,
  ENSI_OBJECT_EVAL_KEYS = 4,
  ENSI_OBJECT_CIPHERTEXT = 5,
  ENSI_OBJECT_PLAINTEXT = 6,
  ENSI_OBJECT_PROFILE = 7,
  ENSI_OBJECT_BUNDLE = 8,
  ENSI_OBJECT_REQUEST = 9,
  ENSI_OBJECT_RESPONSE = 10
} ensi_object_type;

/* Wraps payload into a new allocation *out of *out_length bytes. */
ensi_status ensi_container_seal(uint8_t **out, size_t *out_length, ensi_object_type type,
                                const ensi_writer *payload);

/* A payload writer with the header's room in front (and room for `payload_hint` payload bytes
 * reserved when known, 0 otherwise), so that ensi_container_finish seals it without a copy:
 * what matters for multi-GiB evaluation keys. */
void ensi_container_start(ensi_writer *w, size_t payload_hint);
/* Seals a writer begun with ensi_container_start: fills the header, appends the checksum and
 * hands the buffer over to *out (w is left empty). */
ensi_status ensi_container_finish(ensi_writer *w, ensi_object_type type, uint8_t **out,
                                  size_t *out_length);

/* Writes an object whose payload is the concatenation of parts straight to a file (atomically,
 * with mode), never holding the whole object in memory. */
ensi_status ensi_container_write_file(const char *path, ensi_object_type type,
                                      const uint8_t *const parts[], const size_t lengths[],
                                      size_t count, unsigned mode);

/* Checks data and points *payload at its payload (inside data). */
ensi_status ensi_container_open(ensi_reader *payload, const uint8_t *data, size_t length,
                                ensi_object_type type);

#endif
