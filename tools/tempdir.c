/* Temporary directories for synthesized models (see tempdir.h). */
#include "tempdir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tool_temp_dir(char *out, size_t size, const char *name) {
  const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  for (int attempt = 0; attempt < 100; attempt++) {
    if ((size_t)snprintf(out, size, "%s/ensi-%s-%ld-%d", base, name, (long)getpid(), attempt) >= size)
      return -1;
    if (mkdir(out, 0700) == 0)
      return 0;
  }
  return -1;
}

void tool_remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  char path[4096];
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}
