/* Status strings, per-thread error details and the logging hook (see ensi/status.h). */
#include "base/error.h"

#include <stdio.h>

static _Thread_local char error_detail[512];
static ensi_log_fn log_fn;
static void *log_user;

const char *ensi_strerror(ensi_status status) {
  switch (status) {
  case ENSI_OK: return "ok";
  case ENSI_ERR_ARG: return "invalid argument";
  case ENSI_ERR_NOMEM: return "out of memory";
  case ENSI_ERR_IO: return "input/output error";
  case ENSI_ERR_FORMAT: return "malformed input";
  case ENSI_ERR_UNSUPPORTED: return "unsupported";
  case ENSI_ERR_INSECURE: return "parameters below 128-bit security";
  case ENSI_ERR_MISMATCH: return "parameter or key mismatch";
  case ENSI_ERR_KEY_MISSING: return "evaluation key missing";
  case ENSI_ERR_LEVEL: return "level or scale mismatch";
  case ENSI_ERR_RANDOM: return "random source failure";
  case ENSI_ERR_LIMIT: return "limit exceeded";
  case ENSI_ERR_INTERNAL: return "internal error";
  }
  return "unknown status";
}

const char *ensi_error_detail(void) { return error_detail; }

void ensi_clear_error(void) { error_detail[0] = '\0'; }

ensi_status ensi_fail(ensi_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(error_detail, sizeof error_detail, fmt, ap);
  va_end(ap);
  return status;
}

void ensi_set_log_handler(ensi_log_fn fn, void *user) {
  log_fn = fn;
  log_user = user;
}

void ensi_log(int level, const char *fmt, ...) {
  if (!log_fn)
    return;
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  log_fn(level, message, log_user);
}
