/* Whole-file reads and atomic writes with an explicit mode (secret keys: 0600). */
#include <ensi/io.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "io/file.h"

ensi_status ensi_file_write(const char *path, const uint8_t *data, size_t length, unsigned mode) {
  if (!path || (!data && length))
    return ensi_fail(ENSI_ERR_ARG, "file write: null argument");
  const uint8_t *parts[1] = {data};
  const size_t lengths[1] = {length};
  return ensi_file_write_parts(path, parts, lengths, 1, mode);
}

static ensi_status write_all(int fd, const char *path, const uint8_t *data, size_t length) {
  for (size_t done = 0; done < length;) {
    const ssize_t n = write(fd, data + done, length - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return ensi_fail(ENSI_ERR_IO, "%s: %s", path, strerror(errno));
    done += (size_t)n;
  }
  return ENSI_OK;
}

ensi_status ensi_file_write_parts(const char *path, const uint8_t *const parts[],
                                  const size_t lengths[], size_t count, unsigned mode) {
  if (!path)
    return ensi_fail(ENSI_ERR_ARG, "file write: null argument");
  char temporary[4096];
  if ((size_t)snprintf(temporary, sizeof temporary, "%s.tmp.%ld", path, (long)getpid()) >=
      sizeof temporary)
    return ensi_fail(ENSI_ERR_ARG, "file write: path too long");
  const int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
  if (fd < 0)
    return ensi_fail(ENSI_ERR_IO, "%s: %s", temporary, strerror(errno));
  ensi_status s = fchmod(fd, (mode_t)mode) == 0 ? ENSI_OK
                                               : ensi_fail(ENSI_ERR_IO, "%s: %s", path, strerror(errno));
  for (size_t i = 0; s == ENSI_OK && i < count; i++)
    s = write_all(fd, path, parts[i], lengths[i]);
  if (s == ENSI_OK && fsync(fd) != 0)
    s = ensi_fail(ENSI_ERR_IO, "%s: %s", path, strerror(errno));
  if (close(fd) != 0 && s == ENSI_OK)
    s = ensi_fail(ENSI_ERR_IO, "%s: %s", path, strerror(errno));
  if (s == ENSI_OK && rename(temporary, path) != 0)
    s = ensi_fail(ENSI_ERR_IO, "%s: %s", path, strerror(errno));
  if (s != ENSI_OK)
    unlink(temporary);
  return s;
}

ensi_status ensi_file_read(const char *path, uint8_t **out, size_t *length, size_t max_length) {
  if (!path || !out || !length)
    return ensi_fail(ENSI_ERR_ARG, "file read: null argument");
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ensi_fail(ENSI_ERR_IO, "%s: %s", path, strerror(errno));
  struct stat st;
  ensi_status s = fstat(fd, &st) == 0 ? ENSI_OK : ensi_fail(ENSI_ERR_IO, "%s: %s", path, strerror(errno));
  if (s == ENSI_OK && !S_ISREG(st.st_mode))
    s = ensi_fail(ENSI_ERR_IO, "%s: not a regular file", path);
  if (s == ENSI_OK && (uint64_t)st.st_size > max_length)
    s = ensi_fail(ENSI_ERR_LIMIT, "%s: %lld bytes exceeds the limit of %zu", path,
                  (long long)st.st_size, max_length);
  uint8_t *data = NULL;
  const size_t size = s == ENSI_OK ? (size_t)st.st_size : 0;
  if (s == ENSI_OK && !(data = malloc(size ? size : 1)))
    s = ENSI_ERR_NOMEM;
  for (size_t done = 0; s == ENSI_OK && done < size;) {
    const ssize_t n = read(fd, data + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      s = ensi_fail(ENSI_ERR_IO, "%s: short read", path);
    else
      done += (size_t)n;
  }
  close(fd);
  if (s != ENSI_OK) {
    free(data);
    return s;
  }
  *out = data;
  *length = size;
  return ENSI_OK;
}
