#!/usr/bin/env bash
# Installs the built tree into a temporary prefix and builds a program outside the tree with
# nothing but `pkg-config --cflags --libs ensi`, then runs it.
set -euo pipefail
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$ENSI_BINARY_DIR" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig"
cat > "$prefix/user.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <ensi/ensi.h>
int main(void) {
  printf("linked ensi %s: %s\n", ensi_version(), ensi_strerror(ENSI_ERR_FORMAT));
  return strcmp(ensi_version(), ENSI_VERSION_STRING) != 0;
}
C
# In the sanitizer build the library carries ASan/UBSan references: link the runtimes too.
extra=()
[ "${ENSI_SANITIZED:-0}" = 1 ] && extra=(-fsanitize=address,undefined)
cc -std=c11 -Wall -Werror "${extra[@]}" "$prefix/user.c" -o "$prefix/user" $(pkg-config --cflags --libs ensi) \
   -Wl,-rpath,"$(pkg-config --variable=libdir ensi)"
"$prefix/user"
echo "1 passed, 0 failed"
