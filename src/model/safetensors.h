/* Safetensors files: u64 header length, a JSON header mapping tensor names to dtype, shape and
 * data offsets, then the data. The file is memory-mapped; every offset, size and shape is
 * validated before a tensor is handed out. */
#ifndef ENSI_MODEL_SAFETENSORS_H
#define ENSI_MODEL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include <ensi/status.h>

typedef struct ensi_safetensors ensi_safetensors;

ensi_status ensi_safetensors_open(ensi_safetensors **out, const char *path);
/* Parses an in-memory image (used by the mapped file and by the fuzz target). */
ensi_status ensi_safetensors_parse(ensi_safetensors **out, const uint8_t *data, size_t length);
void ensi_safetensors_close(ensi_safetensors *st);

/* Converts tensor `name` (F32, F16 or BF16) of exactly the given shape into floats. */
ensi_status ensi_safetensors_read_f32(const ensi_safetensors *st, const char *name, float *out,
                                      const int64_t *shape, size_t rank);

#endif
