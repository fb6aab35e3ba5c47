/* Internal helpers to record an error detail and log through the user's hook. */
#ifndef ENSI_BASE_ERROR_H
#define ENSI_BASE_ERROR_H

#include <ensi/status.h>

/* Records a printf-style detail for the current thread and returns status, so that callers can
 * write: return ensi_fail(ENSI_ERR_FORMAT, "tensor %s: offset beyond file", name); */
ensi_status ensi_fail(ensi_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Clears the thread's detail message. */
void ensi_clear_error(void);

/* Sends a message to the log hook (no-op without one). */
void ensi_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Propagates a failure: ENSI_TRY(f(...)); returns from the caller when f fails. */
#define ENSI_TRY(expr)                 \
  do {                                 \
    ensi_status ensi_try_s_ = (expr);  \
    if (ensi_try_s_ != ENSI_OK)        \
      return ensi_try_s_;              \
  } while (0)

#endif
