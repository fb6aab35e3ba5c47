/* A fresh private directory under $TMPDIR (or /tmp) for commands that synthesize models. */
#ifndef ENSI_TOOLS_TEMPDIR_H
#define ENSI_TOOLS_TEMPDIR_H

#include <stddef.h>

/* Creates <tmp>/ensi-<name>-<pid>-<n> with mode 0700; returns 0 on success. */
int tool_temp_dir(char *out, size_t size, const char *name);

/* Removes the directory and its files (one level deep). */
void tool_remove_dir(const char *dir);

#endif
