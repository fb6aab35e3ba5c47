/* Internal file helper: an atomic write of several pieces (header, payload parts, checksum) in
 * order, so that a multi-GiB object never needs one buffer of its own (ensi_file_write in
 * ensi/io.h is the one-piece case). */
#ifndef ENSI_IO_FILE_H
#define ENSI_IO_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <ensi/status.h>

ensi_status ensi_file_write_parts(const char *path, const uint8_t *const parts[],
                                  const size_t lengths[], size_t count, unsigned mode);

#endif
