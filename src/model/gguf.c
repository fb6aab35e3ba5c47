/* GGUF reader (see gguf.h). */
#include "model/gguf.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "model/ternary_blocks.h"

enum { MAX_KV = 1 << 20, MAX_TENSORS = 1 << 16, MAX_DEPTH = 2 };

typedef struct {
  char key[128];
  uint32_t type;
  uint64_t u;   /* integer and bool values */
  double f;     /* float values */
  size_t str_at, str_len; /* string values: offset into the file */
} kv;

struct ensi_gguf {
  const uint8_t *file;
  size_t length;
  void *mapping;
  kv *kvs;
  size_t kv_count;
  ensi_gguf_tensor *tensors;
  size_t tensor_count;
  size_t data_start;
};

typedef struct {
  const uint8_t *p;
  size_t length, at;
  bool failed;
} cursor;

static bool take(cursor *c, void *out, size_t n) {
  if (c->failed || n > c->length - c->at) {
    c->failed = true;
    return false;
  }
  if (out)
    memcpy(out, c->p + c->at, n);
  c->at += n;
  return true;
}

static uint64_t take_uint(cursor *c, size_t bytes) {
  uint8_t b[8] = {0};
  take(c, b, bytes);
  uint64_t v = 0;
  for (size_t i = bytes; i-- > 0;)
    v = v << 8 | b[i];
  return v;
}

/* A GGUF string: u64 length then bytes; returns its offset (or SIZE_MAX on failure). */
static size_t take_string(cursor *c, size_t *len) {
  const uint64_t n = take_uint(c, 8);
  const size_t at = c->at;
  if (c->failed || n > c->length - c->at) {
    c->failed = true;
    return SIZE_MAX;
  }
  c->at += (size_t)n;
  *len = (size_t)n;
  return at;
}

static size_t scalar_size(uint32_t type) {
  static const size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  return type < 13 ? sizes[type] : 0;
}

/* Reads one value of `type` into v (scalars, strings) or skips it (arrays). */
static ensi_status take_value(cursor *c, uint32_t type, kv *v, int depth) {
  if (type == 8) {
    v->str_at = take_string(c, &v->str_len);
  } else if (type == 9) {
    const uint32_t elem = (uint32_t)take_uint(c, 4);
    const uint64_t count = take_uint(c, 8);
    if (depth >= MAX_DEPTH || elem > 12)
      return ensi_fail(ENSI_ERR_FORMAT, "gguf: unsupported array");
    if (elem != 8 && elem != 9) { /* fixed-size elements: skip at once, bounded by the file */
      if (count > (c->length - c->at) / scalar_size(elem))
        return ensi_fail(ENSI_ERR_FORMAT, "gguf: array longer than the file");
      take(c, NULL, (size_t)count * scalar_size(elem));
    } else {
      for (uint64_t i = 0; i < count && !c->failed; i++) {
        kv ignored;
        ENSI_TRY(take_value(c, elem, &ignored, depth + 1));
      }
    }
  } else if (scalar_size(type)) {
    const uint64_t raw = take_uint(c, scalar_size(type));
    v->u = raw;
    if (type == 6) {
      float f;
      uint32_t bits = (uint32_t)raw;
      memcpy(&f, &bits, 4);
      v->f = f;
    } else if (type == 12) {
      memcpy(&v->f, &raw, 8);
    } else {
      v->f = (double)raw;
    }
  } else {
    return ensi_fail(ENSI_ERR_FORMAT, "gguf: value type %u", type);
  }
  return c->failed ? ensi_fail(ENSI_ERR_FORMAT, "gguf: truncated metadata") : ENSI_OK;
}

