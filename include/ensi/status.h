/* Status codes, error details and the logging hook shared by every ensi module.
 *
 * Every fallible function returns an ensi_status: ENSI_OK (0) on success, a negative code on
 * failure. The library never aborts or exits on bad input and never prints; a failing function may
 * leave a human-readable detail (which field, which limit) retrievable with ensi_error_detail()
 * on the same thread. */
#ifndef ENSI_STATUS_H
#define ENSI_STATUS_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  ENSI_OK = 0,
  ENSI_ERR_ARG = -1,         /* an argument is invalid (null, out of range, inconsistent) */
  ENSI_ERR_NOMEM = -2,       /* memory allocation failed */
  ENSI_ERR_IO = -3,          /* a file or socket operation failed */
  ENSI_ERR_FORMAT = -4,      /* input bytes are malformed, truncated or fail their checksum */
  ENSI_ERR_UNSUPPORTED = -5, /* valid input that this version does not handle */
  ENSI_ERR_INSECURE = -6,    /* parameters below 128-bit security without an explicit opt-in */
  ENSI_ERR_MISMATCH = -7,    /* objects made under different parameters or keys */
  ENSI_ERR_KEY_MISSING = -8, /* an evaluation key (rotation, relinearization) is not available */
  ENSI_ERR_LEVEL = -9,       /* not enough levels left, or incompatible levels/scales */
  ENSI_ERR_RANDOM = -10,     /* the random source failed */
  ENSI_ERR_LIMIT = -11,      /* a configured limit (size, count, time) was exceeded */
  ENSI_ERR_INTERNAL = -12    /* an invariant broke; please report */
} ensi_status;

/* A short fixed description of a status code. Never returns NULL. */
const char *ensi_strerror(ensi_status status);

/* The detail message of the last failure recorded on this thread ("" if none). */
const char *ensi_error_detail(void);

/* Logging hook: the library reports progress and warnings only through this function.
 * level: 0 = error, 1 = warning, 2 = info, 3 = debug. NULL restores the default (silence). */
typedef void (*ensi_log_fn)(int level, const char *message, void *user);
void ensi_set_log_handler(ensi_log_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
