/* Byte writer and bounded reader (see buffer.h). */
#include "io/buffer.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void ensi_writer_init(ensi_writer *w) { memset(w, 0, sizeof *w); }

void ensi_writer_free(ensi_writer *w) {
  if (w->data) /* payloads may hold secret key coefficients */
    sodium_memzero(w->data, w->capacity);
  free(w->data);
  memset(w, 0, sizeof *w);
}

/* Moves the contents into a block of `capacity` bytes. */
static void grow(ensi_writer *w, size_t capacity) {
  uint8_t *grown = malloc(capacity); /* not realloc: the old block is wiped before release */
  if (!grown) {
    w->failed = true;
    return;
  }
  if (w->data) {
    memcpy(grown, w->data, w->length);
    sodium_memzero(w->data, w->capacity);
    free(w->data);
  }
  w->data = grown;
  w->capacity = capacity;
}

void ensi_writer_reserve(ensi_writer *w, size_t total) {
  if (!w->failed && total > w->capacity)
    grow(w, total);
}

void ensi_write_bytes(ensi_writer *w, const void *bytes, size_t count) {
  if (w->failed || count == 0)
    return;
  if (w->length + count > w->capacity) {
    size_t capacity = w->capacity ? w->capacity : 256;
    while (capacity < w->length + count)
      capacity *= 2;
    grow(w, capacity);
    if (w->failed)
      return;
  }
  memcpy(w->data + w->length, bytes, count);
  w->length += count;
}

static void write_le(ensi_writer *w, uint64_t v, int bytes) {
  uint8_t b[8];
  for (int i = 0; i < bytes; i++)
    b[i] = (uint8_t)(v >> (8 * i));
  ensi_write_bytes(w, b, (size_t)bytes);
}

void ensi_write_u8(ensi_writer *w, uint8_t v) { write_le(w, v, 1); }
void ensi_write_u32(ensi_writer *w, uint32_t v) { write_le(w, v, 4); }
void ensi_write_u64(ensi_writer *w, uint64_t v) { write_le(w, v, 8); }

void ensi_write_f64(ensi_writer *w, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  write_le(w, bits, 8);
}

void ensi_write_u64_array(ensi_writer *w, const uint64_t *v, size_t count) {
  for (size_t i = 0; i < count; i++)
    write_le(w, v[i], 8);
}

void ensi_reader_init(ensi_reader *r, const uint8_t *data, size_t length) {
  r->data = data;
  r->length = data ? length : 0;
  r->position = 0;
  r->failed = false;
}

size_t ensi_reader_left(const ensi_reader *r) { return r->length - r->position; }

bool ensi_read_bytes(ensi_reader *r, void *out, size_t count) {
  if (r->failed || count > ensi_reader_left(r)) {
    r->failed = true;
    memset(out, 0, count);
    return false;
  }
  memcpy(out, r->data + r->position, count);
  r->position += count;
  return true;
}

static uint64_t read_le(ensi_reader *r, int bytes) {
  uint8_t b[8];
  if (!ensi_read_bytes(r, b, (size_t)bytes))
    return 0;
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--)
    v = v << 8 | b[i];
  return v;
}

uint8_t ensi_read_u8(ensi_reader *r) { return (uint8_t)read_le(r, 1); }
uint32_t ensi_read_u32(ensi_reader *r) { return (uint32_t)read_le(r, 4); }
uint64_t ensi_read_u64(ensi_reader *r) { return read_le(r, 8); }

double ensi_read_f64(ensi_reader *r) {
  const uint64_t bits = read_le(r, 8);
  double v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

bool ensi_read_u64_array(ensi_reader *r, uint64_t *out, size_t count) {
  if (r->failed || count > ensi_reader_left(r) / 8) {
    r->failed = true;
    return false;
  }
  for (size_t i = 0; i < count; i++)
    out[i] = read_le(r, 8);
  return !r->failed;
}
