/* Safetensors reader (see safetensors.h). */
#include "model/safetensors.h"

#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "model/ternary_blocks.h"

enum { MAX_HEADER = 100 << 20, MAX_RANK = 8 };

struct ensi_safetensors {
  const uint8_t *data; /* start of the data section */
  size_t data_length;
  json_t *header;
  void *mapping;       /* NULL when parsed from memory the caller owns */
  size_t mapping_length;
};

ensi_status ensi_safetensors_parse(ensi_safetensors **out, const uint8_t *data, size_t length) {
  if (!out || (!data && length))
    return ensi_fail(ENSI_ERR_ARG, "safetensors: null argument");
  if (length < 8)
    return ensi_fail(ENSI_ERR_FORMAT, "safetensors: %zu bytes is too short", length);
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; i--)
    header_length = header_length << 8 | data[i];
  if (header_length > MAX_HEADER || header_length > length - 8)
    return ensi_fail(ENSI_ERR_FORMAT, "safetensors: header of %llu bytes does not fit",
                     (unsigned long long)header_length);
  json_error_t error;
  json_t *header = json_loadb((const char *)data + 8, (size_t)header_length,
                              JSON_REJECT_DUPLICATES, &error);
  if (!header || !json_is_object(header)) {
    json_decref(header);
    return ensi_fail(ENSI_ERR_FORMAT, "safetensors: bad JSON header: %s", header ? "not an object" : error.text);
  }
  ensi_safetensors *st = calloc(1, sizeof *st);
  if (!st) {
    json_decref(header);
    return ENSI_ERR_NOMEM;
  }
  st->header = header;
  st->data = data + 8 + header_length;
  st->data_length = length - 8 - (size_t)header_length;
  *out = st;
  return ENSI_OK;
}

ensi_status ensi_safetensors_open(ensi_safetensors **out, const char *path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ensi_fail(ENSI_ERR_IO, "%s: cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
    close(fd);
    return ensi_fail(ENSI_ERR_IO, "%s: not a readable regular file", path);
  }
  void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED)
    return ensi_fail(ENSI_ERR_IO, "%s: cannot map", path);
  ensi_status s = ensi_safetensors_parse(out, map, (size_t)st.st_size);
  if (s != ENSI_OK) {
    munmap(map, (size_t)st.st_size);
    return s;
  }
  (*out)->mapping = map;
  (*out)->mapping_length = (size_t)st.st_size;
  return ENSI_OK;
}

void ensi_safetensors_close(ensi_safetensors *st) {
  if (!st)
    return;
  json_decref(st->header);
  if (st->mapping)
    munmap(st->mapping, st->mapping_length);
  free(st);
}

static float bf16_to_float(uint16_t b) {
  const uint32_t bits = (uint32_t)b << 16;
  float v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

ensi_status ensi_safetensors_read_f32(const ensi_safetensors *st, const char *name, float *out,
                                      const int64_t *shape, size_t rank) {
  json_t *t = json_object_get(st->header, name);
  if (!t || !json_is_object(t))
    return ensi_fail(ENSI_ERR_FORMAT, "safetensors: tensor %s missing", name);
  json_t *dtype = json_object_get(t, "dtype"), *dims = json_object_get(t, "shape");
  json_t *offsets = json_object_get(t, "data_offsets");
  if (!json_is_string(dtype) || !json_is_array(dims) || !json_is_array(offsets) ||
      json_array_size(offsets) != 2 || json_array_size(dims) != rank || rank > MAX_RANK)
    return ensi_fail(ENSI_ERR_FORMAT, "safetensors: tensor %s: malformed entry", name);
  uint64_t count = 1;
  for (size_t i = 0; i < rank; i++) {
    json_t *d = json_array_get(dims, i);
    if (!json_is_integer(d) || json_integer_value(d) != shape[i])
      return ensi_fail(ENSI_ERR_FORMAT, "safetensors: tensor %s: shape differs from the config", name);
    count *= (uint64_t)shape[i];
  }
  const char *type = json_string_value(dtype);
  const size_t width = !strcmp(type, "F32") ? 4 : (!strcmp(type, "F16") || !strcmp(type, "BF16")) ? 2 : 0;
  if (!width)
    return ensi_fail(ENSI_ERR_UNSUPPORTED, "safetensors: tensor %s has dtype %s", name, type);
  json_t *b = json_array_get(offsets, 0), *e = json_array_get(offsets, 1);
  if (!json_is_integer(b) || !json_is_integer(e) || json_integer_value(b) < 0 ||
      json_integer_value(e) < json_integer_value(b) ||
      (uint64_t)json_integer_value(e) > st->data_length ||
      (uint64_t)(json_integer_value(e) - json_integer_value(b)) != count * width)
    return ensi_fail(ENSI_ERR_FORMAT, "safetensors: tensor %s: offsets out of range or size "
                     "mismatch", name);
  const uint8_t *src = st->data + json_integer_value(b);
  for (uint64_t i = 0; i < count; i++) {
    if (width == 4) {
      uint32_t bits = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
                      (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
      memcpy(&out[i], &bits, 4);
    } else {
      const uint16_t h = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
      out[i] = type[0] == 'B' ? bf16_to_float(h) : ensi_half_to_float(h);
    }
    if (!isfinite(out[i]))
      return ensi_fail(ENSI_ERR_FORMAT, "safetensors: tensor %s holds a non-finite value", name);
  }
  return ENSI_OK;
}
