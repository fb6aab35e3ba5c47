/* Per-thread error details of the tools (see tool_error.h). */
#include "tool_error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char detail[512];

ensi_status tool_fail(ensi_status status, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(detail, sizeof detail, fmt, args);
  va_end(args);
  return status;
}

void tool_error_clear(void) { detail[0] = 0; }

const char *tool_error_detail(void) { return detail[0] ? detail : ensi_error_detail(); }