/* Bytes of a tensor of this type and element count (0: unsupported or malformed). */
static uint64_t tensor_bytes(uint32_t type, uint64_t elements, uint64_t row) {
  switch (type) {
  case ENSI_GGML_F32: return 4 * elements;
  case ENSI_GGML_F16:
  case ENSI_GGML_BF16: return 2 * elements;
  case ENSI_GGML_TQ2_0: return row % ENSI_TQ_BLOCK ? 0 : elements / ENSI_TQ_BLOCK * ENSI_TQ2_BYTES;
  case ENSI_GGML_TQ1_0: return row % ENSI_TQ_BLOCK ? 0 : elements / ENSI_TQ_BLOCK * ENSI_TQ1_BYTES;
  case ENSI_GGML_I2_S: return elements % ENSI_I2S_BLOCK ? 0 : elements / 4 + 32;
  default: return 0;
  }
}

static ensi_status parse(ensi_gguf *g) {
  cursor c = {g->file, g->length, 0, false};
  uint8_t magic[4];
  take(&c, magic, 4);
  const uint32_t version = (uint32_t)take_uint(&c, 4);
  if (c.failed || memcmp(magic, "GGUF", 4))
    return ensi_fail(ENSI_ERR_FORMAT, "gguf: bad magic");
  if (version != 2 && version != 3)
    return ensi_fail(ENSI_ERR_UNSUPPORTED, "gguf: version %u (2 and 3 are supported)", version);
  const uint64_t tensors = take_uint(&c, 8), kvs = take_uint(&c, 8);
  if (c.failed || tensors > MAX_TENSORS || kvs > MAX_KV || kvs > g->length / 12)
    return ensi_fail(ENSI_ERR_FORMAT, "gguf: %llu tensors / %llu metadata entries out of range",
                     (unsigned long long)tensors, (unsigned long long)kvs);
  g->kvs = calloc(kvs ? kvs : 1, sizeof *g->kvs);
  g->tensors = calloc(tensors ? tensors : 1, sizeof *g->tensors);
  if (!g->kvs || !g->tensors)
    return ENSI_ERR_NOMEM;
  uint64_t alignment = 32;
  for (uint64_t i = 0; i < kvs; i++) {
    kv *v = &g->kvs[g->kv_count++];
    size_t key_len;
    const size_t key_at = take_string(&c, &key_len);
    if (c.failed || key_len == 0 || key_len >= sizeof v->key)
      return ensi_fail(ENSI_ERR_FORMAT, "gguf: metadata key %llu malformed", (unsigned long long)i);
    memcpy(v->key, g->file + key_at, key_len);
    v->type = (uint32_t)take_uint(&c, 4);
    ENSI_TRY(take_value(&c, v->type, v, 0));
    if (!strcmp(v->key, "general.alignment")) {
      if (v->type != 4 || v->u == 0 || v->u % 8 || v->u > 4096)
        return ensi_fail(ENSI_ERR_FORMAT, "gguf: alignment %llu", (unsigned long long)v->u);
      alignment = v->u;
    }
  }
  for (uint64_t i = 0; i < tensors; i++) {
    ensi_gguf_tensor *t = &g->tensors[g->tensor_count++];
    size_t name_len;
    const size_t name_at = take_string(&c, &name_len);
    if (c.failed || name_len == 0 || name_len >= sizeof t->name)
      return ensi_fail(ENSI_ERR_FORMAT, "gguf: tensor name %llu malformed", (unsigned long long)i);
    memcpy(t->name, g->file + name_at, name_len);
    t->n_dims = (uint32_t)take_uint(&c, 4);
    if (t->n_dims == 0 || t->n_dims > 4)
      return ensi_fail(ENSI_ERR_FORMAT, "gguf: tensor %s has %u dimensions", t->name, t->n_dims);
    uint64_t elements = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
      t->dims[d] = take_uint(&c, 8);
      if (t->dims[d] == 0 || t->dims[d] > (1ULL << 32) || elements > (1ULL << 40) / t->dims[d])
        return ensi_fail(ENSI_ERR_FORMAT, "gguf: tensor %s has absurd dimensions", t->name);
      elements *= t->dims[d];
    }
    t->type = (uint32_t)take_uint(&c, 4);
    t->offset = take_uint(&c, 8);
    t->bytes = tensor_bytes(t->type, elements, t->dims[0]);
    if (c.failed || !t->bytes || t->offset % alignment)
      return ensi_fail(ENSI_ERR_FORMAT, "gguf: tensor %s: type %u unsupported, shape not block "
                       "aligned, or offset misaligned", t->name, t->type);
  }
  if (c.failed)
    return ensi_fail(ENSI_ERR_FORMAT, "gguf: truncated tensor table");
  g->data_start = (c.at + alignment - 1) / alignment * alignment;
  for (size_t i = 0; i < g->tensor_count; i++) {
    const ensi_gguf_tensor *t = &g->tensors[i];
    if (g->data_start > g->length || t->offset > g->length - g->data_start ||
        t->bytes > g->length - g->data_start - t->offset)
      return ensi_fail(ENSI_ERR_FORMAT, "gguf: tensor %s extends past the end of the file", t->name);
  }
  return ENSI_OK;
}

