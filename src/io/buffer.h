/* Little-endian byte buffers: a growable writer and a bounded reader. Every read checks the bytes
 * left; a short or failed read latches an error, so a parser can read a whole structure and check
 * once (ensi_reader_status) without ever touching memory past the input. */
#ifndef ENSI_IO_BUFFER_H
#define ENSI_IO_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ensi/status.h>

typedef struct {
  uint8_t *data;
  size_t length, capacity;
  bool failed; /* an allocation failed */
} ensi_writer;

void ensi_writer_init(ensi_writer *w);
void ensi_writer_free(ensi_writer *w);
/* Makes room for `total` bytes in all, so that writing up to that much never moves the buffer. */
void ensi_writer_reserve(ensi_writer *w, size_t total);
void ensi_write_bytes(ensi_writer *w, const void *bytes, size_t count);
void ensi_write_u8(ensi_writer *w, uint8_t v);
void ensi_write_u32(ensi_writer *w, uint32_t v);
void ensi_write_u64(ensi_writer *w, uint64_t v);
void ensi_write_f64(ensi_writer *w, double v);
void ensi_write_u64_array(ensi_writer *w, const uint64_t *v, size_t count);

typedef struct {
  const uint8_t *data;
  size_t length, position;
  bool failed; /* a read went past the end */
} ensi_reader;

void ensi_reader_init(ensi_reader *r, const uint8_t *data, size_t length);
size_t ensi_reader_left(const ensi_reader *r);
bool ensi_read_bytes(ensi_reader *r, void *out, size_t count);
uint8_t ensi_read_u8(ensi_reader *r);
uint32_t ensi_read_u32(ensi_reader *r);
uint64_t ensi_read_u64(ensi_reader *r);
double ensi_read_f64(ensi_reader *r);
bool ensi_read_u64_array(ensi_reader *r, uint64_t *out, size_t count);

#endif
