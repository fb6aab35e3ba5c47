/* Error details of the tools' own checks (a wrong model, a prompt too long, a bad request), kept
 * per thread like the library's ensi_error_detail(), so that a command or the server can report
 * one message whichever side found the problem. */
#ifndef ENSI_TOOLS_TOOL_ERROR_H
#define ENSI_TOOLS_TOOL_ERROR_H

#include <ensi/status.h>

/* Records a detail for this thread and returns status. */
ensi_status tool_fail(ensi_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forgets this thread's tool detail (call before an operation). */
void tool_error_clear(void);
/* The tool's detail when one was recorded since the last clear, else the library's. */
const char *tool_error_detail(void);

/* Propagates a failure from the caller. */
#define TOOL_TRY(expr)                \
  do {                                \
    ensi_status tool_try_s_ = (expr); \
    if (tool_try_s_ != ENSI_OK)       \
      return tool_try_s_;             \
  } while (0)

#endif
