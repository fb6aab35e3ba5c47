/* GGUF v2/v3 files (shared/research/bitnet.md 3.2): header, metadata key-value pairs, tensor
 * infos, aligned data section. Every count, length, dimension and offset is checked against the
 * file before use. The reader keeps the metadata the BitNet loader needs and the tensor table. */
#ifndef ENSI_MODEL_GGUF_H
#define ENSI_MODEL_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include <ensi/status.h>

enum {
  ENSI_GGML_F32 = 0, ENSI_GGML_F16 = 1, ENSI_GGML_BF16 = 30,
  ENSI_GGML_TQ1_0 = 34, ENSI_GGML_TQ2_0 = 35, ENSI_GGML_I2_S = 36
};

typedef struct {
  char name[65];
  uint32_t n_dims;
  uint64_t dims[4];   /* ggml order: dims[0] is the contiguous axis */
  uint32_t type;
  uint64_t offset;    /* from the start of the data section */
  uint64_t bytes;     /* size in the file, from the type */
} ensi_gguf_tensor;

typedef struct ensi_gguf ensi_gguf;

ensi_status ensi_gguf_open(ensi_gguf **out, const char *path);
ensi_status ensi_gguf_parse(ensi_gguf **out, const uint8_t *data, size_t length);
void ensi_gguf_close(ensi_gguf *g);

/* Metadata lookups: ENSI_ERR_FORMAT when the key is missing or of another type. */
ensi_status ensi_gguf_get_u64(const ensi_gguf *g, const char *key, uint64_t *out);
ensi_status ensi_gguf_get_f64(const ensi_gguf *g, const char *key, double *out);
/* Copies a string value (truncated to size - 1). */
ensi_status ensi_gguf_get_string(const ensi_gguf *g, const char *key, char *out, size_t size);

const ensi_gguf_tensor *ensi_gguf_find(const ensi_gguf *g, const char *name);
/* Pointer to the tensor's bytes (validated to lie within the file). */
const uint8_t *ensi_gguf_data(const ensi_gguf *g, const ensi_gguf_tensor *t);

#endif
