/* Object envelope: header, payload, BLAKE2b checksum (see container.h). */
#include "io/container.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static const uint8_t magic[4] = {'E', 'N', 'S', 'I'};

ensi_status ensi_container_seal(uint8_t **out, size_t *out_length, ensi_object_type type,
                                const ensi_writer *payload) {
  if (!out || !out_length || !payload || payload->failed)
    return ensi_fail(ENSI_ERR_NOMEM, "serialize: payload could not be built");
  ensi_writer w;
  ensi_writer_init(&w);
  ensi_write_bytes(&w, magic, sizeof magic);
  const uint8_t version[2] = {ENSI_FORMAT_VERSION & 0xff, ENSI_FORMAT_VERSION >> 8};
  const uint8_t kind[2] = {(uint8_t)type, 0};
  ensi_write_bytes(&w, version, 2);
  ensi_write_bytes(&w, kind, 2);
  ensi_write_u64(&w, payload->length);
  ensi_write_bytes(&w, payload->data, payload->length);
  uint8_t checksum[ENSI_CHECKSUM_BYTES];
  if (!w.failed)
    crypto_generichash(checksum, sizeof checksum, w.data, w.length, NULL, 0);
  ensi_write_bytes(&w, checksum, sizeof checksum);
  if (w.failed) {
    ensi_writer_free(&w);
    return ENSI_ERR_NOMEM;
  }
  *out = w.data;
  *out_length = w.length;
  return ENSI_OK;
}

ensi_status ensi_container_open(ensi_reader *payload, const uint8_t *data, size_t length,
                                ensi_object_type type) {
  if (!payload || (!data && length))
    return ensi_fail(ENSI_ERR_ARG, "deserialize: null input");
  if (length < ENSI_HEADER_BYTES + ENSI_CHECKSUM_BYTES)
    return ensi_fail(ENSI_ERR_FORMAT, "deserialize: %zu bytes is shorter than a header", length);
  if (memcmp(data, magic, sizeof magic))
    return ensi_fail(ENSI_ERR_FORMAT, "deserialize: not an ensi object (bad magic)");
  const unsigned version = data[4] | (unsigned)data[5] << 8, kind = data[6] | (unsigned)data[7] << 8;
  if (version != ENSI_FORMAT_VERSION)
    return ensi_fail(ENSI_ERR_UNSUPPORTED, "deserialize: format version %u, expected %d", version,
                     ENSI_FORMAT_VERSION);
  if (kind != (unsigned)type)
    return ensi_fail(ENSI_ERR_FORMAT, "deserialize: object type %u, expected %d", kind, (int)type);
  ensi_reader header;
  ensi_reader_init(&header, data + 8, 8);
  const uint64_t declared = ensi_read_u64(&header);
  if (declared != length - ENSI_HEADER_BYTES - ENSI_CHECKSUM_BYTES)
    return ensi_fail(ENSI_ERR_FORMAT, "deserialize: payload length %llu does not match %zu bytes",
                     (unsigned long long)declared, length);
  uint8_t checksum[ENSI_CHECKSUM_BYTES];
  crypto_generichash(checksum, sizeof checksum, data, length - ENSI_CHECKSUM_BYTES, NULL, 0);
  if (sodium_memcmp(checksum, data + length - ENSI_CHECKSUM_BYTES, ENSI_CHECKSUM_BYTES))
    return ensi_fail(ENSI_ERR_FORMAT, "deserialize: checksum mismatch (corrupted or tampered)");
  ensi_reader_init(payload, data + ENSI_HEADER_BYTES, (size_t)declared);
  return ENSI_OK;
}
