/* Object envelope: header, payload, BLAKE2b checksum (see container.h). */
#include "io/container.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/file.h"

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

static void put_header(uint8_t header[ENSI_HEADER_BYTES], ensi_object_type type, uint64_t length) {
  memcpy(header, magic, sizeof magic);
  header[4] = ENSI_FORMAT_VERSION & 0xff;
  header[5] = ENSI_FORMAT_VERSION >> 8;
  header[6] = (uint8_t)type;
  header[7] = 0;
  for (int i = 0; i < 8; i++)
    header[8 + i] = (uint8_t)(length >> (8 * i));
}

void ensi_container_start(ensi_writer *w, size_t payload_hint) {
  ensi_writer_init(w);
  if (payload_hint)
    ensi_writer_reserve(w, ENSI_HEADER_BYTES + payload_hint + ENSI_CHECKSUM_BYTES);
  static const uint8_t room[ENSI_HEADER_BYTES];
  ensi_write_bytes(w, room, sizeof room);
}

ensi_status ensi_container_finish(ensi_writer *w, ensi_object_type type, uint8_t **out,
                                  size_t *out_length) {
  if (!out || !out_length || w->failed || w->length < ENSI_HEADER_BYTES) {
    ensi_writer_free(w);
    return ensi_fail(ENSI_ERR_NOMEM, "serialize: payload could not be built");
  }
  put_header(w->data, type, w->length - ENSI_HEADER_BYTES);
  ensi_writer_reserve(w, w->length + ENSI_CHECKSUM_BYTES);
  uint8_t checksum[ENSI_CHECKSUM_BYTES];
  if (!w->failed)
    crypto_generichash(checksum, sizeof checksum, w->data, w->length, NULL, 0);
  ensi_write_bytes(w, checksum, sizeof checksum);
  if (w->failed) {
    ensi_writer_free(w);
    return ENSI_ERR_NOMEM;
  }
  *out = w->data;
  *out_length = w->length;
  memset(w, 0, sizeof *w);
  return ENSI_OK;
}

ensi_status ensi_container_write_file(const char *path, ensi_object_type type,
                                      const uint8_t *const parts[], const size_t lengths[],
                                      size_t count, unsigned mode) {
  uint64_t total = 0;
  for (size_t i = 0; i < count; i++)
    total += lengths[i];
  uint8_t header[ENSI_HEADER_BYTES], checksum[ENSI_CHECKSUM_BYTES];
  put_header(header, type, total);
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, sizeof checksum);
  crypto_generichash_update(&h, header, sizeof header);
  for (size_t i = 0; i < count; i++)
    crypto_generichash_update(&h, parts[i], lengths[i]);
  crypto_generichash_final(&h, checksum, sizeof checksum);
  enum { MAX_PARTS = 8 };
  if (count > MAX_PARTS - 2)
    return ensi_fail(ENSI_ERR_ARG, "container: %zu parts, at most %d", count, MAX_PARTS - 2);
  const uint8_t *all[MAX_PARTS] = {header};
  size_t sizes[MAX_PARTS] = {sizeof header};
  for (size_t i = 0; i < count; i++) {
    all[i + 1] = parts[i];
    sizes[i + 1] = lengths[i];
  }
  all[count + 1] = checksum;
  sizes[count + 1] = sizeof checksum;
  return ensi_file_write_parts(path, all, sizes, count + 2, mode);
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