ensi_status ensi_gguf_parse(ensi_gguf **out, const uint8_t *data, size_t length) {
  if (!out || (!data && length))
    return ensi_fail(ENSI_ERR_ARG, "gguf: null argument");
  ensi_gguf *g = calloc(1, sizeof *g);
  if (!g)
    return ENSI_ERR_NOMEM;
  g->file = data;
  g->length = length;
  ensi_status s = parse(g);
  if (s != ENSI_OK) {
    ensi_gguf_close(g);
    return s;
  }
  *out = g;
  return ENSI_OK;
}

ensi_status ensi_gguf_open(ensi_gguf **out, const char *path) {
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
  ensi_status s = ensi_gguf_parse(out, map, (size_t)st.st_size);
  if (s != ENSI_OK) {
    munmap(map, (size_t)st.st_size);
    return s;
  }
  (*out)->mapping = map;
  return ENSI_OK;
}

void ensi_gguf_close(ensi_gguf *g) {
  if (!g)
    return;
  if (g->mapping)
    munmap(g->mapping, g->length);
  free(g->kvs);
  free(g->tensors);
  free(g);
}

static const kv *find_kv(const ensi_gguf *g, const char *key) {
  for (size_t i = 0; i < g->kv_count; i++)
    if (!strcmp(g->kvs[i].key, key))
      return &g->kvs[i];
  return NULL;
}

ensi_status ensi_gguf_get_u64(const ensi_gguf *g, const char *key, uint64_t *out) {
  const kv *v = find_kv(g, key);
  const bool integer = v && (v->type <= 5 || v->type == 7 || v->type == 10 || v->type == 11);
  if (!integer)
    return ensi_fail(ENSI_ERR_FORMAT, "gguf: integer metadata %s missing", key);
  *out = v->u;
  return ENSI_OK;
}

ensi_status ensi_gguf_get_f64(const ensi_gguf *g, const char *key, double *out) {
  const kv *v = find_kv(g, key);
  if (!v || v->type == 8 || v->type == 9)
    return ensi_fail(ENSI_ERR_FORMAT, "gguf: numeric metadata %s missing", key);
  *out = v->f;
  return ENSI_OK;
}

ensi_status ensi_gguf_get_string(const ensi_gguf *g, const char *key, char *out, size_t size) {
  const kv *v = find_kv(g, key);
  if (!v || v->type != 8 || size == 0)
    return ensi_fail(ENSI_ERR_FORMAT, "gguf: string metadata %s missing", key);
  const size_t n = v->str_len < size - 1 ? v->str_len : size - 1;
  memcpy(out, g->file + v->str_at, n);
  out[n] = '\0';
  return ENSI_OK;
}

const ensi_gguf_tensor *ensi_gguf_find(const ensi_gguf *g, const char *name) {
  for (size_t i = 0; i < g->tensor_count; i++)
    if (!strcmp(g->tensors[i].name, name))
      return &g->tensors[i];
  return NULL;
}

const uint8_t *ensi_gguf_data(const ensi_gguf *g, const ensi_gguf_tensor *t) {
  return g->file + g->data_start + t->offset;
}
